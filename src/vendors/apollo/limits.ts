import type { Clock } from '../../clock.js';
import { getLimiter } from '../../http/limiter.js';
import { headerNumber } from '../../http/rate-headers.js';
import type { RateHeaderSpec, RateLimitPolicy, RateWindow } from '../../http/types.js';

/*
 * Apollo rate limits (shared/vendor-docs/rate-limits.md, docs.apollo.io "Rate limits"):
 *
 * - Fixed windows per minute, hour and day, per endpoint, per plan; exceeding one gives 429 WITHOUT
 *   Retry-After and without a reset header.
 * - Successful responses carry nine headers: x-rate-limit-{minute,hourly,daily} (the limit),
 *   x-{minute,hourly,daily}-usage (used in the current window), x-{minute,hourly,daily}-requests-left.
 * - Bulk enrichment (/people/bulk_match, /organizations/bulk_enrich) gets a tenth of the single-record limit.
 *
 * How the client uses that:
 *
 * - One limiter bucket per endpoint (HttpCore `bucket`), named like Apollo's own endpoint names in the
 *   usage statistics and the key-scope list: `users/search`, `mixed_people/api_search`, `people/match`…
 * - Until an endpoint's first response, conservative defaults apply: 50/minute, 100/hour, 300/day (the
 *   example of Apollo's rate-limit page, the smallest numbers Apollo publishes), a tenth of that for bulk
 *   endpoints. The first response's headers replace them with the plan's real limits, and each response's
 *   requests-left replaces the local count until the window ends. View API Usage Stats (master key) can
 *   teach every endpoint at once: learnFromUsageStats().
 * - Windows are assumed to be aligned to the clock (the minute window ends at the next full minute, the hour
 *   at the next full hour, the day at midnight UTC); the reset time of a window is computed from that,
 *   since Apollo sends none. After a 429 whose headers show a window with nothing left, the whole bucket
 *   waits until that window's end instead of retrying sooner. If Apollo's windows were not aligned this
 *   way, the wait would end early at most once per window (one more 429, then a full window).
 * - A 429 without these headers (a proxy, or Apollo omitting them on errors) cannot say which window ran
 *   out: the HTTP core then backs off with jitter.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface ApolloLimits {
  minute: number;
  hour: number;
  day: number;
}

/** Used until the first response of an endpoint says otherwise (Apollo's published example). */
export const DEFAULT_LIMITS: ApolloLimits = { minute: 50, hour: 100, day: 300 };
/** Bulk enrichment endpoints have one tenth of the single-record limits. */
export const BULK_FACTOR = 0.1;
export const BULK_BUCKETS: ReadonlySet<string> = new Set(['people/bulk_match', 'organizations/bulk_enrich']);

const HEADER_NAMES: Record<keyof ApolloLimits, { limit: string; usage: string; left: string }> = {
  minute: { limit: 'x-rate-limit-minute', usage: 'x-minute-usage', left: 'x-minute-requests-left' },
  hour: { limit: 'x-rate-limit-hourly', usage: 'x-hourly-usage', left: 'x-hourly-requests-left' },
  day: { limit: 'x-rate-limit-daily', usage: 'x-daily-usage', left: 'x-daily-requests-left' },
};

export function windowLengths(scale = 1): ApolloLimits {
  if (!(scale > 0)) throw new RangeError('window scale must be positive');
  return { minute: MINUTE_MS * scale, hour: HOUR_MS * scale, day: DAY_MS * scale };
}

/** End of the fixed window of length `intervalMs` that contains `now` (windows aligned to the epoch). */
export function windowEnd(now: number, intervalMs: number): number {
  return Math.floor(now / intervalMs) * intervalMs + intervalMs;
}

/** The nine headers, read into the policy windows `minute`, `hour` and `day`. */
export function apolloRateHeaders(scale = 1): RateHeaderSpec {
  const lengths = windowLengths(scale);
  return {
    parse(headers, now) {
      const out: Record<string, { limit?: number; remaining?: number; resetAtMs?: number }> = {};
      for (const name of ['minute', 'hour', 'day'] as const) {
        const h = HEADER_NAMES[name];
        const limit = headerNumber(headers, h.limit);
        const usage = headerNumber(headers, h.usage);
        const left = headerNumber(headers, h.left);
        if (limit === undefined && usage === undefined && left === undefined) continue;
        // requests-left is the vendor's own count; limit - usage is the fallback when it is missing.
        const remaining = left ?? (limit !== undefined && usage !== undefined ? Math.max(0, limit - usage) : undefined);
        out[name] = { limit, remaining, resetAtMs: windowEnd(now, lengths[name]) };
      }
      return out;
    },
  };
}

export function apolloWindows(limits: ApolloLimits, scale = 1): RateWindow[] {
  const lengths = windowLengths(scale);
  return (['minute', 'hour', 'day'] as const).map((name) => ({ name, intervalMs: lengths[name], limit: Math.max(1, Math.floor(limits[name])) }));
}

/** The policy of single-record endpoints (`bulk: false`) or of the bulk enrichment endpoints. */
export function apolloPolicy(opts: { bulk: boolean; scale?: number; defaults?: ApolloLimits }): RateLimitPolicy {
  const base = opts.defaults ?? DEFAULT_LIMITS;
  const f = opts.bulk ? BULK_FACTOR : 1;
  const limits = { minute: base.minute * f, hour: base.hour * f, day: base.day * f };
  return {
    windows: apolloWindows(limits, opts.scale ?? 1),
    maxConcurrent: 4,
    headers: apolloRateHeaders(opts.scale ?? 1),
  };
}

/**
 * `["api/v1/users", "search"]` (a usage-statistics key, a JSON array as a string) → `users/search`, the
 * bucket name. Undefined for anything else.
 */
export function bucketOfUsageKey(key: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(key);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || parsed.some((p) => typeof p !== 'string')) return undefined;
  const [controller, action] = parsed as [string, string];
  const c = controller.replace(/^\/?api\/v1\//, '').replace(/^\/+|\/+$/g, '');
  if (!c || !action) return undefined;
  return `${c}/${action}`;
}

export interface WindowUsage {
  limit: number;
  consumed: number;
  /** As Apollo reports it. */
  left_over: number;
}

/**
 * Teaches each endpoint's limiter what View API Usage Stats says: the limit, and the budget left (the
 * smaller of `left_over` and `limit - consumed`: the published example shows `left_over` equal to the
 * limit next to a non-zero `consumed`, so neither is trusted alone). Returns the buckets taught.
 */
export function learnFromUsageStats(
  stats: { bucket: string; minute?: WindowUsage; hour?: WindowUsage; day?: WindowUsage }[],
  ctx: { identity: string; clock: Clock; scale: number; policyFor: (bucket: string) => RateLimitPolicy },
): string[] {
  const lengths = windowLengths(ctx.scale);
  const now = ctx.clock.now();
  const taught: string[] = [];
  for (const s of stats) {
    const limiter = getLimiter({ vendor: 'apollo', identity: ctx.identity, bucket: s.bucket, policy: ctx.policyFor(s.bucket), clock: ctx.clock });
    let any = false;
    for (const name of ['minute', 'hour', 'day'] as const) {
      const w = s[name];
      if (!w) continue;
      const remaining = Math.max(0, Math.min(w.left_over, w.limit - w.consumed));
      limiter.learn(name, { limit: w.limit, remaining, resetAtMs: windowEnd(now, lengths[name]) });
      any = true;
    }
    if (any) taught.push(s.bucket);
  }
  return taught;
}
