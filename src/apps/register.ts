import { readFile } from 'node:fs/promises';
import type { McpServer, RegisteredResource, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { APP_TOOLS } from '../../tools/apps/index.js';
import type { AnyAppTool } from '../../tools/apps/types.js';
import type { Deps } from '../deps.js';
import { personOf, personRef } from '../person.js';
import { errorResult } from '../tool-runtime.js';
import { clientRendersApps, RESOURCE_MIME_TYPE, toolUiMeta } from './capability.js';

/**
 * The in-chat views (MCP Apps, the `io.modelcontextprotocol/ui` extension): two `ui://` resources built by
 * `npm run build` (scripts/bundle.mjs) into self-contained HTML files, the app-only tools they call, and the
 * `_meta.ui.resourceUri` that links the model's tools to them. Everything here is registered disabled and
 * enabled when the client's `initialize` declares the extension: any other client sees none of it and keeps
 * the approval page and elicitation paths.
 */

export const VIEWS = {
  review: { uri: 'ui://sales-access-mcp/access-review.html', file: 'access-review.html', title: 'Access review view', description: 'Summary per vendor, filterable findings, the seats chart and the evidence files of an access review' },
  offboarding: { uri: 'ui://sales-access-mcp/offboarding.html', file: 'offboarding.html', title: 'Offboarding plan view', description: 'Per person and vendor what an offboarding hands over, deactivates and leaves manual, with Approve and Reject' },
} as const;
export type ViewName = keyof typeof VIEWS;

/** The model's tools whose results render in a view. */
export const VIEW_OF_TOOL: Record<string, ViewName> = { access_review: 'review', plan_offboarding: 'offboarding', execute_offboarding: 'offboarding' };

/** The views declare no network origin at all: the host's CSP then allows none (no fetch, no remote script, style or image). */
const VIEW_RESOURCE_META = { ui: { csp: { connectDomains: [] as string[], resourceDomains: [] as string[] }, prefersBorder: true } };

const html = new Map<string, Promise<string>>();

/** A view's built HTML: next to the bundle (dist/views), from dist/src/apps, or from src/apps under the tests. */
function viewHtml(file: string): Promise<string> {
  let p = html.get(file);
  if (!p) {
    const candidates = [`./views/${file}`, `../../views/${file}`, `../../dist/views/${file}`].map((rel) => new URL(rel, import.meta.url));
    p = (async () => {
      for (const url of candidates) {
        const text = await readFile(url, 'utf8').catch(() => undefined);
        if (text !== undefined) return text;
      }
      html.delete(file);
      throw new Error(`The in-chat view ${file} is not built: run \`npm run build\` (it writes dist/views/${file}).`);
    })();
    html.set(file, p);
  }
  return p;
}

/**
 * Registers the views and app-only tools beside `linked` (the model's tools of this server, by name), all
 * hidden until the client declares the extension. `sessionOf` is the runtime's session of a call.
 */
export function registerApps(server: McpServer, deps: Deps, linked: Map<string, RegisteredTool>, sessionOf: (sessionId: string | undefined) => string): void {
  const needed = new Set<ViewName>();
  for (const name of linked.keys()) if (VIEW_OF_TOOL[name]) needed.add(VIEW_OF_TOOL[name]);
  if (needed.size === 0) return;
  const hidden: (RegisteredTool | RegisteredResource)[] = [];
  for (const name of needed) {
    const v = VIEWS[name];
    hidden.push(
      server.registerResource(v.title, v.uri, { description: v.description, mimeType: RESOURCE_MIME_TYPE, _meta: VIEW_RESOURCE_META }, async () => ({
        contents: [{ uri: v.uri, mimeType: RESOURCE_MIME_TYPE, text: await viewHtml(v.file), _meta: VIEW_RESOURCE_META }],
      })),
    );
  }
  for (const tool of APP_TOOLS) {
    if (!tool.companionOf.some((n) => linked.has(n))) continue;
    hidden.push(registerAppOnly(server, deps, tool, sessionOf));
  }
  for (const h of hidden) h.disable();

  const previous = server.server.oninitialized;
  server.server.oninitialized = () => {
    previous?.();
    if (!clientRendersApps(server.server)) return;
    // Before the client's first tools/list (this runs on its `initialized` notification): no list_changed needed.
    for (const h of hidden) h.enabled = true;
    for (const [name, tool] of linked) {
      const view = VIEW_OF_TOOL[name];
      if (view) tool._meta = { ...tool._meta, ...toolUiMeta(VIEWS[view].uri) };
    }
  };
}

function registerAppOnly(server: McpServer, deps: Deps, tool: AnyAppTool, sessionOf: (sessionId: string | undefined) => string): RegisteredTool {
  return server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.inputSchema,
      outputSchema: tool.outputSchema,
      annotations: { title: tool.title, ...tool.annotations },
      _meta: toolUiMeta(VIEWS[tool.view].uri, ['app']),
    },
    (async (args: Record<string, unknown>, extra: { sessionId?: string; authInfo?: AuthInfo }): Promise<CallToolResult> => {
      const client = server.server.getClientVersion();
      const person = personOf(extra.authInfo);
      try {
        const out = await tool.handler(args, {
          deps,
          session: sessionOf(extra.sessionId),
          host: `${client?.name ?? 'unknown host'} ${client?.version ?? ''}`.trim(),
          ...(person ? { person: personRef(person) } : {}),
        });
        return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
      } catch (err) {
        return errorResult(err, deps, tool.name);
      }
    }) as never,
  );
}
