import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/auth/token-store.js';
import { ManualClock, systemClock, type Clock } from '../../src/clock.js';
import { ConfigError } from '../../src/env.js';
import { ToolInputError, VendorError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { apolloErrorDetail, searchPageInfo, type ApolloClient } from '../../src/vendors/apollo/client.js';
import { apolloConfig, type ApolloAuthConfig } from '../../src/vendors/apollo/config.js';
import { createApolloClient } from '../../src/vendors/apollo/connect.js';
import { apolloRateHeaders, bucketOfUsageKey, windowEnd } from '../../src/vendors/apollo/limits.js';
import { apolloStatus, toApolloAccount } from '../../src/vendors/apollo/map.js';
import { startApolloSimulator } from '../../src/sandbox/apollo/index.js';
import { lowerHeaders, offlineAgent } from '../support/mock-http.js';

const ORIGIN = 'https://api.apollo.test';
const JSON_HEADERS = { 'content-type': 'application/json' };

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

function usageHeaders(minute: { limit: number; used: number }, hour = { limit: 600, used: 1 }, day = { limit: 6000, used: 1 }) {
  return {
    ...JSON_HEADERS,
    'x-rate-limit-minute': String(minute.limit),
    'x-minute-usage': String(minute.used),
    'x-minute-requests-left': String(Math.max(0, minute.limit - minute.used)),
    'x-rate-limit-hourly': String(hour.limit),
    'x-hourly-usage': String(hour.used),
    'x-hourly-requests-left': String(Math.max(0, hour.limit - hour.used)),
    'x-rate-limit-daily': String(day.limit),
    'x-daily-usage': String(day.used),
    'x-daily-requests-left': String(Math.max(0, day.limit - day.used)),
  };
}

const teammate = (i: number, extra: Record<string, unknown> = {}) => ({
  id: `66c8db577ed7f201b25c${String(i).padStart(4, '0')}`,
  team_id: '6095a710bd01d100a506d4ac',
  first_name: 'U',
  last_name: String(i),
  name: `U ${i}`,
  email: `u${i}@acme.example`,
  deleted: false,
  permission_set_id: '6095a711bd01d100a506d4d7',
  role: 'User',
  created_at: '2024-08-23T18:56:24.067Z',
  ...extra,
});

/** Real time passing, so pending work that is NOT blocked on the ManualClock would have run. */
const pause = (ms = 30) => new Promise((r) => setTimeout(r, ms));

/** Waits (real time) until `cond` holds; the work runs on undici's mock and the limiter's queue. */
async function until(cond: () => boolean, what = 'condition', ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(2);
  }
}

const agents: MockAgent[] = [];
const clients: ApolloClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const a of agents.splice(0)) await a.close();
});

async function setup(o: { clock?: Clock; auth?: ApolloAuthConfig } = {}) {
  const agent = offlineAgent();
  agents.push(agent);
  // A distinct key per test keeps the process-wide limiters (vendor + credential identity) independent.
  const key = `test-apollo-key-${Math.random().toString(36).slice(2)}`;
  const client = await createApolloClient(
    { baseUrl: `${ORIGIN}/api/v1`, tokenUrl: `${ORIGIN}/api/v1/oauth/token`, auth: o.auth ?? { kind: 'api_key', apiKey: key }, rateWindowScale: 1 },
    { tokens: new TokenStore(mkdtempSync(join(tmpdir(), 'sam-apollo-'))), clock: o.clock ?? systemClock, log: silentLogger, dispatcher: agent, retryBaseDelayMs: 1 },
  );
  clients.push(client!);
  const seen: Seen[] = [];
  const record = (opts: { method: string; path: string; headers?: unknown; body?: unknown }) =>
    seen.push({ method: opts.method, path: opts.path, headers: lowerHeaders(opts.headers), body: opts.body === undefined || opts.body === null ? '' : String(opts.body), at: (o.clock ?? systemClock).now() });
  return { agent, pool: agent.get(ORIGIN), client: client!, key, seen, record };
}

