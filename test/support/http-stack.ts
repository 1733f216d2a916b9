import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { request } from 'undici';
import { systemClock, type Clock } from '../../src/clock.js';
import { loadConfig, parseCliArgs } from '../../src/config.js';
import { closeApprovals } from '../../src/confirm/approvals.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { startHttpServer, type HttpServerHandle } from '../../src/http-server.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { sandboxConfig, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

/** A clock that runs in real time plus an offset a test moves forward (sleeps stay real). */
export class OffsetClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms, signal);
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface HttpStack {
  url: string;
  http: HttpServerHandle;
  deps: Deps;
  sandbox: Sandbox;
  clock: OffsetClock;
  close(): Promise<void>;
}

/** The real HTTP server in this process (so a test can read its session count and move its clock), on the sandbox. */
export async function startHttpStack(env: Record<string, string> = {}, opts: { log?: Logger; port?: number; sandbox?: Sandbox } = {}): Promise<HttpStack> {
  const clock = new OffsetClock();
  // A second replica may share the first one's sandbox (the vendors are one), which the first one closes.
  const sandbox = opts.sandbox ?? (await startSandbox({ clock }));
  const stateDir = mkdtempSync(join(tmpdir(), 'sam-http-'));
  const config = sandboxConfig(loadConfig(parseCliArgs(['--sandbox', '--http', '--port', String(opts.port ?? 0)]), { SALES_ACCESS_STATE_DIR: stateDir, SALES_ACCESS_CONFIRM: 'elicit', ...env }), sandbox);
  const deps = await createDeps(config, { log: opts.log ?? silentLogger, clock, retryBaseDelayMs: 2 });
  const http = await startHttpServer(deps);
  return {
    url: http.url,
    http,
    deps,
    sandbox,
    clock,
    async close() {
      await http.close();
      await closeApprovals(deps);
      await deps.close();
      if (!opts.sandbox) await sandbox.close();
    },
  };
}

/** A port free a moment ago (for a test whose configuration names the server's own URL before it starts). */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } };
export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A raw initialize: its status, Retry-After, session id and body text. */
export async function rawInitialize(url: string, headers: Record<string, string> = {}) {
  const r = await request(url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(INIT) });
  const text = await r.body.text();
  const sid = r.headers['mcp-session-id'];
  return { status: r.statusCode, retryAfter: r.headers['retry-after'] as string | undefined, sessionId: typeof sid === 'string' ? sid : undefined, text };
}
