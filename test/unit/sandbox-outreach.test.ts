import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import {
  buildOutreachOrg,
  startOutreachSimulator,
  type OutreachSim,
  type OutreachSimOptions,
} from '../../src/sandbox/outreach/index.js';
import { generatePeople } from '../../src/sandbox/people.js';
import { authorizeCode, pkcePair, send, simulators, tokenRequest as token, type Res } from '../support/sandbox-http.js';

const JSONAPI = 'application/vnd.api+json';

async function call(
  sim: OutreachSim,
  method: string,
  path: string,
  o: { token?: string | null; accept?: string | null; contentType?: string; body?: unknown } = {},
): Promise<Res> {
  const headers: Record<string, string> = {};
  const token = o.token === undefined ? sim.staticAccessToken : o.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const accept = o.accept === undefined ? JSONAPI : o.accept;
  if (accept !== null) headers.accept = accept;
  let body: string | undefined;
  if (o.body !== undefined) {
    headers['content-type'] = o.contentType ?? JSONAPI;
    body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  }
  return send(path.startsWith('http') ? path : `${sim.baseUrl}${path}`, { method, headers, body });
}

const sim = simulators<OutreachSimOptions, OutreachSim>(startOutreachSimulator);

describe('content negotiation', () => {
  let s: OutreachSim;
  beforeAll(async () => {
    s = await sim();
  });

  it('answers 406 without an Accept that allows application/vnd.api+json', async () => {
    for (const accept of [null, 'application/json', `${JSONAPI}; ext="bulk"`]) {
      const r = await call(s, 'GET', '/users', { accept });
      expect(r.status, String(accept)).toBe(406);
      expect(r.headers['content-type']).toBe(JSONAPI);
      expect(r.body.errors[0]).toMatchObject({ status: '406', source: { header: 'Accept' } });
    }
    for (const accept of [JSONAPI, '*/*', `application/json, ${JSONAPI};q=0.5`]) {
      const r = await call(s, 'GET', '/users', { accept });
      expect(r.status, accept).toBe(200);
      expect(r.headers['content-type']).toBe(JSONAPI);
    }
  });

  it('answers 415 to a body that is not application/vnd.api+json', async () => {
    const doc = { data: { type: 'user', attributes: { firstName: 'A', lastName: 'B', email: 'ab@acme.example' } } };
    for (const contentType of ['application/json', `${JSONAPI}; charset=utf-8`]) {
      const r = await call(s, 'POST', '/users', { body: doc, contentType });
      expect(r.status, contentType).toBe(415);
      expect(r.body.errors[0].status).toBe('415');
    }
  });
});