describe('ApolloClient: credentials', () => {
  it('sends the API key only as the X-Api-Key header, never in a query string or a body', async () => {
    const { pool, client, key, seen, record } = await setup();
    pool
      .intercept({ path: (p) => p.startsWith('/api/v1/'), method: (m) => m === 'GET' || m === 'POST' })
      .reply((opts) => {
        record(opts as never);
        const p = opts.path;
        if (p.startsWith('/api/v1/users/search')) return { statusCode: 200, data: JSON.stringify({ users: [teammate(1)], pagination: { page: '1', per_page: '100', total_entries: 1, total_pages: 1 } }), responseOptions: { headers: JSON_HEADERS } };
        if (p.startsWith('/api/v1/mixed_people/api_search')) return { statusCode: 200, data: JSON.stringify({ total_entries: 0, people: [] }), responseOptions: { headers: JSON_HEADERS } };
        if (p.startsWith('/api/v1/people/match')) return { statusCode: 200, data: JSON.stringify({ person: null }), responseOptions: { headers: JSON_HEADERS } };
        if (p.startsWith('/api/v1/contacts')) return { statusCode: 200, data: JSON.stringify({ contact: { id: 'c1', email: 'x@example.com' } }), responseOptions: { headers: JSON_HEADERS } };
        return { statusCode: 200, data: JSON.stringify({ id: 'u1', email: 'owner@acme.example' }), responseOptions: { headers: JSON_HEADERS } };
      })
      .persist();
    await client.listUsersPage({ page: 1 });
    await client.searchPeople({ q_keywords: 'revops' }, { page: 1, perPage: 10 });
    await client.enrichPerson({ email: 'jane@example.com' });
    await client.createContact({ email: 'x@example.com' });
    await client.tokenOwner();
    expect(seen).toHaveLength(5);
    for (const s of seen) {
      expect(s.headers['x-api-key']).toBe(key);
      expect(s.headers.authorization).toBeUndefined();
      expect(s.path).not.toContain(key);
      expect(s.path).not.toMatch(/api_key/i);
      expect(s.body).not.toContain(key);
      expect(s.body).not.toMatch(/api_key/i);
    }
    // A key's owner comes from /users/api_profile: /auth/health takes only bearer tokens.
    expect(seen[4].path).toBe('/api/v1/users/api_profile');
  });

  it('an OAuth token goes as Authorization: Bearer, and the owner comes from /auth/health', async () => {
    const token = `oauth-token-${Math.random().toString(36).slice(2)}`;
    const { pool, client, seen, record } = await setup({ auth: { kind: 'bearer', accessToken: token } });
    pool.intercept({ path: '/api/v1/auth/health', method: 'GET' }).reply((opts) => {
      record(opts as never);
      return { statusCode: 200, data: JSON.stringify({ is_logged_in: true, user: { id: 'u9', email: 'admin@acme.example', name: 'Ada Admin' } }), responseOptions: { headers: JSON_HEADERS } };
    });
    const owner = await client.tokenOwner();
    expect(owner).toMatchObject({ via: 'GET /auth/health', id: 'u9', email: 'admin@acme.example' });
    expect(seen[0].headers.authorization).toBe(`Bearer ${token}`);
    expect(seen[0].headers['x-api-key']).toBeUndefined();
  });

  it('a 401 names the variables to check, without the key', async () => {
    const { pool, client, key } = await setup();
    pool.intercept({ path: '/api/v1/users/api_profile', method: 'GET' }).reply(401, 'Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate.', { headers: { 'content-type': 'text/plain' } });
    const err = (await client.tokenOwner().catch((e: unknown) => e)) as VendorError;
    expect(err.code).toBe('unauthorized');
    expect(err.message).toMatch(/Invalid API key/);
    expect(err.message).toMatch(/APOLLO_API_KEY \(sent only in the X-Api-Key header\)/);
    expect(err.message).not.toContain(key);
  });
});

