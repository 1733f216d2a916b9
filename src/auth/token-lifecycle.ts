import { VendorError } from '../errors.js';

/*
 * What every provider of short-lived tokens (OAuth refresh, client credentials, ZoomInfo's JWT login) does
 * the same way: renew a little before expiry, let concurrent callers share one renewal, tell a 401 for an
 * already replaced token from one for the current token, and let a caller's abort stop only its own wait.
 */

/**
 * Whether a token expiring at `expiresAt` may still be sent at `now`, renewing `marginMs` early. The margin
 * is capped at half the token's lifetime when that is known, so short-lived tokens are not renewed on every
 * call. A token with no known expiry is used until a 401.
 */
export function stillFresh(now: number, expiresAt: number | undefined, marginMs: number, lifetimeMs: number | undefined): boolean {
  if (expiresAt === undefined) return true;
  const margin = lifetimeMs !== undefined ? Math.min(marginMs, lifetimeMs / 2) : marginMs;
  return now < expiresAt - margin;
}

/**
 * An early renewal that failed this way may be ignored while the current token has not actually expired:
 * renewing early is a courtesy, and a passing outage of the token endpoint should not fail the request.
 */
export function isTransient(err: unknown): err is VendorError {
  return err instanceof VendorError && ['network', 'unavailable', 'rate_limited'].includes(err.code);
}

/** The bearer token a rejected request carried, from its auth headers. */
export function bearerOf(headers: Record<string, string> | undefined): string | undefined {
  const value = headers?.Authorization ?? headers?.authorization;
  return value?.startsWith('Bearer ') ? value.slice('Bearer '.length) : undefined;
}

/** One renewal at a time: callers arriving while it runs share its result instead of starting another. */
export class SingleFlight<T> {
  private pending: Promise<T> | undefined;

  /** The renewal in progress, if any. */
  get current(): Promise<T> | undefined {
    return this.pending;
  }

  run(fn: () => Promise<T>): Promise<T> {
    this.pending ??= fn().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }
}

/** Rejects with the signal's reason when it aborts first; the shared renewal keeps running for the others. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
