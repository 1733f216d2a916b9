import { apolloAdapter } from '../src/vendors/apollo/adapter.js';
import { settingsOf } from '../src/vendors/connection.js';
import type { ApolloRequestLogEntry, ApolloSim } from '../src/sandbox/apollo/index.js';
import type { Sandbox } from '../src/sandbox/index.js';
import { startSandbox } from '../src/sandbox/index.js';
import { expectOk, startBenchStack, type BenchStack } from './stack.js';
import { median, round3 } from './stats.js';
import type { Benchmark, BenchContext } from './types.js';
import { medianIdeal, stampRequests, timedCall, untilBoundary, type TimedCall } from './windows.js';

/** Apollo's windows scaled by 0.01: the minute lasts 600 ms (the hour 36 s, the day 864 s). */
const WINDOW_SCALE = 0.01;
const MINUTE_MS = 60_000 * WINDOW_SCALE;
/** users/search per (scaled) minute; hour and day are raised out of the way. */
const MINUTE_LIMIT = 5;
/** People pool: Apollo seats about three quarters, so ~2,300 teammates, 23 pages of 100. */
const PEOPLE = 3_100;
const PER_PAGE = 100;
const ENDPOINT = 'api/v1/users/search';
const UNTHROTTLED_RUNS = 5;
/** Unthrottled listings run first and not counted (JIT warm-up: the first listing in a process is ~3x slower). */
const WARMUP_RUNS = 2;
/** Listings on the throttled simulator: the first with nothing learned, then with the limits learned. */
const THROTTLED_RUNS = 4;
const HUGE = 1_000_000;

interface Listing {
  call: TimedCall;
  structured: Record<string, unknown>;
  entries: ApolloRequestLogEntry[];
}

async function listAll(stack: BenchStack, sim: ApolloSim): Promise<Listing> {
  const from = sim.requests.length;
  const call = await timedCall(stack, 'apollo_list_users', {});
  const structured = expectOk(call.result, 'apollo_list_users');
  return { call, structured, entries: sim.requests.slice(from).filter((e) => e.endpoint === ENDPOINT) };
}

/**
 * Issue 4: Apollo's fixed windows (per endpoint, aligned to the clock, 429 without Retry-After) against a
 * listing that needs several of them: wall time against the window bound, and the 429s it took.
 */
