import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { generatePeople } from '../../src/sandbox/people.js';
import {
  buildSalesloftOrg,
  parseTimestampMicros,
  renderMicros,
  startSalesloftSimulator,
  type SalesloftSim,
  type SalesloftSimOptions,
} from '../../src/sandbox/salesloft/index.js';
import { authorizeCode, pkcePair, send, simulators, tokenRequest as token, type Res } from '../support/sandbox-http.js';

async function call(
  sim: SalesloftSim,
  method: string,
  path: string,
  o: { token?: string | null; contentType?: string; body?: unknown } = {},
): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = o.token === undefined ? sim.token : o.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (o.body !== undefined) {
    headers['content-type'] = o.contentType ?? 'application/json';
    body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  }
  return send(path.startsWith('http') ? path : `${sim.baseUrl}${path}`, { method, headers, body });
}

const sim = simulators<SalesloftSimOptions, SalesloftSim>(startSalesloftSimulator);

const team = (s: SalesloftSim) => s.users().filter((u) => u.team_id === s.teamId);
const ALL = 'include_deactivated=true&per_page=100&include_paging_counts=true';

describe('seed', () => {
  it('is deterministic, seats a subset of the 300 sandbox people, and has another team in the same id space', () => {
    const a = buildSalesloftOrg();
    expect(buildSalesloftOrg()).toEqual(a);
    const mine = a.users.filter((u) => u.team_id === a.teamId);
    const others = a.users.filter((u) => u.team_id === a.otherTeamId);
    const people = new Map(generatePeople(300).map((p) => [p.key, p]));
    expect(mine.length).toBeGreaterThan(200);
    expect(mine.length).toBeLessThan(300);
    for (const u of mine) expect(people.get(u.personKey!)?.email).toBe(u.email);
    expect(others.length).toBeGreaterThanOrEqual(3);
    expect(others.every((u) => u.email.endsWith('@globex.example') && u.seedKind === 'other-team')).toBe(true);
    const ids = a.users.map((u) => u.id);
    expect(Math.min(...others.map((u) => u.id))).toBeLessThan(Math.max(...mine.map((u) => u.id)));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has deactivated users, admins, a leaver who is still an active admin, and pending invitations', () => {
    const org = buildSalesloftOrg();
    const mine = org.users.filter((u) => u.team_id === org.teamId);
    const people = new Map(generatePeople(300).map((p) => [p.key, p]));
    expect(mine.filter((u) => !u.active).length).toBeGreaterThan(5);
    const admins = mine.filter((u) => u.role_id === 'Admin');
    expect(admins.length).toBeGreaterThanOrEqual(3);
    expect(admins.some((u) => u.active && people.get(u.personKey!)?.employment === 'terminated')).toBe(true);
    expect(mine.some((u) => u.active && people.get(u.personKey!)?.employment === 'terminated' && u.role_id !== 'Admin')).toBe(true);
    expect(org.users.find((u) => u.id === org.meId)).toMatchObject({ role_id: 'Admin', active: true, team_id: org.teamId });
    expect(org.pending.length).toBeGreaterThanOrEqual(2);
    expect(org.groups.some((g) => g.parent_id !== null)).toBe(true);
  });

  it('serves microsecond timestamps with the New York offset, and has ties, one across position 100 of the updated_at order', () => {
    const org = buildSalesloftOrg();
    const mine = org.users.filter((u) => u.team_id === org.teamId).sort((a, b) => a.updated_us - b.updated_us || a.id - b.id);
    for (const u of mine) {
      expect(u.updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}-0[45]:00$/);
      expect(parseTimestampMicros(u.updated_at)).toBe(u.updated_us);
    }
    expect(new Set(mine.map((u) => u.updated_at.slice(-6))).size).toBe(2); // both EST and EDT occur
    expect(mine[99]!.updated_us).toBe(mine[100]!.updated_us);
    const counts = new Map<number, number>();
    for (const u of mine) counts.set(u.updated_us, (counts.get(u.updated_us) ?? 0) + 1);
    expect([...counts.values()].filter((n) => n > 1).length).toBeGreaterThanOrEqual(2);
  });

  it('honours userCount exactly (for the benchmarks)', () => {
    const org = buildSalesloftOrg(1234);
    expect(org.users.filter((u) => u.team_id === org.teamId)).toHaveLength(1234);
  });

  it('renders and parses times at microsecond precision', () => {
    const us = Date.parse('2026-07-04T12:00:00Z') * 1000 + 123_456;
    expect(renderMicros(us)).toBe('2026-07-04T08:00:00.123456-04:00');
    expect(parseTimestampMicros('2026-07-04T12:00:00.123456Z')).toBe(us);
    expect(parseTimestampMicros('2026-07-04')).toBe(Date.parse('2026-07-04T00:00:00Z') * 1000);
    expect(parseTimestampMicros('nope')).toBeUndefined();
  });
});

