import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { getUiCapability, RESOURCE_MIME_TYPE } from '@modelcontextprotocol/ext-apps/server';

/** True when this session's client declared the MCP Apps extension (`io.modelcontextprotocol/ui`) with HTML views. */
export function clientRendersApps(server: Server): boolean {
  return getUiCapability(server.getClientCapabilities())?.mimeTypes?.includes(RESOURCE_MIME_TYPE) === true;
}
