import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuthProvider } from '../../src/auth/types.js';
import { ManualClock } from '../../src/clock.js';
import { HttpCore, defaultErrorDetail, scrubSecrets } from '../../src/http/core.js';
import { VendorError } from '../../src/errors.js';
import { credentialFingerprint } from '../../src/http/identity.js';
import { clearLimiters } from '../../src/http/limiter.js';
import { xRateLimitHeaders } from '../../src/http/rate-headers.js';
import type { HttpCoreOptions, RateLimitPolicy } from '../../src/http/types.js';
import { offlineAgent } from '../support/mock-http.js';
import { SpyClock, track } from '../support/timing.js';

const ORIGIN = 'https://api.vendor.test';
const BASE = `${ORIGIN}/api/v2`;
const FAKE_TOKEN = 'fake-tok_9f8e7d6c5b4a3210ZZ';
const HOUR = 3_600_000;
const JSON_HEADERS = { 'content-type': 'application/json' };

let agent: MockAgent;

beforeEach(() => {
  agent = offlineAgent();
  clearLimiters();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await agent.close();
});

function fakeAuth(refreshes = false, identity = `test:${randomUUID()}`) {
  const auth = {
    kind: 'bearer' as const,
    identity,
    headers: vi.fn(async () => ({ authorization: `Bearer ${FAKE_TOKEN}` })),
    onUnauthorized: vi.fn(async () => refreshes),
  };
  return auth satisfies AuthProvider;
}

const outreachLimits: RateLimitPolicy = {
  windows: [{ name: 'hour', intervalMs: HOUR, limit: 10_000 }],
  headers: xRateLimitHeaders('hour'),
};

function makeCore(over: Partial<HttpCoreOptions> = {}) {
  return new HttpCore({
    vendor: 'outreach',
    label: 'Outreach',
    baseUrl: BASE,
    auth: fakeAuth(),
    limits: outreachLimits,
    retry: { baseDelayMs: 1, maxDelayMs: 4 },
    dispatcher: agent,
    authHint: 'Run `sales-access-mcp auth outreach` or check OUTREACH_ACCESS_TOKEN.',
    ...over,
  });
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

/**
 * Answers requests to `path` with `replies` in order (the last one repeats, up to 12 calls in all).
 * `seen` records the requests that got an HTTP reply; an Error reply is a connection failure.
 */
function script(path: string, method: string, replies: Reply[]) {
  const seen: { path: string; headers: Record<string, string>; body: unknown }[] = [];
  const pool = agent.get(ORIGIN);
  // One one-shot interceptor per call, because an error reply cannot come from a reply callback.
  for (let n = 0; n < 12; n++) {
    const r = replies[Math.min(n, replies.length - 1)]!;
    const scope = pool.intercept({ path: (p) => p.split('?')[0] === path, method });
    if (r instanceof Error) {
      scope.replyWithError(r);
      continue;
    }
    scope.reply((opts) => {
      seen.push({ path: opts.path, headers: normaliseHeaders(opts.headers), body: opts.body });
      const data = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      return { statusCode: r.status, data, responseOptions: { headers: { ...JSON_HEADERS, ...r.headers } } };
    });
  }
  return { seen };
}

function normaliseHeaders(h: unknown): Record<string, string> {
  if (!h) return {};
  if (h instanceof Headers) return Object.fromEntries(h.entries());
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h as Record<string, string>)) out[k.toLowerCase()] = String(v);
  return out;
}

/** Polls (real time) until `cond` holds, so ManualClock tests can wait for the core to reach a sleep. */
async function until(cond: () => boolean, what = 'condition') {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const settle = () => new Promise((r) => setTimeout(r, 20));

async function failure(p: Promise<unknown>): Promise<VendorError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(VendorError);
    return e as VendorError;
  }
  throw new Error('expected the request to fail');
}

