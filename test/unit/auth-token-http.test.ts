import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Dispatcher, type MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientCredentialsProvider, OAuthRefreshProvider, type OAuthRefreshOptions } from '../../src/auth/oauth.js';
import { selectAuth } from '../../src/auth/select.js';
import { TokenStore } from '../../src/auth/token-store.js';
import { ManualClock } from '../../src/clock.js';
import { HttpCore } from '../../src/http/core.js';
import { VendorError } from '../../src/errors.js';
import { clearLimiters } from '../../src/http/limiter.js';
import type { Logger } from '../../src/log.js';
import { salesloftConfig } from '../../src/vendors/salesloft/config.js';
import { createSalesloftClient } from '../../src/vendors/salesloft/connect.js';
import { lowerHeaders, offlineAgent } from '../support/mock-http.js';

/*
 * Token requests through the HTTP core, against an undici MockAgent passed as the dispatcher (the same
 * ConnectOptions.dispatcher the vendor cores get). The loopback FakeOAuth tests in auth-oauth.test.ts cover
 * rotation and persistence; these cover what the core brings and what happens when an answer is lost.
 */

const ORIGIN = 'https://accounts.vendor.test';
const TOKEN_PATH = '/oauth/token';
const TOKEN_URL = `${ORIGIN}${TOKEN_PATH}`;
const JSON_HEADERS = { 'content-type': 'application/json' };
// Distinctive, so that a search of messages and logs for them cannot pass by accident.
const CLIENT_SECRET = 'cs-Q7f3xK-distinct-client-secret';
const SEED = 'rt-K9d2pW-distinct-seed-refresh';

/** A ManualClock whose sleeps (retry backoff, Retry-After) pass at once, moving time forward. */
class SteppingClock extends ManualClock {
  override sleep(ms: number): Promise<void> {
    this.advance(ms);
    return Promise.resolve();
  }
}

/** Records every request the core dispatches (bodies included), then hands it to the MockAgent. */
class Recorder extends Dispatcher {
  sent: { origin: string; path: string; headers: Record<string, string>; body: string }[] = [];
  /** Runs after a request is recorded and before it reaches the mock: "meanwhile, elsewhere". */
  meanwhile: (() => Promise<void>) | undefined;
  constructor(private readonly inner: MockAgent) {
    super();
  }
  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.sent.push({ origin: String(opts.origin), path: opts.path, headers: lowerHeaders(opts.headers), body: String(opts.body ?? '') });
    const hook = this.meanwhile;
    this.meanwhile = undefined;
    if (!hook) return this.inner.dispatch(opts, handler);
    void hook().then(() => this.inner.dispatch(opts, handler));
    return true;
  }
  tokenForms(): URLSearchParams[] {
    return this.sent.filter((s) => s.path.startsWith(TOKEN_PATH)).map((s) => new URLSearchParams(s.body));
  }
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

const netError = (code: string) => Object.assign(new Error(`simulated ${code}`), { code });
const ok = (body: Record<string, unknown>): Reply => ({ status: 200, body });

let agent: MockAgent;
let rec: Recorder;
let dir: string;
let store: TokenStore;
let clock: SteppingClock;
let lines: string[];
let log: Logger;
let n = 0;

