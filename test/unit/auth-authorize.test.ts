import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAuthorizationCodeFlow, type AuthorizationCodeFlowOptions } from '../../src/auth/authorize.js';
import { TokenStore } from '../../src/auth/token-store.js';
import { ManualClock } from '../../src/clock.js';
import { clearLimiters } from '../../src/http/limiter.js';
import { closeServer, listenLoopback } from '../../src/sandbox/http-util.js';
import { offlineAgent } from '../support/mock-http.js';
import { freePort } from '../support/timing.js';

/**
 * A fake vendor: GET /oauth/authorize "signs the user in" at once and redirects to redirect_uri with a
 * code; POST /oauth/token checks the code, redirect_uri and PKCE verifier.
 */
class FakeVendor {
  server: Server;
  url = '';
  codes = new Map<string, { challenge: string; redirectUri: string }>();
  authorizeParams: URLSearchParams | undefined;
  tokenForms: URLSearchParams[] = [];

  constructor() {
    this.server = createServer(async (req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && u.pathname === '/oauth/authorize') {
        this.authorizeParams = u.searchParams;
        const code = `code-${this.codes.size + 1}`;
        this.codes.set(code, { challenge: u.searchParams.get('code_challenge') ?? '', redirectUri: u.searchParams.get('redirect_uri') ?? '' });
        const back = new URL(u.searchParams.get('redirect_uri') ?? '');
        back.searchParams.set('code', code);
        back.searchParams.set('state', u.searchParams.get('state') ?? '');
        res.writeHead(302, { location: back.toString() }).end();
        return;
      }
      let raw = '';
      for await (const c of req) raw += c;
      const form = new URLSearchParams(raw);
      this.tokenForms.push(form);
      const entry = this.codes.get(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (form.get('client_id') !== 'cid' || form.get('client_secret') !== 'csecret') return json(401, { error: 'invalid_client' });
      if (form.get('grant_type') !== 'authorization_code' || !entry) return json(400, { error: 'invalid_grant' });
      if (entry.challenge !== challenge || entry.redirectUri !== form.get('redirect_uri')) return json(400, { error: 'invalid_grant' });
      this.codes.delete(form.get('code') ?? '');
      json(200, { access_token: 'at-1', refresh_token: 'rt-1', expires_in: 7200, token_type: 'bearer', scope: 'users.read users.write' });
    });
  }

  async start(): Promise<void> {
    this.url = await listenLoopback(this.server);
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }
}

let vendor: FakeVendor;
let dir: string;
let store: TokenStore;
let clock: ManualClock;
let redirectUri: string;
let printed: string[];

beforeEach(async () => {
  vendor = new FakeVendor();
  await vendor.start();
  dir = await mkdtemp(path.join(tmpdir(), 'authorize-'));
  clock = new ManualClock();
  store = new TokenStore(dir, { clock });
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  printed = [];
  page = undefined;
});
afterEach(async () => {
  clearLimiters(); // the token endpoint's limiter would keep the first test's ManualClock
  await vendor.stop();
  await rm(dir, { recursive: true, force: true });
});

function opts(extra: Partial<AuthorizationCodeFlowOptions> = {}): AuthorizationCodeFlowOptions {
  return {
    vendor: 'outreach',
    authorizeUrl: `${vendor.url}/oauth/authorize`,
    tokenUrl: `${vendor.url}/oauth/token`,
    clientId: 'cid',
    clientSecret: 'csecret',
    redirectUri,
    scopes: ['users.read', 'users.write'],
    store,
    clock,
    print: (l) => printed.push(l),
    ...extra,
  };
}

/** What the browser shows: status and page text. */
let page: { status: number; text: string } | undefined;
async function browse(url: string): Promise<void> {
  const res = await fetch(url); // follows the vendor's redirect to the loopback callback
  page = { status: res.status, text: await res.text() };
}

