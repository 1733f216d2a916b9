import { performance } from 'node:perf_hooks';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { median, round3 } from './stats.js';
import type { BenchStack } from './stack.js';

/** Helpers of the rate-limit benchmarks: fixed windows aligned to the clock, timed tool calls, request times. */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * Waits for the first window boundary (a multiple of `windowMs` on Date.now(), as the simulators and the
 * limiters align their fixed windows) at or after `notBefore`, plus `offsetMs`. Returns the boundary.
 */
export async function untilBoundary(windowMs: number, notBefore = Date.now(), offsetMs = 2): Promise<number> {
  const boundary = Math.ceil(notBefore / windowMs) * windowMs;
  // setTimeout may fire a little early relative to Date.now(); re-check until past the boundary.
  while (Date.now() < boundary + offsetMs) await sleep(boundary + offsetMs - Date.now());
  return boundary;
}

export interface ProgressEvent {
  /** The progress value the server reported (for the listings here: requests done so far). */
  value: number;
  /** ms since the call started. */
  at_ms: number;
}

export interface TimedCall {
  result: CallToolResult;
  wall_ms: number;
  /** Date.now() when the call was sent. */
  started_at: number;
  progress: ProgressEvent[];
}

/** One tool call through the MCP client, with its wall time and the arrival time of every progress notification. */
export async function timedCall(stack: BenchStack, name: string, args: Record<string, unknown>): Promise<TimedCall> {
  const progress: ProgressEvent[] = [];
  const started_at = Date.now();
  const t0 = performance.now();
  const result = await stack.call(name, args, { onprogress: (p) => progress.push({ value: p.progress, at_ms: performance.now() - t0 }) });
  return { result, wall_ms: round3(performance.now() - t0), started_at, progress };
}

/**
 * When each of the first `total` requests of an unthrottled run was done (ms since the call started): the
 * arrival of the first progress notification whose value (requests done so far) reaches k. A value that
 * jumps (a tie fetch reported with the page after it) gives the skipped requests the same time.
 */
export function doneTimes(run: Pick<TimedCall, 'progress' | 'wall_ms'>, total: number): number[] {
  const out: number[] = [];
  let j = 0;
  for (let k = 1; k <= total; k++) {
    while (j < run.progress.length && run.progress[j].value < k) j++;
    out.push(j < run.progress.length ? run.progress[j].at_ms : run.wall_ms);
  }
  return out;
}

/**
 * The earliest a listing could end under fixed windows, for a client as fast as the unthrottled run: request k
 * takes as long as it took there (done time of k minus done time of k-1; the first includes the call's start,
 * the time after the last one is the call's end: mapping, fitting the result, the MCP response), requests go
 * one after another as in the listing, each is charged `1` when it starts, and at most `perWindow` start in
 * one window (windows aligned to multiples of `windowMs`; the call starts `offsetMs` into one). A request
 * that does not fit waits for the next boundary. Greedy earliest start is optimal for this, so no client
 * that goes this fast per request can finish sooner: a lower bound in every regime (when requests are fast,
 * it is (windows needed - 1) x windowMs + the last window's requests and the end of the call; when they are
 * slow, it is the unthrottled time).
 */
export function idealScheduleMs(run: Pick<TimedCall, 'progress' | 'wall_ms'>, total: number, windowMs: number, perWindow: number, offsetMs = 0): number {
  const done = doneTimes(run, total);
  let t = offsetMs;
  let win = Math.floor(t / windowMs);
  let used = 0;
  for (let k = 0; k < total; k++) {
    const d = done[k] - (k === 0 ? 0 : done[k - 1]);
    const w = Math.floor(t / windowMs);
    if (w !== win) {
      win = w;
      used = 0;
    }
    if (used + 1 > perWindow) {
      win += 1;
      t = win * windowMs;
      used = 0;
    }
    used += 1;
    t += d;
  }
  const tail = run.wall_ms - (total > 0 ? done[total - 1] : 0);
  return round3(t + tail - offsetMs);
}

/** Median of idealScheduleMs over several unthrottled runs. */
export function medianIdeal(runs: Pick<TimedCall, 'progress' | 'wall_ms'>[], total: number, windowMs: number, perWindow: number, offsetMs = 0): number {
  return median(runs.map((r) => idealScheduleMs(r, total, windowMs, perWindow, offsetMs)));
}

/**
 * Stamps every entry a simulator appends to its request log with Date.now(), by wrapping that array's push
 * (bench only; the simulators log without times). `timeOf` gives an entry's time, `stop` removes the wrapper.
 */
export function stampRequests<T extends object>(log: T[]): { timeOf(entry: T): number | undefined; stop(): void } {
  const times = new WeakMap<T, number>();
  const original = log.push;
  log.push = function push(this: T[], ...items: T[]): number {
    const now = Date.now();
    for (const it of items) times.set(it, now);
    return original.apply(this, items);
  };
  return {
    timeOf: (e) => times.get(e),
    stop() {
      // Only the own property added above; push falls back to Array.prototype.push.
      delete (log as { push?: unknown }).push;
    },
  };
}

/** Counts per fixed window (index = floor(t / windowMs) - floor(start / windowMs)). */
export function perWindow(times: number[], start: number, windowMs: number): number[] {
  const first = Math.floor(start / windowMs);
  const out: number[] = [];
  for (const t of times) {
    const i = Math.floor(t / windowMs) - first;
    while (out.length <= i) out.push(0);
    out[i] += 1;
  }
  return out;
}
