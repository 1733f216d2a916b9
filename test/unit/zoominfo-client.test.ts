import { tmpdir } from 'node:os';
import type { MockAgent, MockPool } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/auth/token-store.js';
import { ManualClock, systemClock, type Clock } from '../../src/clock.js';

/** Time moves only when someone waits, and at once: limiter waits and backoffs cost no real time. */
class FastClock implements Clock {
  private t = Date.now();
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += Math.max(0, ms);
  }
}
import { ConfigError } from '../../src/env.js';
import { ToolInputError, VendorError } from '../../src/errors.js';
import { RateLimiter } from '../../src/http/limiter.js';
import { silentLogger } from '../../src/log.js';
import {
  AdaptiveRate,
  estimateRecordCredits,
  maxCreditsPerRecord,
  toUsageReport,
  type ZoomInfoClient,
} from '../../src/vendors/zoominfo/client.js';
import { zoominfoConfig } from '../../src/vendors/zoominfo/config.js';
import { createZoomInfoClient } from '../../src/vendors/zoominfo/connect.js';
import { companyVerdict, contactVerdict, toZoomInfoCompany, toZoomInfoContact } from '../../src/vendors/zoominfo/map.js';
import { UsageResponse } from '../../src/vendors/zoominfo/wire.js';
import { offlineAgent } from '../support/mock-http.js';

const ORIGIN = 'https://api.zoominfo.test';
const JSON_HEADERS = { headers: { 'content-type': 'application/json;charset=utf-8' } };
const PASSWORD = 'pw with spaces 123';

function jwt(n: number): string {
  const iat = Math.floor(Date.now() / 1000);
  return `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iat, exp: iat + 3600, n })).toString('base64url')}.s${n}`;
}

function contact(id: number, extra: Record<string, unknown> = {}) {
  return { id, firstName: 'Jane', lastName: `Doe${id}`, jobTitle: 'VP of Sales', company: { id: 77, name: 'Acme Corp' }, ...extra };
}