describe('runAuthorizationCodeFlow', () => {
  it('completes a round trip with PKCE and stores the tokens', async () => {
    let browsing: Promise<void> | undefined;
    const result = await runAuthorizationCodeFlow(
      opts({
        openBrowser: (url) => {
          browsing = browse(url);
        },
      }),
    );
    await browsing;
    expect(result).toEqual({ scopes: 'users.read users.write' });
    expect(page?.status).toBe(200);
    expect(page?.text).toContain('You can close this tab');

    const p = vendor.authorizeParams!;
    expect(p.get('response_type')).toBe('code');
    expect(p.get('client_id')).toBe('cid');
    expect(p.get('redirect_uri')).toBe(redirectUri);
    expect(p.get('scope')).toBe('users.read users.write');
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('state')).toMatch(/.{16,}/);
    expect(printed.some((l) => l.startsWith(`${vendor.url}/oauth/authorize?`))).toBe(true);

    const form = vendor.tokenForms[0];
    expect(form.get('grant_type')).toBe('authorization_code');
    expect(form.get('redirect_uri')).toBe(redirectUri);

    const rec = await store.read('outreach');
    expect(rec).toMatchObject({
      access_token: 'at-1',
      refresh_token: 'rt-1',
      scope: 'users.read users.write',
      access_expires_at: new Date(clock.now() + 7200_000).toISOString(),
    });

    // The loopback server is closed: the port can be bound again.
    const s = createServer();
    const port = Number(new URL(redirectUri).port);
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((r) => s.close(() => r()));
  });

  it('rejects a callback with a wrong state, with a clear message and a friendly page', async () => {
    let browsing: Promise<void> | undefined;
    const run = runAuthorizationCodeFlow(
      opts({
        openBrowser: () => {
          browsing = browse(`${redirectUri}?code=code-x&state=not-the-right-one`);
        },
      }),
    );
    await expect(run).rejects.toThrow(/wrong state/);
    await browsing;
    expect(page?.status).toBe(400);
    expect(page?.text).toContain('does not belong to the running command');
    expect(vendor.tokenForms).toHaveLength(0);
    expect(await store.read('outreach')).toBeUndefined();
  });

  it('rejects a callback without state, and an error= callback', async () => {
    await expect(
      runAuthorizationCodeFlow(opts({ openBrowser: () => void browse(`${redirectUri}?code=code-x`) })),
    ).rejects.toThrow(/missing state/);

    let state = '';
    await expect(
      runAuthorizationCodeFlow(
        opts({
          openBrowser: (url) => {
            state = new URL(url).searchParams.get('state') ?? '';
            void browse(`${redirectUri}?error=access_denied&state=${encodeURIComponent(state)}`);
          },
        }),
      ),
    ).rejects.toThrow(/cancelled or access was denied/);
    expect(state).not.toBe('');
  });

  it('refuses a redirect URI that is not loopback http', async () => {
    await expect(runAuthorizationCodeFlow(opts({ redirectUri: 'http://example.com:8765/callback' }))).rejects.toThrow(
      /loopback/,
    );
    await expect(runAuthorizationCodeFlow(opts({ redirectUri: 'https://127.0.0.1:8765/callback' }))).rejects.toThrow(
      /loopback/,
    );
    await expect(runAuthorizationCodeFlow(opts({ redirectUri: 'http://127.0.0.1/callback' }))).rejects.toThrow(
      /explicit port/,
    );
  });

  it('times out cleanly and frees the port', async () => {
    const run = runAuthorizationCodeFlow(
      opts({
        timeoutMs: 60_000,
        openBrowser: () => {
          // Nobody signs in; time passes.
          setTimeout(() => clock.advance(60_000), 10);
        },
      }),
    );
    await expect(run).rejects.toThrow(/No authorization callback within 1 minute/);
    const s = createServer();
    const port = Number(new URL(redirectUri).port);
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((r) => s.close(() => r()));
  });

  it('reports a port already in use clearly', async () => {
    const s = createServer();
    const port = Number(new URL(redirectUri).port);
    await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
    try {
      await expect(runAuthorizationCodeFlow(opts())).rejects.toThrow(/port \d+ is in use/);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it('a failed token exchange rejects without leaking the secret and shows a failure page', async () => {
    let browsing: Promise<void> | undefined;
    const run = runAuthorizationCodeFlow(
      opts({
        clientSecret: 'wrong-secret-value',
        openBrowser: (url) => {
          browsing = browse(url);
        },
      }),
    );
    const err = (await run.catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/invalid_client/);
    expect(err.message).not.toContain('wrong-secret-value');
    await browsing;
    expect(page?.status).toBe(502);
    expect(await store.read('outreach')).toBeUndefined();
  });

  it('a code exchange whose answer is lost is not sent again: the admin is told to run the command again', async () => {
    // The token endpoint is reached through the dispatcher (an offline MockAgent) like any vendor request.
    const agent = offlineAgent();
    const tokenOrigin = 'https://accounts.vendor.test';
    const pool = agent.get(tokenOrigin);
    pool.intercept({ path: '/oauth/token', method: 'POST' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    // Any further POST would land here.
    let resent = 0;
    pool
      .intercept({ path: '/oauth/token', method: 'POST' })
      .reply(() => (resent++, { statusCode: 400, data: JSON.stringify({ error: 'invalid_grant' }) }))
      .persist();
    let browsing: Promise<void> | undefined;
    try {
      const err = (await runAuthorizationCodeFlow(
        opts({
          tokenUrl: `${tokenOrigin}/oauth/token`,
          dispatcher: agent,
          openBrowser: (url) => {
            browsing = browse(url);
          },
        }),
      ).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/no usable answer.*single use.*not sent again/);
      expect(err.message).toContain('Run `sales-access-mcp auth outreach` again');
      expect(err.message).not.toContain('csecret');
      await browsing;
      expect(page?.status).toBe(502);
      expect(resent).toBe(0);
      expect(await store.read('outreach')).toBeUndefined();
    } finally {
      await agent.close();
    }
  });
});
