import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { buildApolloTeam, startApolloSimulator, type ApolloSim, type ApolloSimOptions } from '../../src/sandbox/apollo/index.js';
import { generatePeople } from '../../src/sandbox/people.js';
import { send, simulators, type Res } from '../support/sandbox-http.js';

async function call(
  sim: ApolloSim,
  method: 'GET' | 'POST',
  path: string,
  o: { key?: string | null; bearer?: string; body?: unknown; form?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const key = o.key === undefined ? sim.masterKey : o.key;
  if (key !== null && !o.bearer) headers['x-api-key'] = key;
  if (o.bearer) headers.authorization = `Bearer ${o.bearer}`;
  let body: string | undefined;
  if (o.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(o.form).toString();
  } else if (o.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.body);
  }
  return send(`${sim.baseUrl}${path}`, { method, headers, body }, { textBody: true });
}

const sim = simulators<ApolloSimOptions, ApolloSim>(startApolloSimulator);

describe('Apollo team seed', () => {
  it('seats a deterministic subset of the shared people, with exactly one admin and some deactivated teammates', () => {
    const team = buildApolloTeam();
    const again = buildApolloTeam();
    expect(again.teammates.map((t) => t.id)).toEqual(team.teammates.map((t) => t.id));
    const people = new Map(generatePeople(300).map((p) => [p.key, p]));
    expect(team.teammates.length).toBeGreaterThan(150);
    expect(team.teammates.length).toBeLessThan(300);
    for (const t of team.teammates) expect(people.get(t.personKey!)?.email).toBe(t.email);
    const admins = team.teammates.filter((t) => t.role === 'Admin');
    expect(admins).toHaveLength(1);
    expect(admins[0].deleted).toBe(false);
    const deactivated = team.teammates.filter((t) => t.deleted);
    expect(deactivated.length).toBeGreaterThan(0);
    // Deactivated seats belong to people who left; some leavers still hold an active seat.
    for (const t of deactivated) expect(people.get(t.personKey!)?.employment).toBe('terminated');
    expect(team.teammates.some((t) => !t.deleted && people.get(t.personKey!)?.employment === 'terminated')).toBe(true);
    expect(team.teammates.some((t) => t.name === '' && t.first_name === null)).toBe(true);
    expect(buildApolloTeam(1).teammates.filter((t) => t.role === 'Admin')).toHaveLength(1);
  });
});

