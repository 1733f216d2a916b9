import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ACCEPT, callUntilDone, startStack, structured, textOf, unlockedOutreachUsers, type Stack } from '../support/stack.js';

/**
 * Every call answers within the deadline (SALES_ACCESS_CALL_DEADLINE_SECONDS, 1 s here): work that is not done
 * goes on as a job, the call answers `running` with its progress, and calls with the same arguments (or the
 * job_id) attach to it until the result is there. The work is slowed by the vendors' own rules (a tight
 * per-window limit in the Apollo simulator, or the simulators' response time), so it cannot finish within one
 * call whatever the machine's speed; the assertions are about outcomes (answers, requests counted by the
 * simulators, audit lines), never about timings.
 */

const DEADLINE = { SALES_ACCESS_CALL_DEADLINE_SECONDS: '1' };
/** The client's own patience per call: the deadline plus a margin for a loaded machine. */
const PATIENCE_MS = 1_000 + 9_000;
const USERS_SEARCH = 'api/v1/users/search';
const HUGE = 1_000_000;
/** Apollo's windows scaled by 0.01 (the minute lasts 600 ms), users/search at 2 per window. */
const SLOW_APOLLO = { windowScale: 0.01, endpoints: { [USERS_SEARCH]: { minute: 2, hour: HUGE, day: HUGE } } };
/** ~1,500 teammates: 15 pages, at 2 per window at least 7 windows (4.2 s), far past the 1 s deadline. */
const APOLLO_PEOPLE = 2_000;

type Running = { status: 'running'; job: { id: string; progress: Record<string, number | string | null>; expected_finish_at: string | null; started_at: string }; next: { add_arguments: Record<string, string> } };

const statusOf = (r: CallToolResult) => (r.structuredContent as { status?: string } | undefined)?.status;

