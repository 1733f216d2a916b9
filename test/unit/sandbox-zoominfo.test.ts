import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { jwtTimes } from '../../src/auth/zoominfo-jwt.js';
import { TokenStore } from '../../src/auth/token-store.js';
import { ManualClock, type Clock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { generatePeople } from '../../src/sandbox/people.js';
import { buildZoomInfoData, startZoomInfoSimulator, type ZoomInfoSim, type ZoomInfoSimOptions } from '../../src/sandbox/zoominfo/index.js';
import { zoominfoConfig } from '../../src/vendors/zoominfo/config.js';
import { createZoomInfoClient } from '../../src/vendors/zoominfo/connect.js';
import { send, simulators, type Res } from '../support/sandbox-http.js';

async function call(sim: ZoomInfoSim, method: 'GET' | 'POST', path: string, o: { token?: string | null; body?: unknown } = {}): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.token !== null) headers.authorization = `Bearer ${o.token ?? sim.issueJwt()}`;
  let body: string | undefined;
  if (o.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.body);
  }
  return send(`${sim.baseUrl}${path}`, { method, headers, body });
}

const sim = simulators<ZoomInfoSimOptions, ZoomInfoSim>(startZoomInfoSimulator);

describe('ZoomInfo simulator: data', () => {
  it('is deterministic per seed, and Acme Corp\'s contacts are the shared generated people', () => {
    const a = buildZoomInfoData(7, 50);
    const b = buildZoomInfoData(7, 50);
    expect(a).toEqual(b);
    expect(buildZoomInfoData(8, 50).contacts[0]!.id).not.toBe(a.contacts[0]!.id);
    const acme = a.companies.find((c) => c.name === 'Acme Corp')!;
    const people = generatePeople(50, 7).filter((p) => p.employment === 'active');
    const acmeContacts = a.contacts.filter((c) => c.companyId === acme.id);
    expect(acmeContacts.map((c) => c.email)).toEqual(people.map((p) => p.email));
    expect(new Set(a.contacts.map((c) => c.id)).size).toBe(a.contacts.length);
    expect(a.companies.length).toBeGreaterThan(5);
  });
});

describe('ZoomInfo simulator: /authenticate and JWTs', () => {
  it('issues a three-part JWT with a 60-minute exp for the right credentials, and no refresh token', async () => {
    const s = await sim({ username: 'api@acme.example', password: 'pw 1' });
    const ok = await call(s, 'POST', '/authenticate', { token: null, body: { username: 'api@acme.example', password: 'pw 1' } });
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body)).toEqual(['jwt']);
    expect(ok.body.jwt.split('.')).toHaveLength(3);
    const t = jwtTimes(ok.body.jwt)!;
    expect(t.exp! - t.iat!).toBe(3600);
    const bad = await call(s, 'POST', '/authenticate', { token: null, body: { username: 'api@acme.example', password: 'nope' } });
    expect(bad.status).toBe(401);
    expect((await call(s, 'POST', '/authenticate', { token: null, body: { username: 'api@acme.example' } })).status).toBe(400);
    expect(s.logins()).toBe(1);
    // The password is never kept in the request log.
    expect(JSON.stringify(s.requests)).not.toContain('pw 1');
  });

  it('answers 401 without a token, for a bad signature, after 60 minutes on the injected clock, and after revocation', async () => {
    const clock = new ManualClock();
    const s = await sim({ clock });
    expect((await call(s, 'GET', '/lookup/usage', { token: null })).status).toBe(401);
    const token = s.issueJwt();
    const forged = `${token.split('.').slice(0, 2).join('.')}.AAAA`;
    expect((await call(s, 'GET', '/lookup/usage', { token: forged })).status).toBe(401);
    expect((await call(s, 'GET', '/lookup/usage', { token })).status).toBe(200);
    clock.advance(59 * 60_000);
    expect((await call(s, 'GET', '/lookup/usage', { token })).status).toBe(200);
    clock.advance(60_000);
    const expired = await call(s, 'GET', '/lookup/usage', { token });
    expect(expired.status).toBe(401);
    expect(expired.body.message).toMatch(/expired/);
    const fresh = s.issueJwt();
    s.revokeAllTokens();
    expect((await call(s, 'GET', '/lookup/usage', { token: fresh })).status).toBe(401);
  });
});

