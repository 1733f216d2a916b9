#!/usr/bin/env node
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { openTokenStore } from './auth/open-token-store.js';
import { loadConfig, parseCliArgs, type Config } from './config.js';
import { closeApprovals } from './confirm/approvals.js';
import { createDeps } from './deps.js';
import { ConfigError } from './env.js';
import { createLogger, type Logger } from './log.js';
import { pruneStateFiles } from './retention.js';
import { withSandboxRoster } from './sandbox-roster.js';
import type { Sandbox } from './sandbox/index.js';
import { checkToolNames, createServer, selectTools } from './server.js';
import { startupWarnings } from './startup-warnings.js';
import { TOOLSET_DESCRIPTIONS, TOOLSETS } from './toolsets.js';
import { BUILTIN_ADAPTERS } from './vendors/registry.js';
import { VERSION } from './version.js';

const HELP = `sales-access-mcp ${VERSION}: an MCP server for access reviews and offboarding in Outreach, SalesLoft, Apollo.io and ZoomInfo

Usage:
  sales-access-mcp [flags]                     serve MCP over stdio (default) or Streamable HTTP
  sales-access-mcp doctor [--json] [--sandbox] check every configured vendor live (read-only); exit 1 on a problem
  sales-access-mcp auth outreach|salesloft     run the OAuth authorization-code flow and store the tokens
  sales-access-mcp audit verify [--json] [file…]
                                               check the audit log's hash chain (exit 0 intact, 1 broken, 2 unreadable)

Flags:
  --http              serve Streamable HTTP at /mcp instead of stdio
  --host HOST         HTTP bind address (default 127.0.0.1; other hosts need SALES_ACCESS_HTTP_TOKEN
                      or sign-in with the identity provider, SALES_ACCESS_OAUTH_ISSUER)
  --port PORT         HTTP port (default 3333; 0 picks a free one)
  --stateless         HTTP without MCP sessions (also SALES_ACCESS_HTTP_STATELESS=1): any replica answers
                      any request; share plans, approvals and jobs with SALES_ACCESS_REDIS_URL
  --sandbox           wire every vendor to the embedded simulators (no credentials needed)
  --toolsets a,b      serve these toolsets (also SALES_ACCESS_TOOLSETS); default: workflows and each
                      configured vendor's user-lifecycle tools; "all" serves every tool
  --tools a,b         serve only these tools (with --toolsets: these tools as well)
  --read-only         serve only read-only tools (wins over --toolsets and --tools)
  --vendors a,b       only these vendors (outreach, salesloft, apollo, zoominfo)
  --json              doctor and audit verify: print JSON instead of a table
  -v, --version       print the version
  -h, --help          print this help

Toolsets:
${TOOLSETS.map((t) => `  ${t.padEnd(12)}${TOOLSET_DESCRIPTIONS[t]}`).join('\n')}

Environment: see README.md ("Configuration") and docs/credentials.md. Logs go to stderr, JSON unless
LOG_FORMAT=pretty. Destructive writes are confirmed per SALES_ACCESS_CONFIRM: auto (default: elicitation, or an
approval page in the browser for clients without it), elicit, browser or token.
`;

async function main(): Promise<number> {
  // Everything the command line says is checked before anything starts: no simulator, no vendor, no file.
  const args = parseCliArgs(process.argv.slice(2));
  // Not serving: stdout is free for the answer.
  if (args.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let config: Config = loadConfig(args);
  checkToolNames(config);

  if (args.command === 'audit-verify') {
    // '--' ends the options, so a file named like a flag is still a file.
    const argv = [...(args.json ? ['--json'] : []), '--', ...(args.files ?? [])];
    // Loaded only for their command, like the auth flow and the HTTP server: serving starts without them.
    const { runAuditVerify } = await import('./audit/verify.js');
    return runAuditVerify(argv, { stdout: process.stdout, stderr: process.stderr, defaultFile: config.auditLogPath });
  }
  const log = createLogger(config.logLevel, config.logFormat);
  if (args.command === 'auth') return runAuth(config, args.authVendor as string);
  for (const warning of startupWarnings(process.env, config)) log.warn(warning);

  let sandbox: Sandbox | undefined;
  if (config.sandbox) {
    // Loaded only here: a production start never loads the simulators.
    const { startSandbox, sandboxConfig } = await import('./sandbox/index.js');
    const { sampleRosterCsv } = await import('./sandbox/roster.js');
    sandbox = await startSandbox();
    config = await withSandboxRoster(sandboxConfig(config, sandbox), sampleRosterCsv());
    log.info('sandbox simulators started');
  }
  try {
    if (args.command === 'doctor') {
      const { runDoctorCommand } = await import('./doctor.js');
      return await runDoctorCommand(config, { stdout: process.stdout, log, json: args.json });
    }
    return await serve(config, log);
  } finally {
    await sandbox?.close();
  }
}

async function serve(config: Config, log: Logger): Promise<number> {
  const deps = await createDeps(config, { log });
  await pruneStateFiles(config, log);
  const tools = selectTools(config, deps.vendors);
  log.info({ tools: tools.length, transport: config.transport, ...(config.transport === 'http' ? { stateless: config.stateless } : {}), confirm: config.confirm }, 'starting');

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
  const store = await openTokenStore(config);
  try {
    const result = await runAuthorizationCodeFlow({
      vendor,
      label: adapter.label,
      ...app,
      scopes: [...adapter.authorization.scopes],
      store: store.tokens,
      print: (line) => process.stderr.write(`${line}\n`),
    });
    process.stderr.write(`${adapter.label} tokens stored in ${store.tokens.where(vendor)}${result.scopes ? ` (scopes: ${result.scopes})` : ''}.\n`);
    return 0;
  } finally {
    await store.close();
  }
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