describe('ApolloClient: OAuth partner app against the simulator', () => {
  it('refreshes the 30-day token at APOLLO_TOKEN_URL, stores the rotated refresh token, and asks /auth/health', async () => {
    const sim = await startApolloSimulator({ userCount: 20, prospectCount: 10 });
    try {
      const tokens = new TokenStore(mkdtempSync(join(tmpdir(), 'sam-apollo-oauth-')));
      const seed = sim.issueRefreshToken();
      const client = (await createApolloClient(
        { baseUrl: sim.baseUrl, tokenUrl: sim.tokenUrl, auth: { kind: 'oauth_refresh', clientId: sim.clientId, clientSecret: sim.clientSecret, refreshToken: seed, accessToken: undefined }, rateWindowScale: 1 },
        { tokens, clock: systemClock, log: silentLogger, retryBaseDelayMs: 1 },
      ))!;
      clients.push(client);
      expect(client.authKind).toBe('oauth_refresh');
      const owner = await client.tokenOwner();
      expect(owner).toMatchObject({ via: 'GET /auth/health', email: sim.users().find((u) => u.role === 'Admin')!.email });
      const stored = await tokens.read('apollo');
      expect(stored?.refresh_token).toBeDefined();
      expect(stored?.refresh_token).not.toBe(seed);
      // 30 days, as Apollo documents.
      expect(Date.parse(stored!.access_expires_at!) - Date.now()).toBeGreaterThan(29 * 86_400_000);
      expect(sim.requests.map((r) => [r.path.split('?')[0], r.status])).toEqual([
        ['/api/v1/oauth/token', 200],
        ['/api/v1/auth/health', 200],
      ]);
    } finally {
      await sim.close();
    }
  });

  it('refuses to start an OAuth app with neither a refresh token nor a stored one', async () => {
    await expect(
      createApolloClient(
        { baseUrl: `${ORIGIN}/api/v1`, tokenUrl: `${ORIGIN}/t`, auth: { kind: 'oauth_refresh', clientId: 'c', clientSecret: 's', refreshToken: undefined, accessToken: undefined }, rateWindowScale: 1 },
        { tokens: new TokenStore(mkdtempSync(join(tmpdir(), 'sam-apollo-'))), clock: systemClock, log: silentLogger },
      ),
    ).rejects.toThrow(/APOLLO_REFRESH_TOKEN is not set/);
  });
});

describe('ApolloClient: 403s', () => {
  it('a scoped key on a master-key endpoint gets the master-key instructions', async () => {
    const { pool, client } = await setup();
    pool.intercept({ path: (p) => p.startsWith('/api/v1/users/search'), method: 'GET' }).reply(
      403,
      JSON.stringify({
        error: 'This API key is not authorized to access api/v1/users/search. Request an API key from your administrator that includes this endpoint in its configured scope.',
        error_code: 'API_INACCESSIBLE',
      }),
      { headers: JSON_HEADERS },
    );
    const err = (await client.listAllUsers().catch((e: unknown) => e)) as VendorError;
    expect(err).toBeInstanceOf(VendorError);
    expect(err.code).toBe('forbidden');
    expect(err.status).toBe(403);
    expect(err.message).toContain('api/v1/users/search');
    expect(err.message).toContain('this needs a master API key, created under Settings > Integrations > API with "Set as master key"');
    expect(err.detail).toMatch(/API_INACCESSIBLE/);
  });

  it('the paid-plan 403 says to upgrade instead', async () => {
    const { pool, client } = await setup();
    pool.intercept({ path: '/api/v1/contacts/search', method: 'POST' }).reply(403, JSON.stringify({ message: 'This endpoint is only available to Apollo users on paid plans.' }), { headers: JSON_HEADERS });
    const err = (await client.searchContacts({}, { page: 1, perPage: 10 }).catch((e: unknown) => e)) as VendorError;
    expect(err.message).toMatch(/only available on paid Apollo plans/);
    expect(err.message).not.toMatch(/master API key/);
  });

  it('an OAuth token missing a scope is told which scope and that the flow must be repeated', async () => {
    const { pool, client } = await setup({ auth: { kind: 'bearer', accessToken: `tok-${Math.random()}` } });
    pool.intercept({ path: (p) => p.startsWith('/api/v1/users/search'), method: 'GET' }).reply(403, JSON.stringify({ error: 'not authorized', error_code: 'API_INACCESSIBLE' }), { headers: JSON_HEADERS });
    const err = (await client.listUsersPage({ page: 1 }).catch((e: unknown) => e)) as VendorError;
    expect(err.message).toMatch(/lacks the scope `users_list`/);
    expect(err.message).toMatch(/repeat the whole authorization flow/);
  });
});