describe('ZoomInfoClient (MockAgent)', () => {
  let agent: MockAgent;
  let pool: MockPool;
  let client: ZoomInfoClient;
  let logins: number;

  async function build(env: Record<string, string> = {}, clock: Clock = systemClock) {
    const cfg = zoominfoConfig({
      ZOOMINFO_BASE_URL: ORIGIN,
      // A distinct username per test keeps limiter keys (vendor + identity) independent.
      ZOOMINFO_USERNAME: `api-${Math.random().toString(36).slice(2)}@acme.example`,
      ZOOMINFO_PASSWORD: PASSWORD,
      ...env,
    });
    const c = await createZoomInfoClient(cfg, { tokens: new TokenStore(tmpdir()), clock, log: silentLogger, dispatcher: agent, retryBaseDelayMs: 1 });
    return c!;
  }

  beforeEach(async () => {
    agent = offlineAgent();
    pool = agent.get(ORIGIN);
    logins = 0;
    pool
      .intercept({ path: '/authenticate', method: 'POST' })
      .reply((o) => {
        const body = JSON.parse(String(o.body));
        if (body.password !== PASSWORD) return { statusCode: 401, data: JSON.stringify({ responseCode: 401, message: 'Invalid username or password' }), responseOptions: JSON_HEADERS };
        logins++;
        return { statusCode: 200, data: JSON.stringify({ jwt: jwt(logins) }), responseOptions: JSON_HEADERS };
      })
      .persist();
    client = await build();
  });
  afterEach(async () => {
    await client.core.close();
    await agent.close();
  });

  it('authenticates once with a JSON body and sends the JWT as a Bearer token on search', async () => {
    let auth: string | undefined;
    let body: any;
    pool
      .intercept({ path: '/search/contact', method: 'POST' })
      .reply((o) => {
        auth = (o.headers as Record<string, string>).authorization;
        body = JSON.parse(String(o.body));
        return { statusCode: 200, data: JSON.stringify({ maxResults: 2, totalResults: 2, currentPage: 1, data: [contact(1), contact(2)] }), responseOptions: JSON_HEADERS };
      })
      .times(2);
    const page = await client.searchPage('contact', { companyName: 'Acme Corp', jobTitle: 'VP of Sales OR CRO' }, { rpp: 25, page: 1, outputFields: ['firstName', 'jobTitle'] });
    await client.searchPage('contact', { companyName: 'Acme Corp' }, { rpp: 25, page: 1 });
    expect(logins).toBe(1);
    expect(auth).toMatch(/^Bearer eyJ/);
    expect(page.records.map((r) => r.id)).toEqual(['1', '2']);
    expect(page.maxResults).toBe(2);
    // Watch out for (Search contacts): outputFields limits the returned fields and the credit burn.
    expect(body).toEqual({ rpp: 25, page: 1, companyName: 'Acme Corp' });
  });

  it('sends rpp, page and outputFields; refuses rpp above 100 before any request', async () => {
    let body: any;
    pool.intercept({ path: '/search/company', method: 'POST' }).reply((o) => {
      body = JSON.parse(String(o.body));
      return { statusCode: 200, data: JSON.stringify({ maxResults: 0, data: [] }), responseOptions: JSON_HEADERS };
    });
    await client.searchPage('company', { companyName: 'Acme' }, { rpp: 100, page: 3, outputFields: ['name', 'website'] });
    expect(body).toEqual({ rpp: 100, page: 3, companyName: 'Acme', outputFields: ['name', 'website'] });
    await expect(client.searchPage('company', { companyName: 'Acme' }, { rpp: 101, page: 1 })).rejects.toBeInstanceOf(ToolInputError);
    await expect(client.searchPage('company', { companyName: 'Acme' }, { rpp: 10, page: 0 })).rejects.toBeInstanceOf(ToolInputError);
    expect(logins).toBe(1);
  });

  it('walks pages until a short page, and stops at maxResults without an extra request', async () => {
    const pages: number[] = [];
    pool
      .intercept({ path: '/search/contact', method: 'POST' })
      .reply((o) => {
        const b = JSON.parse(String(o.body));
        pages.push(b.page);
        const n = b.page < 3 ? 2 : 1;
        return { statusCode: 200, data: JSON.stringify({ maxResults: 5, totalResults: 5, currentPage: b.page, data: Array.from({ length: n }, (_, i) => contact(b.page * 10 + i)) }), responseOptions: JSON_HEADERS };
      })
      .persist();
    const run = await client.searchPages('contact', { companyName: 'Acme' }, { rpp: 2, firstPage: 1, pages: 10 });
    expect(pages).toEqual([1, 2, 3]);
    expect(run.records).toHaveLength(5);
    expect(run.nextPage).toBeNull();

    pages.length = 0;
    const part = await client.searchPages('contact', { companyName: 'Acme' }, { rpp: 2, firstPage: 1, pages: 2 });
    expect(pages).toEqual([1, 2]);
    expect(part.nextPage).toBe(3);
    expect(part.total).toBe(5);
  });

  it('never repeats a search after a 503: the page may have been delivered and charged', async () => {
    let calls = 0;
    pool
      .intercept({ path: '/search/contact', method: 'POST' })
      .reply(() => {
        calls++;
        return { statusCode: 503, data: JSON.stringify({ responseCode: 503, message: 'unavailable' }), responseOptions: JSON_HEADERS };
      })
      .persist();
    await expect(client.searchPage('contact', { companyName: 'Acme' }, { rpp: 10, page: 1 })).rejects.toMatchObject({ code: 'unavailable' });
    expect(calls).toBe(1);
  });

  it('a 429 without any headers is retried with backoff, and halves the request rate; clean requests raise it by one', async () => {
    let calls = 0;
    pool
      .intercept({ path: '/search/company', method: 'POST' })
      .reply(() => {
        calls++;
        if (calls === 1) return { statusCode: 429, data: JSON.stringify({ responseCode: 429, message: 'Too Many Requests' }), responseOptions: JSON_HEADERS };
        return { statusCode: 200, data: JSON.stringify({ maxResults: 0, data: [] }), responseOptions: JSON_HEADERS };
      })
      .persist();
    await client.core.close();
    const clock = new FastClock();
    client = await build({}, clock);
    expect(client.rateLimitPerMinute).toBe(25);
    await client.searchPage('company', { companyName: 'Acme' }, { rpp: 10, page: 1 });
    expect(calls).toBe(2);
    expect(client.rateLimitPerMinute).toBe(12);
    const minute = client.core.budget().windows.find((w) => w.name === 'minute' && w.bucket === 'default');
    expect(minute?.limit).toBe(12);
    expect(client.core.budget().last_429_at).not.toBeNull();
    const before = clock.now();
    // Recovery is slow: +1 only after a window's worth (12) of clean requests.
    for (let i = 0; i < 11; i++) await client.searchPage('company', { companyName: 'Acme' }, { rpp: 10, page: 1 });
    expect(client.rateLimitPerMinute).toBe(12);
    await client.searchPage('company', { companyName: 'Acme' }, { rpp: 10, page: 1 });
    expect(client.rateLimitPerMinute).toBe(13);
    // 15 requests against 12 per minute: the limiter made the last ones wait for the window.
    expect(clock.now()).toBeGreaterThan(before);
  });

  it('enrich sends matchPersonInput / matchCompanyInput and returns results with matchStatus', async () => {
    const bodies: any[] = [];
    pool
      .intercept({ path: '/enrich/contact', method: 'POST' })
      .reply((o) => {
        bodies.push(JSON.parse(String(o.body)));
        return {
          statusCode: 200,
          data: JSON.stringify({
            success: true,
            data: {
              outputFields: [['id', 'firstname']],
              result: [
                { input: { emailaddress: 'a@acme.example' }, data: [{ id: 1, firstName: 'A' }], matchStatus: 'FULL_MATCH' },
                { input: { firstname: 'b' }, data: [{ id: 2, firstName: 'B', companyName: 'Other' }], matchStatus: 'CONTACT_ONLY_MATCH' },
                { input: { emailaddress: 'x@acme.example' }, data: [{ companyId: 77, companyName: 'Acme Corp' }], matchStatus: 'COMPANY_ONLY_MATCH' },
                { input: { emailaddress: 'n@none.example' }, data: [], matchStatus: 'NO_MATCH' },
                { input: { personId: 5 }, data: [{ id: 5 }] },
              ],
            },
          }),
          responseOptions: JSON_HEADERS,
        };
      });
    pool
      .intercept({ path: '/enrich/company', method: 'POST' })
      .reply((o) => {
        bodies.push(JSON.parse(String(o.body)));
        return { statusCode: 200, data: JSON.stringify({ success: true, data: { result: [{ input: {}, data: [{ id: 9, name: 'Acme Holdings' }], matchStatus: 'FULL_MATCH' }] } }), responseOptions: JSON_HEADERS };
      });
    const { results } = await client.enrich('contact', [{ emailAddress: 'a@acme.example' }, { firstName: 'b', lastName: 'c', companyName: 'Acme' }, {}, {}, { personId: '5' }], { outputFields: ['id', 'firstName'] });
    expect(bodies[0].matchPersonInput).toHaveLength(5);
    expect(bodies[0].outputFields).toEqual(['id', 'firstName']);
    // Watch out for (Enrich contact): "Review matchStatus in response".
    expect(results.map((r) => contactVerdict(r).confidence)).toEqual(['high', 'low', 'low', 'none', 'low']);
    expect(contactVerdict(results[4]!).match_status).toBe('UNKNOWN');
    const company = await client.enrich('company', [{ companyName: 'Acme' }]);
    expect(bodies[1]).toEqual({ matchCompanyInput: [{ companyName: 'Acme' }] });
    // Watch out for (Enrich company): a name-only match to another name is not trusted.
    const v = companyVerdict(company.results[0]!, { companyName: 'Acme' });
    expect(v.confidence).toBe('low');
    expect(v.reason).toMatch(/Acme Holdings/);
    expect(companyVerdict(company.results[0]!, { companyName: 'Acme', companyWebsite: 'acmeholdings.example' }).confidence).toBe('high');
    expect(companyVerdict(company.results[0]!, { companyName: 'acme holdings' }).confidence).toBe('high');
    await expect(client.enrich('contact', Array.from({ length: 26 }, () => ({ personId: '1' })))).rejects.toBeInstanceOf(ToolInputError);
  });

  it('lookup by id is cached per process: the second lookup sends nothing', async () => {
    let calls = 0;
    pool
      .intercept({ path: '/lookup/contact/123', method: 'GET' })
      .reply(() => {
        calls++;
        return { statusCode: 200, data: JSON.stringify({ id: '123', firstName: 'Jane', lastName: 'Doe', email: 'jane@acme.example' }), responseOptions: JSON_HEADERS };
      })
      .persist();
    const a = await client.lookupContact('123');
    const b = await client.lookupContact('123');
    expect(a).toMatchObject({ cached: false, via: 'lookup' });
    expect(b).toMatchObject({ cached: true, via: 'cache' });
    expect(b.record.email).toBe('jane@acme.example');
    expect(calls).toBe(1);
    await client.lookupContact('123', { refresh: true });
    expect(calls).toBe(2);
    expect(() => client.cachedContact('abc')).not.toThrow();
    await expect(client.lookupContact('12a')).rejects.toBeInstanceOf(ToolInputError);
  });

  it('lookup: a 404 from the notes\' path is checked with the collection\'s enrich by personId', async () => {
    let lookups = 0;
    pool
      .intercept({ path: (p) => p.startsWith('/lookup/contact/'), method: 'GET' })
      .reply(() => {
        lookups++;
        return { statusCode: 404, data: JSON.stringify({ responseCode: 404, message: 'Not Found' }), responseOptions: JSON_HEADERS };
      })
      .persist();
    pool
      .intercept({ path: '/enrich/contact', method: 'POST' })
      .reply((o) => {
        const id = JSON.parse(String(o.body)).matchPersonInput[0].personId;
        const found = id === '456' || id === '789';
        return { statusCode: 200, data: JSON.stringify({ success: true, data: { result: [{ input: { personid: id }, data: found ? [{ id: Number(id), firstName: 'E' }] : [], matchStatus: found ? 'FULL_MATCH' : 'NO_MATCH' }] } }), responseOptions: JSON_HEADERS };
      })
      .persist();
    await expect(client.lookupContact('999')).rejects.toMatchObject({ code: 'not_found' });
    expect(lookups).toBe(1);
    const found = await client.lookupContact('456');
    expect(found).toMatchObject({ cached: false, via: 'enrich' });
    expect(lookups).toBe(2);
    // The path does not exist here: later lookups go straight to enrich.
    expect(await client.lookupContact('789')).toMatchObject({ via: 'enrich' });
    expect(lookups).toBe(2);
  });

  it('usage: the collection\'s /lookup/usage first, the notes\' /usage on a 404, and the working path is remembered', async () => {
    let collection = 0;
    let notes = 0;
    pool
      .intercept({ path: '/lookup/usage', method: 'GET' })
      .reply(() => {
        collection++;
        return { statusCode: 404, data: JSON.stringify({ responseCode: 404, message: 'Not Found' }), responseOptions: JSON_HEADERS };
      })
      .persist();
    pool
      .intercept({ path: '/usage', method: 'GET' })
      .reply(() => {
        notes++;
        return { statusCode: 200, data: JSON.stringify({ creditsUsed: 1200, creditsAvailable: 3800 }), responseOptions: JSON_HEADERS };
      })
      .persist();
    const u = await client.usage();
    expect(u).toMatchObject({ path: '/usage', credits_used: 1200, credits_remaining: 3800, credits_limit: 5000 });
    await client.usage();
    expect(collection).toBe(1);
    expect(notes).toBe(2);
  });

  it('usage in the collection\'s shape reads recordLimit as credits', () => {
    const body = UsageResponse.parse({
      usage: [
        { limitType: 'requestLimit', description: 'requests', limit: 1000, currentUsage: 10, usageRemaining: 990 },
        { limitType: 'recordLimit', description: 'records', limit: 5000, currentUsage: 46, usageRemaining: 4954 },
      ],
    });
    expect(toUsageReport('/lookup/usage', body)).toMatchObject({ credits_used: 46, credits_remaining: 4954, credits_limit: 5000, basis: 'usage[recordLimit]' });
  });

  it('a 400 carries ZoomInfo\'s own words, including the invalid output fields', async () => {
    pool.intercept({ path: '/search/contact', method: 'POST' }).reply(400, JSON.stringify({ responseCode: 400, message: 'There are invalid fields in your request.', invalidOutputFields: ['zi_c_id'] }), JSON_HEADERS);
    const err = (await client.searchPage('contact', { companyName: 'Acme' }, { rpp: 10, page: 1, outputFields: ['zi_c_id'] }).catch((e: unknown) => e)) as VendorError;
    expect(err).toBeInstanceOf(VendorError);
    expect(err.code).toBe('bad_request');
    expect(err.message).toContain('invalidOutputFields: zi_c_id');
  });

  it('bad credentials: a VendorError naming the variables, without the password', async () => {
    await client.core.close();
    client = await build({ ZOOMINFO_PASSWORD: 'wrong password' });
    const err = (await client.usage().catch((e: unknown) => e)) as VendorError;
    expect(err).toBeInstanceOf(VendorError);
    expect(err.message).toMatch(/ZOOMINFO_USERNAME and ZOOMINFO_PASSWORD/);
    expect(err.message).not.toContain('wrong password');
  });
});

