import { existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESOURCE_MIME_TYPE } from '@modelcontextprotocol/ext-apps/app-bridge';
import type { CallToolResult, ClientCapabilities, Tool } from '@modelcontextprotocol/sdk/types.js';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { APPROVAL_META_KEY } from '../../src/confirm/in-chat.js';
import { sampleRosterCsv } from '../../src/sandbox/roster.js';
import { CHROMIUM_ARGS, mountView, type MountedView } from '../support/app-host.js';
import { ordinaryEverywhere } from '../support/people.js';
import { callUntilDone, startStack, structured, textOf, type Stack } from '../support/stack.js';

/**
 * The in-chat views (MCP Apps) served through the SDK's host side of the extension (AppBridge) in headless
 * Chromium, against the real server on the sandbox: the access review view shows a real review's findings and
 * filters them; the offboarding view's Approve applies the plan once, Reject changes nothing, and a second
 * decision or a replayed nonce is refused. A vendor user named like an HTML tag stays text in both. Takes
 * screenshots into a temp directory, or with UPDATE_SCREENSHOTS=1 over docs/*-view-{light,dark}.png (in the
 * README). Where /usr/bin/chromium is missing the browser tests are reported as skipped, with the reason.
 */

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SKIP = HAVE_CHROMIUM ? '' : ` (skipped: ${CHROMIUM} is missing; install Debian's chromium package)`;
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/', import.meta.url)) : mkdtempSync(join(tmpdir(), 'apps-shots-'));
const XSS = '<img src=x onerror=alert(1)>';
const APPS: ClientCapabilities = { extensions: { 'io.modelcontextprotocol/ui': { mimeTypes: [RESOURCE_MIME_TYPE] } } };
const DEADLINE = { SALES_ACCESS_CALL_DEADLINE_SECONDS: '5' };

const call = (stack: Stack, name: string, args: Record<string, unknown>) => stack.call(name, args, { timeout: 30_000 });
const finish = async (stack: Stack, name: string, args: Record<string, unknown>) => (await callUntilDone((a) => call(stack, name, a), args)).at(-1)!;

async function viewHtml(stack: Stack, uri: string): Promise<string> {
  const r = await stack.client.readResource({ uri });
  const c = r.contents[0] as { mimeType?: string; text?: string; _meta?: { ui?: { csp?: Record<string, unknown> } } };
  expect(c.mimeType).toBe(RESOURCE_MIME_TYPE);
  // No network origin declared: the host's CSP allows none.
  for (const v of Object.values(c._meta?.ui?.csp ?? {})) expect(v).toEqual([]);
  return c.text!;
}

/** A terminated person (sample roster) with an active, unlocked Outreach seat: an orphaned account to offboard. */
function leaver(stack: Stack): { id: number; email: string } {
  const terminated = new Set(
    sampleRosterCsv()
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .filter((c) => c[3] === 'terminated')
      .map((c) => c[0].toLowerCase()),
  );
  const users = stack.sandbox.outreach.users();
  const u = users.find((x) => terminated.has(x.email.toLowerCase()) && !x.locked && x.active !== false && users.filter((y) => y.email.toLowerCase() === x.email.toLowerCase()).length === 1);
  if (!u) throw new Error('no terminated person with an active Outreach seat in the sandbox');
  return { id: u.id, email: u.email.toLowerCase() };
}

async function shot(v: MountedView, name: string): Promise<void> {
  const path = join(SHOTS, name);
  mkdirSync(SHOTS, { recursive: true });
  await v.page.screenshot({ path, fullPage: false });
  expect(statSync(path).size).toBeGreaterThan(10_000);
}

/** The view's own text never ran as markup: no <img> from vendor data, no alert, and the name shown as typed. */
async function expectInert(v: MountedView, selector: string): Promise<void> {
  expect(await v.frame.locator('img').count()).toBe(0);
  const texts = await v.frame.locator(selector).allInnerTexts();
  expect(texts.some((t) => t.includes(XSS))).toBe(true);
}

