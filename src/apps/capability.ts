import type { Server } from '@modelcontextprotocol/sdk/server/index.js';

// The MCP Apps identifiers as @modelcontextprotocol/ext-apps defines them (test/unit/apps-meta.test.ts checks
// they agree): its server helpers' module bundles the view-side App and its schemas, ~10 ms of every cold start.
export const EXTENSION_ID = 'io.modelcontextprotocol/ui';
export const RESOURCE_MIME_TYPE = 'text/html;profile=mcp-app';
/** The older, flat spelling of `_meta.ui.resourceUri`, which hosts of the first drafts read. */
export const RESOURCE_URI_META_KEY = 'ui/resourceUri';

/** True when this session's client declared the MCP Apps extension (`io.modelcontextprotocol/ui`) with HTML views. */
export function clientRendersApps(server: Server): boolean {
  const ui = (server.getClientCapabilities()?.extensions as Record<string, { mimeTypes?: unknown } | undefined> | undefined)?.[EXTENSION_ID];
  return Array.isArray(ui?.mimeTypes) && ui.mimeTypes.includes(RESOURCE_MIME_TYPE);
}

/** A tool's `_meta` linking it to a view, in both spellings (what ext-apps' registerAppTool writes). */
export function toolUiMeta(resourceUri: string, visibility?: ('model' | 'app')[]): Record<string, unknown> {
  return { ui: { resourceUri, ...(visibility ? { visibility } : {}) }, [RESOURCE_URI_META_KEY]: resourceUri };
}