describe('ZoomInfo simulator: search, enrich, lookup, credits', () => {
  it('search: rpp up to 100, 1-based pages, maxResults; records nest the company', async () => {
    const s = await sim();
    const r1 = await call(s, 'POST', '/search/contact', { body: { companyName: 'Acme Corp', rpp: 100, page: 1, outputFields: ['firstName', 'companyName'] } });
    expect(r1.status).toBe(200);
    expect(r1.body.data).toHaveLength(100);
    expect(r1.body.maxResults).toBeGreaterThan(200);
    expect(r1.body.currentPage).toBe(1);
    expect(r1.body.data[0]).toEqual({ id: expect.any(Number), firstName: expect.any(String), company: { name: 'Acme Corp' } });
    const r2 = await call(s, 'POST', '/search/contact', { body: { companyName: 'Acme Corp', rpp: 100, page: 2, outputFields: ['firstName'] } });
    expect(r2.body.data[0].id).not.toBe(r1.body.data[0].id);
    expect((await call(s, 'POST', '/search/contact', { body: { companyName: 'Acme', rpp: 101 } })).status).toBe(400);
    expect((await call(s, 'POST', '/search/contact', { body: { companyName: 'Acme', page: 0 } })).status).toBe(400);
    const unknown = await call(s, 'POST', '/search/contact', { body: { companyNam: 'Acme' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.invalidFields).toEqual(['companyNam']);
    const titles = await call(s, 'POST', '/search/contact', { body: { jobTitle: 'Chief Revenue Officer OR VP of Sales', rpp: 100 } });
    expect(titles.body.data.every((c: any) => /Chief Revenue Officer|VP of Sales/.test(c.jobTitle))).toBe(true);
  });

  it('Watch out for: each result consumes credits, re-fetches included; outputFields limits fields; no outputFields returns everything', async () => {
    const s = await sim({ pricing: { perContactReveal: 1 } });
    const limited = await call(s, 'POST', '/search/contact', { body: { companyName: 'Globex', rpp: 5, outputFields: ['firstName', 'jobTitle'] } });
    expect(Object.keys(limited.body.data[0]).sort()).toEqual(['firstName', 'id', 'jobTitle']);
    expect(s.creditsUsed()).toBe(5);
    await call(s, 'POST', '/search/contact', { body: { companyName: 'Globex', rpp: 5, outputFields: ['firstName', 'jobTitle'] } });
    expect(s.creditsUsed()).toBe(10);
    const all = await call(s, 'POST', '/search/contact', { body: { companyName: 'Globex', rpp: 5 } });
    expect(all.body.data[0].email).toMatch(/@globex\.example$/);
    // All fields include contact data: 1 + 1 reveal per record.
    expect(s.creditsUsed()).toBe(20);
    expect(s.requests.at(-1)).toMatchObject({ path: '/search/contact', status: 200, credits: 10 });
    const invalid = await call(s, 'POST', '/search/contact', { body: { companyName: 'Globex', outputFields: ['zi_c_id'] } });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ message: 'There are invalid fields in your request.', invalidOutputFields: ['zi_c_id'] });
    const companies = await call(s, 'POST', '/search/company', { body: { companyName: 'Acme', rpp: 10 } });
    expect(companies.body.data.map((c: any) => c.name).sort()).toEqual(['Acme Corp', 'Acme Holdings']);
    // Watch out for (Search companies): credits per result row returned.
    expect(s.creditsUsed()).toBe(22);
  });

  it('enrich contact: matchStatus per input; low-confidence and company-only records are charged too', async () => {
    const s = await sim();
    const acme = s.companies().find((c) => c.name === 'Acme Corp')!;
    const globex = s.companies().find((c) => c.name === 'Globex Corporation')!;
    const jane = s.contacts().find((c) => c.companyId === acme.id)!;
    const r = await call(s, 'POST', '/enrich/contact', {
      body: {
        matchPersonInput: [
          { emailAddress: jane.email.toUpperCase() },
          { firstName: jane.firstName, lastName: jane.lastName, companyName: 'Globex Corporation' },
          { emailAddress: 'nobody.here@globex.example' },
          { emailAddress: 'x@nowhere.example' },
          { firstName: 'Only' },
          { personId: jane.id },
        ],
        outputFields: ['firstName', 'lastName', 'companyName'],
      },
    });
    expect(r.status).toBe(200);
    const res = r.body.data.result;
    expect(res.map((x: any) => x.matchStatus)).toEqual(['FULL_MATCH', 'CONTACT_ONLY_MATCH', 'COMPANY_ONLY_MATCH', 'NO_MATCH', 'INVALID_INPUT', 'FULL_MATCH']);
    expect(res[0].data[0]).toEqual({ id: jane.id, firstName: jane.firstName, lastName: jane.lastName, companyName: 'Acme Corp' });
    expect(res[1].data[0].companyName).not.toBe(globex.name);
    expect(res[2].data[0]).toEqual({ companyName: 'Globex Corporation' });
    expect(s.creditsUsed()).toBe(4);
    const tooMany = await call(s, 'POST', '/enrich/contact', { body: { matchPersonInput: Array.from({ length: 26 }, () => ({ personId: jane.id })) } });
    expect(tooMany.status).toBe(400);
  });

  it('enrich company: website matches exactly, a name alone matches loosely, and the notes\' `website` key is refused', async () => {
    const s = await sim();
    const r = await call(s, 'POST', '/enrich/company', {
      body: { matchCompanyInput: [{ companyName: 'Acme Corp', companyWebsite: 'https://www.acme.example/' }, { companyName: 'Acme' }, { companyName: 'No Such Co' }] },
    });
    expect(r.body.data.result.map((x: any) => [x.matchStatus, x.data[0]?.name])).toEqual([
      ['FULL_MATCH', 'Acme Corp'],
      ['FULL_MATCH', 'Acme Holdings'],
      ['NO_MATCH', undefined],
    ]);
    const notes = await call(s, 'POST', '/enrich/company', { body: { matchCompanyInput: [{ companyName: 'Acme Corp', website: 'acme.example' }] } });
    expect(notes.status).toBe(400);
    expect(notes.body.message).toMatch(/website/);
  });

  it('lookup by id is charged every time; unknown ids 404', async () => {
    const s = await sim();
    const c = s.contacts()[3]!;
    const a = await call(s, 'GET', `/lookup/contact/${c.id}`);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ id: c.id, firstName: c.firstName, email: c.email });
    await call(s, 'GET', `/lookup/contact/${c.id}`);
    expect(s.creditsUsed()).toBe(2);
    expect((await call(s, 'GET', '/lookup/contact/1')).status).toBe(404);
    expect((await call(s, 'GET', '/lookup/contact/abc')).status).toBe(400);
    expect(s.creditsUsed()).toBe(2);
  });

  it('usage: collection shape at /lookup/usage, notes shape at /usage; disableRoute makes a path 404', async () => {
    const s = await sim({ credits: 500 });
    await call(s, 'POST', '/search/company', { body: { companyName: 'Acme', rpp: 10 } });
    const col = await call(s, 'GET', '/lookup/usage');
    const record = col.body.usage.find((u: any) => u.limitType === 'recordLimit');
    expect(record).toMatchObject({ limit: 500, currentUsage: 2, usageRemaining: 498 });
    expect((await call(s, 'GET', '/usage')).body).toEqual({ creditsUsed: 2, creditsAvailable: 498 });
    expect(s.creditsUsed()).toBe(2);
    s.disableRoute('/lookup/usage');
    expect((await call(s, 'GET', '/lookup/usage')).status).toBe(404);
    s.enableRoute('/lookup/usage');
    expect((await call(s, 'GET', '/lookup/usage')).status).toBe(200);
  });

  it('credits run out: search and lookup answer 403, enrich reports LIMIT_EXCEEDED', async () => {
    const s = await sim({ credits: 3 });
    expect((await call(s, 'POST', '/search/contact', { body: { companyName: 'Acme Corp', rpp: 5, outputFields: ['firstName'] } })).status).toBe(403);
    expect(s.creditsUsed()).toBe(0);
    const c = s.contacts()[0]!;
    const e = await call(s, 'POST', '/enrich/contact', { body: { matchPersonInput: [{ personId: c.id }, { personId: c.id }, { personId: c.id }, { personId: c.id }] } });
    expect(e.body.data.result.map((x: any) => x.matchStatus)).toEqual(['FULL_MATCH', 'FULL_MATCH', 'FULL_MATCH', 'LIMIT_EXCEEDED']);
    expect(s.creditsRemaining()).toBe(0);
    expect((await call(s, 'GET', `/lookup/contact/${c.id}`)).status).toBe(403);
  });

  it('Rate limits: over the limit the answer is 429 with no rate-limit headers and no Retry-After', async () => {
    const clock = new ManualClock();
    const s = await sim({ clock, rateLimit: { limit: 2, windowMs: 60_000 } });
    const token = s.issueJwt();
    expect((await call(s, 'GET', '/usage', { token })).status).toBe(200);
    expect((await call(s, 'GET', '/usage', { token })).status).toBe(200);
    const limited = await call(s, 'GET', '/usage', { token });
    expect(limited.status).toBe(429);
    expect(Object.keys(limited.headers).filter((h) => /ratelimit|retry-after/i.test(h))).toEqual([]);
    clock.advance(60_000);
    expect((await call(s, 'GET', '/usage', { token })).status).toBe(200);
  });

  it('failNext injects a status or a dropped connection', async () => {
    const s = await sim();
    s.failNext(1, 503, { path: /^\/usage/ });
    expect((await call(s, 'GET', '/lookup/usage')).status).toBe(200);
    expect((await call(s, 'GET', '/usage')).status).toBe(503);
    s.failNext(1, 0, { dropConnection: true });
    await expect(call(s, 'GET', '/usage')).rejects.toThrow();
    expect(s.requests.at(-1)?.status).toBe(0);
  });
});

