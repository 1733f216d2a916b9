#!/usr/bin/env node
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { TokenStore } from './auth/token-store.js';
import { loadConfig, parseCliArgs, type Config } from './config.js';
import { closeApprovals } from './confirm/approvals.js';
import { createDeps } from './deps.js';
import { ConfigError } from './env.js';
import { createLogger } from './log.js';
import type { Sandbox } from './sandbox/index.js';
import { createServer, selectTools } from './server.js';
import { BUILTIN_ADAPTERS } from './vendors/registry.js';
import { VERSION } from './version.js';

const HELP = `sales-access-mcp ${VERSION}: an MCP server for access reviews and offboarding in Outreach, SalesLoft, Apollo.io and ZoomInfo

Usage:
  sales-access-mcp [flags]          serve MCP over stdio (default) or Streamable HTTP
  sales-access-mcp auth outreach    run the OAuth authorization-code flow and store the tokens
  sales-access-mcp auth salesloft   the same for SalesLoft

Flags:
  --http              serve Streamable HTTP at /mcp instead of stdio
  --host HOST         HTTP bind address (default 127.0.0.1; other hosts need SALES_ACCESS_HTTP_TOKEN)
  --port PORT         HTTP port (default 3333)
  --sandbox           wire every vendor to the embedded simulators (no credentials needed)
  --read-only         register only read-only tools (wins over --tools)
  --tools a,b         register only these tools
  --vendors a,b       register only these vendors' tools (outreach, salesloft, apollo, zoominfo)

Environment: see README.md ("Configuration"). Logs are JSON on stderr.
Destructive writes are confirmed per SALES_ACCESS_CONFIRM: auto (default: elicitation, or an approval
page in the browser for clients without it), elicit, browser or token.
`;

async function main(): Promise<number> {
  const args = parseCliArgs(process.argv.slice(2));
  if (args.help) {
    process.stderr.write(HELP);
    return 0;
  }
  let config: Config = loadConfig(args);
  const log = createLogger(config.logLevel);

  if (args.command === 'auth') return runAuth(config, args.authVendor as string);

  let sandbox: Sandbox | undefined;
  if (config.sandbox) {
    // Loaded only here: a production start never loads the simulators.
    const { startSandbox, sandboxConfig } = await import('./sandbox/index.js');
    sandbox = await startSandbox();
    config = sandboxConfig(config, sandbox);
    log.info('sandbox simulators started');
  }
  const deps = await createDeps(config, { log });
  // Validate --tools now, so a typo stops start-up instead of silently hiding a tool.
  const tools = selectTools(config, deps.vendors);
  log.info({ tools: tools.length, transport: config.transport, confirm: config.confirm }, 'starting');

  let closeTransport: () => Promise<void>;
  if (config.transport === 'http') {
    const { startHttpServer } = await import('./http-server.js');
    const http = await startHttpServer(deps);
    closeTransport = () => http.close();
  } else {
    const server = createServer(deps);
    const transport = new StdioServerTransport();
    await server.connect(transport);
    closeTransport = () => server.close();
  }

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // A stdio client that goes away closes our stdin.
    if (config.transport === 'stdio') process.stdin.once('end', stop);
  });
  await closeTransport();
  // The stdio approval page's loopback server, if a write needed it (in HTTP mode the route closed above).
  await closeApprovals(deps);
  await deps.close();
  await sandbox?.close();
  return 0;
}

/** `sales-access-mcp auth <vendor>`: the authorization-code flow of a vendor whose adapter has one. */
async function runAuth(config: Config, vendor: string): Promise<number> {
  const adapter = BUILTIN_ADAPTERS.find((a) => a.id === vendor && a.authorization);
  if (!adapter?.authorization) {
    const known = BUILTIN_ADAPTERS.filter((a) => a.authorization).map((a) => a.id);
    throw new ConfigError(`sales-access-mcp auth: unknown vendor "${vendor}". Supported: ${known.join(', ')}.`);
  }
  const app = adapter.authorization.app(config.vendors[adapter.id]?.settings);
  if (!app) throw new ConfigError(`sales-access-mcp auth ${vendor} needs ${adapter.authorization.needs}.`);
  // Loaded here only: serving never needs the authorization-code flow (nor oauth4webapi).
  const { runAuthorizationCodeFlow } = await import('./auth/authorize.js');
  const result = await runAuthorizationCodeFlow({
    vendor,
    label: adapter.label,
    ...app,
    scopes: [...adapter.authorization.scopes],
    store: new TokenStore(config.stateDir),
    print: (line) => process.stderr.write(`${line}\n`),
  });
  process.stderr.write(`${adapter.label} tokens stored under ${config.stateDir}${result.scopes ? ` (scopes: ${result.scopes})` : ''}.\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`sales-access-mcp: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`sales-access-mcp: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(1);
  },
);
