import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as lib from '@modelcontextprotocol/ext-apps/server';
import { describe, expect, it } from 'vitest';
import { EXTENSION_ID, RESOURCE_MIME_TYPE, RESOURCE_URI_META_KEY, toolUiMeta } from '../../src/apps/capability.js';

/** The server writes MCP Apps metadata itself (start-up time); it must be what the extension's own helpers write. */
describe('MCP Apps metadata', () => {
  it('uses the extension id, MIME type and legacy key of @modelcontextprotocol/ext-apps', () => {
    expect(EXTENSION_ID).toBe(lib.EXTENSION_ID);
    expect(RESOURCE_MIME_TYPE).toBe(lib.RESOURCE_MIME_TYPE);
    expect(RESOURCE_URI_META_KEY).toBe(lib.RESOURCE_URI_META_KEY);
    expect(lib.getUiCapability({ extensions: { [EXTENSION_ID]: { mimeTypes: [RESOURCE_MIME_TYPE] } } })).toEqual({ mimeTypes: [RESOURCE_MIME_TYPE] });
  });

  it("links a tool to its view as registerAppTool does, for the model's tools and the app-only ones", () => {
    for (const visibility of [undefined, ['app'] as ('model' | 'app')[]]) {
      const uri = 'ui://sales-access-mcp/offboarding.html';
      let written: Record<string, unknown> | undefined;
      const fake = { registerTool: (_name: string, config: { _meta?: Record<string, unknown> }) => ((written = config._meta), undefined) } as unknown as Pick<McpServer, 'registerTool'>;
      lib.registerAppTool(fake, 't', { _meta: { ui: { resourceUri: uri, ...(visibility ? { visibility } : {}) } } }, (() => ({ content: [] })) as never);
      expect(toolUiMeta(uri, visibility)).toEqual(written);
    }
  });
});
