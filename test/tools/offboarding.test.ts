import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, DECLINE, startStack, structured, textOf, withoutScim, type Stack } from '../support/stack.js';

/** Active people who hold an active account in every vendor's SCIM directory (the sandbox links SCIM to REST). */
function departedCandidates(stack: Stack): string[] {
  const active = (v: 'outreach' | 'salesloft' | 'apollo' | 'zoominfo') =>
    new Set(
      stack.sandbox.scim[v]
        .users()
        .filter((u: any) => u.active !== false && !u.deleted)
        .map((u: any) => String(u.userName).toLowerCase()),
    );
  const sets = (['outreach', 'salesloft', 'apollo', 'zoominfo'] as const).map(active);
  const counts = new Map<string, number>();
  for (const s of sets) for (const e of s) counts.set(e, (counts.get(e) ?? 0) + 1);
  // Everywhere, unlocked in Outreach REST (a lock is invisible to SCIM), and unique there (no case duplicates).
  const outreach = stack.sandbox.outreach.users();
  const usable = (e: string) => {
    const seats = outreach.filter((u) => u.email.toLowerCase() === e);
    return seats.length === 1 && !seats[0].locked && seats[0].active;
  };
  return [...counts].filter(([e, n]) => n === 4 && usable(e)).map(([e]) => e).sort();
}

describe('find_user, plan_offboarding and execute_offboarding on the sandbox', () => {
  let stack: Stack;
  let people: string[];
  beforeAll(async () => {
    // Deactivation alone: nobody owns records or has a mailbox here (hand-overs: offboarding-owners.test.ts).
    stack = await startStack({ elicit: ACCEPT, sandbox: { books: false } });
    people = departedCandidates(stack);
  });
  afterAll(() => stack.close());

  it('the sandbox has people with accounts in all four vendors', () => {
    expect(people.length).toBeGreaterThan(3);
  });

  it('find_user reports every vendor and API, found or not', async () => {
    const r = structured(await stack.call('find_user', { email: people[0].toUpperCase() }));
    expect(r.email).toBe(people[0]);
    expect(r.found_in.sort()).toEqual(['apollo', 'outreach', 'salesloft', 'zoominfo']);
    const zi = r.lookups.filter((l: any) => l.vendor === 'zoominfo');
    expect(zi.find((l: any) => l.source === 'rest')).toMatchObject({ state: 'cannot_list' });
    expect(zi.find((l: any) => l.source === 'scim')).toMatchObject({ state: 'found' });
    const nobody = structured(await stack.call('find_user', { email: 'nobody.here@acme.example' }));
    expect(nobody.found_in).toEqual([]);
    expect(nobody.lookups.every((l: any) => l.state === 'not_found' || l.state === 'cannot_list')).toBe(true);
  });

  it('plans a step per vendor, executes after approval, then every account is deactivated; a second run changes nothing', async () => {
    const person = people[0];
    const plan = structured(await stack.call('plan_offboarding', { emails: [person], transfer_to: 'manager@acme.example' }));
    expect(plan.plan_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(new Set(plan.steps.map((s: any) => s.vendor))).toEqual(new Set(['outreach', 'salesloft', 'apollo', 'zoominfo']));
    expect(plan.steps.every((s: any) => s.path === 'scim_deprovision')).toBe(true);
    expect(plan.steps.flatMap((s: any) => s.follow_ups).join(' ')).toContain('manager@acme.example');
    const apolloStep = plan.steps.find((s: any) => s.vendor === 'apollo');
    expect(apolloStep.seat_freed).toBe(false);

    const exec = structured(await stack.call('execute_offboarding', { plan_id: plan.plan_id }));
    expect(exec.replayed).toBe(false);
    expect(exec.confirmation).toBe('elicit');
    expect(exec.summary).toMatchObject({ done: plan.steps.length, failed: 0, ambiguous: 0 });
    expect(stack.elicitations.at(-1)).toContain(person);

    // Checked with the per-vendor tools.
    const outreach = structured(await stack.call('outreach_get_user', { email: person }));
    expect(outreach.user.status).toBe('deactivated');
    const salesloft = structured(await stack.call('salesloft_get_user', { email: person }));
    expect(salesloft.user.status).toBe('deactivated');
    const zi = structured(await stack.call('scim_get_user', { connection: 'zoominfo', user_name: person }));
    expect(zi.user.status).toBe('deactivated');
    const found = structured(await stack.call('find_user', { email: person }));
    for (const l of found.lookups.filter((x: any) => x.state === 'found')) {
      for (const a of l.accounts) expect(['deactivated', 'locked']).toContain(a.status);
    }

    // Every step is in the audit log with the plan id and how it was confirmed.
    const lines = stack.auditLines().filter((l) => l.plan_id === plan.plan_id);
    expect(lines.filter((l) => l.type === 'outcome' && l.result === 'ok')).toHaveLength(plan.steps.length);
    expect(lines.every((l) => l.confirmation === 'elicit')).toBe(true);

    // Executing the used plan again returns the stored result without calling any vendor.
    const before = stack.sandbox.scim.outreach.requests.length + stack.sandbox.outreach.requests.length;
    const again = structured(await stack.call('execute_offboarding', { plan_id: plan.plan_id }));
    expect(again.replayed).toBe(true);
    expect(again.summary).toEqual(exec.summary);
    expect(stack.sandbox.scim.outreach.requests.length + stack.sandbox.outreach.requests.length).toBe(before);

    // A new plan for the same person finds nothing left to do.
    const second = structured(await stack.call('plan_offboarding', { emails: [person] }));
    expect(second.summary.automated).toBe(0);
    expect(second.summary.already_done).toBe(plan.steps.length);
  });

  it('refuses when an account changed between plan and execution, and changes nothing', async () => {
    const person = people[1];
    const plan = structured(await stack.call('plan_offboarding', { emails: [person] }));
    // Someone deprovisions the Outreach account by another route in between.
    structured(await stack.call('scim_deprovision_user', { connection: 'outreach', user_name: person }));
    const r = await stack.call('execute_offboarding', { plan_id: plan.plan_id });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/changed since the plan was made.*new plan/);
    const sl = structured(await stack.call('salesloft_get_user', { email: person }));
    expect(sl.user.status).toBe('active');
    const again = await stack.call('execute_offboarding', { plan_id: plan.plan_id });
    expect(textOf(again)).toMatch(/refused/);
  });

  it('an expired or unknown plan is refused with what to do', async () => {
    const plan = structured(await stack.call('plan_offboarding', { emails: [people[2]] }));
    const file = join(stack.stateDir, 'plans', `${plan.plan_id}.json`);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...stored, expires_at: new Date(Date.now() - 1000).toISOString() }));
    const r = await stack.call('execute_offboarding', { plan_id: plan.plan_id });
    expect(textOf(r)).toMatch(/expired.*Make a new plan/);
    const unknown = await stack.call('execute_offboarding', { plan_id: 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect(textOf(unknown)).toMatch(/No offboarding plan/);
    const malformed = await stack.call('execute_offboarding', { plan_id: '../../etc/passwd' });
    expect(textOf(malformed)).toMatch(/not a plan id/);
  });
});

