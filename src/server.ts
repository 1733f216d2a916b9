import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ALL_TOOLS } from '../tools/index.js';
import type { AnyTool } from '../tools/types.js';
import type { Actor } from './audit/audit-log.js';
import type { Config } from './config.js';
import { ConfigError } from './env.js';
import type { Deps } from './deps.js';
import type { VendorConnection } from './vendors/connection.js';
import { registerPrompts } from './prompts.js';
import { registerResources } from './resources.js';
import { registerTools } from './tool-runtime.js';
import { VERSION } from './version.js';

/**
 * Which tools this server exposes. Order of precedence: --read-only wins over everything; then the
 * --tools allowlist (an unknown name is a start-up error listing the known ones); then --vendors and
 * the vendors that have REST credentials (under --sandbox every vendor has).
 */
export function selectTools(config: Config, connections: readonly VendorConnection[], all: AnyTool[] = ALL_TOOLS): AnyTool[] {
  const known = new Set(all.map((t) => t.name));
  if (config.tools) {
    const unknown = config.tools.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new ConfigError(`--tools: unknown tool ${unknown.map((n) => `"${n}"`).join(', ')}. Known tools: ${[...known].join(', ')}.`);
    }
  }
  const connected = new Set(connections.filter((c) => c.rest).map((c) => c.adapter.id));
  const anyScim = connections.some((c) => c.scim !== undefined);
  return all.filter((t) => {
    if (config.readOnly && t.annotations.readOnlyHint !== true) return false;
    if (config.tools && !config.tools.includes(t.name)) return false;
    if (t.vendor !== null && !connected.has(t.vendor)) return false;
    if (t.requires === 'scim' && !anyScim) return false;
    return true;
  });
}

export interface ServerOptions {
  /** The HTTP transport's actor (fingerprint of the bearer token); stdio uses the MCP client info. */
  actor?: Actor;
}

/** Builds an MCP server over shared deps. No side effects: the caller connects a transport. */
export function createServer(deps: Deps, opts: ServerOptions = {}): McpServer {
  const server = new McpServer(
    { name: 'sales-access-mcp', version: VERSION },
    {
      capabilities: { logging: {} },
      instructions:
        'Manages who has access to Outreach, SalesLoft, Apollo.io and ZoomInfo. Start with list_connections to see what is configured and possible. ' +
        'Writes that lock, deactivate or delete ask the human for confirmation; never try to work around a refused confirmation.',
    },
  );
  registerTools(server, selectTools(deps.config, deps.vendors), deps, opts.actor);

  registerResources(server, deps);
  registerPrompts(server);
  return server;
}