beforeEach(async () => {
  agent = offlineAgent();
  rec = new Recorder(agent);
  clearLimiters();
  dir = await mkdtemp(path.join(tmpdir(), 'token-http-'));
  clock = new SteppingClock();
  store = new TokenStore(dir, { clock });
  lines = [];
  log = pino({ level: 'trace' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
});
afterEach(async () => {
  await agent.close();
  await rm(dir, { recursive: true, force: true });
});

/** Answers token POSTs with `replies` in order; any POST beyond them fails the test's count checks. */
function tokenReplies(replies: Reply[], origin = ORIGIN): void {
  const pool = agent.get(origin);
  for (const r of replies) {
    const scope = pool.intercept({ path: TOKEN_PATH, method: 'POST' });
    if (r instanceof Error) scope.replyWithError(r);
    else {
      const data = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      scope.reply(r.status, data, { headers: { ...JSON_HEADERS, ...r.headers } });
    }
  }
}

function provider(extra: Partial<OAuthRefreshOptions> = {}): OAuthRefreshProvider {
  return new OAuthRefreshProvider({
    vendor: 'outreach',
    tokenUrl: TOKEN_URL,
    clientId: `client-${++n}`,
    clientSecret: CLIENT_SECRET,
    seedRefreshToken: SEED,
    store,
    clock,
    log,
    dispatcher: rec,
    retryBaseDelayMs: 1,
    ...extra,
  });
}

async function failure(p: Promise<unknown>): Promise<VendorError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VendorError);
  return e as VendorError;
}