describe('HttpCore requests', () => {
  it('sends the JSON:API media type as Accept and Content-Type and parses a +json response', async () => {
    const s = script('/api/v2/prospects', 'POST', [
      {
        status: 201,
        body: { data: { id: 7, type: 'prospect' } },
        headers: { 'content-type': 'application/vnd.api+json', 'X-Request-Id': 'req-123', 'x-ratelimit-endpoint-cost': '3' },
      },
    ]);
    const core = makeCore();
    const res = await core.request<{ data: { id: number } }>({
      method: 'POST',
      path: '/prospects',
      body: { data: { type: 'prospect', attributes: { email: 'a@b.test' } } },
      mediaType: 'application/vnd.api+json',
    });
    expect(res.status).toBe(201);
    expect(res.body.data.id).toBe(7);
    expect(res.requestId).toBe('req-123');
    expect(res.cost).toBe(3);
    expect(res.headers['x-request-id']).toBe('req-123');
    const sent = s.seen[0]!;
    expect(sent.headers.accept).toBe('application/vnd.api+json');
    expect(sent.headers['content-type']).toBe('application/vnd.api+json');
    expect(sent.headers.authorization).toBe(`Bearer ${FAKE_TOKEN}`);
    expect(JSON.parse(String(sent.body))).toEqual({ data: { type: 'prospect', attributes: { email: 'a@b.test' } } });
  });

  it('encodes query keys such as page[size] and drops undefined values', async () => {
    const s = script('/api/v2/users', 'GET', [{ status: 200, body: { data: [] } }]);
    await makeCore().request({
      method: 'GET',
      path: '/users',
      query: { 'page[size]': 100, 'filter[email]': 'a+b@c.test', skip: undefined, 'count': false },
    });
    expect(s.seen[0]!.path).toBe('/api/v2/users?page%5Bsize%5D=100&filter%5Bemail%5D=a%2Bb%40c.test&count=false');
    expect(s.seen[0]!.headers['content-type']).toBeUndefined();
    expect(s.seen[0]!.headers.accept).toBe('application/json');
  });

  it('returns undefined for 204 and fails with invalid_response on a broken JSON body', async () => {
    script('/api/v2/users/1', 'DELETE', [{ status: 204 }]);
    const res = await makeCore().request({ method: 'DELETE', path: '/users/1' });
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();

    // Broken every time: asked again up to the retry budget, then reported.
    const s = script('/api/v2/users/2', 'GET', [{ status: 200, body: '{"data": [' }]);
    const err = await failure(makeCore({ retry: { baseDelayMs: 1, maxDelayMs: 4, maxRetries: 2 } }).request({ method: 'GET', path: '/users/2' }));
    expect(err.code).toBe('invalid_response');
    expect(err.ambiguous).toBe(false);
    expect(s.seen).toHaveLength(3);
  });

  it('a GET whose body arrives broken once is asked again and succeeds', async () => {
    const s = script('/api/v2/users/4', 'GET', [{ status: 200, body: '{"data": [' }, { status: 200, body: { data: { id: '4' } } }]);
    const res = await makeCore().request({ method: 'GET', path: '/users/4' });
    expect(res.body).toEqual({ data: { id: '4' } });
    expect(s.seen).toHaveLength(2);
  });

  it('an idempotent write answered 2xx with a broken body is sent again: the second answer is read', async () => {
    const s = script('/api/v2/users/5', 'PATCH', [{ status: 200, body: '{"data": {"id": "5", "attr' }, { status: 200, body: { data: { id: '5' } } }]);
    const res = await makeCore().request({ method: 'PATCH', path: '/users/5', body: { data: { id: '5' } }, idempotent: true });
    expect(res.body).toEqual({ data: { id: '5' } });
    expect(s.seen).toHaveLength(2);
  });

  it('an idempotent write answered 2xx unreadably, whose repeat then fails, is reported as possibly applied', async () => {
    script('/api/v2/users/6', 'PATCH', [{ status: 200, body: '{"data": {"id": "6", "attr' }, { status: 422, body: { errors: [{ detail: 'no' }] } }]);
    const err = await failure(makeCore().request({ method: 'PATCH', path: '/users/6', body: { data: { id: '6' } }, idempotent: true }));
    expect(err).toMatchObject({ code: 'bad_request', ambiguous: true });
    expect(err.message).toMatch(/accepted this change once already .* most likely been made; repeating it then failed: .*Check the current state before retrying/);
  });

  it('a 4xx the caller reads itself (acceptStatus) with a broken JSON body is not "applied"', async () => {
    script('/oauth/token', 'POST', [{ status: 400, body: '{"error": "inva' }]);
    const err = await failure(makeCore({ baseUrl: ORIGIN }).request({ method: 'POST', path: '/oauth/token', body: new URLSearchParams({ grant_type: 'refresh_token' }), noAuth: true, acceptStatus: (st) => st >= 400 && st < 500 }));
    expect(err).toMatchObject({ code: 'invalid_response', status: 400, ambiguous: false });
  });

  it('a 2xx to a non-idempotent write whose body is not valid JSON is ambiguous and not repeated: the vendor processed it', async () => {
    const s = script('/api/v2/users', 'POST', [{ status: 201, body: '{"data": {"id": "3", "attr' }]);
    const err = await failure(makeCore().request({ method: 'POST', path: '/users', body: { data: { type: 'user' } } }));
    expect(err).toMatchObject({ code: 'invalid_response', status: 201, ambiguous: true });
    expect(err.message).toMatch(/most likely been processed, so the change may already be made.*check the current state before retrying/);
    expect(s.seen).toHaveLength(1);
  });
});