describe('GET /users', () => {
  let s: OutreachSim;
  beforeAll(async () => {
    s = await sim();
  });

  it('pages by 50 by default, counts, and links to the next page until the last', async () => {
    const first = await call(s, 'GET', '/users');
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(50);
    expect(first.body.meta.count).toBe(300);
    expect(first.body.links.prev).toBeUndefined();
    expect(first.body.links.next).toContain('page%5Boffset%5D=50');

    const seen: string[] = [];
    let next: string | undefined = `${s.baseUrl}/users?page[size]=120`;
    let pages = 0;
    while (next) {
      const r = await call(s, 'GET', next);
      expect(r.status).toBe(200);
      seen.push(...r.body.data.map((u: { id: string }) => u.id));
      next = r.body.links.next;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(s.users().map((u) => String(u.id)));
    const numeric = seen.map(Number);
    expect([...numeric].sort((a, b) => a - b)).toEqual(numeric);
  });

  it('allows page[size] up to 1000 and rejects more', async () => {
    const all = await call(s, 'GET', '/users?page[size]=1000');
    expect(all.body.data).toHaveLength(300);
    expect(all.body.links.next).toBeUndefined();
    const tooBig = await call(s, 'GET', '/users?page[size]=1001');
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.errors[0].source).toEqual({ parameter: 'page[size]' });
    expect((await call(s, 'GET', '/users?page[offset]=-1')).status).toBe(400);
  });

  it('serialises ids as strings and relationships as linkage (data: null when unset)', async () => {
    const r = await call(s, 'GET', '/users?page[size]=1000');
    const u = r.body.data[0];
    expect(typeof u.id).toBe('string');
    expect(u.type).toBe('user');
    expect(Object.keys(u.attributes)).toEqual(
      expect.arrayContaining(['firstName', 'lastName', 'email', 'username', 'locked', 'active', 'title', 'createdAt', 'updatedAt', 'externalId', 'externalSource']),
    );
    const noProfile = r.body.data.find((x: any) => x.relationships.profile.data === null);
    expect(noProfile).toBeDefined();
    const withRole = r.body.data.find((x: any) => x.relationships.role.data !== null);
    expect(withRole.relationships.role.data).toEqual({ type: 'role', id: expect.any(String) });
  });

  it('filters by email case-insensitively, returning both case variants', async () => {
    const byLower = new Map<string, string[]>();
    for (const u of s.users()) byLower.set(u.email.toLowerCase(), [...(byLower.get(u.email.toLowerCase()) ?? []), u.email]);
    const pairs = [...byLower.values()].filter((v) => v.length === 2);
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    for (const pair of pairs) {
      for (const query of [...pair, pair[0]!.toUpperCase()]) {
        const r = await call(s, 'GET', `/users?filter[email]=${encodeURIComponent(query)}`);
        expect(r.status).toBe(200);
        expect(r.body.meta.count).toBe(2);
        expect(r.body.data.map((u: any) => u.attributes.email).sort()).toEqual([...pair].sort());
      }
    }
  });

  it('filters by locked, role id and updatedAt range; rejects unknown filters', async () => {
    const locked = await call(s, 'GET', '/users?filter[locked]=true&page[size]=1000');
    expect(locked.body.meta.count).toBe(s.users().filter((u) => u.locked).length);
    expect(locked.body.data.every((u: any) => u.attributes.locked === true)).toBe(true);
    expect((await call(s, 'GET', '/users?filter[locked]=yes')).status).toBe(400);

    const admin = s.roles().find((r) => r.name === 'Admin')!;
    const admins = await call(s, 'GET', `/users?filter[role][id]=${admin.id}`);
    expect(admins.body.meta.count).toBe(s.users().filter((u) => u.roleId === admin.id).length);

    const cut = '2026-01-01T00:00:00.000Z';
    const expected = s.users().filter((u) => u.updatedAt >= cut).length;
    expect((await call(s, 'GET', `/users?filter[updatedAt]=${cut}..inf`)).body.meta.count).toBe(expected);
    expect((await call(s, 'GET', `/users?filter[updatedAt][gte]=${cut}`)).body.meta.count).toBe(expected);

    const unknown = await call(s, 'GET', '/users?filter[department]=Sales');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].source).toEqual({ parameter: 'filter[department]' });
  });

  it('includes roles and profiles on request', async () => {
    const r = await call(s, 'GET', '/users?page[size]=5&include=role,profile');
    expect(r.body.included.length).toBeGreaterThan(0);
    expect(r.body.included.every((x: any) => x.type === 'role' || x.type === 'profile')).toBe(true);
  });
});

