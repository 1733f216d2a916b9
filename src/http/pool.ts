import type { Pool } from 'undici';
import { loadUndici } from './undici.js';

export interface Timeouts {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 };

export function resolveTimeouts(t: Partial<Timeouts> | undefined): Timeouts {
  return {
    connectMs: t?.connectMs ?? DEFAULT_TIMEOUTS.connectMs,
    headersMs: t?.headersMs ?? DEFAULT_TIMEOUTS.headersMs,
    bodyMs: t?.bodyMs ?? DEFAULT_TIMEOUTS.bodyMs,
  };
}

interface Entry {
  pool: Pool;
  users: number;
}

/**
 * One keep-alive Pool per origin for the whole process, so every client of a vendor (REST and SCIM share
 * hosts in places) reuses the same warm TLS connections. Reference counted: a pool closes when its last
 * user releases it, so one HttpCore closing cannot cut another's connections.
 */
const pools = new Map<string, Entry>();

/**
 * The pool for `origin`, created on first use. The connect timeout is fixed by whoever creates the pool;
 * headers and body timeouts are also set per request by the core, so they can differ between users.
 */
export async function acquirePool(origin: string, timeouts: Timeouts): Promise<Pool> {
  const { Pool } = await loadUndici();
  // Synchronous from here: two callers for one origin cannot both create a pool.
  let entry = pools.get(origin);
  if (!entry) {
    entry = {
      pool: new Pool(origin, {
        connect: { timeout: timeouts.connectMs },
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        // The limiter bounds concurrency per credential; this only bounds sockets per host.
        connections: 32,
      }),
      users: 0,
    };
    pools.set(origin, entry);
  }
  entry.users++;
  return entry.pool;
}

/** Gives back one use of the origin's pool; closes it when nobody uses it any more. */
export async function releasePool(origin: string, pool: Pool): Promise<void> {
  const entry = pools.get(origin);
  if (!entry || entry.pool !== pool) return;
  entry.users--;
  if (entry.users > 0) return;
  pools.delete(origin);
  await entry.pool.close();
}

/** Closes every pool of the process (shutdown). In-flight requests finish first. */
export async function closeAllPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((e) => e.pool.close()));
}