describe('ZoomInfo mapping and pricing', () => {
  it('maps the collection\'s nested company and the notes\' flat fields to one contact shape', () => {
    const nested = toZoomInfoContact({ id: '1', firstName: 'Jane', lastName: 'Doe', company: { id: 9867169, name: 'AmerisourceBergen' }, contactAccuracyScore: 96, hasEmail: 'true', managementLevel: ['C-Level'] });
    expect(nested).toMatchObject({ id: '1', name: 'Jane Doe', company_id: '9867169', company_name: 'AmerisourceBergen', accuracy_score: 96, has_email: true, management_level: 'C-Level' });
    const flat = toZoomInfoContact({ id: '2', companyId: '456', companyName: 'Acme Corp', email: 'jane@acme.com', linkedInUrl: 'https://linkedin.example/jane' });
    expect(flat).toMatchObject({ company_id: '456', company_name: 'Acme Corp', email: 'jane@acme.com', other_fields: { linkedInUrl: 'https://linkedin.example/jane' } });
    expect(toZoomInfoCompany({ id: '456', name: 'Acme Corp', website: 'acme.com', domainList: ['acme.com'], employeeCount: '1500' })).toMatchObject({ id: '456', domains: ['acme.com'], employee_count: 1500 });
  });

  it('prices the worst case by the output fields asked for: all fields or contact data cost the reveal surcharge', () => {
    const pricing = { perRecord: 1, perContactReveal: 2 };
    expect(maxCreditsPerRecord(pricing, 'contact', undefined)).toBe(3);
    expect(maxCreditsPerRecord(pricing, 'contact', ['firstName', 'jobTitle'])).toBe(1);
    expect(maxCreditsPerRecord(pricing, 'contact', ['firstName', 'Email'])).toBe(3);
    expect(maxCreditsPerRecord(pricing, 'company', undefined)).toBe(1);
    expect(estimateRecordCredits(pricing, 'contact', { id: 1, email: 'a@b.example' })).toBe(3);
    expect(estimateRecordCredits(pricing, 'contact', { id: 1, email: '' })).toBe(1);
  });
});

