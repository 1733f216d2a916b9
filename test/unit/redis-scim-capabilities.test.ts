import { randomUUID } from 'node:crypto';
import type { MockAgent } from 'undici';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenStore } from '../../src/auth/token-store.js';
import { systemClock } from '../../src/clock.js';
import { VendorError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { redisConfig } from '../../src/shared/redis-config.js';
import { SharedRedis } from '../../src/shared/redis.js';
import { collectWarnings } from '../../src/side-lookup.js';
import type { ScimClient } from '../../src/vendors/scim/client.js';
import { scimClientFor } from '../../src/vendors/connection.js';
import { redisCapabilityCache } from '../../src/vendors/scim/redis-capabilities.js';
import { BUILTIN_ADAPTERS } from '../../src/vendors/registry.js';
import { offlineAgent } from '../support/mock-http.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { findLeaks } from '../support/secrets.js';

/**
 * Issue 13 item 3 (capability cache): SCIM clients on separate Redis connections stand for replicas. What one
 * read from /ServiceProviderConfig serves the others (one read, not one each); a failed read is not shared.
 * The SCIM server is an undici MockAgent that counts the requests.
 */

const skip = await redisUnavailable();
const ORIGIN = 'https://scim.vendor.test';
const BASE = `${ORIGIN}/scim/v2`;
const SPC = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
  patch: { supported: false },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: 50 },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: true },
  authenticationSchemes: [],
};
const EMPTY = { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] };

describe.skipIf(skip)('SCIM capabilities shared through Redis', () => {
  const prefixes: string[] = [];
  const conns: SharedRedis[] = [];
  let agent: MockAgent;
  let clients: ScimClient[] = [];
  beforeEach(() => {
    agent = offlineAgent();
    clients = [];
  });
  afterEach(async () => {
    for (const c of clients) await c.close();
    await agent.close();
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await Promise.all(prefixes.map((p) => deletePrefix(p)));
  });

  /** The SCIM server: /ServiceProviderConfig answers `spcStatus()` (200 with SPC, or an error status). */
  function server(spcStatus: () => number): { spcReads: () => number } {
    let reads = 0;
    agent
      .get(ORIGIN)
      .intercept({ path: () => true, method: () => true })
      .reply((opts) => {
        const path = new URL(`${ORIGIN}${opts.path}`).pathname.replace(/^\/scim\/v2/, '');
        if (path === '/ServiceProviderConfig') {
          reads += 1;
          const status = spcStatus();
          return { statusCode: status, data: status === 200 ? JSON.stringify(SPC) : '', responseOptions: { headers: { 'content-type': 'application/scim+json' } } };
        }
        return { statusCode: 200, data: JSON.stringify(EMPTY), responseOptions: { headers: { 'content-type': 'application/scim+json' } } };
      })
      .persist();
    return { spcReads: () => reads };
  }

  async function replicas(n: number) {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const token = `scim-test-${randomUUID()}`;
    const out: { client: ScimClient; redis: SharedRedis }[] = [];
    for (let i = 0; i < n; i++) {
      const redis = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix })!);
      conns.push(redis);
      const client = scimClientFor(BUILTIN_ADAPTERS.find((a) => a.id === 'salesloft')!, { url: BASE, token }, {
        tokens: {} as TokenStore,
        clock: systemClock,
        log: silentLogger,
        dispatcher: agent,
        retryBaseDelayMs: 1,
        scimCapabilities: redisCapabilityCache(redis),
      });
      clients.push(client);
      out.push({ client, redis });
    }
    return { prefix, token, replicas: out };
  }

  it('read once by A, used by B without asking the server; the value holds no token', async () => {
    const s = server(() => 200);
    const { prefix, token, replicas: [a, b] } = await replicas(2);
    expect((await a.client.listUsers({ count: 500 })).count).toBe(50);
    expect((await b.client.listUsers({ count: 500 })).count).toBe(50);
    expect(s.spcReads()).toBe(1);
    expect(b.client.knownCapabilities()).toEqual(a.client.knownCapabilities());
    expect(b.client.knownCapabilities()).toMatchObject({ patch: false, etag: true, maxResults: 50, source: 'server' });
    const dump = await dumpPrefix(prefix);
    expect(dump.map((d) => d.key)).toEqual([expect.stringMatching(new RegExp(`^${prefix}scim-caps:salesloft:[0-9a-f]{32}$`))]);
    expect(findLeaks({ token }, dump.map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` })))).toEqual([]);
  });

  it('a failed read (503) is not shared: A goes on with defaults and a warning, B reads the server again', async () => {
    let status = 503;
    const s = server(() => status);
    const { prefix, replicas: [a, b] } = await replicas(2);
    const { value, warnings } = await collectWarnings(() => a.client.listUsers({ count: 500 }));
    expect(value.count).toBe(100);
    expect(warnings.join(' ')).toMatch(/capabilities \(GET \/ServiceProviderConfig\)/);
    expect(await dumpPrefix(prefix)).toEqual([]);
    const failedReads = s.spcReads();
    status = 200;
    expect((await b.client.listUsers({ count: 500 })).count).toBe(50);
    expect(s.spcReads()).toBe(failedReads + 1);
  });

  it('Redis unreachable: the call fails saying so, not with defaults', async () => {
    server(() => 200);
    const { replicas: [a] } = await replicas(1);
    a.redis.client.disconnect();
    const err = await a.client.listUsers().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as Error).message).toMatch(/^Redis at [^ ]+ is unreachable \(.+\) while reading the salesloft SCIM capabilities; the server does not fall back/);
  });
});