describe('single users, writes and deletes', () => {
  let s: OutreachSim;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock();
    s = await sim({ clock });
  });

  it('takes an integer id in the path and returns it as a string', async () => {
    const u = s.users()[3]!;
    const r = await call(s, 'GET', `/users/${u.id}`);
    expect(r.status).toBe(200);
    expect(r.body.data.id).toBe(String(u.id));
    for (const bad of ['abc', '1.5', '-3', '0012']) {
      const b = await call(s, 'GET', `/users/${bad}`);
      expect(b.status, bad).toBe(400);
      expect(b.body.errors[0].source).toEqual({ parameter: 'id' });
    }
    const missing = await call(s, 'GET', '/users/999999999');
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0].status).toBe('404');
  });

  it('PATCH needs data.type and a string data.id equal to the path id', async () => {
    const u = s.users().find((x) => !x.locked)!;
    const patch = (data: unknown) => call(s, 'PATCH', `/users/${u.id}`, { body: { data } });
    expect((await patch({ type: 'user', attributes: { locked: true } })).status).toBe(400);
    expect((await patch({ type: 'user', id: u.id, attributes: { locked: true } })).status).toBe(400);
    expect((await patch({ type: 'user', id: String(u.id + 1), attributes: { locked: true } })).status).toBe(409);
    expect((await patch({ type: 'users', id: String(u.id), attributes: { locked: true } })).status).toBe(409);
    expect(s.users().find((x) => x.id === u.id)!.locked).toBe(false);

    clock.advance(60_000);
    const ok = await patch({ type: 'user', id: String(u.id), attributes: { locked: true, title: 'Former AE' } });
    expect(ok.status).toBe(200);
    expect(ok.body.data.attributes).toMatchObject({ locked: true, title: 'Former AE', updatedAt: new Date(clock.now()).toISOString() });
    expect(s.users().find((x) => x.id === u.id)).toMatchObject({ locked: true, title: 'Former AE' });

    const since = await call(s, 'GET', `/users?filter[updatedAt]=${new Date(clock.now()).toISOString()}..inf`);
    expect(since.body.data.map((x: any) => x.id)).toEqual([String(u.id)]);
  });

  it('PATCH refuses email changes and active (read-only); moves role and clears profile', async () => {
    const u = s.users().find((x) => x.seedKind === 'person' && x.profileId !== null)!;
    const patch = (attributes: unknown, relationships?: unknown) =>
      call(s, 'PATCH', `/users/${u.id}`, { body: { data: { type: 'user', id: String(u.id), attributes, relationships } } });
    const email = await patch({ email: 'someone.else@acme.example' });
    expect(email.status).toBe(422);
    expect(email.body.errors[0].source.pointer).toBe('/data/attributes/email');
    const active = await patch({ active: false });
    expect(active.status).toBe(422);
    expect(active.body.errors[0].source.pointer).toBe('/data/attributes/active');

    const manager = s.roles().find((r) => r.name === 'Manager')!;
    const moved = await patch({}, { role: { data: { type: 'role', id: manager.id } }, profile: { data: null } });
    expect(moved.status).toBe(200);
    expect(moved.body.data.relationships).toMatchObject({ role: { data: { type: 'role', id: manager.id } }, profile: { data: null } });
  });

  it('DELETE is 405: no hard delete through REST', async () => {
    const u = s.users()[0]!;
    const r = await call(s, 'DELETE', `/users/${u.id}`);
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, PATCH');
    expect(s.users().some((x) => x.id === u.id)).toBe(true);
  });

  it('POST validates required attributes, unique email and relationship ids', async () => {
    const role = s.roles().find((r) => r.name === 'Sales Rep')!;
    const profile = s.profiles().find((p) => p.name === 'Sales Rep')!;
    const post = (attributes: unknown, relationships?: unknown) =>
      call(s, 'POST', '/users', { body: { data: { type: 'user', attributes, relationships } } });

    const missing = await post({ firstName: 'Ann' });
    expect(missing.status).toBe(422);
    expect(missing.body.errors.map((e: any) => e.source.pointer).sort()).toEqual(['/data/attributes/email', '/data/attributes/lastName']);

    const taken = s.users()[10]!.email.toUpperCase();
    const dup = await post({ firstName: 'X', lastName: 'Y', email: taken });
    expect(dup.status).toBe(422);
    expect(dup.body.errors[0].detail).toContain('has already been taken');

    const badRole = await post({ firstName: 'New', lastName: 'Hire', email: 'new.hire@acme.example' }, { role: { data: { type: 'role', id: '1' } } });
    expect(badRole.status).toBe(422);
    expect(badRole.body.errors[0].source.pointer).toBe('/data/relationships/role/data/id');

    const created = await post(
      { firstName: 'New', lastName: 'Hire', email: 'new.hire@acme.example', title: 'SDR' },
      { role: { data: { type: 'role', id: role.id } }, profile: { data: { type: 'profile', id: profile.id } } },
    );
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      type: 'user',
      id: expect.stringMatching(/^\d+$/),
      attributes: { email: 'new.hire@acme.example', active: true, locked: false, createdAt: new Date(clock.now()).toISOString() },
      relationships: { role: { data: { type: 'role', id: role.id } }, profile: { data: { type: 'profile', id: profile.id } } },
    });
    const back = await call(s, 'GET', `/users/${created.body.data.id}`);
    expect(back.body.data.attributes.email).toBe('new.hire@acme.example');
  });

  it('serves roles and profiles with ids that are not 1..n', async () => {
    const roles = await call(s, 'GET', '/roles');
    const profiles = await call(s, 'GET', '/profiles');
    expect(roles.body.data.map((r: any) => r.attributes.name).sort()).toEqual(['Admin', 'Manager', 'SDR', 'Sales Rep', 'User', 'VP Sales']);
    expect(profiles.body.data.map((p: any) => p.attributes.name).sort()).toEqual(['Admin', 'Read Only', 'Sales Manager', 'Sales Rep']);
    expect(roles.body.meta.count).toBe(6);
    const ids = roles.body.data.map((r: any) => r.id);
    expect(ids.every((id: unknown) => typeof id === 'string')).toBe(true);
    expect(ids).not.toEqual(ids.map((_: unknown, i: number) => String(i + 1)));
    expect(profiles.body.data.find((p: any) => p.attributes.name === 'Admin').attributes.isAdmin).toBe(true);
  });
});

