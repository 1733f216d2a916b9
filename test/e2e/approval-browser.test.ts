import { existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/clock.js';
import { assertBuilt, cleanEnv, MAIN, spawnServer, tempStateDir, waitForUrl, type Spawned } from '../support/spawn.js';
import { approvalUrlOf, callUntilDone, postApprovalDecision, startStack, structured, textOf, unlockedOutreachUsers, type Stack } from '../support/stack.js';

/**
 * The approval page in a real browser: Debian's Chromium driven by playwright-core, with an MCP client that
 * cannot elicit and the default confirmation mode (`auto`). A destructive call answers `approval_required`
 * with the link at once; nothing changes until Approve is clicked on the page and the call is made again;
 * Reject, a replayed POST, a GET, a wrong CSRF token, a foreign Origin and an expired URL change nothing. Takes a screenshot of the page: into a temp directory, or with UPDATE_SCREENSHOTS=1 over
 * docs/approval-page.png (embedded in the README), so a test run leaves the tree as it was. Where
 * /usr/bin/chromium is missing the tests are reported as skipped, with the reason in their names.
 */

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SKIP = HAVE_CHROMIUM ? '' : ` (skipped: ${CHROMIUM} is missing; install Debian's chromium package)`;
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/approval-page.png', import.meta.url))
    : join(mkdtempSync(join(tmpdir(), 'approval-shot-')), 'approval-page.png');

/** Real time plus an offset a test can move forward (the simulators keep real time). */
class OffsetClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms, signal);
  }
}

/** A short call deadline, and the client's patience per call: the deadline plus a margin for a loaded machine. */
const DEADLINE = { SALES_ACCESS_CALL_DEADLINE_SECONDS: '2' };
const PATIENCE_MS = 2_000 + 13_000;
const call = (stack: Stack, name: string, args: Record<string, unknown>) => stack.call(name, args, { timeout: PATIENCE_MS });
/** Calls until the answer is not `running`; returns the last answer. */
const finish = async (stack: Stack, name: string, args: Record<string, unknown>) => (await callUntilDone((a) => call(stack, name, a), args)).at(-1)!;

function unlockedUser(stack: Stack, exclude: number[] = []) {
  const u = unlockedOutreachUsers(stack).find((x) => !exclude.includes(x.id));
  if (!u) throw new Error('no unlocked sandbox user');
  return u;
}

const isLocked = (stack: Stack, id: number) => stack.sandbox.outreach.users().find((u) => u.id === id)!.locked;
const patchCount = (stack: Stack) => stack.sandbox.outreach.requests.filter((q) => q.method === 'PATCH').length;

interface PlanStepView {
  vendor: 'outreach' | 'salesloft' | 'apollo' | 'zoominfo';
  account_id: string;
  email: string | null;
  path: string;
}

/** Whether the account a plan step acts on has reached the step's target, read from the simulators. */
function stepApplied(stack: Stack, s: PlanStepView): boolean {
  if (s.path === 'scim_deprovision') return stack.sandbox.scim[s.vendor].users().find((u) => u.id === s.account_id)?.active === false;
  if (s.path === 'rest_lock') return isLocked(stack, Number(s.account_id)) === true;
  if (s.path === 'rest_deactivate') return (stack.sandbox.salesloft.users() as { id: unknown; active?: boolean }[]).find((u) => String(u.id) === s.account_id)?.active === false;
  throw new Error(`unexpected path ${s.path}`);
}

