import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApolloRest } from '../../src/vendors/apollo/adapter.js';
import { ApolloRecords } from '../../src/vendors/apollo/records.js';
import { asSent, checkRequest, JSON_API_QUERY, loadOpenApi, SALESLOFT_NOTES_QUERY } from '../support/openapi.js';
import { ordinaryEverywhere } from '../support/people.js';
import { ACCEPT, callUntilDone, startStack, structured, type Stack } from '../support/stack.js';

/*
 * A leaver who owns records in Outreach, SalesLoft and Apollo, handed over to a colleague through the MCP tools
 * (plan_offboarding with transfer_to, then execute_offboarding), with the real clients (src/vendors/*
 * /records.ts) against the simulators: afterwards the leaver owns nothing the APIs can move, and every request
 * the clients sent is one the simulators (the published specs) accept.
 */

const BOOK = 60;

describe('plan_offboarding with transfer_to and execute_offboarding hand everything over', () => {
  let stack: Stack;
  let leaver: string;
  let colleague: string;
  beforeAll(async () => {
    [leaver, colleague] = ordinaryEverywhere() as [string, string];
    stack = await startStack({ elicit: ACCEPT, sandbox: { bigBook: { email: leaver, count: BOOK } } });
  });
  afterAll(() => stack?.close());

  /** What the leaver owns that an API can move, per vendor and type (read from the simulators). */
  function owned() {
    const sb = stack.sandbox;
    const outreachId = sb.outreach.users().find((u) => u.email === leaver)!.id;
    const sl = sb.salesloft.users().find((u) => u.email === leaver && u.team_id === sb.salesloft.teamId)!.id;
    const ap = sb.apollo.users().find((t) => t.email === leaver)!.id;
    const mine = (list: readonly { ownerId: number | null }[]) => list.filter((r) => r.ownerId === outreachId).length;
    return {
      outreach: {
        prospects: mine(sb.outreach.prospects()),
        accounts: mine(sb.outreach.accounts()),
        sequences: mine(sb.outreach.sequences()),
        opportunities: mine(sb.outreach.opportunities()),
        tasks: mine(sb.outreach.tasks().filter((t) => t.state !== 'complete')),
        mailboxes: sb.outreach.mailboxes().filter((m) => m.userId === outreachId).length,
      },
      salesloft: {
        people: sb.salesloft.people().filter((p) => p.owner_id === sl).length,
        accounts: sb.salesloft.accounts().filter((a) => a.owner_id === sl).length,
      },
      apollo: {
        contacts: sb.apollo.contacts().filter((c) => c.owner_id === ap).length,
        accounts: sb.apollo.accounts().filter((a) => a.owner_id === ap).length,
        sequences: sb.apollo.sequences().filter((s) => s.user_id === ap).length,
        tasks: sb.apollo.tasks().filter((t) => t.user_id === ap && t.status === 'scheduled').length,
        deals: sb.apollo.deals().filter((d) => d.owner_id === ap).length,
      },
    };
  }

  it('the leaver owns records of every type in all three vendors, and the plan hands each type over', async () => {
    const before = owned();
    for (const [vendor, types] of Object.entries(before)) for (const [type, n] of Object.entries(types)) expect(n, `${vendor} ${type}`).toBeGreaterThan(0);
    expect(before.outreach.prospects).toBeGreaterThanOrEqual(BOOK);

    const plan = structured(await stack.call('plan_offboarding', { emails: [leaver], transfer_to: colleague }));
    const transfers = plan.steps.filter((s: any) => s.kind === 'transfer');
    const rest = (vendor: string) => transfers.filter((s: any) => s.vendor === vendor && s.path === 'rest').map((s: any) => s.record_type).sort();
    expect(rest('outreach')).toEqual(['accounts', 'opportunities', 'prospects', 'sequences', 'tasks']);
    expect(rest('salesloft')).toEqual(['accounts', 'people']);
    expect(rest('apollo')).toEqual(['accounts', 'contacts', 'deals', 'sequences', 'tasks']);
    // The counts the plan shows are the simulators' (Outreach accounts: named and unnamed together).
    const count = (vendor: string, type: string) => transfers.find((s: any) => s.vendor === vendor && s.record_type === type)?.count;
    expect(count('outreach', 'accounts')).toBe(before.outreach.accounts);
    expect(count('salesloft', 'people')).toBe(before.salesloft.people);
    expect(count('apollo', 'tasks')).toBe(before.apollo.tasks);
    // What no API moves stays a manual step: SalesLoft cadences and tasks, SalesLoft and Apollo mailboxes.
    const manual = plan.steps.filter((s: any) => s.path === 'manual').map((s: any) => `${s.vendor} ${s.record_type}`);
    expect(manual).toEqual(expect.arrayContaining(['salesloft cadences', 'salesloft tasks', 'apollo mailbox']));
    expect(plan.steps.some((s: any) => s.vendor === 'outreach' && s.kind === 'unlink_mailbox' && s.path === 'rest')).toBe(true);

    for (const r of [stack.sandbox.outreach.requests, stack.sandbox.salesloft.requests, stack.sandbox.apollo.requests]) r.length = 0;
    const exec = structured(await stack.call('execute_offboarding', { plan_id: plan.plan_id }));
    expect(exec.summary, JSON.stringify(exec.steps.filter((s: any) => s.outcome === 'failed'))).toMatchObject({ failed: 0, ambiguous: 0, blocked: 0 });

    const after = owned();
    for (const [vendor, types] of Object.entries(after)) for (const [type, n] of Object.entries(types)) expect(n, `${vendor} ${type} left with the leaver`).toBe(0);
    // The colleague has them.
    const to = stack.sandbox.outreach.users().find((u) => u.email === colleague)!.id;
    expect(stack.sandbox.outreach.prospects().filter((p) => p.ownerId === to).length).toBeGreaterThanOrEqual(before.outreach.prospects);
  }, 120_000);

  it('every request the clients sent during the hand-over is valid against the vendor\'s published spec', () => {
    const { outreach, salesloft, apollo } = stack.sandbox;
    const checks = [
      // Outreach's spec declares no query parameters on its JSON:API collections (filter[…], page[…]).
      ['outreach', outreach.requests, loadOpenApi('outreach-v2-openapi.json'), { undeclaredQuery: JSON_API_QUERY }],
      // SalesLoft: the notes' dialect beside the spec's, where they disagree (see the client).
      ['salesloft', salesloft.requests, loadOpenApi('salesloft-v2-openapi.yaml'), { undeclaredQuery: SALESLOFT_NOTES_QUERY }],
      ['apollo', apollo.requests, loadOpenApi('apollo-openapi.json'), {}],
    ] as const;
    for (const [name, log, spec, opts] of checks) {
      expect(log.length, name).toBeGreaterThan(0);
      const problems = log.flatMap((r) => checkRequest(spec, asSent(r), opts).problems);
      expect([...new Set(problems)], name).toEqual([]);
    }
  });

  it('every request the clients sent during the hand-over was accepted, in the shapes the specs define', () => {
    const { outreach, salesloft, apollo } = stack.sandbox;
    for (const [name, log] of [
      ['outreach', outreach.requests],
      ['salesloft', salesloft.requests],
      ['apollo', apollo.requests],
    ] as const) {
      const refused = (log as { method: string; path: string; status: number }[]).filter((r) => r.status >= 400 && !(r.status === 404 && r.method === 'GET'));
      expect(refused, name).toEqual([]);
    }
    // Outreach: batch actions with the spec's body (type beside data, integer ids and owner), skipping the confirmation.
    const batches = outreach.requests.filter((r) => r.method === 'POST' && r.path.includes('/batches/actions/'));
    expect(batches.length).toBeGreaterThanOrEqual(2);
    for (const b of batches) {
      expect(b.contentType).toBe('application/vnd.api+json');
      expect(b.query).toEqual([['actionParams[skipConfirmation]', 'true']]);
      const doc = JSON.parse(b.body!);
      expect(doc.type).toBe('batch');
      expect(doc.data.attributes.ids.every((id: unknown) => Number.isInteger(id))).toBe(true);
      expect(Number.isInteger(doc.data.attributes.ownerId)).toBe(true);
    }
    for (const p of outreach.requests.filter((r) => r.method === 'PATCH')) expect(Number.isInteger(JSON.parse(p.body!).data.id)).toBe(true);
    for (const t of outreach.requests.filter((r) => r.path.includes('/actions/reassignOwner'))) {
      expect(t.body).toBeUndefined();
      expect(t.query!.map(([k]) => k)).toEqual(['actionParams[ownerId]']);
    }
    // SalesLoft: form bodies only; accounts re-send name and domain.
    const puts = salesloft.requests.filter((r) => r.method === 'PUT');
    expect(puts.length).toBeGreaterThan(BOOK);
    for (const p of puts) expect(p.contentType).toBe('application/x-www-form-urlencoded');
    for (const p of puts.filter((r) => r.path.includes('/accounts/'))) expect([...new URLSearchParams(p.body).keys()].sort()).toEqual(['domain', 'name', 'owner_id']);
    // Apollo: update_owners carries its ids and owner in the query, no body; task PATCHes send priority and creator_id.
    for (const u of apollo.requests.filter((r) => r.path.includes('update_owners'))) {
      expect(u.body).toBeUndefined();
      expect(u.query!.some(([k]) => k === 'contact_ids[]' || k === 'account_ids[]')).toBe(true);
    }
    const taskPatches = apollo.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/tasks/'));
    expect(taskPatches.length).toBeGreaterThan(0);
    for (const t of taskPatches) expect(Object.keys(JSON.parse(t.body!)).sort()).toEqual(['creator_id', 'priority', 'user_id']);
  });
});