describe('ApolloClient: teammates', () => {
  it('walks GET /users/search 100 per page (pagination numbers arrive as strings) and maps teammates', async () => {
    const { pool, client } = await setup();
    const pages: string[] = [];
    pool
      .intercept({ path: (p) => p.startsWith('/api/v1/users/search?'), method: 'GET' })
      .reply((opts) => {
        const q = new URL(`${ORIGIN}${opts.path}`).searchParams;
        pages.push(q.get('page')!);
        expect(q.get('per_page')).toBe('100');
        const page = Number(q.get('page'));
        const n = page < 3 ? 100 : 50;
        const users = Array.from({ length: n }, (_, i) => teammate((page - 1) * 100 + i, i === 0 && page === 1 ? { deleted: true } : {}));
        return { statusCode: 200, data: JSON.stringify({ users, pagination: { page: String(page), per_page: '100', total_entries: 250, total_pages: 3 } }), responseOptions: { headers: JSON_HEADERS } };
      })
      .persist();
    const progress: [number, number | undefined][] = [];
    const all = await client.listAllUsers(async (n, of) => void progress.push([n, of]));
    expect(pages).toEqual(['1', '2', '3']);
    expect(all.users).toHaveLength(250);
    expect(all.total).toBe(250);
    expect(progress).toEqual([[1, 3], [2, 3], [3, 3]]);
    const accounts = client.toAccounts(all.users);
    expect(accounts[0]).toMatchObject({ vendor: 'apollo', status: 'deactivated', deactivated: true, source: 'rest' });
    expect(accounts[1]).toMatchObject({ status: 'active', role: 'User', is_admin: false, seat: 'paid' });
  });

  it('falls back to the notes\' GET /users when /users/search is 404, and keeps using it', async () => {
    const { pool, client, seen, record } = await setup();
    pool.intercept({ path: (p) => p.startsWith('/api/v1/users/search'), method: 'GET' }).reply((opts) => {
      record(opts as never);
      return { statusCode: 404, data: JSON.stringify({ error: 'Not found' }), responseOptions: { headers: JSON_HEADERS } };
    });
    pool
      .intercept({ path: (p) => p.startsWith('/api/v1/users?'), method: 'GET' })
      .reply((opts) => {
        record(opts as never);
        return { statusCode: 200, data: JSON.stringify({ users: [teammate(1), teammate(2)] }), responseOptions: { headers: JSON_HEADERS } };
      })
      .persist();
    const first = await client.listAllUsers();
    expect(first.users.map((u) => u.email)).toEqual(['u1@acme.example', 'u2@acme.example']);
    await client.listUsersPage({ page: 1 });
    expect(seen.map((s) => s.path.split('?')[0])).toEqual(['/api/v1/users/search', '/api/v1/users', '/api/v1/users']);
  });

  it('maps status, admin flag and seat type; blank names become null', () => {
    expect(apolloStatus({ deleted: true })).toBe('deactivated');
    expect(apolloStatus({ deleted: false })).toBe('active');
    expect(apolloStatus({})).toBe('unknown');
    const admin = toApolloAccount(teammate(1, { role: 'Admin' }) as never);
    expect(admin).toMatchObject({ is_admin: true, role: 'Admin', seat: 'paid' });
    const bsm = toApolloAccount(teammate(2, { role: 'Billing and Seat Manager' }) as never);
    expect(bsm).toMatchObject({ is_admin: false, seat: 'billing_and_seat_manager' });
    expect(toApolloAccount(teammate(4, { role: 'Call Assistant' }) as never)).toMatchObject({ is_admin: false, seat: 'call_assistant' });
    const blank = toApolloAccount(teammate(3, { first_name: null, last_name: null, name: '', role: undefined }) as never);
    expect(blank).toMatchObject({ name: null, role: '6095a711bd01d100a506d4d7', seat: 'unknown' });
  });
});

