import { headerNumber, resetToEpochMs } from '../../http/rate-headers.js';
import type { RateHeaderSpec } from '../../http/types.js';

/**
 * SalesLoft's rate-limit headers (rate-limits.md, developers.salesloft.com "Rate limits"): every response
 * carries `x-ratelimit-endpoint-cost` (what this request cost) and `x-ratelimit-remaining-minute` (what is
 * left of the team's budget this minute). There is no limit header, no reset header and no Retry-After.
 * The older notes name `X-RateLimit-Limit` / `X-RateLimit-Remaining` / `X-RateLimit-Reset`; they are read
 * too, as fallbacks, in case a deployment still sends them.
 *
 * Without a reset header the limiter cannot know when a "minute" ends. Two ways to say it:
 *
 * - conservative: no reset. The limiter trusts a reported `remaining` until one window after the report,
 *   which is never early, but after the budget runs out it waits up to a whole extra window, every window.
 * - aligned: SalesLoft's budget is per minute; this spec starts from the hypothesis that the minute windows
 *   are fixed and aligned to multiples of the window length on the clock (a per-minute counter), and reports
 *   the next such boundary as the reset. The hypothesis is checked on every response and dropped for good
 *   (falling back to conservative) when the responses contradict it:
 *     - a boundary passed between two responses, yet the budget did not go up (it went down), or
 *     - the budget went up by more than 10% of the limit although no boundary passed.
 *   So a wrong guess costs at most one early request (which normally still fits inside the reserve this
 *   server leaves to other integrations) and never a loop of 429s.
 *
 * A response received within `slackMs` after a boundary, to a request sent before the boundary, may have
 * been counted before it, so its count is reported as belonging to the window that just ended (the limiter
 * then forgets it instead of holding on to a stale low count for another minute). A request sent after the
 * boundary was counted in the new window, whenever its response arrives: that count is the new window's,
 * which matters most when other integrations spent the new window's budget first.
 *
 * When the budget is exhausted (remaining 0), the reported reset gets up to 1 s (or 1% of the window) of
 * random jitter, so the integrations of one team do not all come back at the same instant.
 */
export class SalesloftRateHeaders implements RateHeaderSpec {
  readonly windowMs: number;
  readonly windowName: string;
  private readonly slackMs: number;
  private aligned = true;
  private last: { at: number; remaining: number } | undefined;
  private readonly random: () => number;
  private readonly limitHint: number | undefined;

  constructor(opts: { windowMs: number; windowName?: string; limit?: number; random?: () => number }) {
    this.windowMs = opts.windowMs;
    this.windowName = opts.windowName ?? 'minute';
    this.slackMs = Math.min(2_000, Math.floor(opts.windowMs / 10));
    this.random = opts.random ?? Math.random;
    this.limitHint = opts.limit;
  }

  /** False once the responses contradicted clock-aligned windows. */
  get alignedHypothesis(): boolean {
    return this.aligned;
  }

  parse(headers: Record<string, string>, now: number, sentAt?: number): Record<string, { limit?: number; remaining?: number; resetAtMs?: number }> {
    const remaining = headerNumber(headers, 'x-ratelimit-remaining-minute') ?? headerNumber(headers, 'x-ratelimit-remaining');
    const limit = headerNumber(headers, 'x-ratelimit-limit-minute') ?? headerNumber(headers, 'x-ratelimit-limit');
    const reset = headerNumber(headers, 'x-ratelimit-reset');
    if (remaining === undefined && limit === undefined) return {};
    const info: { limit?: number; remaining?: number; resetAtMs?: number } = {};
    if (limit !== undefined) info.limit = limit;
    if (remaining === undefined) return { [this.windowName]: info };
    info.remaining = remaining;

    this.check(now, remaining, limit ?? this.limitHint);
    this.last = { at: now, remaining };

    if (reset !== undefined) {
      info.resetAtMs = resetToEpochMs(reset, now);
    } else if (this.aligned) {
      const start = Math.floor(now / this.windowMs) * this.windowMs;
      // Within slackMs of a boundary, for a request sent before it, the count may be the previous
      // window's: say that window is over.
      const ambiguous = now - start < this.slackMs && !(sentAt !== undefined && sentAt >= start);
      info.resetAtMs = ambiguous ? start : start + this.windowMs;
      if (remaining <= 0 && info.resetAtMs > now) info.resetAtMs += Math.floor(this.random() * Math.min(1_000, this.windowMs / 100));
    }
    return { [this.windowName]: info };
  }

  private check(now: number, remaining: number, limit: number | undefined): void {
    if (!this.aligned || !this.last || now <= this.last.at) return;
    const W = this.windowMs;
    // The server handled each request at most slackMs before its response arrived. A boundary in
    // (last.at, now - slack] certainly lies between the two; one in (last.at - slack, now] possibly does.
    const crossed = Math.floor(this.last.at / W) * W + W <= now - this.slackMs;
    const possiblyCrossed = Math.floor((this.last.at - this.slackMs) / W) * W + W <= now;
    if (crossed && remaining < this.last.remaining) {
      this.aligned = false;
      return;
    }
    const jump = remaining - this.last.remaining;
    if (!possiblyCrossed && jump > 0.1 * (limit ?? Math.max(remaining, this.last.remaining, 1))) this.aligned = false;
  }
}

/**
 * SalesLoft's documented cost of a request by its `page` parameter (developers.salesloft.com "Rate limits",
 * "Parameter Based Rate Limits"): pages 1-100 cost 1, 101-150 cost 3, 151-250 cost 8, 251-500 cost 10,
 * 501 and beyond cost 30. SalesLoft may change these; the client learns the real cost from
 * `x-ratelimit-endpoint-cost`.
 */
export function pageCost(page: number | undefined): number {
  if (page === undefined || page <= 100) return 1;
  if (page <= 150) return 3;
  if (page <= 250) return 8;
  if (page <= 500) return 10;
  return 30;
}

/** The tier of a page number, as a key for costs learned from `x-ratelimit-endpoint-cost`. */
export function pageTier(page: number | undefined): string {
  if (page === undefined || page <= 100) return '1-100';
  if (page <= 150) return '101-150';
  if (page <= 250) return '151-250';
  if (page <= 500) return '251-500';
  return '501+';
}
