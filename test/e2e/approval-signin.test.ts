import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PASSES } from '../../src/confirm/approval-store.js';
import { CookieBrowser } from '../support/cookie-browser.js';
import { freePort, startHttpStack, type HttpStack } from '../support/http-stack.js';
import { startIssuer, type TestIssuer } from '../support/issuer.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin.js';
import { findLeaks } from '../support/secrets.js';
import { approvalUrlOf, postApprovalDecision, structured, textOf } from '../support/stack.js';

/**
 * Issue 13: the approval page beyond loopback signs the person in with the identity provider (OpenID Connect,
 * authorization code + PKCE, state, nonce) and accepts only the person who asked (the same `sub`). Stateless
 * HTTP, where elicitation is not available and the page is how a write is approved. The browser here is a
 * cookie jar following redirects (support/cookie-browser.ts); the identity provider is the local test issuer.
 */

const RESOURCE = 'https://access.example.com/mcp';
const CLIENT_ID = 'approval-page';
const CLIENT_SECRET = 'page-client-secret-5f0c1d9e8b7a6f5e4d3c2b1a';
const STATIC_TOKEN = 'static-token-for-scripts-0123456789abcdef0123';
const ALICE = { sub: '00u-alice-7f3a', email: 'alice@example.com', name: 'Alice Example' };
const BOB = { sub: '00u-bob-19c2', email: 'bob@example.com', name: 'Bob Example' };

function capture() {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
  return { log, lines };
}

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'signin-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

const signInEnv = (issuer: TestIssuer): Record<string, string> => ({
  SALES_ACCESS_HTTP_STATELESS: '1',
  SALES_ACCESS_CONFIRM: 'auto',
  SALES_ACCESS_OAUTH_ISSUER: issuer.issuer,
  SALES_ACCESS_RESOURCE_URL: RESOURCE,
  SALES_ACCESS_APPROVAL_CLIENT_ID: CLIENT_ID,
  SALES_ACCESS_APPROVAL_CLIENT_SECRET: CLIENT_SECRET,
});

function lockable(stack: HttpStack, n: number) {
  return stack.sandbox.outreach.users().filter((u) => u.active && !u.locked)[n]!;
}
const lockArgs = (u: { id: number }) => ({ id: String(u.id) });
const isLocked = (stack: HttpStack, id: number) => stack.sandbox.outreach.users().find((u) => u.id === id)!.locked;

