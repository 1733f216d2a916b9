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
 * between the replicas (no affinity). Both pairs run at once, and the modes take turns in rounds of 25 calls
 * per client (A B B A …), so that drift on this shared machine hits both alike. The tool is list_connections: a read that calls no vendor, so the figures
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
  /** Sum of the rounds' wall times (all clients at once within a round). */
  wall_ms: number;
  calls_per_second: number;
  /** Calls answered by each replica (by the client's choice of URL). */
  per_replica: number[];
}

interface Fleet {
  clients: { client: Client; replicaOf: () => number }[];
  samples: number[];
  firstErrors: string[];
  errors: number;
  wallMs: number;
  perReplica: number[];
}

/** `n` connected clients: sticky (client c on replica c mod 2), or alternating replicas on every HTTP request. */
async function connectFleet(urls: string[], stateless: boolean, n: number): Promise<Fleet> {
  const clients = await Promise.all(
    Array.from({ length: n }, async (_, c) => {
      const client = new Client({ name: `bench-${c}`, version: '1.0.0' });
      let next = c;
      // Stateless: each HTTP request of this client goes to the next replica (a balancer without affinity).
      const alternate = (input: string | URL, init?: RequestInit) => {
        const u = new URL(input);
        u.host = new URL(urls[next++ % urls.length]!).host;
        return fetch(u, init);
      };
      const transport = new StreamableHTTPClientTransport(new URL(urls[c % urls.length]!), {
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
        ...(stateless ? { fetch: alternate } : {}),
      });
      await client.connect(transport);
      return { client, replicaOf: () => (stateless ? (next - 1) % urls.length : c % urls.length) };
    }),
  );
  return { clients, samples: [], firstErrors: [], errors: 0, wallMs: 0, perReplica: urls.map(() => 0) };
}

/** One round: every client of the fleet makes `calls` calls one after another, all clients at once. */
async function round(fleet: Fleet, calls: number, record: boolean): Promise<void> {
  const t0 = performance.now();
  await Promise.all(
    fleet.clients.map(async ({ client, replicaOf }) => {
      for (let i = 0; i < calls; i++) {
        const s = performance.now();
        let failure: string | undefined;
        try {
          const r = (await client.callTool({ name: TOOL, arguments: {} })) as CallToolResult;
          if (r.isError) failure = JSON.stringify(r.content).slice(0, 300);
        } catch (err) {
          failure = String((err as Error)?.message ?? err).slice(0, 300);
        }
        if (!record) continue;
        fleet.samples.push(performance.now() - s);
        fleet.perReplica[replicaOf()]! += 1;
        if (failure !== undefined) {
          fleet.errors += 1;
          if (fleet.firstErrors.length < 3) fleet.firstErrors.push(failure);
        }
      }
    }),
  );
  if (record) fleet.wallMs += performance.now() - t0;
}

function figures(f: Fleet): RunFigures {
  return {
    calls: f.samples.length,
    errors: f.errors,
    first_errors: f.firstErrors,
    latency_ms: summarize(f.samples),
    wall_ms: Math.round(f.wallMs),
    calls_per_second: round3(f.samples.length / (f.wallMs / 1000)),
    per_replica: f.perReplica,
  };
}

async function startPair(stateless: boolean, env: Record<string, string>): Promise<Replica[]> {
  const args = ['--vendors', 'outreach', '--http', '--port', '0', ...(stateless ? ['--stateless'] : [])];
  const tag = stateless ? 'stateless' : 'sessions';
  return Promise.all(['a', 'b'].map((id) => startReplica(`${tag}-${id}`, args, { ...env, SALES_ACCESS_STATE_DIR: mkdtempSync(join(tmpdir(), `sam-bench-${tag}-${id}-`)) })));
}

/** Rounds per mode, alternating A B B A … so that the machine's drift hits both modes alike. */
const ROUNDS = 4;
/** Calls per mode of the single-client comparison. */
const SINGLE_CALLS = 300;

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
    const pairs: Replica[][] = [];
    try {
      pairs.push(await startPair(false, env), await startPair(true, env));
      const fleets = [await connectFleet(pairs[0]!.map((r) => r.url), false, CLIENTS), await connectFleet(pairs[1]!.map((r) => r.url), true, CLIENTS)];
      // Warm-up (JIT, connection pools), not counted.
      for (const f of fleets) await round(f, 5, false);
      for (let r = 0; r < 2 * ROUNDS; r++) {
        const f = fleets[[0, 1, 1, 0][r % 4]!]!;
        ctx.note(`round ${r + 1}/${2 * ROUNDS}: ${f === fleets[0] ? 'sessions' : 'stateless'}, ${CLIENTS} clients x ${CALLS / ROUNDS} calls`);
        await round(f, CALLS / ROUNDS, true);
      }
      await Promise.all(fleets.flatMap((f) => f.clients.map(({ client }) => client.close().catch(() => {}))));
      const [sessions, stateless] = fleets.map(figures) as [RunFigures, RunFigures];
      // One client per mode, calls one at a time and the modes alternating call by call: the cost per call
      // without the contention of 50 clients on this machine.
      ctx.note(`single client: ${SINGLE_CALLS} calls per mode, alternating`);
      const singles = [await connectFleet(pairs[0]!.map((r) => r.url), false, 1), await connectFleet(pairs[1]!.map((r) => r.url), true, 1)];
      for (const f of singles) await round(f, 20, false);
      for (let i = 0; i < SINGLE_CALLS; i++) for (const f of i % 2 ? singles : [...singles].reverse()) await round(f, 1, true);
      await Promise.all(singles.map((f) => f.clients[0]!.client.close().catch(() => {})));
      const [one, oneStateless] = singles.map((f) => ({ errors: f.errors, latency_ms: summarize(f.samples) }));
      return {
        tool: TOOL,
        clients: CLIENTS,
        calls_per_client: CALLS,
        rounds: `${ROUNDS} per mode, alternating (sessions, stateless, stateless, sessions, ...)`,
        redis: noRedis ? `none (${noRedis})` : 'shared by both replicas of each mode',
        limits: 'SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE=1000000, SALES_ACCESS_HTTP_MAX_SESSIONS=200 (one bearer token for all clients)',
        sessions_sticky: sessions,
        stateless_alternating: stateless,
        p50_ratio_stateless_to_sessions: round3(stateless.latency_ms.p50 / sessions.latency_ms.p50),
        p99_ratio_stateless_to_sessions: round3(stateless.latency_ms.p99 / sessions.latency_ms.p99),
        single_client_sessions: one,
        single_client_stateless: oneStateless,
        single_client_p50_ratio: round3(oneStateless!.latency_ms.p50 / one!.latency_ms.p50),
      };
    } finally {
      await Promise.all(pairs.flat().map((r) => r.stop()));
      await sim.close();
      if (!noRedis) await deletePrefix(prefix);
      rmSync(stateDir, { recursive: true, force: true });
    }
  },
};