describe('zoominfoConfig', () => {
  it('defaults, both-or-neither, and the password rules', () => {
    expect(zoominfoConfig({})).toMatchObject({ baseUrl: 'https://api.zoominfo.com', username: undefined, password: undefined, rateLimitPerMinute: 25, creditsPerRecord: 1, creditsPerContactReveal: 0 });
    expect(zoominfoConfig({ ZOOMINFO_USERNAME: 'api@acme.example', ZOOMINFO_PASSWORD: 'has spaces ok' }).password).toBe('has spaces ok');
    expect(() => zoominfoConfig({ ZOOMINFO_USERNAME: 'api@acme.example' })).toThrow(/ZOOMINFO_PASSWORD is required/);
    expect(() => zoominfoConfig({ ZOOMINFO_PASSWORD: 'x' })).toThrow(/ZOOMINFO_USERNAME is required/);
    let msg = '';
    try {
      zoominfoConfig({ ZOOMINFO_USERNAME: 'u', ZOOMINFO_PASSWORD: 'secret\nvalue' });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/ZOOMINFO_PASSWORD contains a line break/);
    expect(msg).not.toContain('secret');
    expect(() => zoominfoConfig({ ZOOMINFO_RATE_LIMIT_PER_MINUTE: '0' })).toThrow(ConfigError);
    expect(zoominfoConfig({ ZOOMINFO_RATE_LIMIT_PER_MINUTE: '60', ZOOMINFO_CREDITS_PER_CONTACT_REVEAL: '2' })).toMatchObject({ rateLimitPerMinute: 60, creditsPerContactReveal: 2 });
  });

  it('no credentials: no client; plain http to a non-loopback host is refused (the login carries the password)', async () => {
    const opts = { tokens: new TokenStore(tmpdir()), clock: systemClock, log: silentLogger };
    expect(await createZoomInfoClient(zoominfoConfig({}), opts)).toBeUndefined();
    // Refused when the configuration is read (src/config.ts url(): credentials only over https or to loopback).
    expect(() => zoominfoConfig({ ZOOMINFO_BASE_URL: 'http://api.zoominfo.example', ZOOMINFO_USERNAME: 'u', ZOOMINFO_PASSWORD: 'p' })).toThrow(/ZOOMINFO_BASE_URL must use https/);
  });
});

describe('AdaptiveRate', () => {
  it('halves on each 429 event (simultaneous ones count once), never below 1, and climbs back by one per window of clean requests up to the ceiling', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ vendor: 'zoominfo', identity: 'adaptive-test', bucket: 'default', policy: { windows: [{ name: 'minute', intervalMs: 60_000, limit: 20 }] }, clock });
    const rate = new AdaptiveRate({ limiter: () => limiter, window: 'minute', ceiling: 20, clock });
    limiter.noteRateLimited(clock.now());
    rate.after(false);
    expect(rate.limit).toBe(10);
    limiter.noteRateLimited(clock.now() + 10); // same burst
    rate.after(false);
    expect(rate.limit).toBe(10);
    for (const step of [5, 2, 1, 1]) {
      clock.advance(2000);
      limiter.noteRateLimited(clock.now());
      rate.after(false);
      expect(rate.limit).toBe(step);
    }
    expect(limiter.snapshot()[0]!.limit).toBe(1);
    for (let i = 0; i < 9; i++) rate.after(true);
    expect(rate.limit).toBe(1);
    rate.after(true);
    expect(rate.limit).toBe(2);
    for (let i = 0; i < 500; i++) rate.after(true);
    expect(rate.limit).toBe(20);
  });
});
