import { Writable } from 'node:stream';
import { ElicitationCompleteNotificationSchema, ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, parseCliArgs } from '../../src/config.js';
import { ConfigError } from '../../src/env.js';
import {
  ACCEPT,
  APPROVAL_URL_RE,
  approvalUrlOf,
  callUntilDone,
  loadApprovalPage,
  postApprovalDecision,
  startStack,
  structured,
  textOf,
  unlockedOutreachUsers,
  type Stack,
} from '../support/stack.js';
import { waitFor } from '../support/timing.js';

/**
 * The confirmation gate in modes `auto` (the default) and `browser`, through the real MCP server and SDK
 * client: a call that needs the approval page answers at once (approval_required, then pending), a scripted
 * human decides on the page (GET, CSRF token, cookie, POST with the browser's Origin and Sec-Fetch-Site), and
 * the next call uses the decision once. The client's own patience per call is the deadline plus a margin; the
 * assertions are about outcomes, never timings. The real-browser version is test/e2e/approval-browser.test.ts.
 */

/** 1 s: short, so that a call which waited for anything would show it; the margin absorbs a loaded machine. */
const DEADLINE = { SALES_ACCESS_CALL_DEADLINE_SECONDS: '1' };
const PATIENCE_MS = 1_000 + 9_000;

function pickUnlocked(stack: Stack, exclude: number[] = []) {
  const u = unlockedOutreachUsers(stack).find((x) => !exclude.includes(x.id));
  if (!u) throw new Error('no unlocked sandbox user');
  return u;
}

const patches = (stack: Stack) => stack.sandbox.outreach.requests.filter((q) => q.method === 'PATCH').length;
const isLocked = (stack: Stack, id: number) => stack.sandbox.outreach.users().find((u) => u.id === id)!.locked;
const call = (stack: Stack, name: string, args: Record<string, unknown>) => stack.call(name, args, { timeout: PATIENCE_MS });
const statusOf = (r: CallToolResult) => (r.structuredContent as { status?: string } | undefined)?.status;

/** What the server logged, as parsed JSON lines. */
function memoryLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

async function approveOnPage(url: string, decision: 'approve' | 'reject' = 'approve', userAgent = 'Mozilla/5.0 (X11) TestBrowser/1') {
  const page = await loadApprovalPage(url);
  expect(page.status).toBe(200);
  const r = await postApprovalDecision(url, page, decision, { userAgent });
  expect(r.status).toBe(200);
  return page;
}

