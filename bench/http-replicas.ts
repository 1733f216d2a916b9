import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startOutreachSimulator } from '../src/sandbox/outreach/index.js';
import { deletePrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../test/support/redis.js';
import { round3, summarize } from './stats.js';
import type { Benchmark, BenchContext } from './types.js';

/**
 * Issue 13: 50 concurrent MCP HTTP clients x 100 calls against two replica processes (the built server), on one
 * Outreach simulator in this process and one Redis when there is one. Twice: with sessions, each client sticking
 * to one replica (what a balancer with affinity does), and with --stateless, each client's requests alternating
 * between the replicas (no affinity). The tool is list_connections: a read that calls no vendor, so the figures
 * are the transport's and the server's own cost per call (in stateless mode: a transport and a server per request).
 *
 * The replicas are configured so that the HTTP limits cause no error: every client uses the same bearer token,
 * so they share one per-client budget, raised to SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE=1000000 (default 600);
 * SALES_ACCESS_HTTP_MAX_SESSIONS=200 (default 100) covers 25 sessions per replica, or 50 requests in progress.
 */

const CLIENTS = 50;
const CALLS = 100;
const TOOL = 'list_connections';
const TOKEN = 'bench-http-replicas-token-0123456789abcdef0123';
const here = fileURLToPath(new URL('.', import.meta.url));
const MAIN = join(here, '..', 'sales-access-mcp.mjs');

interface Replica {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startReplica(id: string, args: string[], env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env, SALES_ACCESS_REPLICA_ID: id }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = err.split('\n').find((l) => l.includes('MCP Streamable HTTP listening'));
    if (line) {
      const url = (JSON.parse(line) as { url: string }).url;
      return {
        url,
        child,
        async stop() {
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`replica ${id} did not start: ${err.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface RunFigures {
  calls: number;
  errors: number;
  first_errors: string[];
  latency_ms: ReturnType<typeof summarize>;
  wall_ms: number;
  calls_per_second: number;
  /** Calls answered by each replica (by the client's choice of URL). */
  per_replica: number[];
}

/**
 * `CLIENTS` clients, each connected and then making `CALLS` calls one after another, all clients at once.
 * `pick(client, request)` chooses the replica of each HTTP request.
 */
async function run(urls: string[], stateless: boolean, clients: number, calls: number): Promise<RunFigures> {
  const perReplica = urls.map(() => 0);
  const connected = await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const client = new Client({ name: `bench-${c}`, version: '1.0.0' });
      let n = c;
      // Stateless: every HTTP request of this client goes to the next replica (a balancer without affinity).
      const alternate = (input: string | URL, init?: RequestInit) => {
        const u = new URL(input);
        u.host = new URL(urls[n++ % urls.length]!).host;
        return fetch(u, init);
      };
      const home = urls[c % urls.length]!;
      const transport = new StreamableHTTPClientTransport(new URL(home), {
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
        ...(stateless ? { fetch: alternate } : {}),
      });
      await client.connect(transport);
      return { client, c, replicaOf: () => (stateless ? (n - 1) % urls.length : c % urls.length) };
    }),
  );
  const samples: number[] = [];
  const firstErrors: string[] = [];
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    connected.map(async ({ client, replicaOf }) => {
      for (let i = 0; i < calls; i++) {
        const s = performance.now();
        try {
          const r = (await client.callTool({ name: TOOL, arguments: {} })) as CallToolResult;
          samples.push(performance.now() - s);
          perReplica[replicaOf()]! += 1;
          if (r.isError) {
            errors += 1;
            if (firstErrors.length < 3) firstErrors.push(JSON.stringify(r.content).slice(0, 300));
          }
        } catch (err) {
          errors += 1;
          if (firstErrors.length < 3) firstErrors.push(String((err as Error)?.message ?? err).slice(0, 300));
        }
      }
    }),
  );
  const wall = performance.now() - t0;
  await Promise.all(connected.map(({ client }) => client.close().catch(() => {})));
  return {
    calls: clients * calls,
    errors,
    first_errors: firstErrors,
    latency_ms: summarize(samples),
    wall_ms: Math.round(wall),
    calls_per_second: round3((clients * calls) / (wall / 1000)),
    per_replica: perReplica,
  };
}

async function mode(ctx: BenchContext, stateless: boolean, env: Record<string, string>): Promise<RunFigures> {
  const args = ['--vendors', 'outreach', '--http', '--port', '0', ...(stateless ? ['--stateless'] : [])];
  const replicas = await Promise.all(['a', 'b'].map((id) => startReplica(id, args, { ...env, SALES_ACCESS_STATE_DIR: mkdtempSync(join(tmpdir(), `sam-bench-replica-${id}-`)) })));
  try {
    const urls = replicas.map((r) => r.url);
    // Warm-up (JIT, connection pools), not counted.
    await run(urls, stateless, 10, 10);
    ctx.note(`${stateless ? 'stateless' : 'sessions'}: ${CLIENTS} clients x ${CALLS} calls`);
    return await run(urls, stateless, CLIENTS, CALLS);
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }
}

export const httpReplicas: Benchmark = {
  name: 'http_replicas_50x100',
  description: `${CLIENTS} concurrent MCP HTTP clients x ${CALLS} ${TOOL} calls against two replicas: sessions (each client on one replica) vs --stateless (requests alternate replicas)`,
  async run(ctx) {
    const sim = await startOutreachSimulator();
    const noRedis = await redisUnavailable();
    const prefix = testPrefix().replace('sam-test:', 'sam-bench:');
    const stateDir = mkdtempSync(join(tmpdir(), 'sam-bench-replicas-'));
    const env: Record<string, string> = {
      OUTREACH_BASE_URL: sim.baseUrl,
      OUTREACH_ACCESS_TOKEN: sim.issueAccessToken(3_600_000),
      SALES_ACCESS_AUDIT_LOG: join(stateDir, 'audit.log'),
      SALES_ACCESS_HTTP_TOKEN: TOKEN,
      SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
      SALES_ACCESS_HTTP_MAX_SESSIONS: '200',
      LOG_LEVEL: 'info',
      ...(noRedis ? {} : { SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix }),
    };
    try {
      const sessions = await mode(ctx, false, env);
      const stateless = await mode(ctx, true, env);
      return {
        tool: TOOL,
        clients: CLIENTS,
        calls_per_client: CALLS,
        redis: noRedis ? `none (${noRedis})` : 'shared by both replicas',
        limits: 'SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE=1000000, SALES_ACCESS_HTTP_MAX_SESSIONS=200 (one bearer token for all clients)',
        sessions_sticky: sessions,
        stateless_alternating: stateless,
        p50_ratio_stateless_to_sessions: round3(stateless.latency_ms.p50 / sessions.latency_ms.p50),
        p99_ratio_stateless_to_sessions: round3(stateless.latency_ms.p99 / sessions.latency_ms.p99),
      };
    } finally {
      await sim.close();
      if (!noRedis) await deletePrefix(prefix);
      rmSync(stateDir, { recursive: true, force: true });
    }
  },
};
