import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { ALL_TOOLS } from '../tools/index.js';
import type { AnyTool } from '../tools/types.js';
import type { Actor } from './audit/audit-log.js';
import type { Config } from './config.js';
import { ConfigError } from './env.js';
import type { Deps } from './deps.js';
import type { VendorConnection } from './vendors/connection.js';
import { registerPrompts } from './prompts.js';
import { registerResources } from './resources.js';
import { registerApps } from './apps/register.js';
import { registerTools } from './tool-runtime.js';
import { VERSION } from './version.js';

/**
 * Which tools this server exposes, in this order:
 * 1. toolsets: `--toolsets` / SALES_ACCESS_TOOLSETS; by default the admin's set, the workflows plus every
 *    vendor's user-lifecycle tools (`lifecycle`). `--tools` alone replaces the toolsets (an allowlist);
 *    with `--toolsets` it adds the named tools, as github-mcp-server combines the two.
 * 2. `--read-only` wins over both: only tools whose readOnlyHint is true.
 * 3. vendors: `--vendors`, and only vendors with REST credentials (under --sandbox all have); SCIM tools
 *    only when a SCIM connection is configured.
 * An unknown tool name is a start-up error listing the known ones (checkToolNames, before anything starts).
 */
export function selectTools(config: Config, connections: readonly VendorConnection[], all: AnyTool[] = ALL_TOOLS): AnyTool[] {
  checkToolNames(config, all);
  const { toolsets } = config;
  const byToolset = toolsets.explicit || config.tools === undefined;
  const connected = new Set(connections.filter((c) => c.rest).map((c) => c.adapter.id));
  const anyScim = connections.some((c) => c.scim !== undefined);
  return all.filter((t) => {
    const inToolsets = byToolset && ((toolsets.default && isDefaultTool(t)) || t.toolsets.some((s) => toolsets.named.includes(s)));
    if (!inToolsets && !config.tools?.includes(t.name)) return false;
    if (config.readOnly && t.annotations.readOnlyHint !== true) return false;
    if (t.vendor !== null && !connected.has(t.vendor)) return false;
    if (t.requires === 'scim' && !anyScim) return false;
    return true;
  });
}

/** The default set: every workflow tool and each vendor's user-lifecycle tools. */
export function isDefaultTool(tool: AnyTool): boolean {
  return tool.toolsets.includes('workflows') || tool.lifecycle === true;
}

/** Refuses an unknown `--tools` name, listing the known ones; called before any simulator or vendor starts. */
export function checkToolNames(config: Pick<Config, 'tools'>, all: AnyTool[] = ALL_TOOLS): void {
  if (!config.tools) return;
  const known = new Set(all.map((t) => t.name));
  const unknown = config.tools.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new ConfigError(`--tools: unknown tool ${unknown.map((n) => `"${n}"`).join(', ')}. Known tools: ${[...known].join(', ')}.`);
  }
}

export interface ServerOptions {
  /** The HTTP transport's actor (fingerprint of the bearer token); stdio uses the MCP client info. */
  actor?: Actor;
  /**
   * Stateless HTTP (--stateless): the request's principal (`person:…`, `token:…`, or LOCAL_PRINCIPAL), which
   * owns its jobs and approvals in place of an MCP session. The in-chat views are not served there.
   */
  owner?: string;
}

/** The owner of stateless calls on loopback without authentication: every local client is the same person. */
export const LOCAL_PRINCIPAL = 'local:loopback';

/**
 * One JSON Schema validator (elicitation answers) for every server of the process: the SDK otherwise builds an
 * Ajv instance per server, about half of a server's construction, which stateless HTTP pays on every request.
 */
let validator: AjvJsonSchemaValidator | undefined;

/** Builds an MCP server over shared deps. No side effects: the caller connects a transport. */
export function createServer(deps: Deps, opts: ServerOptions = {}): McpServer {
  validator ??= new AjvJsonSchemaValidator();
  const server = new McpServer(
    { name: 'sales-access-mcp', version: VERSION },
    {
      jsonSchemaValidator: validator,
      capabilities: { logging: {} },
      instructions:
        'Manages who has access to Outreach, SalesLoft, Apollo.io and ZoomInfo. Start with list_connections to see what is configured and possible. ' +
        'Writes that lock, deactivate or delete ask the human for confirmation; never try to work around a refused confirmation. Every write is audited. ' +
        'Every call answers within the server\'s deadline. Status "running": the work goes on as a job; call the same tool again with the same arguments (or its job.id as job_id) to pick it up, never starting over. ' +
        'Status "approval_required" or "pending": nothing has changed yet; show the user `message` (the approval link, or where in the conversation to decide) and call again with the same arguments once they decided. Status "declined": the user rejected it; do not retry unasked.' +
        (opts.owner === undefined
          ? ''
          : ' This server is stateless (no MCP session): each request may be answered by another replica; jobs and approvals belong to the signed-in user or token, and approvals are given on the approval page.'),
    },
  );
  const { registered, sessionOf } = registerTools(server, selectTools(deps.config, deps.vendors), deps, opts.actor, opts.owner);
  // The in-chat views and their app-only tools: enabled only for a client that declares MCP Apps. Not in
  // stateless mode: an in-chat request's nonce is kept by the replica that opened it.
  if (opts.owner === undefined) registerApps(server, deps, registered, sessionOf);

  registerResources(server, deps);
  registerPrompts(server);
  return server;
}
