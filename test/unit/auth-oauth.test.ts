import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientCredentialsProvider, OAuthRefreshProvider, type OAuthRefreshOptions } from '../../src/auth/oauth.js';
import { TokenStore, type TokenRecordInput } from '../../src/auth/token-store.js';
import { ManualClock } from '../../src/clock.js';
import { VendorError } from '../../src/errors.js';
import { clearLimiters } from '../../src/http/limiter.js';
import { closeServer, listenLoopback } from '../../src/sandbox/http-util.js';

const CLIENT_ID = 'client-1';
const CLIENT_SECRET = 'client-secret-1';

/**
 * A tiny OAuth server with refresh-token rotation: each refresh token works once; a used or unknown one
 * gets invalid_grant. `GET /api/me` stands for a vendor API call and records, at the first use of each
 * access token, what the token store file held at that moment.
 */
class FakeOAuth {
  server: Server;
  url = '';
  validRefresh = new Set<string>();
  validAccess = new Set<string>();
  sentRefreshTokens: string[] = [];
  refreshCalls = 0;
  ccCalls = 0;
  counter = 0;
  expiresIn = 7200;
  rotate = true;
  /** When set, token requests wait for it. */
  gate: Promise<void> | undefined;
  /** The next token answer is replaced by this. */
  override: { status: number; body: string } | undefined;
  storeFile = '';
  storeAtFirstUse = new Map<string, unknown>();
  lastForm: URLSearchParams | undefined;
  lastAuthHeader: string | undefined;

  constructor() {
    this.server = createServer((req, res) => {
      this.handle(req)
        .then(({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' }).end(body);
        })
        .catch((e: unknown) => res.writeHead(500).end(String(e)));
    });
  }

  async start(): Promise<void> {
    this.url = await listenLoopback(this.server);
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  issueRefresh(): string {
    const rt = `rt-${++this.counter}`;
    this.validRefresh.add(rt);
    return rt;
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: string }> {
    let raw = '';
    for await (const c of req) raw += c;
    if (req.method === 'GET' && req.url === '/api/me') {
      const tok = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!this.validAccess.has(tok)) return { status: 401, body: '{}' };
      if (!this.storeAtFirstUse.has(tok)) {
        this.storeAtFirstUse.set(tok, JSON.parse(await readFile(this.storeFile, 'utf8').catch(() => 'null')));
      }
      return { status: 200, body: JSON.stringify({ ok: true }) };
    }
    const form = new URLSearchParams(raw);
    this.lastForm = form;
    this.lastAuthHeader = req.headers.authorization;
    if (this.gate) await this.gate;
    if (this.override) {
      const o = this.override;
      this.override = undefined;
      return o;
    }
    const grant = form.get('grant_type');
    const basic = req.headers.authorization?.startsWith('Basic ')
      ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString().split(':').map(decodeURIComponent)
      : undefined;
    const [cid, csec] = basic ?? [form.get('client_id'), form.get('client_secret')];
    if (cid !== CLIENT_ID || csec !== CLIENT_SECRET) return { status: 401, body: JSON.stringify({ error: 'invalid_client' }) };
    const at = `at-${++this.counter}`;
    if (grant === 'client_credentials') {
      this.ccCalls++;
      this.validAccess.add(at);
      return { status: 200, body: JSON.stringify({ access_token: at, token_type: 'bearer', expires_in: this.expiresIn }) };
    }
    if (grant !== 'refresh_token') return { status: 400, body: JSON.stringify({ error: 'unsupported_grant_type' }) };
    this.refreshCalls++;
    const rt = form.get('refresh_token') ?? '';
    this.sentRefreshTokens.push(rt);
    if (!this.validRefresh.has(rt)) {
      return { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: `refresh token ${rt} is not valid` }) };
    }
    this.validAccess.add(at);
    const body: Record<string, unknown> = { access_token: at, token_type: 'bearer', expires_in: this.expiresIn, scope: 'users.read users.write' };
    if (this.rotate) {
      this.validRefresh.delete(rt);
      body.refresh_token = this.issueRefresh();
    }
    return { status: 200, body: JSON.stringify(body) };
  }
}