describe('confirmation mode auto (the default) and browser: approval without blocking', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('auto uses elicitation when the client declares it (no approval page)', async () => {
    stack = await startStack({ confirm: 'server-default', elicit: ACCEPT });
    expect(stack.deps.config.confirm).toBe('auto');
    const target = pickUnlocked(stack);
    const r = structured(await stack.call('outreach_lock_user', { id: String(target.id) }));
    expect(r).toMatchObject({ status: 'done', changed: true, confirmation: 'elicit', approval: { status: 'approved', method: 'elicit', url: null } });
    expect(r.approval.approved_by).toContain('test-client 1.0.0');
    expect(stack.elicitations).toHaveLength(1);
    expect(JSON.stringify(r)).not.toMatch(APPROVAL_URL_RE);
  });

  it('a lock without elicitation answers approval_required with the link at once; pending until the human approves; then applied once; then a no-op', async () => {
    const { log, lines } = memoryLog();
    stack = await startStack({ confirm: 'server-default', env: DEADLINE, log });
    const target = pickUnlocked(stack);
    const before = patches(stack);

    const r1 = await call(stack, 'outreach_lock_user', { email: target.email });
    expect(r1.isError).toBeFalsy();
    const s1 = structured(r1);
    expect(s1).toMatchObject({
      status: 'approval_required',
      approval: { status: 'required', method: 'browser', decided_at: null, approved_by: null },
      next: { tool: 'outreach_lock_user', add_arguments: { approval_id: s1.approval.id } },
    });
    const url = approvalUrlOf(r1);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/approve\/[A-Za-z0-9_-]{22}$/);
    expect(url.endsWith(`/${s1.approval.id}`)).toBe(true);
    expect(Date.parse(s1.approval.expires_at)).toBeGreaterThan(Date.now());
    expect(s1.message).toContain(url);
    expect(s1.message).toContain(target.email);
    expect(textOf(r1)).toContain(url);
    expect(s1).not.toHaveProperty('changed');
    // The link is in the server's log too, at warn level, for the human.
    const warned = lines.filter((l) => l.level === 40 && l.approval_url === url);
    expect(warned).toHaveLength(1);

    // Before a decision: pending, the same link, no second request; nothing sent, nothing audited.
    const r2 = await call(stack, 'outreach_lock_user', { email: target.email });
    expect(structured(r2)).toMatchObject({ status: 'pending', approval: { id: s1.approval.id, url, status: 'pending' } });
    const r2b = await call(stack, 'outreach_lock_user', { email: target.email, approval_id: s1.approval.id });
    expect(structured(r2b)).toMatchObject({ status: 'pending', approval: { url } });
    expect(lines.filter((l) => l.level === 40 && typeof l.approval_url === 'string')).toHaveLength(1);
    expect(isLocked(stack, target.id)).toBe(false);
    expect(patches(stack)).toBe(before);
    expect(stack.auditLines()).toEqual([]);

    // The page shows the change; a scripted human approves it.
    const page = await approveOnPage(url);
    expect(page.html).toContain(target.email);
    expect(page.html).toContain('test-client 1.0.0');
    expect(isLocked(stack, target.id)).toBe(false);

    // The next call applies it, once, and says who approved and how.
    const r3 = await call(stack, 'outreach_lock_user', { email: target.email, approval_id: s1.approval.id });
    const s3 = structured(r3);
    expect(s3).toMatchObject({ status: 'done', changed: true, confirmation: 'browser', after: { locked: true }, approval: { id: s1.approval.id, status: 'approved', method: 'browser', url } });
    expect(s3.approval.approved_by).toContain('Mozilla/5.0 (X11) TestBrowser/1');
    expect(textOf(r3)).toContain(url);
    expect(isLocked(stack, target.id)).toBe(true);
    expect(patches(stack)).toBe(before + 1);
    const audit = stack.auditLines();
    expect(audit.map((l) => l.type)).toEqual(['intent', 'outcome']);
    for (const l of audit) expect(l).toMatchObject({ confirmation: 'browser', confirmation_detail: { user_agent: 'Mozilla/5.0 (X11) TestBrowser/1' } });

    // The call after that is a no-op: nothing to change, nothing asked, nothing written.
    const r4 = await call(stack, 'outreach_lock_user', { email: target.email });
    expect(structured(r4)).toMatchObject({ status: 'done', changed: false, confirmation: 'none' });
    expect(structured(r4)).not.toHaveProperty('approval');
    expect(patches(stack)).toBe(before + 1);
    expect(stack.auditLines()).toHaveLength(2);
    // Nothing in any result lets the model approve: no CSRF token, no cookie.
    for (const r of [r1, r2, r3, r4]) {
      expect(JSON.stringify(r)).not.toContain(page.csrf!);
      expect(JSON.stringify(r)).not.toContain(page.cookie!.split('=')[1]);
    }
  });

  it('reject: the next call answers declined (a normal result), nothing changes; a later call asks again', async () => {
    stack = await startStack({ confirm: 'browser', elicit: ACCEPT, env: DEADLINE });
    const target = pickUnlocked(stack);
    const r1 = await call(stack, 'outreach_lock_user', { id: String(target.id) });
    // browser mode: the page even though this client could elicit.
    expect(stack.elicitations).toEqual([]);
    const url = approvalUrlOf(r1);
    await approveOnPage(url, 'reject');
    const r2 = await call(stack, 'outreach_lock_user', { id: String(target.id) });
    expect(r2.isError).toBeFalsy();
    expect(structured(r2)).toMatchObject({ status: 'declined', approval: { url, status: 'declined' } });
    expect(structured(r2).approval.decided_at).not.toBeNull();
    expect(structured(r2)).not.toHaveProperty('next');
    expect(textOf(r2)).toMatch(/rejected/);
    expect(isLocked(stack, target.id)).toBe(false);
    expect(stack.auditLines()).toEqual([]);
    // The decline was used: asking again is a new request the human decides anew.
    const r3 = await call(stack, 'outreach_lock_user', { id: String(target.id) });
    expect(statusOf(r3)).toBe('approval_required');
    expect(approvalUrlOf(r3)).not.toBe(url);
  });

  it('an approval is bound to its session: another session cannot use the decision or the approval_id', async () => {
    stack = await startStack({ confirm: 'server-default', env: DEADLINE });
    const target = pickUnlocked(stack);
    const r1 = await call(stack, 'outreach_lock_user', { id: String(target.id) });
    const first = structured(r1).approval;
    await approveOnPage(first.url);

    const other = await stack.connect('other-client');
    const ask = (args: Record<string, unknown>) => other.callTool({ name: 'outreach_lock_user', arguments: args }, undefined, { timeout: PATIENCE_MS }) as Promise<CallToolResult>;
    // Same change from another session: its own request, not the decision made for the first.
    const o1 = await ask({ id: String(target.id) });
    expect(statusOf(o1)).toBe('approval_required');
    expect(approvalUrlOf(o1)).not.toBe(first.url);
    const o2 = await ask({ id: String(target.id), approval_id: first.id });
    expect(o2.isError).toBe(true);
    expect(textOf(o2)).toMatch(/not an approval request of this session/);
    expect(isLocked(stack, target.id)).toBe(false);
    expect(stack.auditLines()).toEqual([]);

    // The session that asked applies it.
    expect(structured(await call(stack, 'outreach_lock_user', { id: String(target.id) }))).toMatchObject({ status: 'done', changed: true });
    expect(stack.auditLines().filter((l) => l.type === 'intent')).toHaveLength(1);
  });

  it('an approval is bound to the arguments: approval_id with other arguments is refused, and the URL as `confirm` approves nothing', async () => {
    stack = await startStack({ confirm: 'server-default', env: DEADLINE });
    const [a, b] = [pickUnlocked(stack), pickUnlocked(stack, [pickUnlocked(stack).id])];
    const r1 = await call(stack, 'outreach_lock_user', { id: String(a.id) });
    const { id, url } = structured(r1).approval;
    const wrong = await call(stack, 'outreach_lock_user', { id: String(b.id), approval_id: id });
    expect(wrong.isError).toBe(true);
    expect(textOf(wrong)).toMatch(/asked for another change/);
    for (const confirm of [url, String(a.id)]) {
      const r = await call(stack, 'outreach_lock_user', { id: String(a.id), confirm });
      // `confirm` is not part of what an approval is bound to: the same pending request, never an approval.
      expect(structured(r)).toMatchObject({ status: 'pending', approval: { url } });
    }
    expect(isLocked(stack, a.id)).toBe(false);
    expect(isLocked(stack, b.id)).toBe(false);
    expect(stack.auditLines()).toEqual([]);
  });

  it('execute_offboarding follows the same protocol: approval_required, approve, executed once; again: the stored result', async () => {
    // Deactivation alone (books: false); the 1 s deadline may turn the plan into a job on a loaded machine.
    stack = await startStack({ confirm: 'server-default', env: DEADLINE, sandbox: { books: false } });
    const target = pickUnlocked(stack);
    const plan = structured((await callUntilDone((a) => call(stack!, 'plan_offboarding', a), { emails: [target.email] })).at(-1)!);
    const acting = plan.steps.filter((s: any) => s.path !== 'none' && s.path !== 'manual');
    expect(acting.length).toBeGreaterThan(0);

    const r1 = await call(stack, 'execute_offboarding', { plan_id: plan.plan_id, confirm: plan.plan_id });
    expect(structured(r1)).toMatchObject({ status: 'approval_required', next: { tool: 'execute_offboarding' } });
    expect(structured(r1).next.instruction).toMatch(/same plan_id/);
    const url = approvalUrlOf(r1);
    const r2 = await call(stack, 'execute_offboarding', { plan_id: plan.plan_id });
    expect(structured(r2)).toMatchObject({ status: 'pending', approval: { url } });
    expect(stack.auditLines().filter((l) => l.tool === 'execute_offboarding')).toEqual([]);

    const page = await loadApprovalPage(url);
    for (const s of acting.slice(0, 40)) expect(page.html).toContain(`id ${s.account_id}`);
    expect(page.html).toContain(plan.plan_id);
    expect((await postApprovalDecision(url, page, 'approve')).status).toBe(200);

    const answers: CallToolResult[] = [];
    for (let r = await call(stack, 'execute_offboarding', { plan_id: plan.plan_id }); ; r = await call(stack, 'execute_offboarding', { plan_id: plan.plan_id })) {
      answers.push(r);
      if (statusOf(r) !== 'running') break;
    }
    const exec = structured(answers.at(-1)!);
    expect(exec).toMatchObject({ status: 'done', replayed: false, confirmation: 'browser', approval: { status: 'approved', url } });
    expect(exec.summary.done + exec.summary.unchanged).toBeGreaterThan(0);
    const lines = stack.auditLines().filter((l) => l.tool === 'execute_offboarding');
    expect(lines.length).toBe(exec.steps.reduce((n: number, st: any) => n + st.audit_ops, 0) * 2);
    for (const l of lines) expect(l).toMatchObject({ confirmation: 'browser', plan_id: plan.plan_id, confirmation_detail: { user_agent: 'test-browser/1.0' } });

    const again = structured(await call(stack, 'execute_offboarding', { plan_id: plan.plan_id }));
    expect(again).toMatchObject({ status: 'done', replayed: true });
    expect(stack.auditLines().filter((l) => l.tool === 'execute_offboarding')).toHaveLength(lines.length);
  });

  it('a client that declares URL-mode elicitation gets the link through it, and a completion notice once the human decided', async () => {
    stack = await startStack({ confirm: 'server-default', env: DEADLINE, capabilities: { elicitation: { url: {} } } });
    const target = pickUnlocked(stack);
    const completed: string[] = [];
    stack.client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => {
      completed.push(n.params.elicitationId);
    });
    const err = await call(stack, 'outreach_lock_user', { id: String(target.id) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(ErrorCode.UrlElicitationRequired);
    const [elicitation] = ((err as McpError).data as { elicitations: { mode: string; url: string; elicitationId: string; message: string }[] }).elicitations;
    expect(elicitation).toMatchObject({ mode: 'url' });
    expect(elicitation.url.endsWith(`/${elicitation.elicitationId}`)).toBe(true);
    expect(elicitation.message).toContain(String(target.id));
    expect(isLocked(stack, target.id)).toBe(false);

    await approveOnPage(elicitation.url);
    await waitFor(() => (completed.includes(elicitation.elicitationId) ? true : undefined), 'notifications/elicitation/complete', 10_000);
    const r = await call(stack, 'outreach_lock_user', { id: String(target.id) });
    expect(structured(r)).toMatchObject({ status: 'done', changed: true, confirmation: 'browser', approval: { id: elicitation.elicitationId } });
    expect(stack.auditLines().filter((l) => l.type === 'intent')).toHaveLength(1);
  });
});

