import { performance } from 'node:perf_hooks';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { LATEST_PROTOCOL_VERSION, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { Pool, request } from 'undici';
import getUserTool from '../tools/outreach/get-user.js';
import type { ToolContext } from '../tools/types.js';
import { systemClock, type Clock } from '../src/clock.js';
import { restOf, type Deps } from '../src/deps.js';
import { outreachAdapter } from '../src/vendors/outreach/adapter.js';
import { createServer } from '../src/server.js';
import { JSONAPI_MEDIA_TYPE } from '../src/sandbox/outreach/index.js';
import { diff, percentiles, round3, summarize, type SampleSummary } from './stats.js';
import { expectOk, startBenchStack } from './stack.js';
import type { Benchmark, BenchContext } from './types.js';

const ITERATIONS = 300;
const WARMUP = 30;
const COLD_ITERATIONS = 60;
/** The aim for the server's overhead (reported, never asserted). */
const TARGET_ADDED_P50_MS = 1;
/** The Outreach client caches role/profile names this long (src/vendors/outreach/client.ts). */
const NAME_CACHE_MS = 5 * 60_000;

/** Real time plus an offset the benchmark can jump forward, to expire the name cache on demand. */
class SkewClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms, signal);
  }
}

interface Kind {
  name: string;
  fn(i: number): Promise<void>;
}

/**
 * Runs every kind once per iteration, rotating the order each iteration (A B, B A, ... for two kinds), so
 * machine noise, GC pauses and JIT warm-up land on all kinds alike. Returns the samples in ms.
 */
async function interleaved(kinds: Kind[], iterations: number, warmup: number, onMeasureStart?: () => void): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k.name, []]));
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) onMeasureStart?.();
    for (let j = 0; j < kinds.length; j++) {
      const k = kinds[(i + j) % kinds.length];
      const t0 = performance.now();
      await k.fn(i);
      const dt = performance.now() - t0;
      if (i >= warmup) samples[k.name].push(dt);
    }
  }
  return samples;
}

/** A second MCP session on the same deps, driven with bare JSON-RPC: the server's cost without the SDK client. */
async function rawServerSession(deps: Deps): Promise<{ callTool(name: string, args: Record<string, unknown>): Promise<void>; close(): Promise<void> }> {
  const server = createServer(deps);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const pending = new Map<number, (m: JSONRPCMessage) => void>();
  clientSide.onmessage = (m) => {
    if ('id' in m && typeof m.id === 'number' && ('result' in m || 'error' in m)) {
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    }
  };
  await server.connect(serverSide);
  await clientSide.start();
  let next = 0;
  const rpc = (method: string, params: Record<string, unknown>) =>
    new Promise<JSONRPCMessage>((resolve, reject) => {
      const id = ++next;
      pending.set(id, resolve);
      clientSide.send({ jsonrpc: '2.0', id, method, params }).catch(reject);
    });
  await rpc('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw-bench', version: '1.0.0' } });
  await clientSide.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return {
    async callTool(name, args) {
      const m = await rpc('tools/call', { name, arguments: args });
      const result = 'result' in m ? (m.result as { isError?: boolean; content?: { text?: string }[] }) : undefined;
      if (!result || result.isError) throw new Error(`raw tools/call ${name} failed: ${JSON.stringify('error' in m ? m.error : result?.content)}`);
    },
    close: () => server.close(),
  };
}

/**
 * Latency the server adds to one tool call over a direct HTTP call to the same sandbox endpoint:
 * outreach_get_user {id} through the SDK client vs undici GET /api/v2/users/{id} with the same headers,
 * interleaved. Then the same with a cold role/profile name cache, and a layer-by-layer breakdown.
 */
