import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { EXTENSION_ID, RESOURCE_MIME_TYPE } from '../src/apps/capability.js';
import { systemClock, type Clock } from '../src/clock.js';
import { loadConfig, parseCliArgs, type Config } from '../src/config.js';
import { createDeps, restOf, type Deps } from '../src/deps.js';
import { outreachAdapter } from '../src/vendors/outreach/adapter.js';
import { silentLogger } from '../src/log.js';
import { toolsetFlags } from '../test/support/stack.js';
import { sandboxConfig, startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { createServer } from '../src/server.js';

/**
 * The real server and a real SDK client over an in-memory transport, on the embedded sandbox, in this
 * process (as test/support/stack.ts does). Each benchmark starts its own stack, so they stay independent.
 */
export interface BenchStack {
  client: Client;
  server: McpServer;
  sandbox: Sandbox;
  deps: Deps;
  config: Config;
  stateDir: string;
  /** One tool call, made again while it answers `running`, until the work is done. */
  call(
    name: string,
    args?: Record<string, unknown>,
    opts?: { onprogress?: (p: { progress: number; total?: number; message?: string }) => void },
  ): Promise<CallToolResult>;
  /** Sandbox requests so far: total, 429s, and the sandbox's own hourly limit. */
  rateLimitCheck(): { sandbox_requests: number; status_429: number; sandbox_limit_per_hour: number; client_limiter_remaining: number | null; throttled: boolean };
  close(): Promise<void>;
}

export interface BenchStackOptions {
  userCount?: number;
  clock?: Clock;
  /** Answer confirmation dialogs with accept (default: the client declares no elicitation). */
  approveWrites?: boolean;
  /** The client declares the MCP Apps extension (in-chat views and their app-only tools are then listed). */
  apps?: boolean;
  flags?: string[];
  /** `--toolsets`: `all` by default (the benchmarks call tools outside the default set); null: the default set. */
  toolsets?: string | null;
  /**
   * Run on this sandbox instead of starting one (several stacks, e.g. with different limiter settings, can
   * then share one simulator and its budget). A sandbox passed in is not closed by close().
   */
  sandbox?: Sandbox;
  /** Extra environment for loadConfig (e.g. SALESLOFT_RATE_LIMIT_RESERVE). */
  env?: Record<string, string>;
  /** Adjusts the config after the sandbox is wired (e.g. limiter windows matching a time-scaled simulator). */
  configure?: (config: Config, sandbox: Sandbox) => Config;
}

/** The simulator's default (src/sandbox/outreach.ts), used until a response has reported the real one. */
const SANDBOX_LIMIT_PER_HOUR = 10_000;

export async function startBenchStack(opts: BenchStackOptions = {}): Promise<BenchStack> {
  const stateDir = mkdtempSync(join(tmpdir(), 'sam-bench-'));
  // Only the sandbox sees requests: real credentials in the environment are not read.
  const ownSandbox = opts.sandbox === undefined;
  const sandbox = opts.sandbox ?? (await startSandbox({ userCount: opts.userCount }));
  let config = sandboxConfig(loadConfig(parseCliArgs(['--sandbox', ...toolsetFlags(opts.flags, opts.toolsets), ...(opts.flags ?? [])]), { ...opts.env, SALES_ACCESS_STATE_DIR: stateDir, LOG_LEVEL: 'silent' }), sandbox);
  if (opts.configure) config = opts.configure(config, sandbox);
  const deps = await createDeps(config, { log: silentLogger, clock: opts.clock ?? systemClock });
  const server = createServer(deps);
  const client = new Client({ name: 'sales-access-bench', version: '1.0.0' }, {
    capabilities: {
      ...(opts.approveWrites ? { elicitation: { form: {} } } : {}),
      ...(opts.apps ? { extensions: { [EXTENSION_ID]: { mimeTypes: [RESOURCE_MIME_TYPE] } } } : {}),
    },
  });
  if (opts.approveWrites) client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { approve: true } }));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.connect(clientSide);
  // Like a real client: list the tools first, which also turns on the client's outputSchema validation.
  await client.listTools();
  return {
    client,
    server,
    sandbox,
    deps,
    config,
    stateDir,
    async call(name, args = {}, o = {}) {
      // Work longer than the call deadline answers `running`: call again (it attaches) until it is done.
      for (;;) {
        const r = (await client.callTool({ name, arguments: args }, undefined, { onprogress: o.onprogress, timeout: 120_000 })) as CallToolResult;
        if ((r.structuredContent as { status?: string } | undefined)?.status !== 'running') return r;
      }
    },
    rateLimitCheck() {
      const reqs = sandbox.outreach.requests;
      const hour = restOf(deps, outreachAdapter)?.budget().windows.find((w) => w.name === 'hour');
      const status429 = reqs.filter((r) => r.status === 429).length;
      const remaining = hour?.remaining ?? null;
      return {
        sandbox_requests: reqs.length,
        status_429: status429,
        // Learned from the sandbox's X-RateLimit-Limit header, so this is the limit really in force.
        sandbox_limit_per_hour: hour?.limit ?? SANDBOX_LIMIT_PER_HOUR,
        client_limiter_remaining: remaining,
        // Neither the sandbox (429) nor the client-side limiter (no budget left) held anything back.
        throttled: status429 > 0 || remaining === 0 || reqs.length >= SANDBOX_LIMIT_PER_HOUR,
      };
    },
    async close() {
      await client.close();
      await server.close();
      await deps.close();
      if (ownSandbox) await sandbox.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

/** Throws with the tool's own message when a call failed: a benchmark must not time errors. */
export function expectOk(r: CallToolResult, what: string): Record<string, unknown> {
  if (r.isError) throw new Error(`${what} failed: ${textOf(r)}`);
  return (r.structuredContent ?? {}) as Record<string, unknown>;
}
