import { existsSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startHttpStack, type HttpStack } from '../support/http-stack.js';
import { startIssuer, type TestIssuer } from '../support/issuer.js';
import { approvalUrlOf, structured, textOf } from '../support/stack.js';

/**
 * The approval page's sign-in in a real browser (Debian's Chromium, playwright-core), with the identity provider
 * on ANOTHER site than the page (127.0.0.1 against localhost), as in production: the way back from the identity
 * provider is a cross-site navigation, so the cookies the page relies on must survive it (SameSite=Lax) and a
 * decision must still be a same-origin POST. Skipped, with the reason in the name, where Chromium is missing.
 */

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SKIP = HAVE_CHROMIUM ? '' : ` (skipped: ${CHROMIUM} is missing; install Debian's chromium package)`;
const RESOURCE = 'https://access.example.com/mcp';
const ALICE = { sub: '00u-alice-7f3a', email: 'alice@example.com', name: 'Alice Example' };

describe('approval page sign-in in headless Chromium, identity provider on another site', () => {
  let browser: Browser | undefined;
  let issuer: TestIssuer;
  let stack: HttpStack;
  let client: Client;

  beforeAll(async () => {
    issuer = await startIssuer({ audience: RESOURCE, signIn: ALICE, loginPage: true });
    const port = await freePort();
    stack = await startHttpStack(
      {
        SALES_ACCESS_HTTP_STATELESS: '1',
        SALES_ACCESS_CONFIRM: 'auto',
        SALES_ACCESS_OAUTH_ISSUER: issuer.issuer,
        SALES_ACCESS_RESOURCE_URL: RESOURCE,
        SALES_ACCESS_APPROVAL_CLIENT_ID: 'approval-page',
        // The page's own site: localhost (the identity provider is 127.0.0.1, another site).
        SALES_ACCESS_APPROVAL_BASE_URL: `http://localhost:${port}`,
      },
      { port },
    );
    client = new Client({ name: 'signin-browser-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(stack.url), { requestInit: { headers: { authorization: `Bearer ${await issuer.mint(ALICE)}` } } }));
    if (!HAVE_CHROMIUM) return;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // localhost is this server's 127.0.0.1 (not ::1, where nothing listens).
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync', '--host-resolver-rules=MAP localhost 127.0.0.1'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await client?.close();
    await stack?.close();
    await issuer?.close();
  });

  it.skipIf(!HAVE_CHROMIUM)(`opening the link signs Alice in at the identity provider and shows her the page; Approve applies the change on the next call${SKIP}`, { timeout: 60_000 }, async () => {
    const target = stack.sandbox.outreach.users().find((u) => u.active && !u.locked)!;
    const asked = (await client.callTool({ name: 'outreach_lock_user', arguments: { id: String(target.id) } })) as CallToolResult;
    expect(structured(asked), textOf(asked)).toMatchObject({ status: 'approval_required' });
    const url = approvalUrlOf(asked);
    expect(new URL(url).hostname).toBe('localhost');

    const context = await browser!.newContext();
    const page = await context.newPage();
    const navigations: string[] = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest()) navigations.push(`${r.method()} ${new URL(r.url()).host}${new URL(r.url()).pathname}`);
    });
    const signInPage = await page.goto(url, { waitUntil: 'load' });
    expect(signInPage?.status()).toBe(200);
    const idp = new URL(issuer.issuer).host;
    expect(new URL(page.url()).host).toBe(idp);
    // Alice signs in on the identity provider's page, which sends her back: a navigation that page started.
    await Promise.all([page.waitForURL((u) => u.hostname === 'localhost' && !u.pathname.startsWith('/approve/callback')), page.getByRole('button', { name: 'Sign in' }).click()]);
    await page.waitForLoadState('load');
    // Page → identity provider (another site) → callback → page: one round trip, no loop.
    const port = new URL(url).port;
    expect(navigations).toEqual([
      `GET localhost:${port}${new URL(url).pathname}`,
      `GET ${idp}/realms/acme/authorize`,
      `POST ${idp}/realms/acme/authorize`,
      `GET localhost:${port}/approve/callback`,
      `GET localhost:${port}${new URL(url).pathname}`,
    ]);
    const text = await page.locator('main').innerText();
    expect(text).toContain(target.email);
    expect(text).toContain('alice@example.com');
    const cookies = await context.cookies(`http://localhost:${port}${new URL(url).pathname}`);
    expect(cookies.map((c) => [c.name, c.sameSite, c.httpOnly])).toEqual([['sam_approval', 'Lax', true]]);

    const [post] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: /^Approve/ }).click()]);
    expect(post.status()).toBe(200);
    const sent = await post.request().allHeaders();
    expect(sent['sec-fetch-site']).toBe('same-origin');
    expect(sent.origin).toBe(`http://localhost:${port}`);
    await page.waitForLoadState('load');
    expect(await page.locator('h1').innerText()).toMatch(/^Approved/);
    await context.close();

    const done = (await client.callTool({ name: 'outreach_lock_user', arguments: { id: String(target.id) } })) as CallToolResult;
    expect(structured(done), textOf(done)).toMatchObject({ status: 'done', changed: true });
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(true);
  });
});