describe('calls answer within the deadline; the work goes on as a job', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  const listUsers = (s: Stack, args: Record<string, unknown> = {}) => s.call('apollo_list_users', args, { timeout: PATIENCE_MS });

  it('a listing slowed by a tight vendor limit answers running, and repeated calls end with the complete roster: each page requested once, no 429', async () => {
    stack = await startStack({ env: DEADLINE, sandbox: { apollo: { userCount: APOLLO_PEOPLE, limits: SLOW_APOLLO } } });
    const sim = stack.sandbox.apollo;
    const teammates = sim.users().length;
    const pages = Math.ceil(teammates / 100);
    expect(pages).toBeGreaterThanOrEqual(12);

    const answers = await callUntilDone((a) => listUsers(stack!, a), {});
    const running = answers.slice(0, -1).map((r) => structured<Running>(r));
    expect(running.length).toBeGreaterThan(0);
    expect(statusOf(answers[0])).toBe('running');
    const jobId = running[0].job.id;
    for (const r of running) {
      expect(r).toMatchObject({ status: 'running', job: { id: jobId, state: 'running' }, next: { tool: 'apollo_list_users', add_arguments: { job_id: jobId }, retry_after_seconds: 0 } });
      expect(r).not.toHaveProperty('users');
    }
    // Progress from the work itself: pages of the total, accounts so far, and the limiter's schedule for the rest.
    const later = running.filter((r) => (r.job.progress.pages as number) >= 1);
    expect(later.length).toBeGreaterThan(0);
    for (const r of later) {
      expect(r.job.progress).toMatchObject({ pages_total: pages });
      expect(r.job.progress.accounts).toBe(Math.min(teammates, 100 * (r.job.progress.pages as number)));
      expect(Date.parse(r.job.expected_finish_at!)).toBeGreaterThanOrEqual(Date.parse(r.job.started_at));
    }

    const done = structured(answers.at(-1)!);
    expect(done).toMatchObject({ status: 'done', pages_fetched: pages, total: teammates, truncated: true });
    expect(done.summary.active + done.summary.deactivated).toBe(teammates);
    const full = await stack.client.readResource({ uri: done.full_result_uri });
    expect(JSON.parse((full.contents[0] as { text: string }).text).users).toHaveLength(teammates);

    // One listing's worth of requests, whatever the number of calls, and the limiter kept under the vendor's limit.
    const searches = sim.requests.filter((q) => q.endpoint === USERS_SEARCH);
    expect(searches).toHaveLength(pages);
    expect(sim.requests.filter((q) => q.status === 429)).toEqual([]);

    // The finished result stays available by job_id, without a vendor request.
    const again = await listUsers(stack, { job_id: jobId });
    expect(structured(again)).toMatchObject({ status: 'done', pages_fetched: pages });
    expect(sim.requests.filter((q) => q.endpoint === USERS_SEARCH)).toHaveLength(pages);
    // It was delivered: the same arguments now start a new listing.
    const fresh = await listUsers(stack);
    expect(structured<Running>(fresh).job.id).not.toBe(jobId);
  });

  it('a client that gives up before the deadline does not stop the work: the next call attaches to it', async () => {
    stack = await startStack({ env: { SALES_ACCESS_CALL_DEADLINE_SECONDS: '5' }, sandbox: { apollo: { userCount: APOLLO_PEOPLE, limits: SLOW_APOLLO } } });
    const sim = stack.sandbox.apollo;
    const pages = Math.ceil(sim.users().length / 100);
    // The SDK client cancels its request (notifications/cancelled) when its own timeout passes.
    const err = await stack.call('apollo_list_users', {}, { timeout: 200 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(ErrorCode.RequestTimeout);
    const answers = await callUntilDone((a) => stack!.call('apollo_list_users', a, { timeout: 5_000 + 10_000 }), {});
    expect(structured(answers.at(-1)!)).toMatchObject({ status: 'done', pages_fetched: pages });
    expect(sim.requests.filter((q) => q.endpoint === USERS_SEARCH)).toHaveLength(pages);
  });

  it('an access review of slowed vendors answers running with pages and accounts per source, then the complete review', async () => {
    stack = await startStack({ env: DEADLINE, sandbox: { apollo: { userCount: APOLLO_PEOPLE, limits: SLOW_APOLLO } } });
    const sim = stack.sandbox.apollo;
    const pages = Math.ceil(sim.users().length / 100);
    const answers = await callUntilDone((a) => stack!.call('access_review', a, { timeout: PATIENCE_MS }), { roster: ['nobody@acme.example'] });
    expect(statusOf(answers[0])).toBe('running');
    const running = answers.slice(0, -1).map((r) => structured<Running>(r));
    expect(new Set(running.map((r) => r.job.id)).size).toBe(1);
    // The other vendors are listed long before Apollo: pages and accounts add up across sources.
    const last = running.at(-1)!;
    expect(last.job.progress.pages as number).toBeGreaterThan(0);
    expect(last.job.progress.accounts as number).toBeGreaterThan(0);
    const review = structured(answers.at(-1)!);
    expect(review).toMatchObject({ status: 'done' });
    expect(review.summary.by_vendor.apollo).toBeDefined();
    expect(review.evidence.html).toMatch(/^sales-access:\/\/evidence\//);
    expect(sim.requests.filter((q) => q.endpoint === USERS_SEARCH)).toHaveLength(pages);
    expect(sim.requests.filter((q) => q.status === 429)).toEqual([]);
  });

  it('an offboarding that outlasts the call goes on as a job and is executed once', async () => {
    // Every simulator answers after 1.2 s: each step's reads and write take longer than the 1 s deadline.
    // Deactivation only (books: false): nobody owns records or has a mailbox, so the steps are few.
    stack = await startStack({ env: DEADLINE, elicit: ACCEPT, sandbox: { latencyMs: 1_200, books: false } });
    const target = unlockedOutreachUsers(stack)[0]!;
    const plan = structured((await callUntilDone((a) => stack!.call('plan_offboarding', a, { timeout: PATIENCE_MS }), { emails: [target.email] })).at(-1)!);
    const acting = plan.steps.filter((s: { path: string }) => s.path !== 'none' && s.path !== 'manual');
    expect(acting.length).toBeGreaterThan(0);
    const first = await stack.call('execute_offboarding', { plan_id: plan.plan_id }, { timeout: PATIENCE_MS });
    expect(statusOf(first)).toBe('running');
    // Approved work is not stopped halfway.
    const cancel = structured(await stack.call('cancel_job', { target_job_id: structured<Running>(first).job.id }, { timeout: PATIENCE_MS }));
    expect(cancel).toMatchObject({ cancelled: false, state: 'running' });
    expect(cancel.reason).toMatch(/runs to its end/);
    const answers = [first, ...(await callUntilDone((a) => stack!.call('execute_offboarding', a, { timeout: PATIENCE_MS }), { plan_id: plan.plan_id }))];
    expect(stack.elicitations).toHaveLength(1);
    const exec = structured(answers.at(-1)!);
    expect(exec).toMatchObject({ status: 'done', replayed: false, confirmation: 'elicit' });
    expect(exec.summary.done).toBe(acting.length);
    const lines = stack.auditLines().filter((l) => l.tool === 'execute_offboarding');
    expect(lines).toHaveLength(acting.length * 2);
  });

  it('cancel_job stops a read-only job (no more vendor requests); a client giving up does not', async () => {
    stack = await startStack({ env: DEADLINE, sandbox: { apollo: { userCount: APOLLO_PEOPLE, limits: SLOW_APOLLO } } });
    const sim = stack.sandbox.apollo;
    const first = structured<Running>(await listUsers(stack));
    expect(first.status).toBe('running');
    const c = structured(await stack.call('cancel_job', { target_job_id: first.job.id }, { timeout: PATIENCE_MS }));
    expect(c).toMatchObject({ status: 'done', job_id: first.job.id, tool: 'apollo_list_users', cancelled: true, reason: null });
    const ended = await callUntilDone((a) => listUsers(stack!, a), { job_id: first.job.id });
    expect(ended.at(-1)!.isError).toBe(true);
    expect(textOf(ended.at(-1)!)).toMatch(/stopped with cancel_job/);
    const sent = sim.requests.filter((q) => q.endpoint === USERS_SEARCH).length;
    expect(sent).toBeLessThan(Math.ceil(sim.users().length / 100));
    await new Promise((r) => setTimeout(r, 1_500));
    expect(sim.requests.filter((q) => q.endpoint === USERS_SEARCH)).toHaveLength(sent);
  });

  it('a job belongs to the session that started it; an unknown job_id is refused', async () => {
    stack = await startStack({ env: DEADLINE, sandbox: { apollo: { userCount: APOLLO_PEOPLE, limits: SLOW_APOLLO } } });
    const first = structured<Running>(await listUsers(stack));
    expect(first.status).toBe('running');
    const other = await stack.connect('other-client');
    const foreign = (await other.callTool({ name: 'apollo_list_users', arguments: { job_id: first.job.id } }, undefined, { timeout: PATIENCE_MS })) as CallToolResult;
    expect(foreign.isError).toBe(true);
    expect(textOf(foreign)).toMatch(/No job .* in this session/);
    const unknown = await listUsers(stack, { job_id: `job_${'A'.repeat(22)}` });
    expect(unknown.isError).toBe(true);
    // The same job through another tool is not that tool's.
    const wrongTool = await stack.call('outreach_list_users', { job_id: first.job.id }, { timeout: PATIENCE_MS });
    expect(wrongTool.isError).toBe(true);
  });
});