describe('Apollo simulator', () => {
  it('lists teammates with a master key: per_page capped at 100, pagination numbers as strings; GET /users too', async () => {
    const s = await sim();
    const r = await call(s, 'GET', '/users/search?page=1&per_page=500');
    expect(r.status).toBe(200);
    expect(r.body.users).toHaveLength(100);
    expect(r.body.pagination).toEqual({ page: '1', per_page: '100', total_entries: s.users().length, total_pages: Math.ceil(s.users().length / 100) });
    expect(r.body.users[0]).toHaveProperty('deleted');
    expect(r.body.users[0]).toHaveProperty('permission_set_id');
    expect(r.body.users[0]).not.toHaveProperty('personKey');
    const legacy = await call(s, 'GET', '/users?page=2&per_page=100');
    expect(legacy.body.users[0].id).toBe(s.users()[100].id);
  });

  it('a scoped key gets 403 API_INACCESSIBLE on teammates and usage stats but may search', async () => {
    const s = await sim();
    for (const [m, p] of [['GET', '/users/search'], ['POST', '/usage_stats/api_usage_stats'], ['POST', '/usage_stats/credit_usage_stats']] as const) {
      const r = await call(s, m, p, { key: s.scopedKey });
      expect(r.status).toBe(403);
      expect(r.body.error_code).toBe('API_INACCESSIBLE');
      expect(r.body.error).toMatch(/not authorized to access api\/v1\//);
    }
    expect((await call(s, 'POST', '/mixed_people/api_search', { key: s.scopedKey, body: { per_page: 1 } })).status).toBe(200);
    expect((await call(s, 'GET', '/users/search', { key: 'wrong-key' })).status).toBe(401);
  });

  it('refuses an API key in the query or body, and logs it', async () => {
    const s = await sim();
    const q = await call(s, 'GET', `/users/search?api_key=${s.masterKey}`, { key: null });
    expect(q.status).toBe(401);
    expect(q.body).toMatch(/only in the X-Api-Key header/);
    const b = await call(s, 'POST', '/contacts/search', { key: null, body: { api_key: s.masterKey } });
    expect(b.status).toBe(401);
    expect(s.requests.filter((r) => r.keyInQueryOrBody)).toHaveLength(2);
  });

  it('auth/health takes only a bearer token; api_profile takes keys and tokens', async () => {
    const s = await sim();
    expect((await call(s, 'GET', '/auth/health')).status).toBe(401);
    const h = await call(s, 'GET', '/auth/health', { bearer: s.oauthAccessToken });
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ is_logged_in: true, user: { email: s.users().find((u) => u.role === 'Admin')!.email } });
    const p = await call(s, 'GET', '/users/api_profile', { key: s.scopedKey });
    expect(p.body.email).toBe(s.users().find((u) => u.role === 'User' && !u.deleted)!.email);
    expect(p.body).not.toHaveProperty('num_lead_credits_used');
    const withCredits = await call(s, 'GET', '/users/api_profile?include_credit_usage=true');
    expect(withCredits.body).toMatchObject({ num_lead_credits_used: 0, effective_num_lead_credits: 10_000 });
  });

  it('counts fixed windows per endpoint with the nine headers, and answers 429 without Retry-After until the window ends', async () => {
    const clock = new ManualClock(Date.parse('2026-11-02T09:00:10Z'));
    const s = await sim({ clock, limits: { minute: 3, hour: 5, day: 100 } });
    for (let i = 1; i <= 3; i++) {
      const r = await call(s, 'GET', '/users/search?per_page=1');
      expect(r.status).toBe(200);
      expect(r.headers).toMatchObject({
        'x-rate-limit-minute': '3',
        'x-minute-usage': String(i),
        'x-minute-requests-left': String(3 - i),
        'x-rate-limit-hourly': '5',
        'x-hourly-usage': String(i),
        'x-hourly-requests-left': String(5 - i),
        'x-rate-limit-daily': '100',
        'x-daily-usage': String(i),
        'x-daily-requests-left': String(100 - i),
      });
    }
    const limited = await call(s, 'GET', '/users/search?per_page=1');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeUndefined();
    expect(limited.headers['x-minute-requests-left']).toBe('0');
    expect(limited.body.message).toMatch(/api\/v1\/users\/search is 3 times per minute/);
    // Another endpoint has its own windows.
    expect((await call(s, 'POST', '/contacts/search', { body: {} })).status).toBe(200);
    clock.advance(49_999);
    expect((await call(s, 'GET', '/users/search?per_page=1')).status).toBe(429);
    clock.advance(1); // 09:01:00
    expect((await call(s, 'GET', '/users/search?per_page=1')).status).toBe(200);
    expect((await call(s, 'GET', '/users/search?per_page=1')).status).toBe(200);
    // The hour (5) is now used up: the next minute does not help.
    clock.advance(60_000);
    const hour = await call(s, 'GET', '/users/search?per_page=1');
    expect(hour.status).toBe(429);
    expect(hour.body.message).toMatch(/5 times per hour/);
    expect(hour.headers['x-hourly-requests-left']).toBe('0');
  });

  it('scales every window with windowScale, and gives bulk enrichment a tenth', async () => {
    const clock = new ManualClock(Date.parse('2026-11-02T09:00:00Z'));
    const s = await sim({ clock, limits: { minute: 2, windowScale: 0.01 } });
    expect(s.limitsOf('api/v1/people/bulk_match')).toEqual({ minute: 1, hour: 60, day: 600 });
    expect(s.limitsOf('api/v1/people/match')).toEqual({ minute: 2, hour: 600, day: 6000 });
    await call(s, 'GET', '/users/search');
    await call(s, 'GET', '/users/search');
    expect((await call(s, 'GET', '/users/search')).status).toBe(429);
    clock.advance(600); // the scaled minute
    expect((await call(s, 'GET', '/users/search')).status).toBe(200);
  });

  it('View API Usage Stats reports the real counts per endpoint, keyed like Apollo, for a master key', async () => {
    // A fixed clock: on the system clock a minute boundary between the calls would reset the minute count.
    const s = await sim({ clock: new ManualClock(Date.parse('2026-11-02T09:00:10Z')) });
    await call(s, 'GET', '/users/search');
    await call(s, 'GET', '/users/search');
    await call(s, 'POST', '/contacts/search', { body: {} });
    const r = await call(s, 'POST', '/usage_stats/api_usage_stats');
    expect(r.body['["api/v1/users", "search"]']).toEqual({
      day: { limit: 6000, consumed: 2, left_over: 5998 },
      hour: { limit: 600, consumed: 2, left_over: 598 },
      minute: { limit: 200, consumed: 2, left_over: 198 },
    });
    expect(r.body['["api/v1/contacts", "search"]'].minute.consumed).toBe(1);
    expect(r.body['["api/v1/people", "bulk_match"]'].minute.limit).toBe(20);
    // The stats call itself is counted once it is answered.
    expect(s.usage('api/v1/usage_stats/api_usage_stats').minute).toBe(1);
  });

  it('People API Search: no emails or phones, per_page capped, nothing past page 500, filters from body or query', async () => {
    const s = await sim();
    const r = await call(s, 'POST', '/mixed_people/api_search', { body: { page: 1, per_page: 250 } });
    expect(r.body.total_entries).toBe(60_000);
    expect(r.body.people).toHaveLength(100);
    for (const p of r.body.people) {
      expect(p).not.toHaveProperty('email');
      expect(p).not.toHaveProperty('phone_numbers');
      expect(p.last_name_obfuscated).toMatch(/\*\*\*/);
    }
    expect((await call(s, 'POST', '/mixed_people/api_search', { body: { page: 500, per_page: 100 } })).body.people).toHaveLength(100);
    const past = await call(s, 'POST', '/mixed_people/api_search', { body: { page: 501, per_page: 100 } });
    expect(past.body).toMatchObject({ total_entries: 60_000, people: [] });
    const byBody = await call(s, 'POST', '/mixed_people/api_search', { body: { person_titles: ['vp of sales'], person_locations: ['texas'], per_page: 5 } });
    const byQuery = await call(s, 'POST', '/mixed_people/api_search?person_titles[]=vp%20of%20sales&person_locations[]=texas&per_page=5');
    expect(byBody.body.total_entries).toBeGreaterThan(0);
    expect(byBody.body.total_entries).toBeLessThan(2_000);
    expect(byQuery.body).toEqual(byBody.body);
    expect(s.creditsSpent()).toBe(0);
  });

  it('enrichment charges credits: 1 per match, +1 for a revealed personal email, 0 for no match; phone needs a webhook', async () => {
    const s = await sim();
    const withPersonal = Array.from({ length: 50 }, (_, i) => s.prospect(i)).find((p) => p.personal_email)!;
    const m = await call(s, 'POST', '/people/match', { body: { id: withPersonal.id } });
    expect(m.body.person).toMatchObject({ id: withPersonal.id, email: withPersonal.email, personal_emails: [] });
    expect(s.creditsSpent()).toBe(1);
    const p = await call(s, 'POST', '/people/match', { body: { email: withPersonal.email, reveal_personal_emails: true } });
    expect(p.body.person.personal_emails).toEqual([withPersonal.personal_email]);
    expect(s.creditsSpent()).toBe(3);
    expect((await call(s, 'POST', '/people/match', { body: { email: 'nobody@nowhere.example' } })).body.person).toBeNull();
    expect(s.creditsSpent()).toBe(3);
    const phone = await call(s, 'POST', '/people/match', { body: { id: withPersonal.id, reveal_phone_number: true } });
    expect(phone.status).toBe(400);
    expect(phone.body.error).toMatch(/webhook_url/);
    const bulk = await call(s, 'POST', '/people/bulk_match', { body: { details: [{ id: s.prospect(1).id }, { email: 'nobody@nowhere.example' }] } });
    expect(bulk.body).toMatchObject({ credits_consumed: 1, missing_records: 1, total_requested_enrichments: 2 });
    expect(s.creditsSpent()).toBe(4);
    expect((await call(s, 'POST', '/people/bulk_match', { body: { details: Array.from({ length: 11 }, () => ({ email: 'x@y.example' })) } })).status).toBe(422);
    const stats = await call(s, 'POST', '/usage_stats/credit_usage_stats');
    expect(stats.body.credit_usage_stats.lead_credit).toEqual({ limit: 10_000, consumed: 1_254, left_over: 8_746 });
    expect(stats.body.current_credit_cycle.start_date).toMatch(/-01T00:00:00.000Z$/);
    expect((await call(s, 'GET', '/users/api_profile?include_credit_usage=true')).body.num_lead_credits_used).toBe(4);
    expect(s.requests.filter((r) => r.credits > 0).map((r) => r.credits)).toEqual([1, 2, 1]);
  });

  it('contacts: search is limited to saved contacts; create never dedupes unless run_dedupe, which overwrites in place', async () => {
    const s = await sim();
    const all = await call(s, 'POST', '/contacts/search', { body: { per_page: 100 } });
    expect(all.body.pagination.total_entries).toBe(240);
    const target = s.contacts()[3];
    const found = await call(s, 'POST', '/contacts/search', { body: { q_keywords: target.email } });
    expect(found.body.contacts.map((c: any) => c.id)).toContain(target.id);
    const created = await call(s, 'POST', '/contacts', { body: { first_name: 'Jane', last_name: 'Doe', email: target.email } });
    expect(created.status).toBe(200);
    expect(created.body.contact.id).not.toBe(target.id);
    expect(s.contacts().filter((c) => c.email === target.email)).toHaveLength(2);
    const deduped = await call(s, 'POST', '/contacts', { body: { email: target.email, title: 'Overwritten', run_dedupe: true } });
    expect(deduped.body.dedupe_result).toMatchObject({ found_existing: true });
    expect(s.contacts().find((c) => c.id === deduped.body.contact.id)!.title).toBe('Overwritten');
    expect((await call(s, 'POST', '/contacts', { body: { title: 'nobody' } })).status).toBe(422);
  });

  it('OAuth: a refresh token works once and yields a new pair; expired tokens get 401', async () => {
    const clock = new ManualClock();
    const s = await sim({ clock });
    const rt = s.issueRefreshToken();
    const form = { grant_type: 'refresh_token', refresh_token: rt, client_id: s.clientId, client_secret: s.clientSecret };
    const r = await call(s, 'POST', '/oauth/token', { key: null, form });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 2_592_000 });
    expect(r.body.refresh_token).not.toBe(rt);
    expect((await call(s, 'POST', '/oauth/token', { key: null, form })).body.error).toBe('invalid_grant');
    expect((await call(s, 'GET', '/auth/health', { bearer: r.body.access_token })).status).toBe(200);
    clock.advance(30 * 86_400_000);
    expect((await call(s, 'GET', '/auth/health', { bearer: r.body.access_token })).status).toBe(401);
  });

  it('failNext injects a fault without usage headers that is not counted', async () => {
    const s = await sim();
    s.failNext(1, 429, { path: /users\/search/ });
    const r = await call(s, 'GET', '/users/search');
    expect(r.status).toBe(429);
    expect(r.headers['x-minute-usage']).toBeUndefined();
    expect(s.usage('api/v1/users/search').minute).toBe(0);
    expect((await call(s, 'GET', '/users/search')).status).toBe(200);
  });
});