describe('execution without a human', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  for (const [label, elicit] of [['a client that cannot elicit', undefined], ['a client that declines', DECLINE]] as const) {
    it(`${label} leaves every account unchanged`, async () => {
      stack = await startStack({ elicit });
      const person = departedCandidates(stack)[0];
      const plan = structured(await stack.call('plan_offboarding', { emails: [person] }));
      const r = await stack.call('execute_offboarding', { plan_id: plan.plan_id, confirm: plan.plan_id });
      expect(r.isError).toBe(true);
      const found = structured(await stack.call('find_user', { email: person }));
      for (const l of found.lookups.filter((x: any) => x.state === 'found')) {
        for (const a of l.accounts) expect(a.status).toBe('active');
      }
      expect(stack.auditLines().filter((l) => l.tool === 'execute_offboarding')).toEqual([]);
    });
  }
});

describe('offboarding without SCIM connections', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Deactivation alone: nobody owns records or has a mailbox here (hand-overs: offboarding-owners.test.ts).
    stack = await startStack({ elicit: ACCEPT, configure: withoutScim, sandbox: { books: false } });
  });
  afterAll(() => stack.close());

  it('locks in Outreach, deactivates in SalesLoft through REST, and leaves manual steps for Apollo and ZoomInfo', async () => {
    const outreachActive = new Set(stack.sandbox.outreach.users().filter((u) => !u.locked && u.active).map((u) => u.email.toLowerCase()));
    const person = stack.sandbox.salesloft
      .users()
      .filter((u: any) => u.active && outreachActive.has(String(u.email).toLowerCase()))
      .map((u: any) => String(u.email).toLowerCase())
      .find((e: string) => stack.sandbox.outreach.users().filter((u) => u.email.toLowerCase() === e).length === 1)!;
    const plan = structured(await stack.call('plan_offboarding', { emails: [person] }));
    const byVendor = Object.fromEntries(plan.steps.map((s: any) => [s.vendor, s]));
    expect(byVendor.outreach).toMatchObject({ path: 'rest_lock', seat_freed: false });
    expect(byVendor.salesloft).toMatchObject({ path: 'rest_deactivate' });
    expect(byVendor.zoominfo).toMatchObject({ path: 'manual' });
    expect(byVendor.zoominfo.manual_instructions).toMatch(/identity provider/);
    if (byVendor.apollo) expect(byVendor.apollo.manual_instructions).toMatch(/Settings > Users and Teams/);

    const exec = structured(await stack.call('execute_offboarding', { plan_id: plan.plan_id }));
    expect(exec.summary.failed).toBe(0);
    expect(exec.summary.done).toBe(2);
    expect(structured(await stack.call('outreach_get_user', { email: person })).user.status).toBe('locked');
    expect(structured(await stack.call('salesloft_get_user', { email: person })).user.status).toBe('deactivated');
    expect(exec.manual_steps.length).toBeGreaterThan(0);
  });
});