describe('approval and deadline configuration', () => {
  const base = { SALES_ACCESS_STATE_DIR: '/tmp/sam-approval-config' };
  const load = (env: Record<string, string>, argv: string[] = []) => loadConfig(parseCliArgs(argv), { ...base, ...env });

  it('defaults: auto, no browser opening, no base URL, a 45 s call deadline', () => {
    expect(load({})).toMatchObject({ confirm: 'auto', approval: { openBrowser: false, baseUrl: undefined }, callDeadlineMs: 45_000 });
    for (const mode of ['auto', 'elicit', 'token', 'browser']) expect(load({ SALES_ACCESS_CONFIRM: mode }).confirm).toBe(mode);
    expect(load({ SALES_ACCESS_OPEN_BROWSER: '1', SALES_ACCESS_CALL_DEADLINE_SECONDS: '20' })).toMatchObject({ approval: { openBrowser: true }, callDeadlineMs: 20_000 });
    expect(load({ SALES_ACCESS_APPROVAL_BASE_URL: 'http://localhost:3333/' }, ['--http']).approval).toMatchObject({ baseUrl: 'http://localhost:3333', pageAvailable: true });
    // Beyond loopback the page is not offered: a network client holding the link could forge a browser's headers.
    const shared = load({ SALES_ACCESS_HTTP_TOKEN: 'x'.repeat(40) }, ['--http', '--host', '0.0.0.0']);
    expect(shared).toMatchObject({ confirm: 'auto', approval: { pageAvailable: false } });
    expect(() => load({ SALES_ACCESS_HTTP_TOKEN: 'x'.repeat(40), SALES_ACCESS_CONFIRM: 'browser' }, ['--http', '--host', '0.0.0.0'])).toThrow(/served on loopback only/);
  });

  it.each([
    [{ SALES_ACCESS_CONFIRM: 'yes' }, /SALES_ACCESS_CONFIRM must be one of elicit, token, auto, browser/],
    [{ SALES_ACCESS_CALL_DEADLINE_SECONDS: '0' }, /SALES_ACCESS_CALL_DEADLINE_SECONDS must be a positive integer/],
    [{ SALES_ACCESS_CALL_DEADLINE_SECONDS: '4.5' }, /SALES_ACCESS_CALL_DEADLINE_SECONDS must be a positive integer/],
    [{ SALES_ACCESS_CALL_DEADLINE_SECONDS: '3601' }, /at most 3600/],
    [{ SALES_ACCESS_OPEN_BROWSER: 'yes' }, /SALES_ACCESS_OPEN_BROWSER must be 1/],
    [{ SALES_ACCESS_APPROVAL_BASE_URL: 'https://access.example/approve' }, /must be an origin/],
    [{ SALES_ACCESS_APPROVAL_BASE_URL: 'https://access.example' }, /must be a loopback origin/],
    [{ SALES_ACCESS_APPROVAL_BASE_URL: 'http://access.example', SALES_ACCESS_ALLOWED_HOSTS: 'access.example' }, /must be a loopback origin/],
  ])('%j stops start-up naming the variable', (env, message) => {
    expect(() => load(env as Record<string, string>)).toThrow(ConfigError);
    expect(() => load(env as Record<string, string>)).toThrow(message);
  });

  const idp = { SALES_ACCESS_OAUTH_ISSUER: 'https://login.example.com/oauth2/default', SALES_ACCESS_RESOURCE_URL: 'https://access.example.com/mcp' };
  const shared = ['--http', '--host', '0.0.0.0'];

  it('sign-in on the page (SALES_ACCESS_APPROVAL_CLIENT_ID) offers it beyond loopback, at an https origin, over HTTP only', () => {
    const c = load({ ...idp, SALES_ACCESS_APPROVAL_CLIENT_ID: ' 0oa-page ', SALES_ACCESS_APPROVAL_CLIENT_SECRET: 's3cret-value', SALES_ACCESS_APPROVAL_BASE_URL: 'https://access.example.com' }, shared);
    expect(c.approval).toEqual({ openBrowser: false, baseUrl: 'https://access.example.com', pageAvailable: true, signIn: { clientId: '0oa-page', clientSecret: 's3cret-value' } });
    expect(load({ ...idp, SALES_ACCESS_CONFIRM: 'browser', SALES_ACCESS_APPROVAL_CLIENT_ID: 'p', SALES_ACCESS_APPROVAL_BASE_URL: 'https://access.example.com' }, shared).confirm).toBe('browser');
    // On loopback the origin defaults to the server's own; a public client (no secret) uses PKCE alone.
    expect(load({ ...idp, SALES_ACCESS_APPROVAL_CLIENT_ID: 'p' }, ['--http']).approval).toMatchObject({ baseUrl: undefined, pageAvailable: true, signIn: { clientId: 'p', clientSecret: undefined } });
    // Over stdio it is ignored (a start-up warning says so).
    expect(load({ ...idp, SALES_ACCESS_APPROVAL_CLIENT_ID: 'p' }).approval.signIn).toBeUndefined();
  });

  it.each([
    [{ SALES_ACCESS_APPROVAL_CLIENT_ID: 'p', SALES_ACCESS_HTTP_TOKEN: 'x'.repeat(40) }, /SALES_ACCESS_APPROVAL_CLIENT_ID needs SALES_ACCESS_OAUTH_ISSUER/],
    [{ ...idp, SALES_ACCESS_APPROVAL_CLIENT_SECRET: 'only-the-secret' }, /SALES_ACCESS_APPROVAL_CLIENT_SECRET applies only with SALES_ACCESS_APPROVAL_CLIENT_ID/],
    [{ ...idp, SALES_ACCESS_APPROVAL_CLIENT_ID: 'p' }, /SALES_ACCESS_APPROVAL_BASE_URL is required with SALES_ACCESS_APPROVAL_CLIENT_ID .*\/approve\/callback/],
    [{ ...idp, SALES_ACCESS_APPROVAL_CLIENT_ID: 'p', SALES_ACCESS_APPROVAL_BASE_URL: 'http://access.example.com' }, /must use https:\/\/ beyond loopback/],
    [{ ...idp, SALES_ACCESS_APPROVAL_CLIENT_ID: 'two words', SALES_ACCESS_APPROVAL_BASE_URL: 'https://access.example.com' }, /SALES_ACCESS_APPROVAL_CLIENT_ID contains whitespace/],
    [{ ...idp, SALES_ACCESS_APPROVAL_BASE_URL: 'https://access.example.com' }, /must be a loopback origin .* unless the page signs people in \(SALES_ACCESS_APPROVAL_CLIENT_ID\)/],
  ])('sign-in misconfiguration %j stops start-up naming the variable', (env, message) => {
    expect(() => load(env as Record<string, string>, shared)).toThrow(ConfigError);
    expect(() => load(env as Record<string, string>, shared)).toThrow(message);
  });
});
