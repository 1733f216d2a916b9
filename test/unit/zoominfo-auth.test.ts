import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { jwtTimes, ZoomInfoJwtProvider, type ZoomInfoLogin } from '../../src/auth/zoominfo-jwt.js';
import { ManualClock } from '../../src/clock.js';
import { HttpCore } from '../../src/http/core.js';
import { VendorError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { offlineAgent } from '../support/mock-http.js';

const PASSWORD = 'S3cret pass-phrase!';

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

/** A three-part token; `ttlS` undefined gives a payload without `exp`. */
function makeJwt(clock: ManualClock, ttlS: number | undefined, n: number): string {
  const iat = Math.floor(clock.now() / 1000);
  const payload = ttlS === undefined ? { sub: 'api', n } : { sub: 'api', iat, exp: iat + ttlS, n };
  return `${b64({ alg: 'HS256' })}.${b64(payload)}.sig${n}`;
}

function setup(opts: { ttlS?: number | null; login?: ZoomInfoLogin } = {}) {
  const clock = new ManualClock();
  const calls: { username: string; password: string }[] = [];
  let n = 0;
  const ttl = opts.ttlS === null ? undefined : (opts.ttlS ?? 3600);
  const login: ZoomInfoLogin =
    opts.login ??
    (async (creds) => {
      calls.push(creds);
      n++;
      return { jwt: makeJwt(clock, ttl, n) };
    });
  const provider = new ZoomInfoJwtProvider({ username: `api-${Math.random()}@acme.example`, password: PASSWORD, login, clock });
  return { clock, calls, provider };
}

const tokenOf = (h: Record<string, string>) => h.Authorization!.slice('Bearer '.length);

describe('ZoomInfoJwtProvider', () => {
  it('logs in with username and password once, caches the JWT and sends it as a Bearer token', async () => {
    const { provider, calls } = setup();
    expect(provider.kind).toBe('jwt_login');
    expect(provider.identity).toMatch(/^zoominfo:api-/);
    expect(provider.identity).not.toContain(PASSWORD);
    const a = await provider.headers();
    const b = await provider.headers();
    expect(a.Authorization).toMatch(/^Bearer eyJ/);
    expect(b).toEqual(a);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual({ username: expect.stringMatching(/^api-/), password: PASSWORD });
  });

  it('re-authenticates 5 minutes before the 60-minute expiry read from the token, not on every call', async () => {
    const { provider, calls, clock } = setup();
    const first = tokenOf(await provider.headers());
    expect(jwtTimes(first)).toMatchObject({ exp: expect.any(Number), iat: expect.any(Number) });
    clock.advance(54 * 60_000);
    expect(tokenOf(await provider.headers())).toBe(first);
    clock.advance(2 * 60_000); // 56 min: inside the margin
    const second = tokenOf(await provider.headers());
    expect(second).not.toBe(first);
    expect(calls).toHaveLength(2);
  });

  it('uses the lifetime in the token (exp - iat) when it is shorter, capping the margin at half of it', async () => {
    const { provider, calls, clock } = setup({ ttlS: 600 });
    const first = tokenOf(await provider.headers());
    clock.advance(4 * 60_000);
    expect(tokenOf(await provider.headers())).toBe(first);
    clock.advance(2 * 60_000); // 6 of 10 minutes: past half the lifetime
    expect(tokenOf(await provider.headers())).not.toBe(first);
    expect(calls).toHaveLength(2);
  });

  it('assumes the documented 60 minutes when the token carries no exp', async () => {
    const { provider, calls, clock } = setup({ ttlS: null });
    const first = tokenOf(await provider.headers());
    expect(jwtTimes(first)?.exp).toBeUndefined();
    clock.advance(54 * 60_000);
    expect(tokenOf(await provider.headers())).toBe(first);
    clock.advance(2 * 60_000);
    expect(tokenOf(await provider.headers())).not.toBe(first);
    expect(calls).toHaveLength(2);
  });

  it('is single-flight: concurrent callers at start-up share one login', async () => {
    const clock = new ManualClock();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let logins = 0;
    const provider = new ZoomInfoJwtProvider({
      username: 'u1',
      password: PASSWORD,
      clock,
      login: async () => {
        logins++;
        await gate;
        return { jwt: makeJwt(clock, 3600, logins) };
      },
    });
    const all = Promise.all(Array.from({ length: 10 }, () => provider.headers()));
    release();
    const headers = await all;
    expect(logins).toBe(1);
    expect(new Set(headers.map((h) => h.Authorization)).size).toBe(1);
  });

  it('after a 401 with the current token logs in once, shared by every concurrent caller; a 401 with a replaced token just retries', async () => {
    const { provider, calls } = setup();
    const old = await provider.headers();
    const results = await Promise.all([provider.onUnauthorized(old), provider.onUnauthorized(old), provider.onUnauthorized(old)]);
    expect(results).toEqual([true, true, true]);
    expect(calls).toHaveLength(2);
    const now = await provider.headers();
    expect(now.Authorization).not.toBe(old.Authorization);
    // A late 401 for a request that carried the old token: the new one is already there.
    expect(await provider.onUnauthorized(old)).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('bad credentials: names ZOOMINFO_USERNAME and ZOOMINFO_PASSWORD, never the password, and pauses further logins', async () => {
    const clock = new ManualClock();
    let attempts = 0;
    const provider = new ZoomInfoJwtProvider({
      username: 'api@acme.example',
      password: PASSWORD,
      clock,
      rejectionHoldMs: 60_000,
      login: async () => {
        attempts++;
        // A vendor that echoes the password back must not get it into our messages.
        throw new VendorError({ vendor: 'zoominfo', code: 'unauthorized', status: 401, message: `ZoomInfo rejected the credentials (401): bad password ${PASSWORD}`, detail: `password=${PASSWORD}` });
      },
    });
    const err = (await provider.headers().catch((e: unknown) => e)) as VendorError;
    expect(err).toBeInstanceOf(VendorError);
    expect(err.code).toBe('unauthorized');
    expect(err.message).toContain('ZOOMINFO_USERNAME');
    expect(err.message).toContain('ZOOMINFO_PASSWORD');
    expect(err.message).toContain('api@acme.example');
    expect(`${err.message} ${err.detail ?? ''}`).not.toContain(PASSWORD);
    // Within the hold, nothing is sent to ZoomInfo again.
    await expect(provider.headers()).rejects.toThrow(/ZOOMINFO_PASSWORD/);
    expect(attempts).toBe(1);
    clock.advance(61_000);
    await expect(provider.headers()).rejects.toThrow(/ZOOMINFO_PASSWORD/);
    expect(attempts).toBe(2);
  });

  it('keeps using a still-valid token when the early re-login fails transiently', async () => {
    const clock = new ManualClock();
    let fail = false;
    let n = 0;
    const provider = new ZoomInfoJwtProvider({
      username: 'u2',
      password: PASSWORD,
      clock,
      login: async () => {
        if (fail) throw new VendorError({ vendor: 'zoominfo', code: 'unavailable', status: 503, message: 'ZoomInfo is unavailable (503); retry later.' });
        n++;
        return { jwt: makeJwt(clock, 3600, n) };
      },
    });
    const first = await provider.headers();
    clock.advance(57 * 60_000);
    fail = true;
    expect(await provider.headers()).toEqual(first);
    clock.advance(4 * 60_000); // expired now
    await expect(provider.headers()).rejects.toThrow(/unavailable/);
  });

  it('refuses an answer without a jwt', async () => {
    const { provider } = setup({ login: async () => ({ token: 'x' }) });
    await expect(provider.headers()).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('reads exp and iat with jose, and treats anything that is not a readable JWT as having none', () => {
    const clock = new ManualClock();
    const iat = Math.floor(clock.now() / 1000);
    expect(jwtTimes(makeJwt(clock, 3600, 1))).toEqual({ iat, exp: iat + 3600 });
    expect(jwtTimes(`${b64({ alg: 'HS256' })}.${b64({ exp: 'soon', iat: -5 })}.sig`)).toEqual({ exp: undefined, iat: undefined });
    for (const bad of ['opaque-token', 'a.b', `${b64({ alg: 'none' })}.not-json.sig`, `${b64({ alg: 'none' })}.${b64([1, 2])}.sig`, 'a.b.c.d.e']) {
      expect(jwtTimes(bad)).toBeUndefined();
    }
  });

  it('a token that is not a JWT is kept for the documented 60 minutes', async () => {
    let logins = 0;
    const { provider, clock } = setup({ login: async () => ({ jwt: `opaque-${++logins}` }) });
    const first = tokenOf(await provider.headers());
    expect(first).toBe('opaque-1');
    clock.advance(54 * 60_000);
    expect(tokenOf(await provider.headers())).toBe(first);
    clock.advance(2 * 60_000);
    expect(tokenOf(await provider.headers())).toBe('opaque-2');
  });
});

describe('ZoomInfoJwtProvider through HttpCore (MockAgent)', () => {
  const ORIGIN = 'https://api.zoominfo.test';
  let agent: MockAgent;
  let core: HttpCore;
  afterEach(async () => {
    await core.close();
    await agent.close();
  });

  function wire(clock: ManualClock, log?: Logger) {
    agent = offlineAgent();
    const holder: { core?: HttpCore } = {};
    const provider = new ZoomInfoJwtProvider({
      username: `api-${Math.random()}@acme.example`,
      password: PASSWORD,
      clock,
      log,
      login: async (creds, signal) => (await holder.core!.request({ method: 'POST', path: '/authenticate', body: creds, noAuth: true, idempotent: true, bucket: 'authenticate', signal })).body,
    });
    core = new HttpCore({ vendor: 'zoominfo', baseUrl: ORIGIN, auth: provider, limits: { windows: [{ name: 'minute', intervalMs: 60_000, limit: 1000 }] }, retry: { baseDelayMs: 1, maxDelayMs: 1 }, dispatcher: agent, clock, log });
    holder.core = core;
    return provider;
  }

  it('a 401 on a data call triggers exactly one re-login and one repeat; a second 401 is reported', async () => {
    const clock = new ManualClock();
    const provider = wire(clock);
    const pool = agent.get(ORIGIN);
    const bodies: any[] = [];
    let n = 0;
    pool
      .intercept({ path: '/authenticate', method: 'POST' })
      .reply((o) => {
        bodies.push(JSON.parse(String(o.body)));
        n++;
        return { statusCode: 200, data: JSON.stringify({ jwt: makeJwt(clock, 3600, n) }), responseOptions: { headers: { 'content-type': 'application/json' } } };
      })
      .persist();
    const seen: string[] = [];
    let reject = 1;
    pool
      .intercept({ path: '/lookup/usage', method: 'GET' })
      .reply((o) => {
        seen.push((o.headers as Record<string, string>).authorization);
        if (reject-- > 0) return { statusCode: 401, data: JSON.stringify({ responseCode: 401, message: 'Token expired' }), responseOptions: { headers: { 'content-type': 'application/json' } } };
        return { statusCode: 200, data: JSON.stringify({ usage: [] }), responseOptions: { headers: { 'content-type': 'application/json' } } };
      })
      .persist();
    const res = await core.request({ method: 'GET', path: '/lookup/usage' });
    expect(res.status).toBe(200);
    expect(provider.logins).toBe(2);
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    expect(bodies[0]).toEqual({ username: expect.any(String), password: PASSWORD });

    reject = 2;
    const err = (await core.request({ method: 'GET', path: '/lookup/usage' }).catch((e: unknown) => e)) as VendorError;
    expect(err).toBeInstanceOf(VendorError);
    expect(err.code).toBe('unauthorized');
    expect(provider.logins).toBe(3);
  });

  it('a login answered 401 becomes a message naming the variables, without the password', async () => {
    const clock = new ManualClock();
    wire(clock);
    agent
      .get(ORIGIN)
      .intercept({ path: '/authenticate', method: 'POST' })
      .reply(401, JSON.stringify({ responseCode: 401, message: `Invalid username or password: ${PASSWORD}` }), { headers: { 'content-type': 'application/json' } });
    const err = (await core.request({ method: 'GET', path: '/lookup/usage' }).catch((e: unknown) => e)) as VendorError;
    expect(err).toBeInstanceOf(VendorError);
    expect(err.message).toMatch(/ZOOMINFO_USERNAME and ZOOMINFO_PASSWORD/);
    expect(`${err.message} ${err.detail ?? ''}`).not.toContain(PASSWORD);
    // Not even the part after the first space, which a key=value pattern alone would leave behind.
    expect(`${err.message} ${err.detail ?? ''}`).not.toContain('pass-phrase');
  });

  it('the password reaches neither a log line nor an error, whatever ZoomInfo echoes', async () => {
    const clock = new ManualClock();
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
    wire(clock, log);
    const pool = agent.get(ORIGIN);
    const echo = JSON.stringify({ responseCode: 500, message: `login failed for password ${PASSWORD}`, password: PASSWORD });
    pool.intercept({ path: '/authenticate', method: 'POST' }).reply(503, echo, { headers: { 'content-type': 'application/json' } }).times(5);
    const err = (await core.request({ method: 'GET', path: '/lookup/usage' }).catch((e: unknown) => e)) as VendorError;
    expect(err).toBeInstanceOf(VendorError);
    expect(err.code).toBe('unavailable');
    const all = [err.message, err.detail, err.stack, JSON.stringify(err), ...lines].join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(all).not.toContain('S3cret');
    expect(all).not.toContain('pass-phrase');
  });

  it('/authenticate is safe to repeat: a reset or a 502 is retried, and the data call then goes out', async () => {
    const clock = new ManualClock();
    const provider = wire(clock);
    const pool = agent.get(ORIGIN);
    pool.intercept({ path: '/authenticate', method: 'POST' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    pool.intercept({ path: '/authenticate', method: 'POST' }).reply(502, 'Bad Gateway');
    pool
      .intercept({ path: '/authenticate', method: 'POST' })
      .reply(200, JSON.stringify({ jwt: makeJwt(clock, 3600, 1) }), { headers: { 'content-type': 'application/json' } });
    pool.intercept({ path: '/lookup/usage', method: 'GET' }).reply(200, JSON.stringify({ usage: [] }), { headers: { 'content-type': 'application/json' } });
    const res = await core.request({ method: 'GET', path: '/lookup/usage' });
    expect(res.status).toBe(200);
    expect(provider.logins).toBe(1);
  });

  it('a login without an answer fails the request that needed it as not sent, not as possibly applied', async () => {
    const clock = new ManualClock();
    wire(clock);
    const pool = agent.get(ORIGIN);
    pool.intercept({ path: '/authenticate', method: 'POST' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).times(5);
    const err = (await core.request({ method: 'POST', path: '/search/contact', body: { rpp: 1 } }).catch((e: unknown) => e)) as VendorError;
    expect(err).toBeInstanceOf(VendorError);
    expect(err).toMatchObject({ code: 'network', ambiguous: false });
    expect(err.message).toMatch(/did not answer the API login.*not sent/);
  });
});