describe('ApolloClient: rate limits', () => {
  it('reads the nine headers into minute, hour and day windows with clock-aligned resets', () => {
    const now = Date.parse('2026-11-02T09:00:15Z');
    const parsed = apolloRateHeaders().parse(usageHeaders({ limit: 50, used: 45 }, { limit: 100, used: 95 }, { limit: 300, used: 5 }), now);
    expect(parsed.minute).toEqual({ limit: 50, remaining: 5, resetAtMs: Date.parse('2026-11-02T09:01:00Z') });
    expect(parsed.hour).toEqual({ limit: 100, remaining: 5, resetAtMs: Date.parse('2026-11-02T10:00:00Z') });
    expect(parsed.day).toEqual({ limit: 300, remaining: 295, resetAtMs: Date.parse('2026-11-03T00:00:00Z') });
    expect(apolloRateHeaders().parse({ 'content-type': 'application/json' }, now)).toEqual({});
    expect(windowEnd(now, 600)).toBe(now + 600 - (now % 600));
    expect(bucketOfUsageKey('["api/v1/contacts", "search"]')).toBe('contacts/search');
    expect(bucketOfUsageKey('["api/v1/mixed_people", "api_search"]')).toBe('mixed_people/api_search');
    expect(bucketOfUsageKey('nonsense')).toBeUndefined();
  });

  it('learns limits per endpoint from the headers: an exhausted endpoint waits for its window, another endpoint does not', async () => {
    const clock = new ManualClock(Date.parse('2026-11-02T09:00:15Z'));
    const { pool, client, seen, record } = await setup({ clock });
    pool
      .intercept({ path: (p) => p.startsWith('/api/v1/users/search'), method: 'GET' })
      .reply((opts) => {
        record(opts as never);
        const used = seen.filter((s) => s.path.startsWith('/api/v1/users/search')).length;
        return { statusCode: 200, data: JSON.stringify({ users: [], pagination: { total_entries: 0, total_pages: 0 } }), responseOptions: { headers: usageHeaders({ limit: 2, used: Math.min(2, used) }) } };
      })
      .persist();
    pool
      .intercept({ path: '/api/v1/contacts/search', method: 'POST' })
      .reply((opts) => {
        record(opts as never);
        return { statusCode: 200, data: JSON.stringify({ contacts: [], pagination: { total_entries: 0 } }), responseOptions: { headers: usageHeaders({ limit: 200, used: 1 }) } };
      })
      .persist();

    await client.listUsersPage({ page: 1 });
    await client.listUsersPage({ page: 1 }); // minute now used up: 2 of 2
    const third = client.listUsersPage({ page: 1 });
    await pause();
    expect(seen.filter((s) => s.path.startsWith('/api/v1/users/search'))).toHaveLength(2);
    // A different endpoint has its own bucket and is not held back.
    await client.searchContacts({}, { page: 1, perPage: 10 });
    expect(seen.at(-1)!.path).toBe('/api/v1/contacts/search');

    const budget = client.core.budget().windows.filter((w) => w.bucket === 'users/search');
    expect(budget.find((w) => w.name === 'minute')).toMatchObject({ limit: 2, remaining: 0, resets_at: '2026-11-02T09:01:00.000Z' });
    expect(budget.find((w) => w.name === 'hour')).toMatchObject({ limit: 600 });

    clock.advance(44_000);
    await pause();
    expect(seen.filter((s) => s.path.startsWith('/api/v1/users/search'))).toHaveLength(2);
    clock.advance(1_000); // 09:01:00: the minute window resets
    await third;
    const last = seen.filter((s) => s.path.startsWith('/api/v1/users/search')).at(-1)!;
    expect(last.at).toBe(Date.parse('2026-11-02T09:01:00Z'));
  });

  it('after a 429 without Retry-After the bucket waits until the exhausted window resets, then retries once', async () => {
    const clock = new ManualClock(Date.parse('2026-11-02T09:00:20Z'));
    const { pool, client, seen, record } = await setup({ clock });
    let n = 0;
    pool
      .intercept({ path: (p) => p.startsWith('/api/v1/mixed_people/api_search?'), method: 'POST' })
      .reply((opts) => {
        record(opts as never);
        n += 1;
        if (n === 1) {
          // Another integration used the minute up: 429, no Retry-After, the headers say which window.
          return { statusCode: 429, data: JSON.stringify({ message: 'The maximum number of api calls allowed for api/v1/mixed_people/api_search is 50 times per minute.' }), responseOptions: { headers: usageHeaders({ limit: 50, used: 50 }) } };
        }
        return { statusCode: 200, data: JSON.stringify({ total_entries: 1, people: [{ id: 'p1', first_name: 'A' }] }), responseOptions: { headers: usageHeaders({ limit: 50, used: 1 }) } };
      })
      .persist();
    const p = client.searchPeople({}, { page: 1, perPage: 10 });
    // The core notes the 429 and starts its wait in one step: from then on only the clock can move it.
    await until(() => client.core.budget().last_429_at !== null, 'the 429');
    await pause();
    expect(n).toBe(1);
    clock.advance(39_000); // 09:00:59
    await pause();
    expect(n).toBe(1);
    clock.advance(1_000); // 09:01:00
    const r = await p;
    expect(r.people).toHaveLength(1);
    expect(seen.map((s) => s.at)).toEqual([Date.parse('2026-11-02T09:00:20Z'), Date.parse('2026-11-02T09:01:00Z')]);
    expect(client.core.budget().last_429_at).toBe('2026-11-02T09:00:20.000Z');
  });

  it('a 429 on the hour window that would outlast the deadline fails with the wait, instead of retrying early', async () => {
    const clock = new ManualClock(Date.parse('2026-11-02T09:10:00Z'));
    const { pool, client } = await setup({ clock });
    pool
      .intercept({ path: '/api/v1/contacts/search', method: 'POST' })
      .reply(429, JSON.stringify({ message: 'The maximum number of api calls allowed for api/v1/contacts/search is 600 times per hour.' }), {
        headers: usageHeaders({ limit: 200, used: 3 }, { limit: 600, used: 600 }),
      });
    const err = (await client.searchContacts({}, { page: 1, perPage: 10 }).catch((e: unknown) => e)) as VendorError;
    expect(err.code).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(50 * 60_000);
    expect(err.message).toMatch(/retry after 50 min/);
  });

  it('the bulk enrichment endpoint starts with a tenth of the single-record limits', async () => {
    const clock = new ManualClock(Date.parse('2026-11-02T09:00:00Z'));
    const { pool, client } = await setup({ clock });
    let bulkCalls = 0;
    pool
      .intercept({ path: (p) => p.startsWith('/api/v1/people/bulk_match?'), method: 'POST' })
      .reply(() => {
        bulkCalls += 1;
        // No usage headers: the limiter keeps its defaults.
        return { statusCode: 200, data: JSON.stringify({ matches: [null], credits_consumed: 0, missing_records: 1 }), responseOptions: { headers: JSON_HEADERS } };
      })
      .persist();
    pool.intercept({ path: (p) => p.startsWith('/api/v1/people/match?'), method: 'POST' }).reply(200, JSON.stringify({ person: null }), { headers: JSON_HEADERS });
    await client.enrichPerson({ email: 'a@example.com' });
    const pending = Array.from({ length: 6 }, () => client.bulkEnrich([{ email: 'b@example.com' }]));
    await until(() => bulkCalls === 5, 'five bulk calls');
    await pause();
    expect(bulkCalls).toBe(5);
    const windows = client.core.budget().windows;
    expect(windows.find((w) => w.bucket === 'people/bulk_match' && w.name === 'minute')?.limit).toBe(5);
    expect(windows.find((w) => w.bucket === 'people/bulk_match' && w.name === 'hour')?.limit).toBe(10);
    expect(windows.find((w) => w.bucket === 'people/match' && w.name === 'minute')?.limit).toBe(50);
    clock.advance(60_000);
    await Promise.all(pending);
    expect(bulkCalls).toBe(6);
  });

  it('View API Usage Stats teaches every endpoint\'s limiter its limits before its first call', async () => {
    const { pool, client } = await setup();
    pool.intercept({ path: '/api/v1/usage_stats/api_usage_stats', method: 'POST' }).reply(
      200,
      JSON.stringify({
        '["api/v1/users", "search"]': { day: { limit: 6000, consumed: 10, left_over: 6000 }, hour: { limit: 600, consumed: 5, left_over: 600 }, minute: { limit: 7, consumed: 2, left_over: 7 } },
        '["api/v1/people", "bulk_match"]': { day: { limit: 600, consumed: 0, left_over: 600 }, hour: { limit: 60, consumed: 0, left_over: 60 }, minute: { limit: 20, consumed: 0, left_over: 20 } },
      }),
      { headers: JSON_HEADERS },
    );
    const stats = await client.apiUsageStats();
    expect(stats.map((s) => s.endpoint)).toEqual(['api/v1/people/bulk_match', 'api/v1/users/search']);
    expect(stats[1]).toMatchObject({ bucket: 'users/search', minute: { limit: 7, consumed: 2 } });
    const w = client.core.budget().windows;
    // left_over disagrees with limit - consumed in Apollo's own example: the smaller is believed.
    expect(w.find((x) => x.bucket === 'users/search' && x.name === 'minute')).toMatchObject({ limit: 7, remaining: 5 });
    expect(w.find((x) => x.bucket === 'people/bulk_match' && x.name === 'minute')).toMatchObject({ limit: 20, remaining: 20 });
  });

  it('a 429 without any usage headers falls back to backoff with jitter', async () => {
    const { pool, client } = await setup();
    let n = 0;
    pool
      .intercept({ path: '/api/v1/contacts/search', method: 'POST' })
      .reply(() => {
        n += 1;
        return n === 1
          ? { statusCode: 429, data: JSON.stringify({ message: 'slow down' }), responseOptions: { headers: JSON_HEADERS } }
          : { statusCode: 200, data: JSON.stringify({ contacts: [] }), responseOptions: { headers: JSON_HEADERS } };
      })
      .persist();
    await client.searchContacts({}, { page: 1, perPage: 10 });
    expect(n).toBe(2);
  });
});

