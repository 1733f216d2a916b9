import type { RateHeaderSpec } from './types.js';

/** A header value as a finite number, or undefined when absent or not numeric. */
export function headerNumber(headers: Record<string, string>, name: string): number | undefined {
  const raw = headers[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw.trim());
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Vendors write "reset" three ways: seconds from now (small numbers), epoch seconds, epoch milliseconds.
 * Anything above 1e9 cannot be a sane delay in seconds (31 years), so it is an epoch.
 */
export function resetToEpochMs(value: number, now: number): number {
  if (value > 1e12) return value;
  if (value > 1e9) return value * 1000;
  return now + value * 1000;
}

/**
 * The common `x-ratelimit-limit` / `x-ratelimit-remaining` / `x-ratelimit-reset` triple (Outreach), read
 * into the policy window named `windowName`. Returns nothing when none of the three headers is present,
 * so a response without them leaves the limiter's knowledge alone.
 */
export function xRateLimitHeaders(windowName: string): RateHeaderSpec {
  return {
    parse(headers, now) {
      const limit = headerNumber(headers, 'x-ratelimit-limit');
      const remaining = headerNumber(headers, 'x-ratelimit-remaining');
      const reset = headerNumber(headers, 'x-ratelimit-reset');
      if (limit === undefined && remaining === undefined && reset === undefined) return {};
      return {
        [windowName]: {
          limit,
          remaining,
          resetAtMs: reset === undefined ? undefined : resetToEpochMs(reset, now),
        },
      };
    },
  };
}