describe('HttpCore form bodies and caller-read statuses (token requests)', () => {
  it('sends a URLSearchParams body form-encoded, keeping the media type as Accept', async () => {
    const s = script('/oauth/token', 'POST', [{ status: 200, body: { access_token: 'at' } }]);
    const core = makeCore({ baseUrl: ORIGIN });
    await core.request({ method: 'POST', path: '/oauth/token', body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'a b' }), noAuth: true });
    const sent = s.seen[0]!;
    expect(sent.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(sent.headers.accept).toBe('application/json');
    expect(String(sent.body)).toBe('grant_type=client_credentials&scope=a+b');
  });

  it('acceptStatus hands a 400 back to the caller, while a 429 is still retried and a 5xx still fails', async () => {
    script('/oauth/token', 'POST', [{ status: 429, headers: { 'retry-after': '0' } }, { status: 400, body: { error: 'invalid_grant' } }]);
    const core = makeCore({ baseUrl: ORIGIN });
    const accept = (status: number) => status >= 400 && status < 500;
    const res = await core.request({ method: 'POST', path: '/oauth/token', body: 'x', noAuth: true, acceptStatus: accept });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    script('/oauth/other', 'POST', [{ status: 503 }]);
    const err = await failure(core.request({ method: 'POST', path: '/oauth/other', body: 'x', noAuth: true, acceptStatus: accept }));
    expect(err.code).toBe('unavailable');
  });

  it('cuts credential-named body fields out of messages, even where a pattern would only catch part of them', async () => {
    const password = 'S3cret pass-phrase!';
    script('/authenticate', 'POST', [{ status: 401, body: { message: `Invalid username or password: ${password}` } }]);
    script('/oauth/token', 'POST', [{ status: 400, body: { error: 'invalid_grant', error_description: `token rt long one ${'rt-9Xy7-refresh'} expired` } }]);
    const core = makeCore({ baseUrl: ORIGIN });
    const e1 = await failure(core.request({ method: 'POST', path: '/authenticate', body: { username: 'api@acme.test', password }, noAuth: true }));
    const e2 = await failure(core.request({ method: 'POST', path: '/oauth/token', body: new URLSearchParams({ refresh_token: 'rt-9Xy7-refresh' }), noAuth: true }));
    for (const e of [e1, e2]) {
      const all = `${e.message} ${e.detail}`;
      expect(all).toContain('[redacted]');
      expect(all).not.toMatch(/pass-phrase|9Xy7/);
    }
  });

  it('a credential that could not be obtained fails the request as not applied, however ambiguous its token request was', async () => {
    const lost = new VendorError({ vendor: 'outreach', code: 'unauthorized', ambiguous: true, message: 'token refresh lost; run `sales-access-mcp auth outreach`' });
    const auth = fakeAuth();
    auth.headers.mockRejectedValueOnce(lost);
    const core = makeCore({ auth });
    const e1 = await failure(core.request({ method: 'POST', path: '/users', body: {} }));
    expect(e1).toMatchObject({ code: 'unauthorized', ambiguous: false, message: lost.message });

    script('/api/v2/users', 'POST', [{ status: 401 }]);
    auth.onUnauthorized.mockRejectedValueOnce(lost);
    const e2 = await failure(core.request({ method: 'POST', path: '/users', body: {} }));
    expect(e2).toMatchObject({ code: 'unauthorized', ambiguous: false });
  });
});

