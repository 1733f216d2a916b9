import { createHash } from 'node:crypto';
import type { SharedRedis } from '../../shared/redis.js';
import type { CapabilityCache, ScimCapabilities } from './client.js';

/*
 * SCIM capabilities shared by the replicas: scim-caps:<vendor>:<SHA-256 of the SCIM base URL, 32 hex> holds
 * what one replica read from /ServiceProviderConfig (flags, page size, when; no credential), for an hour, so
 * the others do not read it again. A failed read is never stored (client.ts).
 */

export const CAPABILITY_TTL_MS = 3_600_000;

export function redisCapabilityCache(redis: SharedRedis, ttlMs = CAPABILITY_TTL_MS): (vendor: string, url: string) => CapabilityCache {
  return (vendor, url) => {
    const key = redis.key('scim-caps', vendor, createHash('sha256').update(url).digest('hex').slice(0, 32));
    const what = `the ${vendor} SCIM capabilities`;
    return {
      async get() {
        const text = await redis.run(`reading ${what}`, (c) => c.get(key));
        return text === null ? undefined : parse(text);
      },
      async set(caps) {
        await redis.run(`saving ${what}`, (c) => c.set(key, JSON.stringify(caps), 'PX', ttlMs));
      },
    };
  };
}

/** A stored value of the expected shape, else undefined (read again from the server). */
function parse(text: string): ScimCapabilities | undefined {
  try {
    const v = JSON.parse(text) as Partial<ScimCapabilities>;
    const ok =
      typeof v.patch === 'boolean' &&
      typeof v.etag === 'boolean' &&
      typeof v.filter === 'boolean' &&
      typeof v.maxResults === 'number' &&
      (v.source === 'server' || v.source === 'default') &&
      typeof v.readAt === 'string';
    return ok ? (v as ScimCapabilities) : undefined;
  } catch {
    return undefined;
  }
}