export const apolloListWindows: Benchmark = {
  name: 'apollo_list_windows',
  description: `apollo_list_users on ~2,300 teammates with users/search limited to ${MINUTE_LIMIT} per ${MINUTE_MS} ms window (windowScale ${WINDOW_SCALE}): wall time vs the window bound, 429s per window, cold and with limits learned`,
  async run(ctx: BenchContext) {
    const sandboxes: Sandbox[] = [];
    const stacks: BenchStack[] = [];
    try {
      // Reference: the same teammates without a limit worth the name, for the time each request takes.
      const freeSandbox = await startSandbox({ apollo: { userCount: PEOPLE, limits: { windowScale: WINDOW_SCALE, minute: HUGE, hour: HUGE, day: HUGE } } });
      sandboxes.push(freeSandbox);
      const freeStack = await startBenchStack({ sandbox: freeSandbox });
      stacks.push(freeStack);
      ctx.note(`unthrottled: ${WARMUP_RUNS} warm-up + ${UNTHROTTLED_RUNS} listings`);
      for (let i = 0; i < WARMUP_RUNS; i++) await listAll(freeStack, freeSandbox.apollo);
      const free: Listing[] = [];
      for (let i = 0; i < UNTHROTTLED_RUNS; i++) free.push(await listAll(freeStack, freeSandbox.apollo));
      const pages = median(free.map((l) => l.entries.length));

      const sandbox = await startSandbox({
        apollo: { userCount: PEOPLE, limits: { windowScale: WINDOW_SCALE, endpoints: { [ENDPOINT]: { minute: MINUTE_LIMIT, hour: HUGE, day: HUGE } } } },
      });
      sandboxes.push(sandbox);
      const sim = sandbox.apollo;
      const stamps = stampRequests(sim.requests);
      const stack = await startBenchStack({ sandbox });
      stacks.push(stack);
      const windowsNeeded = Math.ceil(pages / MINUTE_LIMIT);
      const runs: {
        limits: 'not learned' | 'learned';
        pages: number;
        wall_ms: number;
        window_bound_ms: number;
        time_ratio: number;
        status_429: number;
        status_429_per_window: number[];
        requests_per_window: number[];
        window_start_delay_ms: (number | null)[];
        windows_used: number;
      }[] = [];
      try {
        let notBefore = Date.now();
        for (let i = 0; i < THROTTLED_RUNS; i++) {
          // Start just after a boundary, on a window the previous listing did not touch.
          const boundary = await untilBoundary(MINUTE_MS, notBefore);
          const l = await listAll(stack, sim);
          notBefore = Date.now();
          const first = Math.floor(boundary / MINUTE_MS);
          const reqs: number[] = [];
          const r429: number[] = [];
          const delays: (number | null)[] = [];
          for (const e of l.entries) {
            const at = stamps.timeOf(e) ?? l.call.started_at;
            const idx = Math.floor(at / MINUTE_MS) - first;
            while (reqs.length <= idx) {
              reqs.push(0);
              r429.push(0);
            }
            while (delays.length < idx) delays.push(null);
            if (idx >= 1 && delays[idx - 1] === null) delays[idx - 1] = at - (first + idx) * MINUTE_MS;
            if (e.status === 429) r429[idx] += 1;
            else reqs[idx] += 1;
          }
          const ok = l.entries.filter((e) => e.status === 200).length;
          const bound = medianIdeal(free.map((f) => f.call), ok, MINUTE_MS, MINUTE_LIMIT, l.call.started_at - boundary);
          runs.push({
            limits: i === 0 ? 'not learned' : 'learned',
            pages: Number(l.structured.pages_fetched),
            wall_ms: l.call.wall_ms,
            window_bound_ms: bound,
            time_ratio: round3(l.call.wall_ms / bound),
            status_429: r429.reduce((a, b) => a + b, 0),
            status_429_per_window: r429,
            requests_per_window: reqs,
            window_start_delay_ms: delays,
            windows_used: reqs.filter((n) => n > 0).length,
          });
          ctx.note(`run ${i + 1} (${runs[i].limits}): ${l.call.wall_ms.toFixed(0)} ms, bound ${bound.toFixed(0)} ms, requests per window ${JSON.stringify(reqs)}, 429s ${JSON.stringify(r429)}`);
        }
      } finally {
        stamps.stop();
      }
      const learned = runs.slice(1);
      const teammates = sim.users().length;
      return {
        teammates,
        per_page: PER_PAGE,
        pages,
        simulator: { endpoint: ENDPOINT, per_window: MINUTE_LIMIT, window_ms: MINUTE_MS, window_scale: WINDOW_SCALE, hour_and_day: 'raised to 1e6' },
        server_limiter: {
          window_scale: settingsOf(stack.config, apolloAdapter).rateWindowScale,
          note: 'Until the first users/search response the limiter assumes 50/minute, 100/hour, 300/day; each response\'s x-rate-limit-* and requests-left headers replace them.',
        },
        windows_needed: windowsNeeded,
        window_start_delay:
          'window_start_delay_ms: per window after the first, ms from its boundary to the simulator\'s answer to the first users/search request in it (request time + handling); the limiter\'s own idle time at boundaries.',
        budget_floor_ms: (windowsNeeded - 1) * MINUTE_MS,
        window_bound:
          'window_bound_ms replays an unthrottled listing (same teammates, no limit; request k takes as long as it did there, from the progress notifications, plus the end of the call) ' +
          `with at most ${MINUTE_LIMIT} requests starting per ${MINUTE_MS} ms window, each as early as allowed, from the same offset after the boundary (median over ${UNTHROTTLED_RUNS} unthrottled runs after ${WARMUP_RUNS} warm-up runs). ` +
          `With fast requests: (windows_needed - 1) x ${MINUTE_MS} ms + the last window's requests + the end of the call.`,
        unthrottled_wall_ms: median(free.map((f) => f.call.wall_ms)),
        first_listing: runs[0],
        learned_listings: {
          runs: learned.length,
          wall_ms: median(learned.map((r) => r.wall_ms)),
          window_bound_ms: median(learned.map((r) => r.window_bound_ms)),
          time_ratio: median(learned.map((r) => r.time_ratio)),
          status_429: learned.reduce((a, r) => a + r.status_429, 0),
          any_429: learned.some((r) => r.status_429 > 0),
          runs_detail: learned,
        },
        status_429_total: runs.reduce((a, r) => a + r.status_429, 0),
        max_429_in_one_window: Math.max(0, ...runs.flatMap((r) => r.status_429_per_window)),
        aim: 'at most one 429 per window; none once limits are learned',
      };
    } finally {
      for (const s of stacks) await s.close();
      for (const s of sandboxes) await s.close();
    }
  },
};