describe('ZoomInfo client against the simulator', () => {
  async function wire(s: ZoomInfoSim, clock: Clock) {
    const cfg = zoominfoConfig({ ZOOMINFO_BASE_URL: s.baseUrl, ZOOMINFO_USERNAME: s.username, ZOOMINFO_PASSWORD: s.password, ZOOMINFO_RATE_LIMIT_PER_MINUTE: '1000' });
    return (await createZoomInfoClient(cfg, { tokens: new TokenStore(tmpdir()), clock, log: silentLogger, retryBaseDelayMs: 1 }))!;
  }

  it('a multi-page search spanning the token expiry re-authenticates exactly once (expiry seen by the client)', async () => {
    const clock = new ManualClock();
    const s = await sim({ clock });
    const client = await wire(s, clock);
    try {
      let advanced = false;
      const untap = s.tap((e) => {
        if (!advanced && e.path === '/search/contact' && e.status === 200) {
          advanced = true;
          clock.advance(61 * 60_000);
        }
      });
      const run = await client.searchPages('contact', { companyName: 'Acme Corp' }, { rpp: 50, firstPage: 1, pages: 4, outputFields: ['firstName', 'lastName'] });
      untap();
      expect(run.pagesFetched).toBe(4);
      expect(run.records).toHaveLength(200);
      expect(new Set(run.records.map((r) => r.id)).size).toBe(200);
      expect(s.logins()).toBe(2);
      expect(s.requests.filter((r) => r.status === 401)).toHaveLength(0);
    } finally {
      await client.core.close();
    }
  });

  it('a multi-page search spanning the token expiry re-authenticates exactly once (expiry seen only by ZoomInfo: 401)', async () => {
    const serverClock = new ManualClock();
    const simClock = new ManualClock();
    const s = await sim({ clock: simClock });
    const client = await wire(s, serverClock);
    try {
      let advanced = false;
      const untap = s.tap((e) => {
        if (!advanced && e.path === '/search/contact' && e.status === 200) {
          advanced = true;
          simClock.advance(61 * 60_000);
        }
      });
      const run = await client.searchPages('contact', { companyName: 'Acme Corp' }, { rpp: 50, firstPage: 1, pages: 3, outputFields: ['firstName'] });
      untap();
      expect(run.records).toHaveLength(150);
      expect(s.logins()).toBe(2);
      expect(s.requests.filter((r) => r.status === 401)).toHaveLength(1);
      // The page that got the 401 was not charged; the repeat was.
      expect(s.creditsUsed()).toBe(150);
    } finally {
      await client.core.close();
    }
  });

  it('concurrent calls at start-up share one login', async () => {
    const clock = new ManualClock();
    const s = await sim({ clock });
    const client = await wire(s, clock);
    try {
      await Promise.all(Array.from({ length: 6 }, () => client.usage()));
      expect(s.logins()).toBe(1);
    } finally {
      await client.core.close();
    }
  });

  it('a 429 without headers from ZoomInfo is retried and halves the client\'s rate', async () => {
    const s = await sim();
    const client = await wire(s, { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))) });
    try {
      await client.usage();
      s.failNext(1, 429, { path: /^\/search\/company/ });
      const page = await client.searchPage('company', { companyName: 'Initech' }, { rpp: 10, page: 1 });
      expect(page.records).toHaveLength(1);
      expect(client.rateLimitPerMinute).toBe(500);
    } finally {
      await client.core.close();
    }
  });

  it('usage falls back to the notes\' /usage when the collection\'s /lookup/usage is missing', async () => {
    const clock = new ManualClock();
    const s = await sim({ clock });
    s.disableRoute('/lookup/usage');
    const client = await wire(s, clock);
    try {
      expect(await client.usage()).toMatchObject({ path: '/usage', credits_used: 0, basis: 'creditsUsed/creditsAvailable' });
    } finally {
      await client.core.close();
    }
  });
});