describe('ApolloClient: search ceiling and enrichment', () => {
  it('refuses a page past 500 before any request, with a message to narrow the filters', async () => {
    const { client } = await setup();
    const err = await client.searchPeople({}, { page: 501, perPage: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolInputError);
    expect((err as Error).message).toMatch(/500 pages/);
    expect((err as Error).message).toMatch(/Narrow the filters/);
  });

  it('reports the 50,000-record ceiling and stops offering pages at 500', () => {
    const first = searchPageInfo('people', 60_000, 1, 100, 100);
    expect(first).toMatchObject({ nextPage: 2, reachablePages: 500, ceilingReached: true });
    expect(first.notice).toMatch(/60,000 people match, but Apollo shows at most 50,000/);
    expect(searchPageInfo('people', 60_000, 500, 100, 100)).toMatchObject({ nextPage: null, ceilingReached: true });
    // With 25 per page only 12,500 records are reachable.
    const small = searchPageInfo('people', 20_000, 500, 25, 25);
    expect(small).toMatchObject({ nextPage: null, ceilingReached: true, reachablePages: 500 });
    expect(small.notice).toMatch(/per_page 25 only the first 12,500/);
    expect(searchPageInfo('contacts', 120, 2, 100, 20)).toMatchObject({ nextPage: null, ceilingReached: false, notice: null });
  });

  it('sends search filters as query parameters (arrays as name[]) with page and per_page and no body, capping per_page at 100', async () => {
    const { pool, client, seen, record } = await setup();
    pool.intercept({ path: (p) => p.startsWith('/api/v1/mixed_people/api_search?'), method: 'POST' }).reply((opts) => {
      record(opts as never);
      return { statusCode: 200, data: JSON.stringify({ total_entries: 60_000, people: [{ id: 'p1', first_name: 'A', last_name_obfuscated: 'Ab***t', has_direct_phone: 'Yes' }] }), responseOptions: { headers: JSON_HEADERS } };
    });
    const r = await client.searchPeople({ person_titles: ['vp of sales'], organization_domains: ['apollo.io'], q_keywords: ' ' }, { page: 3, perPage: 500 });
    // The published spec defines these as query parameters of the POST (the notes' example used a JSON body).
    const q = new URL(`${ORIGIN}${seen[0].path}`).searchParams;
    expect([...q.entries()]).toEqual([
      ['person_titles[]', 'vp of sales'],
      ['q_organization_domains_list[]', 'apollo.io'],
      ['page', '3'],
      ['per_page', '100'],
    ]);
    expect(seen[0].body).toBe('');
    expect(r).toMatchObject({ page: 3, perPage: 100, ceilingReached: true, nextPage: 4 });
  });

  it('refuses phone reveals and waterfall enrichment, and unidentifiable people, before any request', async () => {
    const { client } = await setup();
    await expect(client.enrichPerson({ email: 'a@example.com' }, { revealPhoneNumber: true })).rejects.toThrow(/webhook/);
    await expect(client.bulkEnrich([{ email: 'a@example.com' }], { runWaterfallEmail: true })).rejects.toThrow(/waterfall enrichment is refused/);
    await expect(client.enrichPerson({ name: 'Jane Doe' })).rejects.toThrow(/give an Apollo person `id`, an `email`/);
    await expect(client.bulkEnrich(Array.from({ length: 11 }, () => ({ email: 'a@example.com' })))).rejects.toThrow(/1 to 10 people/);
  });

  it('estimates a single match (1, +1 with personal emails) and measures bulk credits_consumed', async () => {
    const { pool, client, seen, record } = await setup();
    pool.intercept({ path: (p) => p.startsWith('/api/v1/people/match?'), method: 'POST' }).reply((opts) => {
      record(opts as never);
      return { statusCode: 200, data: JSON.stringify({ person: { id: 'p1', email: 'a@x.example', personal_emails: ['a@mail.example'] } }), responseOptions: { headers: JSON_HEADERS } };
    });
    pool.intercept({ path: (p) => p.startsWith('/api/v1/people/bulk_match?'), method: 'POST' }).reply(200, JSON.stringify({ matches: [{ id: 'p1' }, null], credits_consumed: 1, missing_records: 1 }), { headers: JSON_HEADERS });
    const one = await client.enrichPerson({ email: 'a@x.example' }, { revealPersonalEmails: true });
    expect(one.estimatedCredits).toBe(2);
    // Spec: People Enrichment takes every parameter in the query, and no body.
    expect(Object.fromEntries(new URL(`${ORIGIN}${seen[0].path}`).searchParams)).toEqual({ email: 'a@x.example', reveal_personal_emails: 'true' });
    expect(seen[0].body).toBe('');
    const bulk = await client.bulkEnrich([{ id: 'p1' }, { email: 'nobody@x.example' }]);
    expect(bulk).toMatchObject({ creditsConsumed: 1, estimatedCredits: 1, missing: 1 });
  });

  it('reads Apollo error bodies, including a 429 message holding a JSON document', () => {
    expect(apolloErrorDetail(403, { error: 'not authorized', error_code: 'API_INACCESSIBLE' })).toBe('API_INACCESSIBLE: not authorized');
    expect(apolloErrorDetail(429, { message: '{\n "message": "The maximum number of api calls allowed for api/v1/x is 600 times per hour."\n}' })).toBe(
      'The maximum number of api calls allowed for api/v1/x is 600 times per hour.',
    );
    expect(apolloErrorDetail(401, 'Invalid API key.')).toBe('Invalid API key.');
    expect(apolloErrorDetail(422, { error: 'Invalid parameters' })).toBe('Invalid parameters');
  });
});

describe('apolloConfig', () => {
  it('reads a key, a static token or an OAuth app, with the documented defaults', () => {
    expect(apolloConfig({})).toEqual({
      baseUrl: 'https://api.apollo.io/api/v1',
      tokenUrl: 'https://app.apollo.io/api/v1/oauth/token',
      auth: undefined,
      rateWindowScale: 1,
    });
    expect(apolloConfig({ APOLLO_API_KEY: 'k1' }).auth).toEqual({ kind: 'api_key', apiKey: 'k1' });
    expect(apolloConfig({ APOLLO_ACCESS_TOKEN: 't1' }).auth).toEqual({ kind: 'bearer', accessToken: 't1' });
    expect(apolloConfig({ APOLLO_CLIENT_ID: 'c', APOLLO_CLIENT_SECRET: 's', APOLLO_REFRESH_TOKEN: 'r', APOLLO_ACCESS_TOKEN: 't' }).auth).toEqual({
      kind: 'oauth_refresh',
      clientId: 'c',
      clientSecret: 's',
      refreshToken: 'r',
      accessToken: 't',
    });
  });

  it('stops on conflicting or incomplete credentials, naming the variables', () => {
    expect(() => apolloConfig({ APOLLO_API_KEY: 'k', APOLLO_ACCESS_TOKEN: 't' })).toThrow(/either APOLLO_API_KEY or the OAuth variables/);
    expect(() => apolloConfig({ APOLLO_CLIENT_SECRET: 's' })).toThrow(/APOLLO_CLIENT_ID is required/);
    expect(() => apolloConfig({ APOLLO_CLIENT_ID: 'c' })).toThrow(/APOLLO_CLIENT_SECRET is required/);
    expect(() => apolloConfig({ APOLLO_API_KEY: 'has space' })).toThrow(ConfigError);
    expect(() => apolloConfig({ APOLLO_BASE_URL: 'ftp://x' })).toThrow(/APOLLO_BASE_URL/);
  });
});