describe('approval page in headless Chromium (client without elicitation, default mode)', () => {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let stack: Stack | undefined;
  const clock = new OffsetClock();

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) return;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    await stack?.close();
    stack = undefined;
    clock.offset = 0;
  });

  /** A fresh browser profile per test, recording CSP violations, console problems and the requests made. */
  async function openPage(url: string): Promise<{ page: Page; problems: string[]; requests: string[] }> {
    context = await browser!.newContext({ viewport: { width: 1000, height: 760 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    // Injected through the DevTools protocol (outside the page's CSP); browser code as strings (no DOM lib).
    await page.addInitScript({
      content: "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
    });
    const res = await page.goto(url, { waitUntil: 'load' });
    expect(res?.status()).toBe(200);
    return { page, problems, requests };
  }

  async function expectCleanPage(page: Page, problems: string[]): Promise<void> {
    const state = await page.evaluate<{ csp: string[]; scripts: number; radius: string; font: string }>(
      "({ csp: window.__csp ?? ['(listener missing)'], scripts: document.querySelectorAll('script').length, radius: getComputedStyle(document.querySelector('.card')).borderTopLeftRadius, font: getComputedStyle(document.body).fontFamily })",
    );
    expect(state.csp).toEqual([]);
    expect(state.scripts).toBe(0);
    // The hashed stylesheet applied (the CSP would have blocked it, leaving the page unstyled, if the hash were wrong).
    expect(state.radius).toBe('12px');
    expect(state.font).toMatch(/system-ui/);
    expect(problems).toEqual([]);
  }

  /** Clicks a button and returns the decision POST's request headers and the response status. */
  async function click(page: Page, name: RegExp): Promise<{ status: number; headers: Record<string, string> }> {
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name }).click()]);
    await page.waitForLoadState('load');
    return { status: response.status(), headers: await response.request().allHeaders() };
  }

  it.skipIf(!HAVE_CHROMIUM)(`outreach_lock_user changes nothing until Approve is clicked; GET, wrong CSRF, foreign Origin and a replayed POST change nothing${SKIP}`, { timeout: 60_000 }, async () => {
    stack = await startStack({ confirm: 'server-default', clock, sandboxClock: systemClock, env: DEADLINE });
    expect(stack.deps.config.confirm).toBe('auto');
    const target = unlockedUser(stack);
    const patches = patchCount(stack);

    const first = await call(stack, 'outreach_lock_user', { email: target.email });
    expect(structured(first)).toMatchObject({ status: 'approval_required' });
    const url = approvalUrlOf(first);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/approve\/[A-Za-z0-9_-]{22}$/);
    expect(isLocked(stack, target.id)).toBe(false);

    const { page, problems, requests } = await openPage(url);
    await expectCleanPage(page, problems);
    const text = await page.locator('main').innerText();
    expect(text).toContain(`Lock Outreach user ${target.email}`);
    expect(text).toContain('test-client 1.0.0');
    expect(text).toMatch(/still holds a licensed seat/);
    expect(text).toMatch(/expires at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(requests).toEqual([`GET ${url}`]);

    // What the browser holds, used below to forge requests that must still fail.
    const csrf = (await page.locator('input[name="csrf"]').getAttribute('value'))!;
    const cookie = (await context!.cookies(url)).find((c) => c.name === 'sam_approval')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const held = { csrf, cookie: `${cookie.name}=${cookie.value}`, status: 200, html: '' };

    // A GET (any number of them) decides nothing.
    for (let i = 0; i < 3; i++) {
      const g = await request(url);
      expect(g.statusCode).toBe(200);
      await g.body.text();
    }
    // Wrong CSRF token, foreign Origin, cross-site fetch metadata: refused, nothing decided.
    expect((await postApprovalDecision(url, held, 'approve', { csrf: 'A'.repeat(43) })).status).toBe(403);
    expect((await postApprovalDecision(url, held, 'approve', { origin: 'https://evil.example' })).status).toBe(403);
    expect((await postApprovalDecision(url, held, 'approve', { secFetchSite: 'cross-site' })).status).toBe(403);
    expect((await postApprovalDecision(url, held, 'approve', { cookie: null })).status).toBe(403);
    await new Promise((r) => setTimeout(r, 200));
    expect(isLocked(stack, target.id)).toBe(false);
    expect(patchCount(stack)).toBe(patches);
    expect(stack.auditLines()).toEqual([]);

    // The human clicks Approve.
    const post = await click(page, /^Approve/);
    expect(post.status).toBe(200);
    // What made the browser's POST acceptable: its own origin, same-origin fetch metadata, the cookie.
    expect(post.headers.origin).toBe(new URL(url).origin);
    expect(post.headers['sec-fetch-site']).toBe('same-origin');
    expect(await page.locator('h1').innerText()).toMatch(/^Approved/);
    await expectCleanPage(page, problems);

    expect(isLocked(stack, target.id)).toBe(false);
    const r = await finish(stack, 'outreach_lock_user', { email: target.email });
    expect(structured(r)).toMatchObject({ status: 'done', changed: true, confirmation: 'browser', after: { locked: true }, approval: { status: 'approved', url } });
    expect(textOf(r)).toContain(url);
    expect(isLocked(stack, target.id)).toBe(true);
    expect(patchCount(stack)).toBe(patches + 1);
    const lines = stack.auditLines();
    expect(lines.map((l) => l.type)).toEqual(['intent', 'outcome']);
    for (const l of lines) expect(l).toMatchObject({ confirmation: 'browser', confirmation_detail: { user_agent: expect.stringMatching(/Chrome/) } });

    // A replayed POST (everything the browser sent) is "already decided" and changes nothing.
    const replay = await postApprovalDecision(url, held, 'approve', { userAgent: post.headers['user-agent'] });
    expect(replay.status).toBe(409);
    expect(replay.html).toContain('already decided');
    const reload = await page.goto(url);
    expect(reload?.status()).toBe(200);
    expect(await page.locator('h1').innerText()).toMatch(/already decided/);
    expect(await page.locator('form').count()).toBe(0);
    expect(patchCount(stack)).toBe(patches + 1);
    expect(stack.auditLines()).toHaveLength(2);
  });

  it.skipIf(!HAVE_CHROMIUM)(`execute_offboarding changes no account until Approve is clicked, then every one${SKIP}`, { timeout: 60_000 }, async () => {
    // Deactivation alone: nobody owns records or has a mailbox here (hand-overs: offboarding-owners.test.ts).
    stack = await startStack({ confirm: 'server-default', clock, sandboxClock: systemClock, env: DEADLINE, sandbox: { books: false } });
    const person = unlockedUser(stack).email.toLowerCase();
    const plan = structured(await finish(stack, 'plan_offboarding', { emails: [person], transfer_to: 'manager@acme.example' }));
    const acting = (plan.steps as PlanStepView[]).filter((s) => s.path !== 'none' && s.path !== 'manual');
    expect(acting.length).toBeGreaterThan(1);
    expect(new Set(acting.map((s) => s.vendor)).size).toBeGreaterThan(1);
    for (const s of acting) expect(stepApplied(stack, s), `${s.vendor} ${s.account_id} before`).toBe(false);

    const url = approvalUrlOf(await call(stack, 'execute_offboarding', { plan_id: plan.plan_id }));
    const { page, problems } = await openPage(url);
    await expectCleanPage(page, problems);
    const text = await page.locator('main').innerText();
    expect(text).toContain(plan.plan_id);
    for (const s of acting) expect(text).toContain(`id ${s.account_id}`);
    for (const v of new Set(acting.map((s) => s.vendor))) expect(text).toContain(v);
    expect(text).toMatch(/deprovision through SCIM|lock through REST|deactivate through REST/);
    expect(text).toContain('manager@acme.example');

    // The screenshot in the README.
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);

    await new Promise((r) => setTimeout(r, 200));
    for (const s of acting) expect(stepApplied(stack, s), `${s.vendor} ${s.account_id} before approval`).toBe(false);
    expect(stack.auditLines().filter((l) => l.tool === 'execute_offboarding')).toEqual([]);

    expect((await click(page, /^Approve/)).status).toBe(200);
    const exec = structured(await finish(stack, 'execute_offboarding', { plan_id: plan.plan_id }));
    expect(exec).toMatchObject({ status: 'done', plan_id: plan.plan_id, replayed: false, confirmation: 'browser' });
    expect(exec.summary.failed + exec.summary.ambiguous).toBe(0);
    for (const s of acting) expect(stepApplied(stack, s), `${s.vendor} ${s.account_id} after approval`).toBe(true);
    const lines = stack.auditLines().filter((l) => l.tool === 'execute_offboarding');
    expect(lines.length).toBe(acting.length * 2);
    for (const l of lines) expect(l).toMatchObject({ plan_id: plan.plan_id, confirmation: 'browser', confirmation_detail: { user_agent: expect.stringMatching(/Chrome/) } });
  });

  it.skipIf(!HAVE_CHROMIUM)(`Reject leaves the user and the plan unchanged${SKIP}`, { timeout: 60_000 }, async () => {
    stack = await startStack({ confirm: 'server-default', clock, sandboxClock: systemClock, env: DEADLINE });
    const target = unlockedUser(stack);
    const patches = patchCount(stack);
    const url = approvalUrlOf(await call(stack, 'outreach_lock_user', { id: String(target.id) }));
    const { page, problems } = await openPage(url);
    expect((await click(page, /^Reject$/)).status).toBe(200);
    expect(await page.locator('h1').innerText()).toMatch(/^Rejected\. Nothing was changed/);
    await expectCleanPage(page, problems);
    const r = await call(stack, 'outreach_lock_user', { id: String(target.id) });
    expect(r.isError).toBeFalsy();
    expect(structured(r)).toMatchObject({ status: 'declined', approval: { url, status: 'declined' } });
    expect(textOf(r)).toMatch(/rejected/);
    expect(isLocked(stack, target.id)).toBe(false);
    expect(patchCount(stack)).toBe(patches);
    expect(stack.auditLines()).toEqual([]);
  });

  it.skipIf(!HAVE_CHROMIUM)(`an expired URL changes nothing, even with the browser's own Approve${SKIP}`, { timeout: 60_000 }, async () => {
    stack = await startStack({ confirm: 'server-default', clock, sandboxClock: systemClock, env: DEADLINE });
    const target = unlockedUser(stack);
    const url = approvalUrlOf(await call(stack, 'outreach_lock_user', { id: String(target.id) }));
    const { page } = await openPage(url);
    clock.offset += 10 * 60_000 + 1_000;
    expect((await click(page, /^Approve/)).status).toBe(410);
    expect(await page.locator('h1').innerText()).toMatch(/expired/);
    // A later call does not pick anything up: it opens a new request, and still nothing is locked.
    const again = await call(stack, 'outreach_lock_user', { id: String(target.id) });
    expect(structured(again)).toMatchObject({ status: 'approval_required' });
    expect(approvalUrlOf(again)).not.toBe(url);
    expect(isLocked(stack, target.id)).toBe(false);
    expect(stack.auditLines()).toEqual([]);
  });
});