describe('a failure in the middle of a hand-over, and the run that resumes it', () => {
  let stack: Stack;
  let leaver: string;
  let colleague: string;
  const CONTACTS = 250; // three update_owners batches of 100
  beforeAll(async () => {
    [, , leaver, colleague] = ordinaryEverywhere() as [string, string, string, string];
    // Apollo's windows at 1/100 of their length: its one-record writes (sequences, tasks, deals) would take
    // minutes at the real per-minute limits.
    stack = await startStack({ elicit: ACCEPT, sandbox: { bigBook: { email: leaver, count: CONTACTS }, apollo: { limits: { windowScale: 0.01 } } } });
  });
  afterAll(() => stack?.close());

  it('a 5xx on the second batch stops what depends on it; the re-run finishes without repeating a finished write', async () => {
    const apollo = stack.sandbox.apollo;
    const leaverId = apollo.users().find((t) => t.email === leaver)!.id;
    const owned = () => apollo.contacts().filter((c) => c.owner_id === leaverId).length;
    expect(owned()).toBeGreaterThanOrEqual(CONTACTS);
    const plan = structured(await stack.call('plan_offboarding', { emails: [leaver], transfer_to: colleague, vendors: ['apollo'] }));
    // The second contacts batch fails on every attempt the HTTP core makes (1 + 4 retries).
    apollo.failNext(5, 503, { path: /\/contacts\/update_owners/, skip: 1 });
    const first = structured((await callUntilDone((a) => stack.call('execute_offboarding', a), { plan_id: plan.plan_id })).at(-1)!);
    expect(first.summary.failed, JSON.stringify(first.steps.filter((x: any) => x.outcome !== 'done'))).toBe(1);
    const contacts = first.steps.find((s: any) => s.record_type === 'contacts');
    expect(contacts).toMatchObject({ outcome: 'failed', records_moved: 100 });
    // The deactivation depends on every hand-over: it did not run.
    expect(first.steps.find((s: any) => s.kind === 'deactivate')?.outcome).toBe('blocked');
    expect(apollo.users().find((t) => t.id === leaverId)!.deleted).not.toBe(true);

    const second = structured((await callUntilDone((a) => stack.call('execute_offboarding', a), { plan_id: plan.plan_id })).at(-1)!);
    expect(second.summary).toMatchObject({ failed: 0, ambiguous: 0, blocked: 0 });
    expect(owned()).toBe(0);
    // Every contact went over in exactly one accepted write: no batch was sent again.
    const accepted = apollo.requests.filter((r) => r.path.includes('/contacts/update_owners') && r.status === 200);
    const ids = accepted.flatMap((r) => r.query!.filter(([k]) => k === 'contact_ids[]').map(([, v]) => v));
    expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(ids).size).toBeGreaterThanOrEqual(CONTACTS);
    // The audit shows each write once: no record in two successful outcomes, and steps done in the first run
    // (other record types) have no outcome in the second.
    const outcomes = stack.auditLines().filter((l: any) => l.type === 'outcome' && l.plan_id === plan.plan_id && l.result === 'ok');
    const moved = outcomes.flatMap((l: any) => (l.before?.ids as string[] | undefined) ?? []);
    expect(moved.length).toBe(new Set(moved).size);
    const writes = (run: any, id: string) => run.steps.find((s: any) => s.step_id === id).audit_ops as number;
    for (const step of first.steps.filter((s: any) => s.outcome === 'done')) expect(writes(second, step.step_id), step.record_type).toBe(writes(first, step.step_id));
    // One outcome line per accepted write, plus the one batch that failed.
    const outcomeLines = stack.auditLines().filter((l: any) => l.type === 'outcome' && l.plan_id === plan.plan_id);
    expect(outcomeLines.filter((l: any) => l.result === 'ok').length).toBe(second.steps.reduce((n: number, s: any) => n + s.audit_ops, 0));
    expect(outcomeLines.filter((l: any) => l.result !== 'ok')).toHaveLength(1);

    // A plan made now finds nothing left for the API to do in Apollo: no transfer, the deactivation done.
    const again = structured(await stack.call('plan_offboarding', { emails: [leaver], transfer_to: colleague, vendors: ['apollo'] }));
    expect(again.steps.filter((s: any) => s.kind === 'transfer' && s.path === 'rest')).toEqual([]);
  }, 120_000);
});

