import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, parseCliArgs } from '../../src/config.js';
import { ConfigError } from '../../src/env.js';
import {
  ACCEPT,
  APPROVAL_URL_RE,
  loadApprovalPage,
  postApprovalDecision,
  startCall as startCallWithin,
  startStack,
  structured,
  textOf,
  unlockedOutreachUsers,
  type Stack,
} from '../support/stack.js';

/**
 * The confirmation gate in modes `auto` (the default) and `browser`, through the real MCP server and SDK
 * client. Decisions are POSTed with the headers a browser sends from the page; the real-browser version of
 * these flows is test/e2e/approval-browser.test.ts.
 */

function pickUnlocked(stack: Stack) {
  const u = unlockedOutreachUsers(stack)[0];
  if (!u) throw new Error('no unlocked sandbox user');
  return u;
}

const startCall = (stack: Stack, name: string, args: Record<string, unknown>) => startCallWithin(stack, name, args, 10_000);

const patches = (stack: Stack) => stack.sandbox.outreach.requests.filter((q) => q.method === 'PATCH').length;

describe('confirmation mode auto (the default) and browser', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('auto uses elicitation when the client declares it (no approval page)', async () => {
    stack = await startStack({ confirm: 'server-default', elicit: ACCEPT });
    expect(stack.deps.config.confirm).toBe('auto');
    const target = pickUnlocked(stack);
    const messages: string[] = [];
    const r = structured(await stack.call('outreach_lock_user', { id: String(target.id) }, { onprogress: (p) => messages.push(p.message ?? '') }));
    expect(r).toMatchObject({ changed: true, confirmation: 'elicit' });
    expect(stack.elicitations).toHaveLength(1);
    expect(messages.join('\n')).not.toMatch(APPROVAL_URL_RE);
  });

  it('auto without elicitation waits for the approval page, then locks; the audit log records browser, time and user agent', async () => {
    stack = await startStack({ confirm: 'server-default' });
    const target = pickUnlocked(stack);
    const before = patches(stack);
    const call = startCall(stack, 'outreach_lock_user', { email: target.email });
    const url = await call.url();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/approve\/[A-Za-z0-9_-]{22}$/);
    expect(call.messages[0]).toContain('click Approve or Reject');
    expect(call.messages[0]).toContain(target.email);

    // Nothing happens before the decision, however long the page is open.
    const page = await loadApprovalPage(url);
    expect(page.html).toContain(target.email);
    expect(page.html).toContain('test-client 1.0.0');
    await new Promise((r) => setTimeout(r, 100));
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(false);
    expect(patches(stack)).toBe(before);
    expect(stack.auditLines()).toEqual([]);

    expect((await postApprovalDecision(url, page, 'approve', { userAgent: 'Mozilla/5.0 (X11) TestBrowser/1' })).status).toBe(200);
    const r = await call.result;
    expect(structured(r)).toMatchObject({ changed: true, confirmation: 'browser', after: { locked: true } });
    expect(textOf(r)).toContain(url);
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(true);
    const lines = stack.auditLines();
    expect(lines.map((l) => l.type)).toEqual(['intent', 'outcome']);
    for (const l of lines) {
      expect(l).toMatchObject({ confirmation: 'browser', confirmation_detail: { user_agent: 'Mozilla/5.0 (X11) TestBrowser/1' } });
      expect(Date.parse((l.confirmation_detail as { decided_at: string }).decided_at)).not.toBeNaN();
    }
    // Nothing in the result lets the model approve: no CSRF token, no cookie.
    expect(JSON.stringify(r)).not.toContain(page.csrf!);
    expect(JSON.stringify(r)).not.toContain(page.cookie!.split('=')[1]);
  });

  it('reject leaves the user unchanged and says so with the URL', async () => {
    stack = await startStack({ confirm: 'browser', elicit: ACCEPT });
    const target = pickUnlocked(stack);
    const call = startCall(stack, 'outreach_lock_user', { id: String(target.id) });
    const url = await call.url();
    expect((await postApprovalDecision(url, await loadApprovalPage(url), 'reject')).status).toBe(200);
    const r = await call.result;
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/rejected/);
    expect(textOf(r)).toContain(url);
    // browser mode: the page even though this client could elicit.
    expect(stack.elicitations).toEqual([]);
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(false);
    expect(stack.auditLines()).toEqual([]);
  });

  it('the approval URL as the `confirm` argument approves nothing; on timeout the error gives the URL and a retry re-uses it', async () => {
    stack = await startStack({ confirm: 'server-default', env: { SALES_ACCESS_APPROVAL_TIMEOUT_SECONDS: '1' } });
    const target = pickUnlocked(stack);
    const first = startCall(stack, 'outreach_lock_user', { email: target.email });
    const url = await first.url();
    const r1 = await first.result;
    expect(r1.isError).toBe(true);
    expect(textOf(r1)).toContain(url);
    expect(textOf(r1)).toMatch(/Nothing was changed yet/);

    const r2 = await stack.call('outreach_lock_user', { email: target.email, confirm: url });
    expect(r2.isError).toBe(true);
    expect(textOf(r2)).toContain(url);
    const r3 = await stack.call('outreach_lock_user', { email: target.email, confirm: target.email });
    expect(r3.isError).toBe(true);
    expect(textOf(r3)).toContain(url);
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(false);
    expect(stack.auditLines()).toEqual([]);

    // The human decides after the calls gave up; the next call picks the decision up.
    expect((await postApprovalDecision(url, await loadApprovalPage(url), 'approve')).status).toBe(200);
    const r4 = await stack.call('outreach_lock_user', { email: target.email });
    expect(structured(r4)).toMatchObject({ changed: true, confirmation: 'browser' });
    expect(textOf(r4)).toContain(url);
    // The approval was used once: another lock of someone else needs its own page.
    const other = stack.sandbox.outreach.users().find((u) => !u.locked && u.id !== target.id && u.active !== false)!;
    const r5 = await stack.call('outreach_lock_user', { id: String(other.id) });
    expect(r5.isError).toBe(true);
    expect(APPROVAL_URL_RE.exec(textOf(r5))?.[0]).not.toBe(url);
    expect(stack.sandbox.outreach.users().find((u) => u.id === other.id)!.locked).toBe(false);
  });

  it('execute_offboarding: a later call with the same plan id picks up the decision; a second call while pending gets the same URL', async () => {
    stack = await startStack({ confirm: 'server-default', env: { SALES_ACCESS_APPROVAL_TIMEOUT_SECONDS: '1' } });
    const target = pickUnlocked(stack);
    const plan = structured(await stack.call('plan_offboarding', { emails: [target.email] }));
    const acting = plan.steps.filter((s: any) => s.path !== 'none' && s.path !== 'manual');
    expect(acting.length).toBeGreaterThan(0);

    const first = startCall(stack, 'execute_offboarding', { plan_id: plan.plan_id, confirm: plan.plan_id });
    const url = await first.url();
    const r1 = await first.result;
    expect(r1.isError).toBe(true);
    expect(textOf(r1)).toContain(url);
    expect(textOf(r1)).toMatch(/same plan_id/);
    const r2 = await stack.call('execute_offboarding', { plan_id: plan.plan_id });
    expect(r2.isError).toBe(true);
    expect(APPROVAL_URL_RE.exec(textOf(r2))?.[0]).toBe(url);
    expect(stack.auditLines().filter((l) => l.tool === 'execute_offboarding')).toEqual([]);

    const page = await loadApprovalPage(url);
    for (const s of acting.slice(0, 40)) expect(page.html).toContain(`id ${s.account_id}`);
    expect(page.html).toContain(plan.plan_id);
    expect((await postApprovalDecision(url, page, 'approve')).status).toBe(200);
    const exec = structured(await stack.call('execute_offboarding', { plan_id: plan.plan_id }));
    expect(exec).toMatchObject({ replayed: false, confirmation: 'browser' });
    expect(exec.summary.done + exec.summary.unchanged).toBeGreaterThan(0);
    const lines = stack.auditLines().filter((l) => l.tool === 'execute_offboarding');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatchObject({ confirmation: 'browser', plan_id: plan.plan_id, confirmation_detail: { user_agent: 'test-browser/1.0' } });
  });
});

