import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, startStack, structured, textOf, type Stack } from '../support/stack.js';

/**
 * Issue 14 item 7: the "changed since planning" check reads every path an account is visible through. An
 * Outreach REST lock is invisible to SCIM, so a SCIM step re-read only through SCIM missed it.
 */

/** People with an active Outreach SCIM user and exactly one unlocked, active Outreach REST seat. */
function outreachPeople(stack: Stack): string[] {
  const scim = new Set(
    stack.sandbox.scim.outreach
      .users()
      .filter((u: any) => u.active !== false && !u.deleted)
      .map((u: any) => String(u.userName).toLowerCase()),
  );
  const rest = stack.sandbox.outreach.users();
  return [...scim]
    .filter((e) => {
      const seats = rest.filter((u) => u.email.toLowerCase() === e);
      return seats.length === 1 && !seats[0].locked && seats[0].active;
    })
    .sort();
}

describe('execute_offboarding re-reads the REST view of a SCIM step', () => {
  let stack: Stack;
  let people: string[];
  beforeAll(async () => {
    // The deactivation step alone (books: false: nobody owns records or has a mailbox to unlink).
    stack = await startStack({ elicit: ACCEPT, sandbox: { books: false } });
    people = outreachPeople(stack);
  });
  afterAll(() => stack.close());

  it('refuses when the account was locked through REST between plan and execute, and changes nothing', async () => {
    const person = people[0];
    const plan = structured(await stack.call('plan_offboarding', { emails: [person], vendors: ['outreach'] }));
    const step = plan.steps.find((s: any) => s.vendor === 'outreach' && s.kind === 'deactivate');
    expect(step.path).toBe('scim_deprovision');

    // Someone locks the user through the REST API (another admin, another tool) after the plan was shown.
    const seat = stack.sandbox.outreach.users().find((u) => u.email.toLowerCase() === person)!;
    structured(await stack.call('outreach_lock_user', { id: String(seat.id) }));
    const scimBefore = stack.sandbox.scim.outreach.users().find((u: any) => String(u.userName).toLowerCase() === person) as any;
    expect(scimBefore.active).not.toBe(false); // SCIM does not show the lock

    const r = await stack.call('execute_offboarding', { plan_id: plan.plan_id });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/changed since the plan was made/);
    expect(textOf(r)).toMatch(/REST view\): active → locked/);
    // Nothing was deprovisioned, and the plan is spent.
    const scimAfter = stack.sandbox.scim.outreach.users().find((u: any) => String(u.userName).toLowerCase() === person) as any;
    expect(scimAfter.active).not.toBe(false);
    const again = await stack.call('execute_offboarding', { plan_id: plan.plan_id });
    expect(textOf(again)).toMatch(/refused because accounts changed/);
  });

  it('executes when neither path changed', async () => {
    const person = people[1];
    const plan = structured(await stack.call('plan_offboarding', { emails: [person], vendors: ['outreach'] }));
    const exec = structured(await stack.call('execute_offboarding', { plan_id: plan.plan_id }));
    expect(exec.summary).toMatchObject({ done: 1, failed: 0 });
  });
});
