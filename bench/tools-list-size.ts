import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { startBenchStack } from './stack.js';
import type { Benchmark } from './types.js';

/**
 * What a model reads of tools/list before it does anything: every tool's name, description and input schema
 * (the JSON a client puts into the model's context; titles, annotations and output schemas are left out, as
 * most clients do). Measured through a real MCP client on the sandbox, where every vendor is configured: the
 * largest a default set gets. Tools an MCP Apps host keeps from the model (`_meta.ui.visibility: ["app"]`,
 * called only by the in-chat views) do not count; `apps` measures the default set for a client that declares
 * the extension, where they are listed.
 */
export const DEFAULT_TOOLS_LIST_BUDGET_BYTES = 24 * 1024;

/** A tool only the in-chat views call: the host keeps it from the model. */
export function appOnly(tool: Tool): boolean {
  const visibility = (tool._meta?.ui as { visibility?: unknown } | undefined)?.visibility;
  return Array.isArray(visibility) && visibility.length > 0 && !visibility.includes('model');
}

export function modelVisibleBytes(tools: readonly Tool[]): number {
  return tools.filter((t) => !appOnly(t)).reduce((sum, t) => sum + Buffer.byteLength(JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema })), 0);
}

/** tools/list as a client sees it with these flags (`toolsets` null: the default set). */
export async function measureToolsList(flags: string[], toolsets: string | null, apps = false): Promise<{ tools: number; app_only_tools: number; model_visible_bytes: number }> {
  const stack = await startBenchStack({ flags, toolsets, apps });
  try {
    const { tools } = await stack.client.listTools();
    return { tools: tools.length, app_only_tools: tools.filter(appOnly).length, model_visible_bytes: modelVisibleBytes(tools) };
  } finally {
    await stack.close();
  }
}

export const toolsListSize: Benchmark = {
  name: 'tools_list_size',
  description: 'model-visible bytes of tools/list (names, descriptions, input schemas): default set, --read-only, --toolsets all',
  async run() {
    return {
      budget_bytes: DEFAULT_TOOLS_LIST_BUDGET_BYTES,
      default: await measureToolsList([], null),
      read_only: await measureToolsList(['--read-only'], null),
      all: await measureToolsList([], 'all'),
      apps_client_default: await measureToolsList([], null, true),
    };
  },
};
