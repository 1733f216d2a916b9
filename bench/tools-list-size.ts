import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { startBenchStack } from './stack.js';
import type { Benchmark } from './types.js';

/**
 * What a model reads of tools/list before it does anything: every tool's name, description and input schema
 * (the JSON a client puts into the model's context; titles, annotations and output schemas are left out, as
 * most clients do). Measured through a real MCP client on the sandbox, where every vendor is configured: the
 * largest a default set gets.
 */
export const DEFAULT_TOOLS_LIST_BUDGET_BYTES = 24 * 1024;

export function modelVisibleBytes(tools: readonly Tool[]): number {
  return tools.reduce((sum, t) => sum + Buffer.byteLength(JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema })), 0);
}

/** tools/list as a client sees it with these flags (`toolsets` null: the default set). */
export async function measureToolsList(flags: string[], toolsets: string | null): Promise<{ tools: number; model_visible_bytes: number }> {
  const stack = await startBenchStack({ flags, toolsets });
  try {
    const { tools } = await stack.client.listTools();
    return { tools: tools.length, model_visible_bytes: modelVisibleBytes(tools) };
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
    };
  },
};