describe('token requests go through the HTTP core', () => {
  it('POSTs a form with Accept: application/json through the dispatcher, the secret in the form or as Basic', async () => {
    tokenReplies([ok({ access_token: 'at-1', refresh_token: 'rt-2', expires_in: 3600, token_type: 'bearer' })]);
    const p = provider();
    expect(await p.headers()).toEqual({ Authorization: 'Bearer at-1' });
    const [post] = rec.sent;
    expect(post).toMatchObject({ origin: ORIGIN, path: TOKEN_PATH });
    expect(post!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(post!.headers.accept).toBe('application/json');
    expect(post!.headers['user-agent']).toBe('sales-access-mcp');
    expect(post!.headers.authorization).toBeUndefined();
    const clientId = p.identity.replace(/^oauth:/, '');
    expect(Object.fromEntries(rec.tokenForms()[0]!)).toEqual({ grant_type: 'refresh_token', refresh_token: SEED, client_id: clientId, client_secret: CLIENT_SECRET });

    tokenReplies([ok({ access_token: 'at-3', expires_in: 3600 })]);
    const basic = new ClientCredentialsProvider({ vendor: 'outreach', tokenUrl: TOKEN_URL, clientId: 'cc id', clientSecret: 'sec:ret', clientAuth: 'client_secret_basic', scopes: ['users.read'], clock, dispatcher: rec });
    expect(await basic.headers()).toEqual({ Authorization: 'Bearer at-3' });
    const cc = rec.sent[1]!;
    expect(Buffer.from(cc.headers.authorization!.replace(/^Basic /, ''), 'base64').toString()).toBe('cc+id:sec%3Aret');
    expect(Object.fromEntries(new URLSearchParams(cc.body))).toEqual({ grant_type: 'client_credentials', scope: 'users.read' });
  });

  it('a token endpoint on another origin than the API gets the dispatcher of the ConnectOptions (SalesLoft)', async () => {
    const api = 'https://api.salesloft.test';
    const accounts = 'https://accounts.salesloft.test';
    tokenReplies([ok({ access_token: 'at-sl', refresh_token: 'rt-sl-2', expires_in: 7200, token_type: 'bearer' })], accounts);
    agent
      .get(api)
      .intercept({ path: '/v2/me.json', method: 'GET', headers: { authorization: 'Bearer at-sl' } })
      .reply(200, JSON.stringify({ data: { id: 1, name: 'Jane', email: 'jane@acme.example', team_id: 9, active: true } }), { headers: JSON_HEADERS });
    const cfg = {
      ...salesloftConfig({ SALESLOFT_CLIENT_ID: 'sl-client', SALESLOFT_CLIENT_SECRET: CLIENT_SECRET, SALESLOFT_REFRESH_TOKEN: SEED }),
      baseUrl: `${api}/v2`,
      tokenUrl: `${accounts}${TOKEN_PATH}`,
    };
    const client = (await createSalesloftClient(cfg, { tokens: store, clock, log, dispatcher: rec, retryBaseDelayMs: 1 }))!;
    try {
      expect((await client.getMe()).email).toBe('jane@acme.example');
    } finally {
      await client.core.close();
    }
    expect(rec.sent.map((s) => `${s.origin}${s.path}`)).toEqual([`${accounts}${TOKEN_PATH}`, `${api}/v2/me.json`]);
    expect((await store.read('salesloft'))?.refresh_token).toBe('rt-sl-2');
  });

  it('a 429 was refused before processing: the refresh is repeated after Retry-After and succeeds', async () => {
    tokenReplies([{ status: 429, headers: { 'retry-after': '2' } }, ok({ access_token: 'at-1', refresh_token: 'rt-2', expires_in: 3600 })]);
    const t0 = clock.now();
    expect(await provider().headers()).toEqual({ Authorization: 'Bearer at-1' });
    expect(rec.tokenForms().map((f) => f.get('refresh_token'))).toEqual([SEED, SEED]);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(2000);
    expect((await store.read('outreach'))?.refresh_token).toBe('rt-2');
  });

  it('a 503 or a refused connection left the refresh token unspent: not repeated within the call, used by the next', async () => {
    tokenReplies([{ status: 503 }, netError('ECONNREFUSED'), ok({ access_token: 'at-1', refresh_token: 'rt-2', expires_in: 3600 })]);
    const p = provider();
    expect(await failure(p.headers())).toMatchObject({ code: 'unavailable', ambiguous: false, message: expect.stringContaining('token endpoint is unavailable (HTTP 503)') });
    expect(await failure(p.headers())).toMatchObject({ code: 'network', ambiguous: false, message: expect.stringContaining('token endpoint did not answer') });
    expect(await p.headers()).toEqual({ Authorization: 'Bearer at-1' });
    expect(rec.tokenForms().map((f) => f.get('refresh_token'))).toEqual([SEED, SEED, SEED]);
  });

  it('client_credentials spends nothing, so resets and gateway errors are retried like any idempotent request', async () => {
    tokenReplies([netError('ECONNRESET'), { status: 502 }, netError('UND_ERR_HEADERS_TIMEOUT'), ok({ access_token: 'at-cc', expires_in: 3600 })]);
    const p = new ClientCredentialsProvider({ vendor: 'outreach', tokenUrl: TOKEN_URL, clientId: `cc-${++n}`, clientSecret: CLIENT_SECRET, clock, log, dispatcher: rec, retryBaseDelayMs: 1 });
    expect(await p.headers()).toEqual({ Authorization: 'Bearer at-cc' });
    expect(rec.tokenForms()).toHaveLength(4);
  });

  it('invalid_grant (HTTP 400) says to run `sales-access-mcp auth <vendor>` again', async () => {
    tokenReplies([{ status: 400, body: { error: 'invalid_grant', error_description: 'Token has been revoked' } }]);
    const err = await failure(provider().headers());
    expect(err).toMatchObject({ code: 'unauthorized', status: 400 });
    expect(err.message).toMatch(/invalid_grant.*Run `sales-access-mcp auth outreach` again/);
  });
});

describe('a refresh whose outcome is unknown is never sent again', () => {
  const LOST: [string, Reply][] = [
    ['a connection reset after sending', netError('ECONNRESET')],
    ['a headers timeout', netError('UND_ERR_HEADERS_TIMEOUT')],
    ['a body timeout', netError('UND_ERR_BODY_TIMEOUT')],
    ['a 502 from a gateway', { status: 502, body: '<html>Bad Gateway</html>', headers: { 'content-type': 'text/html' } }],
    ['a 504 from a gateway', { status: 504 }],
    ['a 200 whose body cannot be read', { status: 200, body: '{"access_token": "at-x", "refresh_tok' }],
  ];

  it.each(LOST)('%s: the admin is told to run `auth`, and later calls do not touch the token endpoint', async (_what, reply) => {
    tokenReplies([reply]);
    const p = provider();
    const err = await failure(p.headers());
    expect(err.code).toBe('unauthorized');
    // Nothing the tool was asked to do was sent: not a write that "may have been applied".
    expect(err.ambiguous).toBe(false);
    expect(err.message).toMatch(/no usable answer/);
    expect(err.message).toMatch(/not sent again/);
    expect(err.message).toContain('Run `sales-access-mcp auth outreach`');

    clock.advance(3 * 3600_000);
    expect((await failure(p.headers())).message).toBe(err.message);
    expect((await failure(p.onUnauthorized({ Authorization: 'Bearer at-old' }))).message).toBe(err.message);
    expect(rec.tokenForms().map((f) => f.get('refresh_token'))).toEqual([SEED]);
    expect(lines.join('\n')).toContain('oauth refresh outcome unknown');
  });

  it('tokens another server on the same store saved meanwhile are used, without a second POST', async () => {
    tokenReplies([netError('ECONNRESET')]);
    // The other server refreshed too, and its answer arrived: it persisted the successor.
    rec.meanwhile = async () => {
      await store.write('outreach', { refresh_token: 'rt-from-b', access_token: 'at-from-b', access_expires_at: new Date(clock.now() + 3600_000).toISOString() });
    };
    expect(await provider().headers()).toEqual({ Authorization: 'Bearer at-from-b' });
    expect(rec.tokenForms()).toHaveLength(1);
  });

  it('a newer refresh token in the store (an `auth` run) is used for the refresh; the lost one never again', async () => {
    tokenReplies([netError('ECONNRESET'), ok({ access_token: 'at-2', refresh_token: 'rt-3', expires_in: 3600 })]);
    rec.meanwhile = async () => {
      await store.write('outreach', { refresh_token: 'rt-from-auth' });
    };
    expect(await provider().headers()).toEqual({ Authorization: 'Bearer at-2' });
    expect(rec.tokenForms().map((f) => f.get('refresh_token'))).toEqual([SEED, 'rt-from-auth']);
    expect((await store.read('outreach'))?.refresh_token).toBe('rt-3');
  });

  it('an access token that has not expired is still used after a lost early refresh; `auth` brings it back', async () => {
    tokenReplies([ok({ access_token: 'at-1', refresh_token: 'rt-2', expires_in: 3600 }), netError('UND_ERR_HEADERS_TIMEOUT')]);
    const p = provider();
    expect(await p.headers()).toEqual({ Authorization: 'Bearer at-1' });
    clock.advance(3600_000 - 60_000); // inside the 2-minute margin: an early refresh, which is lost
    expect(await p.headers()).toEqual({ Authorization: 'Bearer at-1' });
    expect(await p.headers()).toEqual({ Authorization: 'Bearer at-1' });
    clock.advance(60_000); // expired now
    expect((await failure(p.headers())).message).toContain('Run `sales-access-mcp auth outreach`');
    expect(rec.tokenForms().map((f) => f.get('refresh_token'))).toEqual([SEED, 'rt-2']);

    // What `sales-access-mcp auth outreach` leaves in the store is picked up without a restart.
    await store.write('outreach', { refresh_token: 'rt-admin' });
    tokenReplies([ok({ access_token: 'at-admin', refresh_token: 'rt-admin-2', expires_in: 3600 })]);
    expect(await p.headers()).toEqual({ Authorization: 'Bearer at-admin' });
    expect(rec.tokenForms().map((f) => f.get('refresh_token'))).toEqual([SEED, 'rt-2', 'rt-admin']);
  });

  it('a write that needed the lost refresh is reported as not applied', async () => {
    tokenReplies([{ status: 504 }]);
    const api = 'https://api.vendor.test';
    const core = new HttpCore({ vendor: 'outreach', baseUrl: api, auth: provider(), limits: { windows: [] }, dispatcher: rec, clock, log });
    const err = await failure(core.request({ method: 'POST', path: '/users', body: { email: 'a@b.test' } }));
    expect(err).toMatchObject({ code: 'unauthorized', ambiguous: false });
    expect(rec.sent.filter((s) => s.origin === api)).toHaveLength(0);
    await core.close();
  });
});

describe('secrets never reach an error message or a log line', () => {
  const ECHO_ACCESS = 'at-Zx81-echoed-access-token';
  const ECHO_REFRESH = 'rt-Mv55-echoed-refresh-token';
  const DISTINCT = [CLIENT_SECRET, SEED, ECHO_ACCESS, ECHO_REFRESH, 'Q7f3xK', 'K9d2pW', 'Zx81', 'Mv55'];
  const echo = { access_token: ECHO_ACCESS, refresh_token: ECHO_REFRESH, note: `client_secret ${CLIENT_SECRET} refresh ${SEED}` };

  const cases: [string, Reply[]][] = [
    ['invalid_grant quoting what was sent', [{ status: 400, body: { error: 'invalid_grant', error_description: `refresh token ${SEED} for client secret ${CLIENT_SECRET} is not valid` } }]],
    ['invalid_client quoting the secret', [{ status: 401, body: { error: 'invalid_client', error_description: `bad secret ${CLIENT_SECRET}` } }]],
    ['an error code that is not a code', [{ status: 400, body: { error: `nope ${SEED}` } }]],
    ['a 404 page echoing the form', [{ status: 404, body: `refresh_token=${SEED}&client_secret=${CLIENT_SECRET}`, headers: { 'content-type': 'text/plain' } }]],
    ['a 502 carrying tokens', [{ status: 502, body: echo }]],
    ['a 500 carrying tokens', [{ status: 500, body: echo }]],
    ['a 429 echoing everything, until the retries run out', Array.from({ length: 5 }, () => ({ status: 429, body: echo, headers: { 'retry-after': '0' } }))],
    ['a 200 that cannot be read', [{ status: 200, body: `${JSON.stringify(echo).slice(0, -3)}` }]],
    ['a 200 with an unusable token type', [{ status: 200, body: { ...echo, token_type: `mac ${SEED}` } }]],
    ['a connection reset', [Object.assign(new Error(`socket hang up after ${SEED}`), { code: 'ECONNRESET' })]],
  ];

  it.each(cases)('%s', async (_what, replies) => {
    const errors: unknown[] = [];
    const collect = (call: Promise<unknown>) => call.catch((e: unknown) => void errors.push(e));
    const p = provider({ clientAuth: 'client_secret_post' });
    tokenReplies(replies);
    await collect(p.headers());
    tokenReplies(replies); // used unless the first answer retired the refresh token
    await collect(p.onUnauthorized());
    const basic = provider({ clientAuth: 'client_secret_basic' });
    tokenReplies(replies);
    await collect(basic.headers());
    expect(errors.length).toBeGreaterThanOrEqual(1);
    for (const e of errors as VendorError[]) {
      expect(e).toBeInstanceOf(VendorError);
      const text = [e.message, e.detail, e.toPublicText(), e.stack, JSON.stringify(e)].join('\n');
      for (const s of DISTINCT) expect(text).not.toContain(s);
    }
    expect(lines.length).toBeGreaterThan(0);
    const logged = lines.join('\n');
    for (const s of DISTINCT) expect(logged).not.toContain(s);
    expect(logged).not.toContain(Buffer.from(`${basic.identity.replace(/^oauth:/, '')}:${CLIENT_SECRET}`).toString('base64'));
  });
});

describe('selectAuth', () => {
  it('hands the dispatcher and retry base delay of the connect options to the OAuth providers', async () => {
    tokenReplies([ok({ access_token: 'at-sel', expires_in: 3600 })]);
    const auth = await selectAuth(
      { kind: 'oauth_client_credentials', clientId: 'sel-client', clientSecret: CLIENT_SECRET },
      { vendor: 'outreach', tokenUrl: TOKEN_URL, noRefreshToken: 'unused', tokens: store, clock, log, dispatcher: rec, retryBaseDelayMs: 1 },
    );
    expect(await auth!.headers()).toEqual({ Authorization: 'Bearer at-sel' });
    expect(rec.tokenForms()).toHaveLength(1);
  });
});