describe('approval configuration', () => {
  const base = { SALES_ACCESS_STATE_DIR: '/tmp/sam-approval-config' };
  const load = (env: Record<string, string>, argv: string[] = []) => loadConfig(parseCliArgs(argv), { ...base, ...env });

  it('defaults: auto, 5 minutes, no browser opening, no base URL', () => {
    expect(load({})).toMatchObject({ confirm: 'auto', approval: { timeoutMs: 300_000, openBrowser: false, baseUrl: undefined } });
    for (const mode of ['auto', 'elicit', 'token', 'browser']) expect(load({ SALES_ACCESS_CONFIRM: mode }).confirm).toBe(mode);
    expect(load({ SALES_ACCESS_OPEN_BROWSER: '1', SALES_ACCESS_APPROVAL_TIMEOUT_SECONDS: '60' }).approval).toMatchObject({ openBrowser: true, timeoutMs: 60_000 });
    expect(load({ SALES_ACCESS_APPROVAL_BASE_URL: 'http://localhost:3333/' }, ['--http']).approval).toMatchObject({ baseUrl: 'http://localhost:3333', pageAvailable: true });
    // Beyond loopback the page is not offered: a network client holding the link could forge a browser's headers.
    const shared = load({ SALES_ACCESS_HTTP_TOKEN: 'x'.repeat(40) }, ['--http', '--host', '0.0.0.0']);
    expect(shared).toMatchObject({ confirm: 'auto', approval: { pageAvailable: false } });
    expect(() => load({ SALES_ACCESS_HTTP_TOKEN: 'x'.repeat(40), SALES_ACCESS_CONFIRM: 'browser' }, ['--http', '--host', '0.0.0.0'])).toThrow(/served on loopback only/);
  });

  it.each([
    [{ SALES_ACCESS_CONFIRM: 'yes' }, /SALES_ACCESS_CONFIRM must be one of elicit, token, auto, browser/],
    [{ SALES_ACCESS_APPROVAL_TIMEOUT_SECONDS: '0' }, /SALES_ACCESS_APPROVAL_TIMEOUT_SECONDS must be a positive integer/],
    [{ SALES_ACCESS_APPROVAL_TIMEOUT_SECONDS: '601' }, /at most 600/],
    [{ SALES_ACCESS_OPEN_BROWSER: 'yes' }, /SALES_ACCESS_OPEN_BROWSER must be 1/],
    [{ SALES_ACCESS_APPROVAL_BASE_URL: 'https://access.example/approve' }, /must be an origin/],
    [{ SALES_ACCESS_APPROVAL_BASE_URL: 'https://access.example' }, /must be a loopback origin/],
    [{ SALES_ACCESS_APPROVAL_BASE_URL: 'http://access.example', SALES_ACCESS_ALLOWED_HOSTS: 'access.example' }, /must be a loopback origin/],
  ])('%j stops start-up naming the variable', (env, message) => {
    expect(() => load(env as Record<string, string>)).toThrow(ConfigError);
    expect(() => load(env as Record<string, string>)).toThrow(message);
  });
});