describe('HttpCore retries on 429', () => {
  it('waits Retry-After seconds, then retries (even a POST)', async () => {
    const clock = new SpyClock();
    const s = script('/api/v2/mailboxes', 'POST', [
      { status: 429, headers: { 'retry-after': '20' } },
      { status: 200, body: { ok: true } },
    ]);
    const core = makeCore({ clock });
    const p = track(core.request({ method: 'POST', path: '/mailboxes', body: {} }));
    await until(() => clock.sleeps.includes(20_000), 'the Retry-After wait');
    expect(s.seen.length).toBe(1);
    clock.advance(19_999);
    await settle();
    expect(s.seen.length).toBe(1);
    expect(p.done).toBe(false);
    clock.advance(1);
    await until(() => p.done, 'retry');
    expect(s.seen.length).toBe(2);
    expect(core.budget().last_429_at).toBe(new Date(clock.now() - 20_000).toISOString());
  });

  it('waits until a Retry-After HTTP-date', async () => {
    const clock = new SpyClock();
    const at = new Date(clock.now() + 30_000).toUTCString();
    const s = script('/api/v2/users', 'GET', [{ status: 429, headers: { 'retry-after': at } }, { status: 200, body: {} }]);
    const p = track(makeCore({ clock }).request({ method: 'GET', path: '/users' }));
    await until(() => clock.sleeps.includes(30_000), 'the Retry-After wait');
    clock.advance(29_000);
    await settle();
    expect(s.seen.length).toBe(1);
    clock.advance(1_000);
    await until(() => p.done);
    expect(s.seen.length).toBe(2);
  });

  it('without Retry-After uses the reset header, and holds other requests of the bucket meanwhile', async () => {
    const clock = new SpyClock();
    const reset = String(clock.now() / 1000 + 45);
    const s = script('/api/v2/users', 'GET', [
      { status: 429, headers: { 'x-ratelimit-limit': '10000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset } },
      { status: 200, body: {} },
    ]);
    const core = makeCore({ clock });
    const first = track(core.request({ method: 'GET', path: '/users' }));
    await until(() => clock.sleeps.includes(45_000), 'the reset wait');
    const other = track(core.request({ method: 'GET', path: '/users' }));
    await until(() => clock.sleeps.filter((ms) => ms === 45_000).length === 2, 'the limiter hold');
    clock.advance(44_999);
    await settle();
    expect(s.seen.length).toBe(1); // neither the retry nor the other request went out
    clock.advance(1);
    await until(() => first.done && other.done);
    expect(s.seen.length).toBe(3);
  });

  it('without any hint backs off exponentially, bounded by maxRetries', async () => {
    const clock = new SpyClock();
    const s = script('/api/v2/users', 'GET', [{ status: 429 }]);
    const core = makeCore({ clock, retry: { baseDelayMs: 1_000, maxDelayMs: 60_000, maxRetries: 2 } });
    // Full jitter draws from [0, base * 2^attempt]; pin the draw at the middle.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const p = track(core.request({ method: 'GET', path: '/users' }));
    await until(() => clock.sleeps.length === 1, 'first backoff');
    expect(clock.sleeps).toEqual([500]);
    clock.advance(500);
    await until(() => clock.sleeps.length === 2, 'second backoff');
    expect(clock.sleeps).toEqual([500, 1_000]);
    clock.advance(1_000);
    await until(() => p.failed);
    expect(s.seen.length).toBe(3);
    const err = p.error as VendorError;
    expect(err.code).toBe('rate_limited');
    // The third 429 would have waited 2 s more, but the retries are spent.
    expect(err.message).toBe('Outreach rate limit reached; retry after 2 s (about 09:00:03 UTC).');
    random.mockRestore();
  });

  it('fails at once, saying when to retry, when the wait would pass the deadline', async () => {
    const clock = new ManualClock(); // 2026-11-02T09:00:00Z
    const s = script('/api/v2/users', 'GET', [{ status: 429, headers: { 'retry-after': '600' } }]);
    const err = await failure(makeCore({ clock }).request({ method: 'GET', path: '/users' }));
    expect(s.seen.length).toBe(1);
    expect(err.code).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(600_000);
    expect(err.message).toBe('Outreach rate limit reached; retry after 10 min (about 09:10:00 UTC).');
  });
});

describe('HttpCore retries on 5xx and connection errors', () => {
  it('retries a 503 for GET', async () => {
    const s = script('/api/v2/users', 'GET', [{ status: 503 }, { status: 200, body: { data: [] } }]);
    const res = await makeCore().request({ method: 'GET', path: '/users' });
    expect(res.status).toBe(200);
    expect(s.seen.length).toBe(2);
  });

  it('does not retry a 503 for POST', async () => {
    const s = script('/api/v2/users', 'POST', [{ status: 503 }, { status: 200, body: {} }]);
    const err = await failure(makeCore().request({ method: 'POST', path: '/users', body: {} }));
    expect(s.seen.length).toBe(1);
    expect(err.code).toBe('unavailable');
    expect(err.ambiguous).toBe(false);
    expect(err.message).toBe('Outreach is unavailable (503); retry later.');
  });

  it('retries a POST marked idempotent', async () => {
    const s = script('/api/v2/users', 'POST', [{ status: 502 }, { status: 200, body: {} }]);
    await makeCore().request({ method: 'POST', path: '/users', body: {}, idempotent: true });
    expect(s.seen.length).toBe(2);
  });

  it('reports an idempotent PATCH whose retries end in a gateway error as possibly applied', async () => {
    const s = script('/api/v2/users/1', 'PATCH', [{ status: 504 }]);
    const err = await failure(makeCore({ retry: { baseDelayMs: 1, maxRetries: 2 } }).request({ method: 'PATCH', path: '/users/1', body: {}, idempotent: true }));
    expect(s.seen.length).toBe(3);
    expect(err.ambiguous).toBe(true);
    expect(err.message).toContain('may have applied the change anyway');
  });

  it('retries a connection reset on GET', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const s = script('/api/v2/users', 'GET', [reset, { status: 200, body: { data: [] } }]);
    const res = await makeCore().request({ method: 'GET', path: '/users' });
    expect(res.status).toBe(200);
    expect(s.seen.length).toBe(1); // the reset attempt is not seen by the callback; the retry is
  });

  it('fails a POST whose connection reset with an ambiguous error, without retrying', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const s = script('/api/v2/users', 'POST', [reset, { status: 200, body: {} }]);
    const err = await failure(makeCore().request({ method: 'POST', path: '/users', body: {} }));
    expect(s.seen.length).toBe(0);
    expect(err.code).toBe('network');
    expect(err.ambiguous).toBe(true);
    expect(err.message).toContain('may have applied it');
    expect(err.message).toContain(ORIGIN);
  });

  it('reports a refused connection as not applied', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    script('/api/v2/users', 'POST', [refused]);
    const err = await failure(makeCore().request({ method: 'POST', path: '/users', body: {} }));
    expect(err.ambiguous).toBe(false);
    expect(err.message).toBe(`Could not reach Outreach at ${ORIGIN} (ECONNREFUSED); check the network and retry later.`);
  });

  it('gives up on a GET after maxRetries connection errors', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'UND_ERR_SOCKET' });
    script('/api/v2/users', 'GET', [reset]);
    const err = await failure(makeCore({ retry: { baseDelayMs: 1, maxRetries: 2 } }).request({ method: 'GET', path: '/users' }));
    expect(err.code).toBe('network');
    expect(err.ambiguous).toBe(false);
    // 3 of the 12 one-shot interceptors were used: the first attempt and two retries.
    expect(agent.pendingInterceptors().length).toBe(9);
  });
});