describe('approval page with sign-in (stateless HTTP, one replica)', () => {
  let issuer: TestIssuer;
  let stack: HttpStack;
  let alice: Client;
  let bob: Client;
  const logs = capture();
  const texts: string[] = [];
  /** Every browser of these tests: the leak check looks for each cookie they were given. */
  const browsers: CookieBrowser[] = [];
  const newBrowser = (): CookieBrowser => {
    const b = new CookieBrowser();
    browsers.push(b);
    return b;
  };

  beforeAll(async () => {
    issuer = await startIssuer({ audience: RESOURCE, signIn: ALICE });
    stack = await startHttpStack({ ...signInEnv(issuer), SALES_ACCESS_HTTP_TOKEN: STATIC_TOKEN }, { log: logs.log });
    alice = await connect(stack.url, await issuer.mint({ ...ALICE, client_id: 'claude-code' }));
    bob = await connect(stack.url, await issuer.mint({ ...BOB, client_id: 'cursor' }));
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await stack?.close();
    await issuer?.close();
  });

  const call = async (client: Client, name: string, args: Record<string, unknown>) => {
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    texts.push(JSON.stringify(r));
    return r;
  };

  it('the person who asked signs in, sees the page, approves; the next call applies the change once', async () => {
    issuer.signInAs(ALICE);
    const target = lockable(stack, 0);
    const asked = await call(alice, 'outreach_lock_user', lockArgs(target));
    expect(structured(asked), textOf(asked)).toMatchObject({ status: 'approval_required', approval: { method: 'browser' } });
    const url = approvalUrlOf(asked);

    const browser = newBrowser();
    // The link alone shows nothing: it sends the browser to the identity provider, with PKCE, state and nonce.
    const first = await browser.get(url);
    expect(first.status).toBe(303);
    const authorize = new URL(first.location!);
    expect(authorize.href.startsWith(`${issuer.issuer}/authorize`)).toBe(true);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${new URL(url).origin}/approve/callback`,
      code_challenge_method: 'S256',
      scope: 'openid email profile',
    });
    // The state: the request, 128 random bits, and their MAC under the browser's sign-in cookie.
    expect(authorize.searchParams.get('state')).toMatch(new RegExp(`^${structured(asked).approval.id}\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{22}$`));
    expect(authorize.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const id = structured(asked).approval.id as string;
    expect(first.setCookies).toHaveLength(1);
    expect(first.setCookies[0]).toMatch(/^sam_signin_([A-Za-z0-9_-]{22})=[A-Za-z0-9_-]{43}; Path=\/approve; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    expect(first.setCookies[0]!.startsWith(`sam_signin_${id}=`)).toBe(true);
    expect(first.html).not.toContain(target.email);

    const page = await browser.open(first.location!);
    expect(page.status, page.html).toBe(200);
    expect(new URL(page.url).pathname).toBe(new URL(url).pathname);
    expect(page.html).toContain(target.email);
    expect(page.html).toContain('alice@example.com');
    // The confidential client authenticated with its secret (client_secret_basic).
    expect(issuer.tokenClients.at(-1)).toBe(`basic ${CLIENT_ID}:${CLIENT_SECRET}`);
    expect(isLocked(stack, target.id)).toBe(false);

    const decided = await postApprovalDecision(url, browser.pageSession(url, page), 'approve');
    expect(decided.status, decided.html).toBe(200);
    expect(decided.html).toContain('Approved');
    const done = await call(alice, 'outreach_lock_user', lockArgs(target));
    expect(structured(done), textOf(done)).toMatchObject({ status: 'done', changed: true, approval: { status: 'approved', method: 'browser' } });
    expect(isLocked(stack, target.id)).toBe(true);
  });

  it('someone else who signs in (Bob, with Alice\'s link) is refused, and cannot approve', async () => {
    const target = lockable(stack, 0);
    const asked = await call(alice, 'outreach_lock_user', lockArgs(target));
    const url = approvalUrlOf(asked);
    issuer.signInAs(BOB);
    const browser = newBrowser();
    const page = await browser.open(url);
    expect(page.status, page.html).toBe(403);
    expect(page.html).toMatch(/You signed in as bob@example\.com, but another person asked for this change: only they can approve or reject it/);
    // Neither what the change is nor who asked is shown to him; the log names both, for the admin.
    expect(page.html).not.toContain(target.email);
    expect(page.html).not.toContain('alice@example.com');
    expect(logs.lines.join('')).toMatch(/"signedIn":"bob@example\.com","requester":"alice@example\.com".*another person signed in/);
    // The refused sign-in's cookie is cleared, not left behind.
    const id = structured(asked).approval.id as string;
    expect(browser.cookie(`${new URL(url).origin}/approve/callback`, `sam_signin_${id}`)).toBeUndefined();
    expect(browser.cookie(url, 'sam_approval')).toBeUndefined();
    // Without a signed-in page cookie, a POST with anything Bob can make is refused.
    const forged = await postApprovalDecision(url, { status: 200, html: '', csrf: 'x'.repeat(43), cookie: `sam_approval=${'y'.repeat(43)}` }, 'approve');
    expect(forged.status).toBe(403);
    expect(isLocked(stack, target.id)).toBe(false);
    const still = await call(alice, 'outreach_lock_user', lockArgs(target));
    expect(structured(still)).toMatchObject({ status: 'pending' });
  });

  it('the callback is refused in a browser that did not start the sign-in (a link passed on), or with a tampered state', async () => {
    issuer.signInAs(ALICE);
    const target = lockable(stack, 1);
    const url = approvalUrlOf(await call(alice, 'outreach_lock_user', lockArgs(target)));
    const started = newBrowser();
    const toIdp = await started.get(url);
    // The identity provider signs Alice in and sends her back; the callback URL is opened in ANOTHER browser.
    const back = await newBrowser().get(toIdp.location!, 'cross-site');
    expect(back.status).toBe(302);
    const other = newBrowser();
    const stolen = await other.get(back.location!, 'cross-site');
    expect(stolen.status, stolen.html).toBe(403);
    expect(stolen.html).toMatch(/not started from the approval link in this browser/);
    // The right browser, a made-up request id in the state: no such request.
    const cb = new URL(back.location!);
    const state = cb.searchParams.get('state')!;
    const rest = state.slice(state.indexOf('.') + 1);
    cb.searchParams.set('state', `${'A'.repeat(22)}.${rest}`);
    expect((await started.get(cb.href, 'cross-site')).status).toBe(404);
    // The right browser, another real pending request's id in the state (one this browser never opened): refused.
    const otherId = structured(await call(alice, 'outreach_lock_user', lockArgs(lockable(stack, 3)))).approval.id as string;
    cb.searchParams.set('state', `${otherId}.${rest}`);
    const swapped = await started.get(cb.href, 'cross-site');
    expect(swapped.status, swapped.html).toBe(403);
    expect(swapped.html).toMatch(/not started from the approval link in this browser/);
    // The identity provider answering with an error (the person cancelled): said on the page.
    const denied = new URL(`${new URL(url).origin}/approve/callback`);
    denied.searchParams.set('state', state);
    denied.searchParams.set('error', 'access_denied');
    const refused = await started.get(denied.href, 'cross-site');
    expect(refused.status).toBe(403);
    expect(refused.html).toMatch(/The identity provider did not sign you in \(access_denied\)/);
    // The right browser and request (a new sign-in: each refusal cleared the last one's cookie), another random
    // part under the same MAC: not a state this browser was given.
    const again = new URL((await newBrowser().get((await started.get(url)).location!, 'cross-site')).location!);
    const fresh = again.searchParams.get('state')!.split('.');
    again.searchParams.set('state', `${fresh[0]}.${'B'.repeat(22)}.${fresh[2]}`);
    const forged = await started.get(again.href, 'cross-site');
    expect(forged.status, forged.html).toBe(403);
    expect(forged.html).toMatch(/not started from the approval link in this browser/);
    expect(isLocked(stack, target.id)).toBe(false);
  });

  it('two links signed in at once in one browser each finish (one sign-in cookie per request)', async () => {
    issuer.signInAs(ALICE);
    const [a, b] = [lockable(stack, 4), lockable(stack, 5)];
    const urlA = approvalUrlOf(await call(alice, 'outreach_lock_user', lockArgs(a)));
    const urlB = approvalUrlOf(await call(alice, 'outreach_lock_user', lockArgs(b)));
    const browser = newBrowser();
    // Both tabs go to the identity provider before either comes back.
    const toIdpA = await browser.get(urlA);
    const toIdpB = await browser.get(urlB);
    const idp = newBrowser();
    const backA = await idp.get(toIdpA.location!, 'cross-site');
    const backB = await idp.get(toIdpB.location!, 'cross-site');
    for (const [back, url, target] of [[backA, urlA, a], [backB, urlB, b]] as const) {
      const page = await browser.open(back.location!);
      expect(page.status, page.html).toBe(200);
      expect(new URL(page.url).pathname).toBe(new URL(url).pathname);
      expect(page.html).toContain(target.email);
    }
  });

  it('the same link opened in two tabs: the first tab\'s sign-in still finishes after the second started', async () => {
    issuer.signInAs(ALICE);
    const target = lockable(stack, 7);
    const url = approvalUrlOf(await call(alice, 'outreach_lock_user', lockArgs(target)));
    const browser = newBrowser();
    const tab1 = await browser.get(url);
    const tab2 = await browser.get(url);
    expect(new URL(tab1.location!).searchParams.get('state')).not.toBe(new URL(tab2.location!).searchParams.get('state'));
    const back1 = await newBrowser().get(tab1.location!, 'cross-site');
    const page = await browser.open(back1.location!);
    expect(page.status, page.html).toBe(200);
    expect(page.html).toContain(target.email);
  });

  it('an ID token whose sub is not a valid OpenID Connect subject (over 255 characters) signs nobody in', async () => {
    const url = approvalUrlOf(await call(alice, 'outreach_lock_user', lockArgs(lockable(stack, 8))));
    issuer.signInAs({ ...ALICE, sub: `${ALICE.sub}${'x'.repeat(300)}` });
    const page = await newBrowser().open(url);
    expect(page.status, page.html).toBe(502);
    expect(page.html).toMatch(/not a valid OpenID Connect `sub` \(at most 255 ASCII characters\)/);
    issuer.signInAs(ALICE);
  });

  it('anyone re-loading the link stores nothing; the signed-in person\'s own views are capped', async () => {
    issuer.signInAs(ALICE);
    const target = lockable(stack, 6);
    const url = approvalUrlOf(await call(alice, 'outreach_lock_user', lockArgs(target)));
    // Someone holding the link (not signed in) opens it far more often than the cap: each is sent to sign in.
    const script = newBrowser();
    for (let i = 0; i < MAX_PASSES + 10; i++) expect((await script.get(url)).status).toBe(303);
    // The person who asked still signs in and sees the page (one stored sign-in, one stored view).
    const browser = newBrowser();
    const page = await browser.open(url);
    expect(page.status, page.html).toBe(200);
    expect(page.html).toContain(target.email);
    // Her own reloads are what the cap counts: the rest of the 64, then a page that says so.
    const statuses: number[] = [];
    for (let i = 0; i < MAX_PASSES - 1; i++) statuses.push((await browser.get(url)).status);
    expect(statuses.slice(0, MAX_PASSES - 2).every((s) => s === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const last = await browser.get(url);
    expect(last.status).toBe(429);
    expect(last.html).toMatch(/opened too many times/);
  });

  it('a caller with the static token (no person) is told the page accepts only a signed-in person who asked', async () => {
    const scripted = await connect(stack.url, STATIC_TOKEN);
    const target = lockable(stack, 1);
    const r = await call(scripted, 'outreach_lock_user', lockArgs(target));
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/accepts only the person who asked, signed in with the identity provider; this call came with the server's static token/);
    expect(isLocked(stack, target.id)).toBe(false);
    await scripted.close();
  });

  it('neither the client secret, a code, a verifier nor a token appears in the log, the audit log or a tool result', () => {
    const audit = readFileSync(stack.deps.config.auditLogPath, 'utf8');
    expect(audit).toMatch(/00u-alice-7f3a/);
    const cookies = browsers.flatMap((b) => b.cookieValues());
    expect(cookies.length).toBeGreaterThan(4);
    const secrets = { CLIENT_SECRET, STATIC_TOKEN, ...Object.fromEntries(cookies.map((c, i) => [`browser cookie ${i}`, c])) };
    const haystacks = [
      { where: 'server log', text: logs.lines.join('') },
      { where: 'audit log', text: audit },
      { where: 'tool results', text: texts.join('\n') },
    ];
    expect(findLeaks(secrets, haystacks)).toEqual([]);
    for (const h of haystacks) expect(h.text, h.where).not.toMatch(/code_verifier|[?&]code=/);
  });
});

const skipRedis = await redisUnavailable();

describe.skipIf(skipRedis)('approval page with sign-in: two replicas sharing Redis behind a balancer without affinity', () => {
  const prefix = testPrefix();
  let issuer: TestIssuer;
  let proxy: RoundRobinProxy;
  const stacks: HttpStack[] = [];

  beforeAll(async () => {
    issuer = await startIssuer({ audience: RESOURCE, signIn: ALICE });
    // One public origin (the balancer's) in the approval links and the redirect URI; one sandbox (the vendors).
    const port = await freePort();
    const env = { ...signInEnv(issuer), SALES_ACCESS_APPROVAL_BASE_URL: `http://127.0.0.1:${port}`, SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix };
    stacks.push(await startHttpStack(env));
    stacks.push(await startHttpStack(env, { sandbox: stacks[0]!.sandbox }));
    proxy = await startRoundRobinProxy(stacks.map((s) => s.url), { port });
  });
  afterAll(async () => {
    await proxy?.close();
    for (const s of [...stacks].reverse()) await s.close();
    await issuer?.close();
    await deletePrefix(prefix);
  });

  it('each step may land on either replica: asked, signed in, approved and applied once; Redis holds no secret', async () => {
    const client = await connect(proxy.url, await issuer.mint(ALICE));
    const stack = stacks[0]!;
    const target = lockable(stack, 2);
    const asked = (await client.callTool({ name: 'outreach_lock_user', arguments: lockArgs(target) })) as CallToolResult;
    const url = approvalUrlOf(asked);
    expect(new URL(url).origin).toBe(new URL(proxy.url).origin);
    const browser = new CookieBrowser();
    const page = await browser.open(url);
    expect(page.status, page.html).toBe(200);
    const decided = await postApprovalDecision(url, browser.pageSession(url, page), 'approve');
    expect(decided.status, decided.html).toBe(200);
    const done = (await client.callTool({ name: 'outreach_lock_user', arguments: lockArgs(target) })) as CallToolResult;
    expect(structured(done), textOf(done)).toMatchObject({ status: 'done', changed: true });
    expect(isLocked(stack, target.id)).toBe(true);
    expect(stack.sandbox.outreach.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/users/${target.id}`))).toHaveLength(1);
    await client.close();

    // The page's requests went to both replicas: the sign-in started on one was finished on the other.
    const pageHits = proxy.hits.filter((h) => h.path.startsWith('/approve/'));
    const started = pageHits.find((h) => !h.path.startsWith('/approve/callback'))!;
    const callback = pageHits.find((h) => h.path.startsWith('/approve/callback'))!;
    expect(callback.upstream).not.toBe(started.upstream);

    const dump = await dumpPrefix(prefix);
    expect(dump.some((d) => d.key.includes('pass'))).toBe(true);
    const secrets = { CLIENT_SECRET, ...Object.fromEntries(browser.cookieValues().map((c, i) => [`browser cookie ${i}`, c])) };
    expect(findLeaks(secrets, dump.map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` })))).toEqual([]);
  });
});