describe('approval page on the HTTP server (spawned, --http, default mode)', () => {
  let server: Spawned | undefined;
  let browser: Browser | undefined;
  let mcpUrl: string;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) return;
    assertBuilt();
    server = spawnServer(['--sandbox', '--http', '--port', '0'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), ...DEADLINE }));
    mcpUrl = await waitForUrl(server);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    await server?.exited;
  });

  it.skipIf(!HAVE_CHROMIUM)(`serves /approve/ on its own port without the MCP checks, and locks only after Approve${SKIP}`, { timeout: 60_000 }, async () => {
    const client = new Client({ name: 'desktop-like', version: '0.9' });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
    try {
      const page1 = (await client.callTool({ name: 'outreach_list_users', arguments: { locked: false, page_size: 20 } })) as CallToolResult;
      const target = (page1.structuredContent as { users: { id: string; email: string }[] }).users[3];
      const lock = () => client.callTool({ name: 'outreach_lock_user', arguments: { id: target.id } }, undefined, { timeout: PATIENCE_MS }) as Promise<CallToolResult>;
      const url = approvalUrlOf(await lock());
      expect(new URL(url).origin).toBe(new URL(mcpUrl).origin);
      // Another MCP session asking for the same change gets its own request, never this one's decision.
      const other = new Client({ name: 'other-session', version: '1' });
      await other.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
      const theirs = (await other.callTool({ name: 'outreach_lock_user', arguments: { id: target.id } }, undefined, { timeout: PATIENCE_MS })) as CallToolResult;
      expect(approvalUrlOf(theirs)).not.toBe(url);
      await other.close();

      // The page does its own Host check (DNS rebinding); unknown ids are 404.
      const rebound = await request(url, { headers: { host: 'attacker.example' } });
      expect(rebound.statusCode).toBe(403);
      await rebound.body.text();
      const unknown = await request(`${new URL(url).origin}/approve/${'A'.repeat(22)}`);
      expect(unknown.statusCode).toBe(404);
      await unknown.body.text();
      const still = (await client.callTool({ name: 'outreach_get_user', arguments: { id: target.id } })) as CallToolResult;
      expect(still.structuredContent).toMatchObject({ user: { locked: false } });

      const context = await browser!.newContext();
      const page = await context.newPage();
      expect((await page.goto(url))?.status()).toBe(200);
      expect(await page.locator('main').innerText()).toContain('desktop-like 0.9 over HTTP');
      const csrf = (await page.locator('input[name="csrf"]').getAttribute('value'))!;
      const cookie = (await context.cookies(url)).find((c) => c.name === 'sam_approval')!;
      const held = { csrf, cookie: `${cookie.name}=${cookie.value}`, status: 200, html: '' };
      expect((await postApprovalDecision(url, held, 'approve', { origin: 'https://evil.example' })).status).toBe(403);
      expect((await postApprovalDecision(url, held, 'approve', { csrf: 'B'.repeat(43) })).status).toBe(403);

      const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: /^Approve/ }).click()]);
      expect(response.status()).toBe(200);
      const r = (await callUntilDone(lock, {})).at(-1)!;
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ status: 'done', changed: true, confirmation: 'browser', after: { locked: true } });
      expect((r.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n')).toContain(url);
      expect((await postApprovalDecision(url, held, 'approve')).status).toBe(409);
      await context.close();
    } finally {
      await client.close();
    }
  });
});