describe('GET /v2/users', () => {
  let s: SalesloftSim;
  beforeAll(async () => {
    s = await sim();
  });

  it('hides deactivated users unless include_deactivated=true (notes), and never shows the other team', async () => {
    const all = team(s);
    const active = all.filter((u) => u.active);
    const dflt = await call(s, 'GET', '/users?per_page=100&include_paging_counts=true');
    expect(dflt.body.metadata.paging.total_count).toBe(active.length);
    const withDeactivated = await call(s, 'GET', `/users?${ALL}`);
    expect(withDeactivated.body.metadata.paging.total_count).toBe(all.length);
    // visible_only is not this API's parameter in the notes' dialect: ignored.
    expect((await call(s, 'GET', '/users?visible_only=false&include_paging_counts=true')).body.metadata.paging.total_count).toBe(active.length);
    const onlyDeactivated = await call(s, 'GET', `/users?${ALL}&active=false`);
    expect(onlyDeactivated.body.data.every((u: any) => u.active === false)).toBe(true);
    expect(onlyDeactivated.body.metadata.paging.total_count).toBe(all.length - active.length);
    const ids = new Set<number>();
    for (let page = 1; page <= 3; page++) for (const u of (await call(s, 'GET', `/users?${ALL}&page=${page}`)).body.data) ids.add(u.id);
    expect(ids.size).toBe(all.length);
    expect([...ids].some((id) => s.users().find((u) => u.id === id)!.team_id !== s.teamId)).toBe(false);
  });

  it('in the spec\'s dialect, visible_only=false (default true) reveals deactivated users and include_deactivated is ignored', async () => {
    const spec = await sim({ deactivatedParam: 'visible_only' });
    const all = team(spec);
    expect((await call(spec, 'GET', '/users?include_deactivated=true&include_paging_counts=true')).body.metadata.paging.total_count).toBe(all.filter((u) => u.active).length);
    expect((await call(spec, 'GET', '/users?visible_only=false&include_paging_counts=true')).body.metadata.paging.total_count).toBe(all.length);
  });

  it('pages 25 by default, 100 at most (422 beyond), with paging metadata and counts on request', async () => {
    const dflt = await call(s, 'GET', '/users');
    expect(dflt.body.data).toHaveLength(25);
    expect(dflt.body.metadata.paging).toEqual({ per_page: 25, current_page: 1, next_page: 2, prev_page: null });
    const p2 = await call(s, 'GET', `/users?${ALL}&page=2`);
    expect(p2.body.metadata.paging).toMatchObject({ per_page: 100, current_page: 2, next_page: 3, prev_page: 1, total_pages: Math.ceil(team(s).length / 100), total_count: team(s).length });
    const tooBig = await call(s, 'GET', '/users?per_page=101');
    expect(tooBig.status).toBe(422);
    expect(tooBig.body.errors.per_page[0]).toMatch(/\[1, 100\]/);
    expect((await call(s, 'GET', '/users?page=0')).status).toBe(422);
  });

  it('sorts by updated_at ascending under either spelling, and refuses two that disagree', async () => {
    for (const q of ['sort=updated_at', 'sort_by=updated_at', 'sort=updated_at&sort_by=updated_at']) {
      const r = await call(s, 'GET', `/users?${ALL}&${q}&sort_direction=ASC`);
      const us = r.body.data.map((u: any) => parseTimestampMicros(u.updated_at)!);
      expect([...us].sort((a: number, b: number) => a - b), q).toEqual(us);
      expect(r.body.metadata.sorting).toEqual({ sort_by: 'updated_at', sort_direction: 'ASC' });
    }
    expect((await call(s, 'GET', '/users?sort=updated_at&sort_by=email')).status).toBe(422);
    expect((await call(s, 'GET', '/users?sort_by=shoe_size')).status).toBe(422);
    const byId = await call(s, 'GET', '/users?per_page=5');
    expect(byId.body.metadata.sorting).toEqual({ sort_by: 'id', sort_direction: 'DESC' });
  });

  it('sortParam makes the simulator honour only one spelling (the other is ignored like any unknown parameter)', async () => {
    const only = await sim({ sortParam: 'sort_by' });
    const r = await call(only, 'GET', `/users?${ALL}&sort=updated_at&sort_direction=ASC`);
    expect(r.body.metadata.sorting.sort_by).toBe('id');
  });

  it('filters updated_at[gt|gte|lt|lte] at microsecond precision, so a cursor walk meets the seeded tie', async () => {
    const sorted = team(s).sort((a, b) => a.updated_us - b.updated_us || a.id - b.id);
    const t = sorted[99]!; // tied with position 100
    const enc = encodeURIComponent(t.updated_at);
    const gt = await call(s, 'GET', `/users?${ALL}&sort=updated_at&sort_direction=ASC&updated_at[gt]=${enc}`);
    expect(gt.body.metadata.paging.total_count).toBe(sorted.filter((u) => u.updated_us > t.updated_us).length);
    const exact = await call(s, 'GET', `/users?${ALL}&updated_at[gte]=${enc}&updated_at[lte]=${enc}`);
    expect(exact.body.data.length).toBeGreaterThanOrEqual(2);
    // One microsecond earlier, written in UTC: the tie group is included by gt.
    const earlier = new Date(Math.floor((t.updated_us - 1) / 1000)).toISOString().slice(0, 19) + `.${String((t.updated_us - 1) % 1_000_000).padStart(6, '0')}Z`;
    const gtEarlier = await call(s, 'GET', `/users?${ALL}&updated_at[gt]=${encodeURIComponent(earlier)}&include_paging_counts=true`);
    expect(gtEarlier.body.metadata.paging.total_count).toBe(sorted.filter((u) => u.updated_us >= t.updated_us).length);
    expect((await call(s, 'GET', '/users?updated_at[gt]=last-tuesday')).status).toBe(422);
  });

  it('searches names and emails, and filters by ids, role and group', async () => {
    const u = team(s).find((x) => x.active)!;
    const r = await call(s, 'GET', `/users?search=${encodeURIComponent(u.email.toUpperCase())}`);
    expect(r.body.data.map((x: any) => x.id)).toContain(u.id);
    expect((await call(s, 'GET', `/users?ids=${u.id}`)).body.data.map((x: any) => x.id)).toEqual([u.id]);
    const admins = await call(s, 'GET', `/users?${ALL}&role_id=Admin`);
    expect(admins.body.metadata.paging.total_count).toBe(team(s).filter((x) => x.role_id === 'Admin').length);
    const noGroup = await call(s, 'GET', `/users?${ALL}&group_id=_is_null`);
    expect(noGroup.body.data.every((x: any) => x.group === null)).toBe(true);
  });

  it('serialises the notes\' fields and the spec\'s', async () => {
    const r = await call(s, 'GET', '/users?per_page=1');
    const u = r.body.data[0];
    expect(typeof u.id).toBe('number');
    expect(Object.keys(u)).toEqual(expect.arrayContaining(['id', 'guid', 'name', 'first_name', 'last_name', 'email', 'active', 'role', 'group', 'team', 'team_id', 'team_admin', 'created_at', 'updated_at']));
    expect(u.role).toMatchObject({ id: expect.any(String), name: expect.any(String) });
    expect(u.guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('answers the spec\'s .json paths the same', async () => {
    const a = await call(s, 'GET', '/users.json?per_page=3');
    const b = await call(s, 'GET', '/users?per_page=3');
    expect(a.body.data).toEqual(b.body.data);
  });
});

describe('single users and writes (team scope)', () => {
  let s: SalesloftSim;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock();
    s = await sim({ clock });
  });

  it('GET by id: own team (deactivated too) 200; another team 404, like a missing id', async () => {
    const mine = team(s).find((u) => !u.active)!;
    expect((await call(s, 'GET', `/users/${mine.id}`)).body.data).toMatchObject({ id: mine.id, active: false });
    const other = s.users().find((u) => u.team_id === s.otherTeamId)!;
    const r = await call(s, 'GET', `/users/${other.id}`);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 'Not Found' });
    expect((await call(s, 'GET', '/users/99999999')).status).toBe(404);
    expect((await call(s, 'PUT', `/users/${other.id}`, { body: { active: false } })).status).toBe(404);
    expect(s.users().find((u) => u.id === other.id)!.active).toBe(true);
  });

  it('PUT active=false (form, spec) deactivates and moves updated_at; repeating it changes nothing', async () => {
    const u = team(s).find((x) => x.active && x.id !== s.meId)!;
    clock.advance(1_000);
    const r = await call(s, 'PUT', `/users/${u.id}`, { body: 'active=false', contentType: 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(200);
    expect(r.body.data.active).toBe(false);
    const after = s.users().find((x) => x.id === u.id)!;
    expect(after.updated_us).toBeGreaterThanOrEqual(clock.now() * 1000);
    clock.advance(1_000);
    const again = await call(s, 'PATCH', `/users/${u.id}`, { body: { active: false } });
    expect(again.status).toBe(200);
    expect(s.users().find((x) => x.id === u.id)!.updated_us).toBe(after.updated_us);
  });

  it('validates writes and refuses to deactivate the token\'s own user', async () => {
    const u = team(s).find((x) => x.active && x.id !== s.meId)!;
    expect((await call(s, 'PUT', `/users/${u.id}`, { body: { active: 'maybe' } })).body).toEqual({ errors: { active: ['must be true or false'] } });
    expect((await call(s, 'PUT', `/users/${u.id}`, { body: { role_id: 'Wizard' } })).status).toBe(422);
    expect((await call(s, 'PUT', `/users/${u.id}`, { body: 'x', contentType: 'text/plain' })).status).toBe(415);
    const me = await call(s, 'PUT', `/users/${s.meId}`, { body: { active: false } });
    expect(me.status).toBe(422);
    expect(me.body.errors.active[0]).toMatch(/your own user/);
    expect((await call(s, 'DELETE', `/users/${u.id}`)).status).toBe(405);
    expect((await call(s, 'POST', '/users', { body: { email: 'x@acme.example' } })).status).toBe(405);
  });

  it('setUserActive changes a user as the UI would', async () => {
    const u = team(s).find((x) => x.active && x.id !== s.meId)!;
    s.setUserActive(u.id, false);
    expect((await call(s, 'GET', `/users/${u.id}`)).body.data.active).toBe(false);
  });
});

describe('other resources', () => {
  let s: SalesloftSim;
  beforeAll(async () => {
    s = await sim();
  });

  it('/me is the token owner, an admin', async () => {
    const r = await call(s, 'GET', '/me');
    expect(r.body.data).toMatchObject({ id: s.meId, team_id: s.teamId, team_admin: true, role: { id: 'Admin', name: 'Admin' } });
  });

  it('/team_members lists the active members with user, group and role', async () => {
    const r = await call(s, 'GET', '/team_members?per_page=100&include_paging_counts=true');
    expect(r.body.metadata.paging.total_count).toBe(team(s).filter((u) => u.active).length);
    expect(r.body.data[0]).toMatchObject({ id: expect.any(Number), user: { id: expect.any(Number), name: expect.any(String) }, role: { id: expect.any(String) } });
  });

  it('/groups are hierarchical; /roles has the built-ins, /custom_roles only custom ones', async () => {
    const groups = (await call(s, 'GET', '/groups?per_page=100')).body.data;
    const byId = new Map(groups.map((g: any) => [g.id, g]));
    const child = groups.find((g: any) => g.parent_id !== null && (byId.get(g.parent_id) as any)?.parent_id !== null);
    expect(child, 'a group two levels deep').toBeDefined();
    const roles = (await call(s, 'GET', '/roles')).body.data.map((r: any) => r.id);
    expect(roles.slice(0, 2)).toEqual(['Admin', 'User']);
    const custom = (await call(s, 'GET', '/custom_roles')).body.data.map((r: any) => r.id);
    expect(custom).toEqual(roles.slice(2));
  });

  it('/pending_email_accounts lists the invitations', async () => {
    const r = await call(s, 'GET', '/pending_email_accounts');
    expect(r.body.data.map((p: any) => p.email)).toEqual(s.pendingInvitations().map((p) => p.email));
    expect(r.body.data[0].created_at).toMatch(/\.\d{6}-0[45]:00$/);
  });

  it('401 without a valid token, uncharged', async () => {
    const before = s.costSpent();
    expect((await call(s, 'GET', '/me', { token: null })).status).toBe(401);
    expect((await call(s, 'GET', '/me', { token: 'nope' })).status).toBe(401);
    expect(s.costSpent()).toBe(before);
  });
});

describe('rate limit (team budget by cost)', () => {
  it('charges by page number and reports cost and remaining on every counted response, errors included', async () => {
    const clock = new ManualClock(Date.parse('2026-11-02T09:00:00Z'));
    const s = await sim({ clock });
    const costs: number[] = [];
    for (const page of [1, 100, 101, 150, 151, 250, 251, 500, 501]) {
      const r = await call(s, 'GET', `/team_members?page=${page}`);
      expect(r.status).toBe(200);
      costs.push(Number(r.headers['x-ratelimit-endpoint-cost']));
    }
    expect(costs).toEqual([1, 1, 3, 3, 8, 8, 10, 10, 30]);
    const spent = costs.reduce((a, b) => a + b, 0);
    expect(s.costSpent()).toBe(spent);
    const missing = await call(s, 'GET', '/users/1');
    expect(missing.status).toBe(404);
    expect(missing.headers['x-ratelimit-endpoint-cost']).toBe('1');
    expect(missing.headers['x-ratelimit-remaining-minute']).toBe(String(600 - spent - 1));
    expect(missing.headers['retry-after']).toBeUndefined();
    expect(s.requests.at(-1)).toMatchObject({ status: 404, cost: 1 });
  });

  it('429 without Retry-After when the team\'s minute is spent (other integrations count), uncharged; the next window refills', async () => {
    const clock = new ManualClock(Date.parse('2026-11-02T09:00:00Z'));
    const s = await sim({ clock, rateLimit: { cost: 10, windowMs: 60_000 } });
    s.consumeExternal(7);
    expect((await call(s, 'GET', '/me')).headers['x-ratelimit-remaining-minute']).toBe('2');
    const deep = await call(s, 'GET', '/team_members?page=101'); // costs 3, 2 left
    expect(deep.status).toBe(429);
    expect(deep.headers['retry-after']).toBeUndefined();
    expect(deep.headers['x-ratelimit-endpoint-cost']).toBe('3');
    expect(deep.headers['x-ratelimit-remaining-minute']).toBe('2');
    expect(deep.body).toEqual({ error: 'Rate limit exceeded' });
    expect(s.requests.at(-1)).toMatchObject({ status: 429, cost: 0 });
    expect((await call(s, 'GET', '/me')).status).toBe(200);
    expect((await call(s, 'GET', '/me')).status).toBe(200);
    expect((await call(s, 'GET', '/me')).status).toBe(429);
    expect(s.costSpent()).toBe(3);
    clock.advance(60_000);
    const fresh = await call(s, 'GET', '/me');
    expect(fresh.status).toBe(200);
    expect(fresh.headers['x-ratelimit-remaining-minute']).toBe('9');
    expect(s.rateState()).toMatchObject({ limit: 10, used: 1, remaining: 9, windowStart: Date.parse('2026-11-02T09:01:00Z') });
  });

  it('the window length scales (a 1-second "minute" for time-scaled benchmarks)', async () => {
    const clock = new ManualClock(Date.parse('2026-11-02T09:00:00Z'));
    const s = await sim({ clock, rateLimit: { cost: 2, windowMs: 1_000 } });
    expect((await call(s, 'GET', '/me')).status).toBe(200);
    expect((await call(s, 'GET', '/me')).status).toBe(200);
    expect((await call(s, 'GET', '/me')).status).toBe(429);
    clock.advance(1_000);
    expect((await call(s, 'GET', '/me')).status).toBe(200);
    s.setRateLimit(1, 500);
    expect((await call(s, 'GET', '/me')).status).toBe(200);
    expect((await call(s, 'GET', '/me')).status).toBe(429);
  });

  it('failNext injects uncharged faults, optionally by path, or drops the connection', async () => {
    const s = await sim();
    s.failNext(1, 503, { path: /\/v2\/me/ });
    expect((await call(s, 'GET', '/users?per_page=1')).status).toBe(200);
    const r = await call(s, 'GET', '/me');
    expect(r.status).toBe(503);
    expect(r.headers['x-ratelimit-endpoint-cost']).toBeUndefined();
    s.failNext(1, 0, { dropConnection: true });
    await expect(call(s, 'GET', '/me')).rejects.toThrow();
    expect(s.requests.at(-1)).toMatchObject({ status: 0, cost: 0 });
  });
});

describe('OAuth token endpoint', () => {
  it('rotates refresh tokens (each works once) and issues access tokens that work until they expire', async () => {
    const clock = new ManualClock();
    const s = await sim({ clock, tokenTtlMs: 60_000 });
    const rt = s.issueRefreshToken();
    const first = await token(s, { grant_type: 'refresh_token', refresh_token: rt });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_type: 'bearer', expires_in: 60, refresh_token: expect.any(String), access_token: expect.any(String) });
    expect(first.body.refresh_token).not.toBe(rt);
    expect((await token(s, { grant_type: 'refresh_token', refresh_token: rt })).body.error).toBe('invalid_grant');
    const second = await token(s, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, true);
    expect(second.status).toBe(200);
    expect((await call(s, 'GET', '/me', { token: second.body.access_token })).status).toBe(200);
    clock.advance(60_000);
    expect((await call(s, 'GET', '/me', { token: second.body.access_token })).status).toBe(401);
    expect((await token(s, { grant_type: 'client_credentials' })).body.error).toBe('unsupported_grant_type');
    const badClient = await request(s.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: s.issueRefreshToken(), client_id: s.clientId, client_secret: 'wrong' }).toString(),
    });
    expect(badClient.statusCode).toBe(401);
    await badClient.body.dump();
  });

  it('completes an authorization_code + PKCE (S256) round trip on /oauth/authorize; codes are single-use and expire', async () => {
    const clock = new ManualClock();
    const s = await sim({ clock });
    expect(s.authorizeUrl).toBe(`${s.origin}/oauth/authorize`);
    const redirectUri = 'http://127.0.0.1:9999/callback';
    const { verifier, challenge } = pkcePair();
    const authorize = () => authorizeCode(s, { redirectUri, challenge, scope: 'read' });

    const wrongCode = await authorize();
    const wrong = await token(s, { grant_type: 'authorization_code', code: wrongCode, redirect_uri: redirectUri, code_verifier: 'x'.repeat(43) });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');

    const code = await authorize();
    const ok = await token(s, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, true);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'bearer', scope: 'read', access_token: expect.any(String), refresh_token: expect.any(String) });
    expect((await call(s, 'GET', '/me', { token: ok.body.access_token })).status).toBe(200);
    // The scope asked for is the scope granted: this token reads but cannot write.
    const u = team(s).find((x) => x.active && x.id !== s.meId)!;
    expect((await call(s, 'PUT', `/users/${u.id}`, { token: ok.body.access_token, body: { active: false } })).status).toBe(403);
    expect((await token(s, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier })).body.error).toBe('invalid_grant');
    const refreshed = await token(s, { grant_type: 'refresh_token', refresh_token: ok.body.refresh_token });
    expect(refreshed.status).toBe(200);

    const late = await authorize();
    clock.advance(10 * 60 * 1000);
    const expired = await token(s, { grant_type: 'authorization_code', code: late, redirect_uri: redirectUri, code_verifier: verifier });
    expect(expired.status).toBe(400);
    expect(expired.body.error).toBe('invalid_grant');
  });

  it('refuses a plain PKCE challenge and an unknown client at /oauth/authorize', async () => {
    const s = await sim();
    const u = new URL(s.authorizeUrl);
    u.search = new URLSearchParams({ response_type: 'code', client_id: s.clientId, redirect_uri: 'http://127.0.0.1:9999/cb', code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }).toString();
    const plain = await request(u, { method: 'GET' });
    await plain.body.dump();
    expect(plain.statusCode).toBe(302);
    expect(new URL(String(plain.headers.location)).searchParams.get('error')).toBe('invalid_request');
    u.searchParams.set('client_id', 'someone-else');
    const stranger = await request(u, { method: 'GET' });
    expect(stranger.statusCode).toBe(400);
    expect(((await stranger.body.json()) as any).error).toBe('invalid_client');
  });

  it('a read-only OAuth token cannot write', async () => {
    const s = await sim();
    const u = team(s).find((x) => x.active && x.id !== s.meId)!;
    const ro = s.issueAccessToken(undefined, ['read']);
    expect((await call(s, 'GET', `/users/${u.id}`, { token: ro })).status).toBe(200);
    expect((await call(s, 'PUT', `/users/${u.id}`, { token: ro, body: { active: false } })).status).toBe(403);
  });
});
