import type { Clock } from '../clock.js';
import type { RateHeaderSpec, RetryPolicy } from './types.js';

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  deadlineMs: 120_000,
};

export function resolveRetryPolicy(partial: Partial<RetryPolicy> | undefined): RetryPolicy {
  return { ...DEFAULT_RETRY, ...stripUndefined(partial ?? {}) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Statuses that say "not now" rather than "not this": worth the same request again later. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * `Retry-After` as a delay in ms from `now`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * After a 429 without Retry-After: how long until the window that ran out resets, from the policy's
 * header spec. Windows reported with remaining budget are not the cause and are ignored; when several
 * ran out, the latest reset wins because the request needs all of them.
 */
export function resetWaitFromHeaders(
  spec: RateHeaderSpec | undefined,
  headers: Record<string, string>,
  now: number,
  sentAt?: number,
): number | undefined {
  if (!spec) return undefined;
  let latest: number | undefined;
  for (const w of Object.values(spec.parse(headers, now, sentAt))) {
    if (w.resetAtMs === undefined) continue;
    if (w.remaining !== undefined && w.remaining > 0) continue;
    latest = latest === undefined ? w.resetAtMs : Math.max(latest, w.resetAtMs);
  }
  return latest === undefined ? undefined : Math.max(0, latest - now);
}

/** Exponential backoff with full jitter (AWS architecture blog): uniform in [0, min(max, base * 2^attempt)]. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

export interface NetworkFailure {
  /** The error code we recognised (ECONNRESET, UND_ERR_HEADERS_TIMEOUT, ...) or 'unknown'. */
  code: string;
  /** A transient failure that an idempotent request may simply repeat. */
  transient: boolean;
  /** The request may have reached the vendor: a write cannot be assumed not to have happened. */
  maybeSent: boolean;
}

/** Codes that prove nothing was sent: the connection never opened. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Codes worth a retry for an idempotent request. ENOTFOUND is left out: a wrong host does not heal. */
const TRANSIENT = new Set([
  'ECONNRESET',
  'UND_ERR_SOCKET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Reads the error code of a connection-level failure (undici puts it on the error or on its cause). */
export function classifyNetworkError(err: unknown): NetworkFailure {
  const code = errorCode(err) ?? 'unknown';
  return {
    code,
    transient: TRANSIENT.has(code),
    // Anything we cannot place is treated as possibly sent: claiming "not applied" wrongly is the costly error.
    maybeSent: !NOT_SENT.has(code),
  };
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * clock.sleep that also ends when `signal` aborts (rejecting with its reason). ManualClock ignores
 * signals, so the abort is raced here rather than left to the clock.
 */
export async function sleepFor(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  if (ms <= 0) return;
  if (!signal) return clock.sleep(ms);
  const timer = new AbortController();
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const slept = clock.sleep(ms, timer.signal);
  slept.catch(() => {}); // rejects once we cancel the timer below; nobody waits for it then
  try {
    await Promise.race([slept, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
    timer.abort();
  }
}
