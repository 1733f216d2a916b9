#!/usr/bin/env node
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { runAuthorizationCodeFlow } from './auth/authorize.js';
import { TokenStore } from './auth/token-store.js';
import { ConfigError, loadConfig, parseCliArgs, type Config } from './config.js';
import { closeApprovals } from './confirm/approvals.js';
import { createDeps } from './deps.js';
import { startHttpServer } from './http-server.js';
import { createLogger } from './log.js';
import { sandboxConfig, startSandbox, type Sandbox } from './sandbox/index.js';
import { createServer, selectTools } from './server.js';
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
    sandbox = await startSandbox();
    config = sandboxConfig(config, sandbox);
    log.info({ outreach: sandbox.outreach.baseUrl }, 'sandbox simulators started');
  }
  const deps = await createDeps(config, { log });
  // Validate --tools now, so a typo stops start-up instead of silently hiding a tool.
  const tools = selectTools(config, deps.connections);
  log.info({ tools: tools.length, transport: config.transport, confirm: config.confirm }, 'starting');

  let closeTransport: () => Promise<void>;
  if (config.transport === 'http') {
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

/** The OAuth apps `sales-access-mcp auth <vendor>` can authorize, with the scopes the tools need. */
const AUTH_VENDORS = {
  outreach: { label: 'Outreach', prefix: 'OUTREACH', scopes: ['users.read', 'users.write', 'roles.read', 'profiles.read'] },
  // SalesLoft scopes (notes, "Required scopes"): read for the user listings, write for deactivation.
  salesloft: { label: 'SalesLoft', prefix: 'SALESLOFT', scopes: ['read', 'write'] },
} as const;

async function runAuth(config: Config, vendor: string): Promise<number> {
  if (vendor !== 'outreach' && vendor !== 'salesloft') {
    throw new ConfigError(`sales-access-mcp auth: unknown vendor "${vendor}". Supported: ${Object.keys(AUTH_VENDORS).join(', ')}.`);
  }
  const v = AUTH_VENDORS[vendor];
  const c = config[vendor];
  if (!c.auth || c.auth.kind !== 'oauth_refresh') {
    throw new ConfigError(`sales-access-mcp auth ${vendor} needs ${v.prefix}_CLIENT_ID and ${v.prefix}_CLIENT_SECRET (of your ${v.label} OAuth app).`);
  }
  const result = await runAuthorizationCodeFlow({
    vendor,
    authorizeUrl: c.authorizeUrl,
    tokenUrl: c.tokenUrl,
    clientId: c.auth.clientId,
    clientSecret: c.auth.clientSecret,
    redirectUri: c.redirectUri,
    scopes: [...v.scopes],
    store: new TokenStore(config.stateDir),
    print: (line) => process.stderr.write(`${line}\n`),
  });
  process.stderr.write(`${v.label} tokens stored under ${config.stateDir}${result.scopes ? ` (scopes: ${result.scopes})` : ''}.\n`);
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