export const toolLatency: Benchmark = {
  name: 'tool_call_latency',
  description: `outreach_get_user {id} via the MCP client vs a direct undici GET /api/v2/users/{id}, ${ITERATIONS} interleaved iterations after ${WARMUP} warm-up`,
  async run(ctx: BenchContext) {
    const clock = new SkewClock();
    const stack = await startBenchStack({ clock });
    const sim = stack.sandbox.outreach;
    const pool = new Pool(sim.origin, { connections: 32, keepAliveTimeout: 30_000 });
    const raw = await rawServerSession(stack.deps);
    try {
      const ids = sim.users().slice(0, 50).map((u) => String(u.id));
      const id = (i: number) => ids[i % ids.length];
      const headers = { accept: JSONAPI_MEDIA_TYPE, authorization: `Bearer ${sim.staticAccessToken}`, 'user-agent': 'sales-access-mcp' };

      const direct: Kind = {
        name: 'direct',
        async fn(i) {
          const res = await request(`${sim.baseUrl}/users/${id(i)}`, { method: 'GET', headers, dispatcher: pool });
          const body = (await res.body.json()) as { data?: { id?: string } };
          if (res.statusCode !== 200 || body.data?.id !== id(i)) throw new Error(`direct GET /users/${id(i)} -> ${res.statusCode}`);
        },
      };
      const tool: Kind = {
        name: 'tool',
        async fn(i) {
          const s = expectOk(await stack.call('outreach_get_user', { id: id(i) }), 'outreach_get_user');
          if ((s.user as { id?: string } | undefined)?.id !== id(i)) throw new Error('outreach_get_user returned another user');
        },
      };

      // 1. The headline: A B A B ... with the name cache warm (the warm-up fills it).
      ctx.note(`direct vs tool: ${WARMUP} warm-up + ${ITERATIONS} iterations`);
      let before = 0;
      const main = await interleaved([direct, tool], ITERATIONS, WARMUP, () => (before = sim.requests.length));
      // Vendor requests the tool sent per call while measured (the direct call's own request taken out).
      const perToolCall = round3((sim.requests.length - before - ITERATIONS) / ITERATIONS);
      const directP = percentiles(main.direct);
      const toolP = percentiles(main.tool);

      // 2. Cold name cache: every tool call first lists roles and profiles again (3 vendor requests).
      ctx.note(`cold name cache: ${COLD_ITERATIONS} iterations`);
      const coldTool: Kind = {
        name: 'tool',
        async fn(i) {
          clock.offsetMs += NAME_CACHE_MS + 1000;
          await tool.fn(i);
        },
      };
      const coldBefore = sim.requests.length;
      const cold = await interleaved([direct, coldTool], COLD_ITERATIONS, 0);
      const coldPerCall = round3((sim.requests.length - coldBefore - COLD_ITERATIONS) / COLD_ITERATIONS);
      const coldDirect = percentiles(cold.direct);
      const coldToolP = percentiles(cold.tool);
      // Put the clock back so the warm phases below see a warm cache again.
      clock.offsetMs = 0;
      await tool.fn(0);

      // 3. Where the time goes: each layer adds one part of the stack on top of the one before.
      ctx.note(`breakdown by layer: ${ITERATIONS} iterations x 6 layers`);
      const outreach = restOf(stack.deps, outreachAdapter)!.client;
      const handlerCtx: ToolContext = {
        deps: stack.deps,
        actor: { kind: 'mcp_client', name: 'bench', version: '1' },
        signal: new AbortController().signal,
        confirmationDetail: () => undefined,
        progress: async () => {},
        confirm: async () => {
          throw new Error('no writes in this benchmark');
        },
      };
      const layers: Kind[] = [
        direct,
        {
          name: 'http_core',
          async fn(i) {
            await outreach.core.request({ method: 'GET', path: `/users/${id(i)}`, mediaType: JSONAPI_MEDIA_TYPE });
          },
        },
        {
          name: 'outreach_client',
          async fn(i) {
            await outreach.getUser(id(i));
          },
        },
        {
          name: 'tool_handler',
          async fn(i) {
            await getUserTool.handler({ id: id(i) }, handlerCtx);
          },
        },
        {
          name: 'mcp_server',
          async fn(i) {
            await raw.callTool('outreach_get_user', { id: id(i) });
          },
        },
        { name: 'mcp_client_tool', fn: tool.fn },
      ];
      const br = await interleaved(layers, ITERATIONS, WARMUP);
      const layerSummary: Record<string, SampleSummary> = Object.fromEntries(layers.map((l) => [l.name, summarize(br[l.name])]));
      const step = (a: string, b: string) => diff(percentiles(br[b]), percentiles(br[a]));

      return {
        iterations: ITERATIONS,
        warmup: WARMUP,
        endpoint: 'GET /api/v2/users/{id}',
        name_cache: 'warm',
        vendor_requests_per_tool_call: perToolCall,
        direct_ms: directP,
        tool_ms: toolP,
        added_ms: diff(toolP, directP),
        added_ms_note: 'tool percentile minus direct percentile. The p50 difference is the figure to read; the p99 one subtracts two noisy tails (a shared machine) and can even come out negative.',
        added_p50_target_ms: TARGET_ADDED_P50_MS,
        added_p50_within_target: diff(toolP, directP).p50 < TARGET_ADDED_P50_MS,
        cold_name_cache: {
          iterations: COLD_ITERATIONS,
          vendor_requests_per_tool_call: coldPerCall,
          direct_ms: coldDirect,
          tool_ms: coldToolP,
          added_ms: diff(coldToolP, coldDirect),
        },
        breakdown: {
          description:
            'Each layer includes the ones before: direct undici GET -> HttpCore.request (limiter, auth, retry wrapper, JSON parse) -> OutreachClient.getUser (+ zod wire schema) -> tool handler (+ name lookup, canonical mapping) -> MCP server over bare JSON-RPC (+ SDK input/output validation, fitResult, in-memory transport) -> SDK Client.callTool (+ client request plumbing and outputSchema validation)',
          iterations: ITERATIONS,
          layers_ms: layerSummary,
          added_per_layer_ms: {
            http_core: step('direct', 'http_core'),
            outreach_client: step('http_core', 'outreach_client'),
            tool_handler: step('outreach_client', 'tool_handler'),
            mcp_server: step('tool_handler', 'mcp_server'),
            mcp_client: step('mcp_server', 'mcp_client_tool'),
          },
        },
        rate_limit: stack.rateLimitCheck(),
      };
    } finally {
      await raw.close();
      await pool.close();
      await stack.close();
    }
  },
};