let fake: FakeOAuth;
let dir: string;
let store: TokenStore;
let clock: ManualClock;

beforeEach(async () => {
  fake = new FakeOAuth();
  await fake.start();
  dir = await mkdtemp(path.join(tmpdir(), 'oauth-'));
  clock = new ManualClock();
  store = new TokenStore(dir, { clock });
  fake.storeFile = store.filePath('outreach');
});
afterEach(async () => {
  // Token requests go through the HTTP core, whose limiters are process-wide and keep the first caller's
  // clock; every test here has its own ManualClock for the same OAuth client.
  clearLimiters();
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

function provider(extra: Partial<OAuthRefreshOptions> = {}): OAuthRefreshProvider {
  return new OAuthRefreshProvider({
    vendor: 'outreach',
    tokenUrl: `${fake.url}/oauth/token`,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    store,
    clock,
    ...extra,
  });
}

async function callApi(headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${fake.url}/api/me`, { headers });
  await res.text();
  return res.status;
}

const bearer = (h: Record<string, string>) => h.Authorization.replace('Bearer ', '');

describe('OAuthRefreshProvider', () => {
  it('has the oauth identity and kind', () => {
    const p = provider();
    expect(p.kind).toBe('oauth_refresh');
    expect(p.identity).toBe('oauth:client-1');
  });

  it('persists the rotated refresh token before the new access token is used, and never resends the old one', async () => {
    const seed = fake.issueRefresh();
    const p = provider({ seedRefreshToken: seed });
    const h = await p.headers();
    expect(await callApi(h)).toBe(200);
    const onDisk = fake.storeAtFirstUse.get(bearer(h)) as { refresh_token: string; access_token: string };
    expect(onDisk.refresh_token).not.toBe(seed);
    expect(fake.validRefresh.has(onDisk.refresh_token)).toBe(true);
    expect(onDisk.access_token).toBe(bearer(h));

    clock.advance(7200_000);
    const h2 = await p.headers();
    expect(await callApi(h2)).toBe(200);
    expect(fake.sentRefreshTokens).toEqual([seed, onDisk.refresh_token]);
    const onDisk2 = fake.storeAtFirstUse.get(bearer(h2)) as { refresh_token: string };
    expect(onDisk2.refresh_token).not.toBe(onDisk.refresh_token);
    expect(fake.validRefresh.has(onDisk2.refresh_token)).toBe(true);
  });

  it('single-flight: 10 concurrent headers() share one refresh', async () => {
    const p = provider({ seedRefreshToken: fake.issueRefresh() });
    let open!: () => void;
    fake.gate = new Promise((r) => (open = r));
    const all = Promise.all(Array.from({ length: 10 }, () => p.headers()));
    await new Promise((r) => setTimeout(r, 50));
    open();
    const hs = await all;
    expect(fake.refreshCalls).toBe(1);
    expect(new Set(hs.map(bearer)).size).toBe(1);
  });

  it('refreshes only within the expiry margin', async () => {
    fake.expiresIn = 3600;
    const p = provider({ seedRefreshToken: fake.issueRefresh() });
    const h1 = await p.headers();
    expect(fake.refreshCalls).toBe(1);
    clock.advance(3600_000 - 121_000);
    expect(await p.headers()).toEqual(h1);
    expect(fake.refreshCalls).toBe(1);
    clock.advance(2_000);
    const h3 = await p.headers();
    expect(fake.refreshCalls).toBe(2);
    expect(h3).not.toEqual(h1);
  });

  it('a custom margin is honoured, and a token shorter-lived than the margin does not refresh on every call', async () => {
    fake.expiresIn = 60;
    const p = provider({ seedRefreshToken: fake.issueRefresh(), expiryMarginMs: 10 * 60_000 });
    await p.headers();
    await p.headers();
    expect(fake.refreshCalls).toBe(1);
    clock.advance(31_000);
    await p.headers();
    expect(fake.refreshCalls).toBe(2);
  });

  it('keeps using a not-yet-expired token when an early refresh hits a transient failure', async () => {
    fake.expiresIn = 3600;
    const p = provider({ seedRefreshToken: fake.issueRefresh() });
    const h1 = await p.headers();
    clock.advance(3600_000 - 60_000); // inside the margin, not expired
    fake.override = { status: 503, body: '{}' };
    expect(await p.headers()).toEqual(h1);
    clock.advance(60_000); // expired now: the next failure is not hidden
    fake.override = { status: 503, body: '{}' };
    await expect(p.headers()).rejects.toMatchObject({ code: 'unavailable' });
    expect(await callApi(await p.headers())).toBe(200);
  });

  it('ignores the environment seed once the store holds a token', async () => {
    const storedRt = fake.issueRefresh();
    await store.write('outreach', { refresh_token: storedRt });
    const p = provider({ seedRefreshToken: 'rt-from-env-long-dead', seedAccessToken: 'at-from-env' });
    const h = await p.headers();
    expect(fake.sentRefreshTokens).toEqual([storedRt]);
    expect(bearer(h)).not.toBe('at-from-env');
  });

  it('uses a stored, unexpired access token without refreshing', async () => {
    fake.validAccess.add('at-stored');
    const rec: TokenRecordInput = {
      refresh_token: fake.issueRefresh(),
      access_token: 'at-stored',
      access_expires_at: new Date(clock.now() + 3600_000).toISOString(),
    };
    await store.write('outreach', rec);
    const h = await provider({ seedRefreshToken: 'rt-env' }).headers();
    expect(h).toEqual({ Authorization: 'Bearer at-stored' });
    expect(fake.refreshCalls).toBe(0);
  });

  it('a restart uses the stored (rotated) token, not the spent one from the environment', async () => {
    const seed = fake.issueRefresh();
    await provider({ seedRefreshToken: seed }).headers();
    const rotated = (await store.read('outreach'))?.refresh_token;
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(seed);

    clock.advance(8 * 3600_000); // the stored access token has expired too
    const restarted = provider({ seedRefreshToken: seed });
    const h = await restarted.headers();
    expect(await callApi(h)).toBe(200);
    expect(fake.sentRefreshTokens).toEqual([seed, rotated]);
  });

  it('invalid_grant tells the admin to run `sales-access-mcp auth`, without any token in the error', async () => {
    const p = provider({ seedRefreshToken: 'rt-dead-0123456789' });
    const err = (await p.headers().catch((e: unknown) => e)) as VendorError;
    expect(err).toBeInstanceOf(VendorError);
    expect(err.code).toBe('unauthorized');
    expect(err.message).toContain('sales-access-mcp auth outreach');
    expect(JSON.stringify({ m: err.message, d: err.detail, s: err.stack })).not.toContain('rt-dead-0123456789');
    // A dead token is not sent again: the next call fails without touching the token endpoint.
    await expect(p.headers()).rejects.toThrow(/sales-access-mcp auth outreach/);
    expect(fake.sentRefreshTokens).toEqual(['rt-dead-0123456789']);
  });

  it('after invalid_grant, the stale stored record (dead refresh token, revoked access token) is not reused', async () => {
    fake.validAccess.add('at-revoked');
    await store.write('outreach', {
      refresh_token: 'rt-dead-stored',
      access_token: 'at-revoked',
      access_expires_at: new Date(clock.now() + 3600_000).toISOString(),
    });
    const p = provider();
    expect(await p.headers()).toEqual({ Authorization: 'Bearer at-revoked' });
    fake.validAccess.delete('at-revoked'); // revoked by an admin in the vendor's UI
    await expect(p.onUnauthorized()).rejects.toThrow(/sales-access-mcp auth outreach/);
    clock.advance(60_000);
    await expect(p.headers()).rejects.toThrow(/sales-access-mcp auth outreach/);
    await expect(p.onUnauthorized()).rejects.toThrow(/sales-access-mcp auth outreach/);
    expect(fake.sentRefreshTokens).toEqual(['rt-dead-stored']);
  });

  it('picks up tokens written by a new `auth` run while it is running', async () => {
    const p = provider({ seedRefreshToken: 'rt-dead' });
    await expect(p.headers()).rejects.toThrow(/invalid_grant/);
    await store.write('outreach', { refresh_token: fake.issueRefresh() }); // what `sales-access-mcp auth` leaves
    const h = await p.headers();
    expect(await callApi(h)).toBe(200);
  });

  it('onUnauthorized forces one refresh and shares it between concurrent 401s', async () => {
    const p = provider({ seedRefreshToken: fake.issueRefresh() });
    const h1 = await p.headers();
    clock.advance(60_000);
    const results = await Promise.all([p.onUnauthorized(), p.onUnauthorized(), p.onUnauthorized()]);
    expect(results).toEqual([true, true, true]);
    expect(fake.refreshCalls).toBe(2);
    const h2 = await p.headers();
    expect(h2).not.toEqual(h1);
    expect(await callApi(h2)).toBe(200);
  });

  it('a 401 carrying the current token refreshes even right after a refresh; one carrying a replaced token does not', async () => {
    const p = provider({ seedRefreshToken: fake.issueRefresh() });
    const h1 = await p.headers();
    expect(fake.refreshCalls).toBe(1);
    // The vendor rejects the token we hold (revoked or expired early): refresh at once, no grace period.
    expect(await p.onUnauthorized(h1)).toBe(true);
    expect(fake.refreshCalls).toBe(2);
    const h2 = await p.headers();
    expect(h2).not.toEqual(h1);
    // A late 401 for a request sent with h1 shares the refresh already done.
    expect(await p.onUnauthorized(h1)).toBe(true);
    expect(fake.refreshCalls).toBe(2);
    expect(await p.headers()).toEqual(h2);
  });

  it('stops loudly when the rotated refresh token cannot be saved, and never resends the spent one', async () => {
    class FailingStore extends TokenStore {
      override async write(): Promise<never> {
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      }
    }
    const failing = new FailingStore(dir);
    const seed = fake.issueRefresh();
    const p = provider({ seedRefreshToken: seed, store: failing });
    const err = (await p.headers().catch((e: unknown) => e)) as VendorError;
    expect(err).toBeInstanceOf(VendorError);
    expect(err.message).toMatch(/could not be saved/);
    expect(err.message).toContain('ENOSPC');
    expect(err.message).toContain('sales-access-mcp auth outreach');
    expect(err.message).not.toMatch(/rt-|at-\d/);
    await expect(p.headers()).rejects.toThrow(/could not be saved/);
    await expect(p.onUnauthorized()).rejects.toThrow(/could not be saved/);
    expect(fake.sentRefreshTokens).toEqual([seed]);
    expect(fake.storeAtFirstUse.size).toBe(0);
  });

  it('keeps token values out of errors for odd token endpoint answers', async () => {
    const p = provider({ seedRefreshToken: fake.issueRefresh() });
    // A 503 is refused before processing (a 502 or 504 may come after it: see auth-token-http.test.ts).
    fake.override = { status: 503, body: JSON.stringify({ access_token: 'at-leaky2' }) };
    const e2 = (await p.headers().catch((e: unknown) => e)) as VendorError;
    expect(e2.code).toBe('unavailable');
    // A 200 whose body cannot be read: the vendor acted on the refresh, and whether it rotated the refresh
    // token is unknown, so this no longer ends as invalid_response but as "run `auth` again".
    fake.override = { status: 200, body: 'access_token=at-leaky&refresh_token=rt-leaky' };
    const e1 = (await p.headers().catch((e: unknown) => e)) as VendorError;
    expect(e1.code).toBe('unauthorized');
    expect(e1.message).toContain('sales-access-mcp auth outreach');
    for (const e of [e1, e2]) {
      expect(`${e.message} ${e.detail} ${e.stack}`).not.toMatch(/leaky|rt-\d|client-secret/);
    }
  });

  it('still saves a rotated refresh token when the access token in the same answer is unusable', async () => {
    const p = provider({ seedRefreshToken: fake.issueRefresh() });
    fake.override = { status: 200, body: JSON.stringify({ refresh_token: 'rt-new-but-odd', token_type: 'mac', access_token: 'x' }) };
    await expect(p.headers()).rejects.toThrow(/token_type/);
    expect((await store.read('outreach'))?.refresh_token).toBe('rt-new-but-odd');
  });

  it('sends client_id and client_secret in the body by default (client_secret_post), or as Basic when configured', async () => {
    await provider({ seedRefreshToken: fake.issueRefresh() }).headers();
    expect(fake.lastForm?.get('client_id')).toBe(CLIENT_ID);
    expect(fake.lastForm?.get('client_secret')).toBe(CLIENT_SECRET);
    expect(fake.lastAuthHeader).toBeUndefined();

    clock.advance(8 * 3600_000);
    await provider({ clientAuth: 'client_secret_basic' }).headers();
    expect(fake.lastForm?.get('client_secret')).toBeNull();
    expect(fake.lastAuthHeader).toMatch(/^Basic /);
  });

  it('refuses a plain-http token URL that is not loopback', async () => {
    const p = provider({ seedRefreshToken: 'rt', tokenUrl: 'http://api.example.com/oauth/token' });
    await expect(p.headers()).rejects.toMatchObject({ code: 'config' });
  });

  it('reports a 0644 token file as a config error naming chmod', async () => {
    await store.write('outreach', { refresh_token: 'rt-x' });
    const { chmod } = await import('node:fs/promises');
    await chmod(store.filePath('outreach'), 0o644);
    await expect(provider().headers()).rejects.toMatchObject({ code: 'config', message: expect.stringContaining('chmod 600') });
  });

  it('honours the caller signal without cancelling the shared refresh', async () => {
    const p = provider({ seedRefreshToken: fake.issueRefresh() });
    let open!: () => void;
    fake.gate = new Promise((r) => (open = r));
    const ac = new AbortController();
    const aborted = p.headers(ac.signal);
    const other = p.headers();
    await new Promise((r) => setTimeout(r, 30));
    ac.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    open();
    expect(await callApi(await other)).toBe(200);
    expect(fake.refreshCalls).toBe(1);
  });
});

describe('ClientCredentialsProvider', () => {
  it('caches the token until the margin and refetches after', async () => {
    fake.expiresIn = 3600;
    const p = new ClientCredentialsProvider({
      vendor: 'outreach',
      tokenUrl: `${fake.url}/oauth/token`,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: ['users.read'],
      clock,
    });
    expect(p.kind).toBe('oauth_client_credentials');
    expect(p.identity).toBe('oauth:client-1');
    const [a, b] = await Promise.all([p.headers(), p.headers()]);
    expect(a).toEqual(b);
    expect(fake.ccCalls).toBe(1);
    expect(fake.lastForm?.get('scope')).toBe('users.read');
    expect(await callApi(a)).toBe(200);
    clock.advance(3600_000 - 119_000);
    const c = await p.headers();
    expect(fake.ccCalls).toBe(2);
    expect(c).not.toEqual(a);
  });

  it('invalid_client is a config error naming the client credentials', async () => {
    const p = new ClientCredentialsProvider({
      vendor: 'outreach',
      tokenUrl: `${fake.url}/oauth/token`,
      clientId: CLIENT_ID,
      clientSecret: 'wrong-secret-value',
      clock,
      clientAuth: 'client_secret_basic',
    });
    const err = (await p.headers().catch((e: unknown) => e)) as VendorError;
    expect(err.code).toBe('config');
    expect(err.message).toMatch(/client id and client secret/);
    expect(err.message).not.toContain('wrong-secret-value');
  });
});