describe('auth', () => {
  let s: OutreachSim;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock();
    s = await sim({ clock, userCount: 20 });
  });

  it('rejects missing and unknown tokens, and tokens past their 2 h', async () => {
    expect((await call(s, 'GET', '/users', { token: null })).status).toBe(401);
    expect((await call(s, 'GET', '/users', { token: 'nope' })).status).toBe(401);
    const t = s.issueAccessToken();
    expect((await call(s, 'GET', '/users', { token: t })).status).toBe(200);
    clock.advance(2 * 60 * 60 * 1000 - 1);
    expect((await call(s, 'GET', '/users', { token: t })).status).toBe(200);
    clock.advance(1);
    const expired = await call(s, 'GET', '/users', { token: t });
    expect(expired.status).toBe(401);
    expect(expired.body.errors[0].detail).toBe('token expired');
    expect((await call(s, 'GET', '/users')).status).toBe(200); // the static token never expires
  });

  it('rotates refresh tokens: the old one is rejected after use', async () => {
    const rt = s.issueRefreshToken();
    const first = await token(s, { grant_type: 'refresh_token', refresh_token: rt });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_type: 'bearer', expires_in: 7200 });
    expect(first.body.refresh_token).not.toBe(rt);
    expect((await call(s, 'GET', '/users', { token: first.body.access_token })).status).toBe(200);

    const reuse = await token(s, { grant_type: 'refresh_token', refresh_token: rt });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');

    const second = await token(s, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, true);
    expect(second.status).toBe(200);
    expect((await token(s, { grant_type: 'refresh_token', refresh_token: 'unknown' })).body.error).toBe('invalid_grant');
  });

  it('refuses a bad client with 401 invalid_client', async () => {
    const r = await request(s.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: s.clientId, client_secret: 'wrong' }).toString(),
    });
    expect(r.statusCode).toBe(401);
    expect(((await r.body.json()) as any).error).toBe('invalid_client');
  });

  it('client_credentials tokens carry only the scopes asked for', async () => {
    const r = await token(s, { grant_type: 'client_credentials', scope: 'users.read' });
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).toBeUndefined();
    expect((await call(s, 'GET', '/users', { token: r.body.access_token })).status).toBe(200);
    const write = await call(s, 'PATCH', `/users/${s.users()[0]!.id}`, {
      token: r.body.access_token,
      body: { data: { type: 'user', id: String(s.users()[0]!.id), attributes: { locked: true } } },
    });
    expect(write.status).toBe(403);
  });

  it('completes an authorization_code + PKCE (S256) round trip; codes are single-use and expire', async () => {
    const redirectUri = 'http://127.0.0.1:9999/callback';
    const authorize = (challenge: string) =>
      authorizeCode(s, { redirectUri, challenge, state: 'xyz-123', scope: 'users.read users.write roles.read profiles.read' });
    const { verifier, challenge } = pkcePair();

    const wrongCode = await authorize(challenge);
    const wrong = await token(s, { grant_type: 'authorization_code', code: wrongCode, redirect_uri: redirectUri, code_verifier: 'x'.repeat(43) });
    expect(wrong.body.error).toBe('invalid_grant');

    const code = await authorize(challenge);
    const ok = await token(s, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    expect(ok.status).toBe(200);
    expect(ok.body.refresh_token).toEqual(expect.any(String));
    expect((await call(s, 'GET', '/users', { token: ok.body.access_token })).status).toBe(200);
    const again = await token(s, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    expect(again.body.error).toBe('invalid_grant');

    const late = await authorize(challenge);
    clock.advance(10 * 60 * 1000);
    const expired = await token(s, { grant_type: 'authorization_code', code: late, redirect_uri: redirectUri, code_verifier: verifier });
    expect(expired.status).toBe(400);
    expect(expired.body.error).toBe('invalid_grant');
  });
});