describe('HttpCore and AbortSignal', () => {
  it('stops waiting for a retry when the caller aborts', async () => {
    const clock = new SpyClock();
    const s = script('/api/v2/users', 'GET', [{ status: 429, headers: { 'retry-after': '20' } }]);
    const ac = new AbortController();
    const p = track(makeCore({ clock }).request({ method: 'GET', path: '/users', signal: ac.signal }));
    await until(() => clock.sleeps.includes(20_000), 'the Retry-After wait');
    ac.abort(new Error('caller gave up'));
    await until(() => p.failed, 'the abort');
    expect((p.error as Error).message).toBe('caller gave up');
    expect(s.seen.length).toBe(1);
  });

  it('reports a write aborted in flight as ambiguous', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v2/users', method: 'POST' })
      .reply(201, '{}', { headers: JSON_HEADERS })
      .delay(500);
    const ac = new AbortController();
    const p = makeCore().request({ method: 'POST', path: '/users', body: {}, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    const err = await failure(p);
    expect(err.ambiguous).toBe(true);
    expect(err.message).toContain('cancelled after it was sent');
  });
});

describe('HttpCore never retries client errors', () => {
  const cases: [number, string][] = [
    [400, 'bad_request'],
    [403, 'forbidden'],
    [404, 'not_found'],
    [409, 'conflict'],
    [410, 'not_found'],
    [412, 'conflict'],
    [422, 'bad_request'],
  ];
  for (const [status, code] of cases) {
    it(`${status} → ${code}, one call`, async () => {
      const s = script('/api/v2/users/5', 'GET', [
        { status, body: { errors: [{ title: 'Problem', detail: `status ${status} happened` }] } },
        { status: 200, body: {} },
      ]);
      const err = await failure(makeCore().request({ method: 'GET', path: '/users/5' }));
      expect(s.seen.length).toBe(1);
      expect(err.code).toBe(code);
      expect(err.status).toBe(status);
      expect(err.message).toContain(`Problem: status ${status} happened`);
    });
  }

  it('says what 403 and 404 mean', async () => {
    script('/api/v2/a', 'GET', [{ status: 403 }]);
    script('/api/v2/b', 'GET', [{ status: 404 }]);
    const forbidden = await failure(makeCore().request({ method: 'GET', path: '/a' }));
    const missing = await failure(makeCore().request({ method: 'GET', path: '/b', query: { secret_q: 'x' } }));
    expect(forbidden.message).toContain('the credential lacks permission/scope for this operation');
    expect(missing.message).toBe('Outreach found no such resource (404 for GET /b). Check the id, or look the record up again.');
    expect(missing.detail).toBe('GET /b (query: secret_q) -> 404');
  });
});

describe('HttpCore on 401', () => {
  it('refreshes once and repeats the request with fresh headers', async () => {
    const auth = fakeAuth(true);
    const s = script('/api/v2/users', 'GET', [{ status: 401 }, { status: 200, body: {} }]);
    const res = await makeCore({ auth }).request({ method: 'GET', path: '/users' });
    expect(res.status).toBe(200);
    expect(auth.onUnauthorized).toHaveBeenCalledTimes(1);
    expect(auth.headers).toHaveBeenCalledTimes(2);
    expect(s.seen.length).toBe(2);
  });

  it('fails on a second 401', async () => {
    const auth = fakeAuth(true);
    const s = script('/api/v2/users', 'GET', [{ status: 401 }]);
    const err = await failure(makeCore({ auth }).request({ method: 'GET', path: '/users' }));
    expect(err.code).toBe('unauthorized');
    expect(auth.onUnauthorized).toHaveBeenCalledTimes(1);
    expect(s.seen.length).toBe(2);
  });

  it('fails at once with a static credential, with the vendor hint', async () => {
    const auth = fakeAuth(false);
    const s = script('/api/v2/users', 'GET', [{ status: 401 }, { status: 200, body: {} }]);
    const err = await failure(makeCore({ auth }).request({ method: 'GET', path: '/users' }));
    expect(s.seen.length).toBe(1);
    expect(auth.onUnauthorized).toHaveBeenCalledTimes(1);
    expect(err.message).toBe(
      'Outreach rejected the credentials (401). Run `sales-access-mcp auth outreach` or check OUTREACH_ACCESS_TOKEN.',
    );
  });
});

describe('HttpCore and the limiter', () => {
  it('holds requests at remaining 0 until the reported reset', async () => {
    const clock = new ManualClock();
    const reset = String(clock.now() / 1000 + 30);
    const s = script('/api/v2/users', 'GET', [
      { status: 200, body: {}, headers: { 'x-ratelimit-limit': '10000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset } },
      { status: 200, body: {} },
    ]);
    const core = makeCore({ clock });
    await core.request({ method: 'GET', path: '/users' });
    expect(core.budget().windows).toEqual([
      { name: 'hour', limit: 10_000, remaining: 0, resets_at: new Date(clock.now() + 30_000).toISOString(), bucket: 'default' },
    ]);
    const next = track(core.request({ method: 'GET', path: '/users' }));
    clock.advance(29_999);
    await settle();
    expect(s.seen.length).toBe(1);
    clock.advance(1);
    await until(() => next.done);
    expect(s.seen.length).toBe(2);
  });

  it('enforces minute and hour windows and weights through the core', async () => {
    const clock = new ManualClock();
    const s = script('/api/v2/people', 'GET', [{ status: 200, body: {} }]);
    const core = makeCore({
      vendor: 'apollo',
      clock,
      limits: {
        windows: [
          { name: 'minute', intervalMs: 60_000, limit: 3 },
          { name: 'hour', intervalMs: HOUR, limit: 4 },
        ],
      },
    });
    await core.request({ method: 'GET', path: '/people', weight: 2 });
    await core.request({ method: 'GET', path: '/people' });
    const third = track(core.request({ method: 'GET', path: '/people' }));
    await settle();
    expect(s.seen.length).toBe(2);
    clock.advance(60_000);
    await until(() => third.done);
    const fourth = track(core.request({ method: 'GET', path: '/people' }));
    clock.advance(60_000);
    await settle();
    expect(fourth.done).toBe(false); // hour window spent (2 + 1 + 1)
    expect(s.seen.length).toBe(3);
  });

  it('shares one limiter between two clients of the same vendor and identity', async () => {
    const clock = new ManualClock();
    const s = script('/api/v2/users', 'GET', [{ status: 200, body: {} }]);
    const limits: RateLimitPolicy = { windows: [{ name: 'minute', intervalMs: 60_000, limit: 1 }] };
    const identity = `oauth:${randomUUID()}`;
    const a = makeCore({ clock, limits, auth: fakeAuth(false, identity) });
    const b = makeCore({ clock, limits, auth: fakeAuth(false, identity) });
    const c = makeCore({ clock, limits, auth: fakeAuth(false, `oauth:${randomUUID()}`) });
    await a.request({ method: 'GET', path: '/users' });
    const fromB = track(b.request({ method: 'GET', path: '/users' }));
    await c.request({ method: 'GET', path: '/users' }); // another credential has its own budget
    await settle();
    expect(fromB.done).toBe(false);
    expect(s.seen.length).toBe(2);
    expect(b.budget().windows[0]).toMatchObject({ remaining: 0, bucket: 'default' });
    clock.advance(60_000);
    await until(() => fromB.done);
    expect(s.seen.length).toBe(3);
  });

  it('fails with rate_limited when the local budget has no room before the deadline', async () => {
    const clock = new ManualClock();
    script('/api/v2/users', 'GET', [{ status: 200, body: {} }]);
    const core = makeCore({ clock, limits: { windows: [{ name: 'hour', intervalMs: HOUR, limit: 1 }] } });
    await core.request({ method: 'GET', path: '/users' });
    const err = await failure(core.request({ method: 'GET', path: '/users' }));
    expect(err.code).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(HOUR);
    expect(err.message).toBe('Outreach rate limit reached (hour window, counted locally); retry after 60 min (about 10:00:00 UTC).');
  });
});

describe('secrets', () => {
  it('never puts the token in messages, details or logs, even when the vendor echoes it', async () => {
    const lines: string[] = [];
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const echo = {
      errors: [{ title: 'Invalid token', detail: `Token ${FAKE_TOKEN} is invalid (Authorization: Bearer ${FAKE_TOKEN})` }],
    };
    script('/api/v2/users', 'GET', [{ status: 401, body: echo }]);
    script('/api/v2/other', 'GET', [{ status: 400, body: echo }]);
    const core = makeCore({ log });
    const e1 = await failure(core.request({ method: 'GET', path: '/users' }));
    const e2 = await failure(core.request({ method: 'GET', path: '/other', query: { access_token: FAKE_TOKEN } }));
    for (const e of [e1, e2]) {
      const all = `${e.message} ${e.detail} ${e.toPublicText()} ${JSON.stringify(e)}`;
      expect(all).not.toContain(FAKE_TOKEN);
      expect(all).not.toContain('9f8e7d6c5b4a');
      expect(e.message).toContain('Invalid token');
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(FAKE_TOKEN);
    expect(lines.join('\n')).not.toContain('access_token');
  });

  it('scrubs secret-looking text from bodies of unauthenticated calls', async () => {
    script('/oauth/token', 'POST', [
      { status: 400, body: { error: 'invalid_grant', error_description: 'refresh_token=rt_abcdef123456 api_key: k_999888777 expired' } },
    ]);
    const core = makeCore({ baseUrl: ORIGIN });
    const err = await failure(core.request({ method: 'POST', path: '/oauth/token', body: {}, noAuth: true }));
    expect(err.message).toContain('invalid_grant');
    expect(err.message).not.toContain('rt_abcdef123456');
    expect(err.message).not.toContain('k_999888777');
  });

  it('scrubSecrets removes bearer tokens, JWTs and key=value secrets', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl';
    const out = scrubSecrets(`Bearer abcdefgh12345 ${jwt} "client_secret": "s3cr3t!!" password=hunter22 ok`);
    expect(out).toBe('Bearer [redacted] [redacted] "client_secret": "[redacted]" password=[redacted] ok');
  });
});

describe('helpers', () => {
  it('defaultErrorDetail understands JSON:API, SCIM, OAuth and message bodies', () => {
    expect(defaultErrorDetail(422, { errors: [{ title: 'Validation Error', detail: 'email is taken' }] })).toBe(
      'Validation Error: email is taken',
    );
    expect(defaultErrorDetail(409, { detail: 'User exists', scimType: 'uniqueness', status: '409' })).toBe(
      'User exists (scimType uniqueness)',
    );
    expect(defaultErrorDetail(400, { error: 'invalid_request', error_description: 'bad scope' })).toBe('invalid_request: bad scope');
    expect(defaultErrorDetail(400, { message: 'nope' })).toBe('nope');
    expect(defaultErrorDetail(422, { errors: { email: ['is taken', 'is invalid'] } })).toBe('email is taken, is invalid');
    expect(defaultErrorDetail(400, 'plain text')).toBeUndefined();
    // The full text comes back; the core scrubs it, then cuts it (see the next test).
    expect(defaultErrorDetail(400, { message: 'x'.repeat(400) })!.length).toBe(400);
  });

  it('scrubs a secret the vendor echoes before cutting the detail to 300 characters', async () => {
    // The token straddles the 300th character: cutting first would leave a prefix the scrubber cannot match.
    const body = { message: `${'x'.repeat(280)} token ${FAKE_TOKEN} ${'y'.repeat(100)}` };
    script('/api/v2/users', 'GET', [{ status: 422, body }]);
    const err = await failure(makeCore().request({ method: 'GET', path: '/users' }));
    expect(err.message).not.toContain(FAKE_TOKEN.slice(0, 8));
    const detail = /\(422\): (.*)\. Fix the input/.exec(err.message)![1];
    expect(detail.length).toBeLessThanOrEqual(300);
  });

  it('uses a custom errorDetail hook and still scrubs it', async () => {
    script('/api/v2/users', 'GET', [{ status: 422, body: { problem: `bad Bearer ${FAKE_TOKEN}` } }]);
    const core = makeCore({ errorDetail: (_s, b) => (b as { problem: string }).problem });
    const err = await failure(core.request({ method: 'GET', path: '/users' }));
    expect(err.message).toBe('Outreach rejected the request (422): bad [redacted]. Fix the input; sending it unchanged will fail again.');
  });

  it('credentialFingerprint is 16 hex, stable and distinct per secret', () => {
    const a = credentialFingerprint('secret-one');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(credentialFingerprint('secret-one')).toBe(a);
    expect(credentialFingerprint('secret-two')).not.toBe(a);
  });
});