describe('freeing an Outreach seat through the tools', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ elicit: ACCEPT });
  });
  afterAll(() => stack?.close());

  it('free_seat: the SCIM DELETE step removes the Outreach user (REST 404) and the seat count drops', async () => {
    const person = ordinaryEverywhere().at(-1)!;
    const seats = stack.sandbox.outreach.seats();
    const id = stack.sandbox.outreach.users().find((u) => u.email === person)!.id;
    const plan = structured(await stack.call('plan_offboarding', { emails: [person], vendors: ['outreach'], free_seat: true }));
    expect(plan.steps.map((s: any) => s.kind)).toContain('free_seat');
    const exec = structured(await stack.call('execute_offboarding', { plan_id: plan.plan_id }));
    expect(exec.summary).toMatchObject({ failed: 0, ambiguous: 0, blocked: 0 });
    expect(stack.sandbox.outreach.seats()).toBe(seats - 1);
    expect(stack.sandbox.outreach.users().some((u) => u.id === id)).toBe(false);
    // Without transfer_to the records stay with the removed user, each type a manual step of the plan.
    expect(stack.sandbox.outreach.prospects().some((p) => p.ownerId === id)).toBe(true);
  });
});

describe('the Apollo client against the literal shape of the sequence answer', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ elicit: ACCEPT, sandbox: { apollo: { sequenceOwnerAt: 'top' } } });
  });
  afterAll(() => stack?.close());

  // The spec says the PUT's answer carries `user_id` and `object_owner_id` without saying where, and its 200
  // example's `emailer_campaign` has only id, name and active: the client reads both places.
  it('reads the owner from the top level of PUT /sequences/{id} as well', async () => {
    const rest = stack.deps.vendors.find((c) => c.adapter.id === 'apollo')!.rest as ApolloRest;
    const records = new ApolloRecords(rest.client);
    const seq = stack.sandbox.apollo.sequences()[0]!;
    const to = stack.sandbox.apollo.users().find((t) => !t.deleted && t.id !== seq.user_id && t.role === 'User')!;
    const r = await records.setOwner('sequences', { id: seq.id }, to.id);
    expect(stack.sandbox.apollo.sequences()[0]!.user_id).toBe(to.id);
    expect(r.owner).toBe(to.id);
  });

  it('a task whose search row lacks priority or creator is read first, so the PATCH resets neither', async () => {
    const rest = stack.deps.vendors.find((c) => c.adapter.id === 'apollo')!.rest as ApolloRest;
    const records = new ApolloRecords(rest.client);
    const task = stack.sandbox.apollo.tasks().find((t) => t.status === 'scheduled' && t.priority !== 'medium')!;
    const before = { priority: task.priority, creator_id: task.creator_id };
    const to = stack.sandbox.apollo.users().find((t) => !t.deleted && t.id !== task.user_id && t.role === 'User')!;
    const r = await records.setOwner('tasks', { id: task.id }, to.id);
    expect(r.owner).toBe(to.id);
    const after = stack.sandbox.apollo.tasks().find((t) => t.id === task.id)!;
    expect({ priority: after.priority, creator_id: after.creator_id }).toEqual(before);
    const sent = stack.sandbox.apollo.requests.filter((q) => q.path.endsWith(`/tasks/${task.id}`));
    expect(sent.map((q) => q.method)).toEqual(['GET', 'PATCH']);
  });
});
