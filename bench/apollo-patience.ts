import { performance } from 'node:perf_hooks';
import type { Sandbox } from '../src/sandbox/index.js';
import { startSandbox } from '../src/sandbox/index.js';
import { expectOk, startBenchStack, type BenchStack } from './stack.js';
import { round3 } from './stats.js';
import type { Benchmark, BenchContext } from './types.js';
// Apollo's windows scaled as the windows benchmark scales them (the minute lasts 600 ms); the deadline with them.
import { ENDPOINT, HUGE, MINUTE_MS, PER_PAGE, WINDOW_SCALE } from './apollo-list-windows.js';

/** users/search per (scaled) minute; hour and day raised out of the way. */
const PER_MINUTE = 60;
/** Apollo seats about three quarters of the people pool: ~30,000 teammates, 300 pages of 100. */
const PEOPLE = 40_000;
/** The default call deadline (45 s) and Claude Desktop's cancel (~60 s), on the same scale. */
const DEADLINE_MS = 45_000 * WINDOW_SCALE;
const CLIENT_CANCEL_MS = 60_000 * WINDOW_SCALE;
/** The client's patience per call here: generous, so a slow machine shows up as a long call rather than a failure. */
const PATIENCE_MS = 30_000;

interface CallRecord {
  status: string;
  ms: number;
  pages: number | null;
  expected_finish_at: string | null;
}

/**
 * Issue 11: a listing far longer than any client waits, done by calls that each answer within the deadline.
 * 30,000 Apollo teammates at 60 requests/minute is 300 pages, five minutes of Apollo's budget (3 s scaled): the
 * first call answers `running`, and the client calls again (same arguments) until the roster is there.
 * Reports the calls made, the longest one against the deadline and the client's cancel, the vendor requests
 * against the minimum (one per page), the 429s, and how the first expected finish compared with the real one.
 */
export const apolloPatience: Benchmark = {
  name: 'apollo_patience_30k',
  description: `apollo_list_users on ~30,000 teammates with users/search at ${PER_MINUTE} per ${MINUTE_MS} ms window (windowScale ${WINDOW_SCALE}), call deadline ${DEADLINE_MS} ms (45 s scaled): calls, longest call, vendor requests vs minimum, 429s`,
  async run(ctx: BenchContext) {
    let sandbox: Sandbox | undefined;
    let stack: BenchStack | undefined;
    try {
      sandbox = await startSandbox({
        apollo: { userCount: PEOPLE, limits: { windowScale: WINDOW_SCALE, endpoints: { [ENDPOINT]: { minute: PER_MINUTE, hour: HUGE, day: HUGE } } } },
      });
      const sim = sandbox.apollo;
      const teammates = sim.users().length;
      const minimum = Math.ceil(teammates / PER_PAGE);
      // The deadline scaled like the windows (the variable takes whole seconds; the bench sets the config itself).
      stack = await startBenchStack({ sandbox, configure: (c) => ({ ...c, callDeadlineMs: DEADLINE_MS }) });
      ctx.note(`${teammates} teammates, ${minimum} pages; calling until done`);

      const calls: CallRecord[] = [];
      const from = sim.requests.length;
      const t0 = performance.now();
      let structured: Record<string, unknown> = {};
      for (;;) {
        const c0 = performance.now();
        const result = await stack.client.callTool({ name: 'apollo_list_users', arguments: {} }, undefined, { timeout: PATIENCE_MS });
        const ms = round3(performance.now() - c0);
        structured = expectOk(result as never, 'apollo_list_users');
        const job = structured.job as { progress: { pages: number | null }; expected_finish_at: string | null } | undefined;
        calls.push({ status: String(structured.status), ms, pages: job?.progress.pages ?? null, expected_finish_at: job?.expected_finish_at ?? null });
        if (structured.status !== 'running') break;
        if (calls.length > 10_000) throw new Error('still running after 10,000 calls');
      }
      const wallMs = round3(performance.now() - t0);
      const finishedAt = Date.now();
      const entries = sim.requests.slice(from);
      const searches = entries.filter((e) => e.endpoint === ENDPOINT);
      const firstEstimate = calls.find((c) => c.expected_finish_at !== null);
      const longest = Math.max(...calls.map((c) => c.ms));
      ctx.note(`${calls.length} calls, longest ${longest.toFixed(0)} ms (deadline ${DEADLINE_MS} ms), ${searches.length} users/search requests (minimum ${minimum})`);
      return {
        teammates,
        pages_minimum: minimum,
        scale: { window_scale: WINDOW_SCALE, minute_ms: MINUTE_MS, per_minute: PER_MINUTE, deadline_ms: DEADLINE_MS, client_cancel_ms: CLIENT_CANCEL_MS },
        calls_made: calls.length,
        running_answers: calls.filter((c) => c.status === 'running').length,
        final_status: structured.status,
        teammates_listed: (structured.summary as { active: number; deactivated: number } | undefined)
          ? (structured.summary as { active: number; deactivated: number }).active + (structured.summary as { active: number; deactivated: number }).deactivated
          : null,
        longest_call_ms: longest,
        longest_call_vs_deadline: round3(longest / DEADLINE_MS),
        longest_call_within_client_cancel: longest < CLIENT_CANCEL_MS,
        // What the answer itself adds past the deadline (serialising, the transport, the client's validation): not scaled.
        longest_call_past_deadline_ms: round3(Math.max(0, longest - DEADLINE_MS)),
        vendor_requests: searches.length,
        vendor_requests_vs_minimum: round3(searches.length / minimum),
        other_vendor_requests: entries.length - searches.length,
        status_429: entries.filter((e) => e.status === 429).length,
        wall_ms: wallMs,
        wall_real_scale_min: round3(wallMs / WINDOW_SCALE / 60_000),
        budget_floor_ms: (Math.ceil(minimum / PER_MINUTE) - 1) * MINUTE_MS,
        first_expected_finish: firstEstimate
          ? {
              after_calls: calls.indexOf(firstEstimate) + 1,
              pages_then: firstEstimate.pages,
              // Positive: the listing ended after the estimate (the last page's response and the result come after its admission).
              finished_later_by_ms: finishedAt - Date.parse(firstEstimate.expected_finish_at!),
            }
          : null,
        call_ms: calls.map((c) => c.ms),
        aim: 'every call under the deadline plus the answer (well under the client cancel); vendor requests = minimum; no 429',
      };
    } finally {
      await stack?.close();
      await sandbox?.close();
    }
  },
};