describe('rate limits and fault injection', () => {
  let s: OutreachSim;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock();
    s = await sim({ clock, userCount: 20 });
  });
  afterEach(() => {
    s.setRateLimit(10_000, 3_600_000);
  });

  it('sends X-RateLimit-* on every response and 429 + Retry-After over the limit', async () => {
    const base = await call(s, 'GET', '/users');
    expect(base.headers['x-ratelimit-limit']).toBe('10000');

    s.setRateLimit(3, 60_000);
    const windowEnd = Math.floor(clock.now() / 60_000) * 60_000 + 60_000;
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call(s, 'GET', '/users?page[size]=1');
      expect(r.status).toBe(200);
      expect(r.headers['x-ratelimit-limit']).toBe('3');
      expect(r.headers['x-ratelimit-reset']).toBe(String(windowEnd / 1000));
      remaining.push(r.headers['x-ratelimit-remaining']!);
    }
    expect(remaining).toEqual(['2', '1', '0']);

    clock.advance(15_000);
    const limited = await call(s, 'GET', '/users?page[size]=1');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('45');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.body.errors[0].status).toBe('429');

    clock.advance(45_000);
    const after = await call(s, 'GET', '/users?page[size]=1');
    expect(after.status).toBe(200);
    expect(after.headers['x-ratelimit-remaining']).toBe('2');
  });

  it('injects faults for the next N matching requests and logs them', async () => {
    s.requests.length = 0;
    s.failNext(2, 503, { retryAfterSec: 2, path: /\/users\/\d+/ });
    expect((await call(s, 'GET', '/users')).status).toBe(200); // does not match the path
    const a = await call(s, 'GET', `/users/${s.users()[0]!.id}`);
    expect(a.status).toBe(503);
    expect(a.headers['retry-after']).toBe('2');
    expect((await call(s, 'GET', `/users/${s.users()[0]!.id}`)).status).toBe(503);
    expect((await call(s, 'GET', `/users/${s.users()[0]!.id}`)).status).toBe(200);

    s.failNext(1, 429);
    const bare = await call(s, 'GET', '/users');
    expect(bare.status).toBe(429);
    expect(bare.headers['retry-after']).toBeUndefined();

    s.failNext(1, 0, { dropConnection: true });
    await expect(call(s, 'GET', '/users')).rejects.toThrow();
    expect(s.requests.map((r) => r.status)).toEqual([200, 503, 503, 200, 429, 0]);
    expect(s.requests[0]).toEqual({ method: 'GET', path: '/api/v2/users', status: 200 });
  });
});

describe('seed', () => {
  it('is deterministic for a seed and count, and differs across seeds', () => {
    const a = buildOutreachOrg(300, 42);
    const b = buildOutreachOrg(300, 42);
    expect(b).toEqual(a);
    const c = buildOutreachOrg(300, 7);
    expect(c.users.map((u) => u.email)).not.toEqual(a.users.map((u) => u.email));
    expect(c.roles.map((r) => r.id)).not.toEqual(a.roles.map((r) => r.id));
  });

  it('has a realistic composition for the default 300', () => {
    const { users, roles, profiles } = buildOutreachOrg(300, 42);
    const adminRole = roles.find((r) => r.name === 'Admin')!.id;
    const adminProfile = profiles.find((p) => p.name === 'Admin')!.id;
    const people = new Map(generatePeople(300, 42).map((p) => [p.key, p]));
    const leavers = users.filter((u) => u.seedKind === 'person' && people.get(u.personKey!)!.employment === 'terminated');
    const lower = new Map<string, number>();
    for (const u of users) lower.set(u.email.toLowerCase(), (lower.get(u.email.toLowerCase()) ?? 0) + 1);

    expect(users).toHaveLength(300);
    expect(users.filter((u) => u.roleId === adminRole && u.profileId === adminProfile)).toHaveLength(9);
    expect(users.filter((u) => u.locked)).toHaveLength(24);
    expect(users.filter((u) => u.profileId === null)).toHaveLength(12);
    expect([...lower.values()].filter((n) => n === 2)).toHaveLength(2);
    expect(users.filter((u) => u.seedKind === 'service').map((u) => u.email)).toContain('integration.bot@acme.example');
    expect(leavers.some((u) => u.locked)).toBe(true);
    expect(leavers.filter((u) => !u.locked).length).toBeGreaterThan(leavers.length / 2);
    expect(leavers.some((u) => !u.locked && u.roleId === adminRole)).toBe(true);
    expect(new Set(users.map((u) => u.id)).size).toBe(300);
  });

  it('generates prefix-stable people with unique lower-case emails', () => {
    const big = generatePeople(2000, 42);
    expect(generatePeople(300, 42)).toEqual(big.slice(0, 300));
    expect(new Set(big.map((p) => p.email)).size).toBe(2000);
    expect(big.every((p) => p.email === p.email.toLowerCase() && p.email.endsWith('@acme.example'))).toBe(true);
    expect(big.some((p) => /\d@/.test(p.email))).toBe(true);
    expect(big.every((p) => (p.employment === 'terminated') === (p.terminatedOn !== null))).toBe(true);
  });

  it('builds 10,000 users and serves them', async () => {
    const big = await sim({ userCount: 10_000 });
    const r = await call(big, 'GET', '/users?page[size]=1000&page[offset]=9000');
    expect(r.body.meta.count).toBe(10_000);
    expect(r.body.data).toHaveLength(1000);
    expect(r.body.links.next).toBeUndefined();
  });
});
