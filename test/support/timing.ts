import { createServer } from 'node:net';
import { ManualClock } from '../../src/clock.js';

/** A promise's outcome, readable synchronously, to check what has (not yet) happened at a point in a test. */
export function track<T>(p: Promise<T>) {
  const s: { done: boolean; failed: boolean; value?: T; error?: unknown } = { done: false, failed: false };
  p.then(
    (v) => Object.assign(s, { done: true, value: v }),
    (e) => Object.assign(s, { failed: true, error: e }),
  );
  return s;
}

/** A ManualClock that records every sleep asked of it (backoffs, limiter waits). */
export class SpyClock extends ManualClock {
  sleeps: number[] = [];
  override sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return super.sleep(ms);
  }
}

/** Polls (real time, every 10 ms) until `fn` returns a value, for at most `ms`. */
export async function waitFor<T>(fn: () => T | undefined, what: string, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A loopback port that was free a moment ago (for a redirect URI that must be known before listening). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