describe('approval page of a spawned stdio server (default mode)', () => {
  it.skipIf(!HAVE_CHROMIUM)(`serves the page on an ephemeral loopback port and locks only after Approve${SKIP}`, { timeout: 60_000 }, async () => {
    assertBuilt();
    let stderr = '';
    const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, '--sandbox'], env: cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), ...DEADLINE }), stderr: 'pipe' });
    transport.stderr?.on('data', (d) => (stderr += d));
    const client = new Client({ name: 'claude-desktop-like', version: '0.1' });
    await client.connect(transport);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const list = (await client.callTool({ name: 'outreach_list_users', arguments: { locked: false, page_size: 20 } })) as CallToolResult;
      const target = (list.structuredContent as { users: { id: string }[] }).users[5];
      const lock = () => client.callTool({ name: 'outreach_lock_user', arguments: { id: target.id } }, undefined, { timeout: PATIENCE_MS }) as Promise<CallToolResult>;
      const url = approvalUrlOf(await lock());
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/approve\//);
      const before = (await client.callTool({ name: 'outreach_get_user', arguments: { id: target.id } })) as CallToolResult;
      expect(before.structuredContent).toMatchObject({ user: { locked: false } });
      const page = await (await browser.newContext()).newPage();
      expect((await page.goto(url))?.status()).toBe(200);
      expect(await page.locator('main').innerText()).toContain('claude-desktop-like 0.1 over stdio');
      await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: /^Approve/ }).click()]);
      const r = (await callUntilDone(lock, {})).at(-1)!;
      expect(r.structuredContent).toMatchObject({ status: 'done', changed: true, confirmation: 'browser', after: { locked: true } });
      // The link is on stderr once, at warn level (a human can find it in the client's MCP log); it approves nothing by itself.
      const warned = stderr.split('\n').filter((l) => l.includes(url));
      expect(warned).toHaveLength(1);
      expect(JSON.parse(warned[0]!)).toMatchObject({ level: 40, approval_url: url });
    } finally {
      await browser.close();
      await client.close();
    }
  });
});