describe('in-chat views (MCP Apps) through the SDK host side in headless Chromium', () => {
  let browser: Browser | undefined;
  let stack: Stack | undefined;
  const views: MountedView[] = [];

  beforeAll(async () => {
    if (HAVE_CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const v of views.splice(0)) {
      expect(v.problems).toEqual([]);
      expect(v.requests).toEqual([]);
      await v.close();
    }
    await stack?.close();
    stack = undefined;
  });

  async function mount(html: string, tool: { name: string; args: Record<string, unknown>; result: CallToolResult }, theme: 'light' | 'dark' = 'light') {
    const v = await mountView(browser!, stack!.client, html, tool, { theme });
    views.push(v);
    return v;
  }

  it('are offered only to a client that declares the extension; app-only tools are hidden from the model', async () => {
    stack = await startStack({ confirm: 'server-default', capabilities: APPS, toolsets: null });
    const { tools } = await stack.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ['access_review', 'plan_offboarding', 'execute_offboarding']) expect((byName.get(name)?._meta?.ui as { resourceUri?: string })?.resourceUri, name).toMatch(/^ui:\/\//);
    const appOnly = tools.filter((t: Tool) => (t._meta?.ui as { visibility?: string[] } | undefined)?.visibility?.join() === 'app').map((t) => t.name);
    expect(appOnly.sort()).toEqual(['access_review_findings', 'offboarding_decide', 'offboarding_plan']);
    const { resources } = await stack.client.listResources();
    expect(resources.filter((r) => r.uri.startsWith('ui://')).map((r) => r.mimeType)).toEqual([RESOURCE_MIME_TYPE, RESOURCE_MIME_TYPE]);

    const plain = await stack.connect('plain-client');
    const plainTools = (await plain.listTools()).tools;
    expect(plainTools.map((t) => t.name)).toEqual(tools.filter((t) => !appOnly.includes(t.name)).map((t) => t.name));
    for (const t of plainTools) expect(t._meta?.ui, t.name).toBeUndefined();
    expect((await plain.listResources()).resources.filter((r) => r.uri.startsWith('ui://'))).toEqual([]);
    const refused = (await plain.callTool({ name: 'offboarding_decide', arguments: { approval_id: 'a'.repeat(22), nonce: 'x', decision: 'approve' } })) as CallToolResult;
    expect(refused.isError).toBe(true);
  });

  it.skipIf(!HAVE_CHROMIUM)(`the access review view shows a real review's findings and filters them${SKIP}`, { timeout: 120_000 }, async () => {
    stack = await startStack({ confirm: 'server-default', capabilities: APPS, toolsets: null, sandboxClock: systemClock, env: DEADLINE });
    const target = leaver(stack);
    stack.sandbox.outreach.linkUsers().update(String(target.id), { givenName: XSS, familyName: '' });
    const args = { roster_path: 'roster.csv' };
    const result = await finish(stack, 'access_review', args);
    const review = structured(result);
    expect(review.status).toBe('done');
    const html = await viewHtml(stack, 'ui://sales-access-mcp/access-review.html');

    for (const theme of ['light', 'dark'] as const) {
      const v = await mount(html, { name: 'access_review', args, result }, theme);
      const rows = v.frame.locator('table.findings tr.finding');
      // The page from the app-only tool (its pager shows the total) replaces the top findings.
      await v.frame.locator('.pager button').first().waitFor();
      const total = Number(await v.frame.locator('.pager [data-total]').getAttribute('data-total'));
      expect(total).toBeGreaterThanOrEqual(review.summary.findings_total);
      expect(await rows.count()).toBe(Math.min(25, total));
      const emails = (await v.frame.locator('table.findings td.email').allInnerTexts()).map((e) => e.toLowerCase());
      const top = review.top_findings[0];
      if (top.accounts[0]?.email) expect(emails).toContain(String(top.accounts[0].email).toLowerCase());
      // The chart of the HTML report, one bar group per vendor reviewed.
      expect(await v.frame.locator('svg.seats-chart g.bar-group').count()).toBe(Object.keys(review.summary.by_vendor).length);
      expect(await v.frame.locator('html').getAttribute('data-theme')).toBe(theme);
      await shot(v, `review-view-${theme}.png`);
      if (theme === 'dark') continue;

      // The host switches to dark: the view follows without a reload.
      v.bridge.setHostContext({ theme: 'dark' });
      await expect.poll(() => v.frame.locator('html').getAttribute('data-theme')).toBe('dark');
      v.bridge.setHostContext({ theme: 'light' });
      await expect.poll(() => v.frame.locator('html').getAttribute('data-theme')).toBe('light');
      // The evidence files open through the host (ui/download-file of the resource links).
      await v.frame.locator('button[data-evidence="html"]').click();
      await expect.poll(() => v.downloads).toEqual([review.evidence.html]);

      // Filters: vendor, then finding code and roster status; every row shown matches, the total follows.
      await v.frame.locator('select[data-filter="vendor"]').selectOption('outreach');
      await v.frame.locator('table.findings tr.finding[data-vendor="outreach"]').first().waitFor();
      await expect.poll(async () => (await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-vendor')))).every((x) => x === 'outreach')).toBe(true);
      await v.frame.locator('select[data-filter="code"]').selectOption('ORPHANED_ACCOUNT');
      await v.frame.locator('select[data-filter="roster"]').selectOption('terminated');
      await expect.poll(async () => (await rows.evaluateAll((rs) => rs.map((r) => `${r.getAttribute('data-code')}/${r.getAttribute('data-roster')}`))).every((x) => x === 'ORPHANED_ACCOUNT/terminated')).toBe(true);
      const filtered = Number(await v.frame.locator('.pager [data-total]').getAttribute('data-total'));
      expect(filtered).toBeGreaterThan(0);
      expect(filtered).toBeLessThan(total);
      // The leaver's seat, named like an HTML tag, is a row whose name is that text.
      await v.frame.locator('select[data-filter="severity"]').selectOption('high');
      await expect.poll(async () => (await v.frame.locator('table.findings td.name').allInnerTexts()).includes(XSS)).toBe(true);
      await expectInert(v, 'table.findings td.name');
    }
  });

  /** A leaver (named like an HTML tag in Outreach) who owns a few records everywhere, and a colleague to take them. */
  async function offboardingStack(): Promise<{ leaver: string; colleague: string }> {
    const [leaver, colleague] = ordinaryEverywhere() as [string, string];
    stack = await startStack({ confirm: 'server-default', capabilities: APPS, toolsets: null, sandboxClock: systemClock, env: DEADLINE, sandbox: { bigBook: { email: leaver, count: 3 } } });
    const id = stack.sandbox.outreach.users().find((u) => u.email === leaver)!.id;
    stack.sandbox.outreach.linkUsers().update(String(id), { givenName: XSS, familyName: '' });
    return { leaver, colleague };
  }

  const planLines = (planId: string) => stack!.auditLines().filter((l) => l.plan_id === planId);

  it.skipIf(!HAVE_CHROMIUM)(`the offboarding view's Approve applies the plan exactly once; a second click or a replayed nonce is refused${SKIP}`, { timeout: 180_000 }, async () => {
    const { leaver, colleague } = await offboardingStack();
    const planArgs = { emails: [leaver], transfer_to: colleague };
    const planResult = await finish(stack!, 'plan_offboarding', planArgs);
    const plan = structured(planResult);
    const acting = (plan.steps as { step_id: string; kind: string; path: string }[]).filter((s) => s.path !== 'none' && s.path !== 'manual');
    expect(acting.some((s) => s.kind === 'transfer')).toBe(true);
    expect(acting.some((s) => s.kind === 'deactivate')).toBe(true);
    const html = await viewHtml(stack!, 'ui://sales-access-mcp/offboarding.html');

    // plan_offboarding's view: per person and vendor, what goes to whom, the seat effect, the manual steps; no buttons.
    const pv = await mount(html, { name: 'plan_offboarding', args: planArgs, result: planResult });
    await pv.frame.locator(`.person[data-person="${leaver}"]`).waitFor();
    const planText = await pv.frame.locator('main').innerText();
    expect(planText).toContain(`to ${colleague}`);
    expect(planText).toMatch(/seat (freed|still billed)/);
    for (const v of new Set(acting.map((s: any) => s.vendor))) expect(planText).toContain(v);
    expect(await pv.frame.locator('button.approve').count()).toBe(0);
    await expectInert(pv, '.account-name');

    // execute_offboarding: nothing changes; the result carries the nonce for the view only.
    const ask = await call(stack!, 'execute_offboarding', { plan_id: plan.plan_id });
    const env = structured(ask);
    expect(env).toMatchObject({ status: 'approval_required', approval: { method: 'app', url: null, status: 'required' } });
    const nonce = (ask._meta?.[APPROVAL_META_KEY] as { id: string; nonce: string }).nonce;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(ask.content)).not.toContain(nonce);
    expect(JSON.stringify(ask.structuredContent)).not.toContain(nonce);
    expect(textOf(ask)).not.toContain(nonce);
    expect(planLines(plan.plan_id)).toEqual([]);

    for (const theme of ['dark', 'light'] as const) {
      const v = await mount(html, { name: 'execute_offboarding', args: { plan_id: plan.plan_id }, result: ask }, theme);
      await v.frame.locator('button.approve:enabled').waitFor();
      expect(await v.frame.locator('html').getAttribute('data-theme')).toBe(theme);
      await expectInert(v, '.account-name');
      await shot(v, `offboarding-view-${theme}.png`);
    }
    const view = views.at(-1)!;
    await view.frame.locator('button.approve').click();
    await expect.poll(() => view.frame.locator('.decision .status').innerText(), { timeout: 120_000 }).toMatch(/^Done: /);
    expect(await view.frame.locator('button.approve').isDisabled()).toBe(true);
    expect(view.modelContext.join('\n')).toMatch(/approved the offboarding/);

    // One write per step (a hand-over: one per batch), each confirmed through the in-chat app, with the host's name.
    const lines = planLines(plan.plan_id);
    const intents = lines.filter((l) => l.type === 'intent');
    expect(intents.length).toBeGreaterThanOrEqual(acting.length);
    expect(lines.filter((l) => l.type === 'outcome').length).toBe(intents.length);
    for (const l of lines) expect(l).toMatchObject({ tool: 'execute_offboarding', confirmation: 'app', confirmation_detail: { host: 'test-client 1.0.0' } });
    expect(new Set(intents.map((l) => l.op_id)).size).toBe(intents.length);

    // The model asks again: the stored result, no vendor call, no audit line.
    const again = structured(await finish(stack!, 'execute_offboarding', { plan_id: plan.plan_id }));
    expect(again).toMatchObject({ status: 'done', replayed: true, confirmation: 'app' });
    const perStep = new Map((again.steps as { step_id: string; kind: string; audit_ops: number; outcome: string }[]).map((s) => [s.step_id, s]));
    for (const s of acting) {
      expect(perStep.get(s.step_id)?.outcome, s.step_id).toBe('done');
      if (s.kind !== 'transfer') expect(perStep.get(s.step_id)?.audit_ops, s.step_id).toBe(1);
    }
    expect(intents.length).toBe([...perStep.values()].reduce((n, s) => n + s.audit_ops, 0));

    // A replayed nonce (the same decision sent again) and a second click in a re-rendered view are refused.
    const replay = (await stack!.client.callTool({ name: 'offboarding_decide', arguments: { approval_id: env.approval.id, nonce, decision: 'approve' } })) as CallToolResult;
    expect(replay.isError).toBe(true);
    expect(textOf(replay)).toMatch(/already approved/);
    const rerendered = await mount(html, { name: 'execute_offboarding', args: { plan_id: plan.plan_id }, result: ask });
    await rerendered.frame.locator('button.approve:enabled').click();
    await expect.poll(() => rerendered.frame.locator('.decision .status').innerText()).toMatch(/already approved/);
    expect(planLines(plan.plan_id).length).toBe(lines.length);
  });

  it.skipIf(!HAVE_CHROMIUM)(`Reject in the offboarding view changes nothing${SKIP}`, { timeout: 120_000 }, async () => {
    const { leaver, colleague } = await offboardingStack();
    const plan = structured(await finish(stack!, 'plan_offboarding', { emails: [leaver], transfer_to: colleague }));
    const ask = await call(stack!, 'execute_offboarding', { plan_id: plan.plan_id });
    const approvalId = structured(ask).approval.id as string;
    const nonce = (ask._meta?.[APPROVAL_META_KEY] as { nonce: string }).nonce;
    const requests = () => stack!.sandbox.outreach.requests.length + stack!.sandbox.salesloft.requests.length + stack!.sandbox.apollo.requests.length;

    // A nonce that is not this request's decides nothing.
    const forged = (await stack!.client.callTool({ name: 'offboarding_decide', arguments: { approval_id: approvalId, nonce: `${nonce.slice(0, -2)}AA`, decision: 'approve' } })) as CallToolResult;
    expect(forged.isError).toBe(true);
    expect(textOf(forged)).toMatch(/token does not belong/);

    const html = await viewHtml(stack!, 'ui://sales-access-mcp/offboarding.html');
    const v = await mount(html, { name: 'execute_offboarding', args: { plan_id: plan.plan_id }, result: ask });
    const before = requests();
    await v.frame.locator('button.reject:enabled').click();
    await expect.poll(() => v.frame.locator('.decision .status').innerText()).toMatch(/^Rejected: nothing was changed/);
    expect(v.modelContext.join('\n')).toMatch(/rejected the offboarding/);
    expect(requests()).toBe(before);
    expect(planLines(plan.plan_id)).toEqual([]);

    // The model's next call takes the rejection: declined, nothing written; the nonce cannot approve afterwards.
    const next = structured(await call(stack!, 'execute_offboarding', { plan_id: plan.plan_id }));
    expect(next).toMatchObject({ status: 'declined', approval: { method: 'app', status: 'declined' } });
    const late = (await stack!.client.callTool({ name: 'offboarding_decide', arguments: { approval_id: approvalId, nonce, decision: 'approve' } })) as CallToolResult;
    expect(late.isError).toBe(true);
    expect(requests()).toBe(before);
    expect(planLines(plan.plan_id)).toEqual([]);
  });
});
