import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxVendor as Vendor } from '../../src/sandbox/index.js';
import { BUILTIN_ADAPTERS } from '../../src/vendors/registry.js';
import { requireScim } from '../../tools/scim/shared.js';
import type { ToolContext } from '../../tools/types.js';
import { ACCEPT, DECLINE, startStack, structured, textOf, type Stack } from '../support/stack.js';

/**
 * The SCIM tools through an MCP client on the sandbox. Needs the lead's wiring: `deps.scim[vendor]` from
 * `<VENDOR>_SCIM_URL` / `<VENDOR>_SCIM_TOKEN`, and the sandbox's SCIM simulators (`sandbox.scim[vendor]` with
 * `url`, `token`, `users()`) put into the config by `sandboxConfig`.
 */

interface ScimSim {
  url: string;
  token: string;
  users(): unknown[];
}
const sims = (stack: Stack) => (stack.sandbox as unknown as { scim: Record<Vendor, ScimSim> }).scim;

/** Ids of a few active users of `connection`, read through the tool itself. */
async function activeUsers(stack: Stack, connection: Vendor, n = 3): Promise<{ id: string; user_name: string | null }[]> {
  const s = structured(await stack.call('scim_list_users', { connection, active: true, count: 50 }));
  expect(s.returned).toBeGreaterThanOrEqual(n);
  return s.users.slice(0, n);
}

describe('SCIM tools on the sandbox (elicitation accepted)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ elicit: ACCEPT });
  });
  afterAll(() => stack?.close());

  it('registers the ten SCIM tools', async () => {
    const { tools } = await stack.client.listTools();
    const names = tools.map((t) => t.name).filter((n) => n.startsWith('scim_'));
    expect(names.sort()).toEqual(
      [
        'scim_create_group',
        'scim_delete_group',
        'scim_delete_user',
        'scim_deprovision_user',
        'scim_get_user',
        'scim_list_groups',
        'scim_list_users',
        'scim_provision_user',
        'scim_update_group_members',
        'scim_update_user',
      ].sort(),
    );
    const del = tools.find((t) => t.name === 'scim_delete_user')!;
    expect(del.annotations).toMatchObject({ destructiveHint: true, idempotentHint: true, readOnlyHint: false });
    expect(tools.find((t) => t.name === 'scim_delete_group')!.annotations).toMatchObject({ destructiveHint: true });
    expect(tools.find((t) => t.name === 'scim_create_group')!.annotations).toMatchObject({ destructiveHint: false, readOnlyHint: false });
    expect(del.description).toMatch(/Okta itself never deletes/);
  });

  it('lists one page with next_start_index, then the next page', async () => {
    const first = structured(await stack.call('scim_list_users', { connection: 'salesloft', count: 10 }));
    expect(first.returned).toBe(10);
    expect(first.total).toBe(sims(stack).salesloft.users().length);
    expect(first.start_index).toBe(1);
    expect(first.next_start_index).toBe(11);
    const second = structured(await stack.call('scim_list_users', { connection: 'salesloft', count: 10, start_index: first.next_start_index }));
    expect(second.start_index).toBe(11);
    expect(second.users[0].id).not.toBe(first.users[0].id);
    for (const u of first.users) expect(u.source).toBe('scim');
  });

  it('all: true walks every page with one progress notification per page', async () => {
    const progress: number[] = [];
    const s = structured(await stack.call('scim_list_users', { connection: 'zoominfo', all: true }, { onprogress: (p) => progress.push(p.progress) }));
    expect(s.total).toBe(sims(stack).zoominfo.users().length);
    expect(progress.length).toBe(s.pages_fetched);
    expect(progress.length).toBeGreaterThan(0);
  });

  it('filters by active=false and maps those users to deactivated', async () => {
    const s = structured(await stack.call('scim_list_users', { connection: 'outreach', active: false, all: true }));
    for (const u of s.users) expect(u.status).toBe('deactivated');
  });

  it('get_user by user_name matches case-insensitively', async () => {
    const [u] = await activeUsers(stack, 'outreach', 1);
    const s = structured(await stack.call('scim_get_user', { connection: 'outreach', user_name: u.user_name!.toUpperCase() }));
    expect(s.user.id).toBe(u.id);
  });

  it('a bad id is refused with a clear message and no vendor call', async () => {
    const r = await stack.call('scim_get_user', { connection: 'outreach', id: '../Groups' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/is not a SCIM resource id/);
  });

  it('provisions a SalesLoft user as pending (invitation not accepted); a second call returns it with created: false', async () => {
    const args = { connection: 'salesloft', user_name: 'scim.new.rep@acme.example', given_name: 'Scim', family_name: 'Rep' };
    const first = structured(await stack.call('scim_provision_user', args));
    expect(first.created).toBe(true);
    expect(first.user).toMatchObject({ user_name: 'scim.new.rep@acme.example', status: 'pending', invitation_pending: true });
    expect(first.caveats.join(' ')).toMatch(/invitation/);
    const again = structured(await stack.call('scim_provision_user', { ...args, user_name: 'SCIM.New.Rep@acme.example' }));
    expect(again).toMatchObject({ created: false, user: { id: first.user.id }, audit_op_id: null });
  });

  it.each(['outreach', 'salesloft', 'apollo', 'zoominfo'] as const)(
    '%s: deprovisions through the confirmation gate and the audit log; a second call is changed: false without a write',
    async (connection) => {
      const [u] = await activeUsers(stack, connection, 1);
      const auditBefore = stack.auditLines().length;
      const elicitBefore = stack.elicitations.length;
      const s = structured(await stack.call('scim_deprovision_user', { connection, id: u.id }));
      expect(s).toMatchObject({ changed: true, confirmation: 'elicit', before: { status: 'active' }, after: { status: 'deactivated', active: false } });
      expect(['patch', 'put']).toContain(s.method);
      if (connection === 'outreach') expect(s.seat_note).toMatch(/unlike a REST lock/);
      expect(stack.elicitations.length).toBe(elicitBefore + 1);
      expect(stack.elicitations.at(-1)).toContain(u.id);
      expect(stack.elicitations.at(-1)).toContain(`connection ${connection}`);
      const lines = stack.auditLines().slice(auditBefore);
      expect(lines.map((l) => [l.type, l.tool, l.confirmation])).toEqual([
        ['intent', 'scim_deprovision_user', 'elicit'],
        ['outcome', 'scim_deprovision_user', 'elicit'],
      ]);
      expect(lines[1]).toMatchObject({ result: 'ok', vendor: connection });
      // Read back through the tools: the vendor's SCIM server holds active=false.
      const read = structured(await stack.call('scim_get_user', { connection, id: u.id }));
      expect(read.user).toMatchObject({ active: false, status: 'deactivated' });

      const again = structured(await stack.call('scim_deprovision_user', { connection, id: u.id }));
      expect(again).toMatchObject({ changed: false, method: 'none', audit_op_id: null });
      expect(stack.auditLines().length).toBe(auditBefore + 2);
      expect(stack.elicitations.length).toBe(elicitBefore + 1);
    },
  );

  it('Apollo.io deprovisioning says the billed seat is not freed', async () => {
    const [u] = await activeUsers(stack, 'apollo', 1);
    const s = structured(await stack.call('scim_deprovision_user', { connection: 'apollo', id: u.id }));
    expect(s.seat_note).toMatch(/does NOT reduce the billed seat count/);
  });

  it('delete needs confirm: true in the arguments, then deletes; a second delete reports deleted: false', async () => {
    const [, u] = await activeUsers(stack, 'outreach', 2);
    const missing = await stack.call('scim_delete_user', { connection: 'outreach', id: u.id });
    expect(missing.isError).toBe(true);
    const s = structured(await stack.call('scim_delete_user', { connection: 'outreach', id: u.id, confirm: true }));
    expect(s).toMatchObject({ deleted: true, after: null, confirmation: 'elicit', before: { id: u.id } });
    const again = structured(await stack.call('scim_delete_user', { connection: 'outreach', id: u.id, confirm: true }));
    expect(again).toMatchObject({ deleted: false, before: null, audit_op_id: null });
  });

  it('a vendor whose SCIM DELETE only deactivates is reported as not deleted, with the state it kept', async () => {
    const [, u] = await activeUsers(stack, 'zoominfo', 2);
    const s = structured(await stack.call('scim_delete_user', { connection: 'zoominfo', id: u.id, confirm: true }));
    expect(s).toMatchObject({ deleted: false, after: { id: u.id, status: 'deactivated' } });
    expect(s.caveats[0]).toMatch(/still serves the user/);
  });

  it('adds a member to a group, and the same call again changes nothing', async () => {
    const groups = structured(await stack.call('scim_list_groups', { connection: 'outreach', include_members: true }));
    expect(groups.returned).toBeGreaterThan(0);
    const group = groups.groups[0];
    const users = structured(await stack.call('scim_list_users', { connection: 'outreach', active: true, count: 100 })).users as { id: string }[];
    const outsider = users.find((u) => !(group.member_ids ?? []).includes(u.id))!;
    expect(outsider).toBeDefined();
    const s = structured(await stack.call('scim_update_group_members', { connection: 'outreach', group_id: group.id, add: [outsider.id] }));
    expect(s).toMatchObject({ changed: true, added: [outsider.id], not_applied: [], confirmation: 'elicit' });
    const again = structured(await stack.call('scim_update_group_members', { connection: 'outreach', group_id: group.id, add: [outsider.id] }));
    expect(again).toMatchObject({ changed: false, skipped: [outsider.id] });
  });
});

describe('SCIM deprovisioning declined', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ elicit: DECLINE });
  });
  afterAll(() => stack?.close());

  it('changes nothing and writes no audit line', async () => {
    const [u] = await activeUsers(stack, 'salesloft', 1);
    const r = await stack.call('scim_deprovision_user', { connection: 'salesloft', id: u.id });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Nothing was changed/);
    const s = structured(await stack.call('scim_get_user', { connection: 'salesloft', id: u.id }));
    expect(s.user.active).toBe(true);
    expect(stack.auditLines()).toEqual([]);
  });
});

describe('an unconfigured SCIM connection', () => {
  it('names the variables to set, with the default URL where the vendor publishes one', () => {
    const ctx = { deps: { registry: BUILTIN_ADAPTERS, vendors: [] } } as unknown as ToolContext;
    expect(() => requireScim(ctx, 'apollo')).toThrow(/APOLLO_SCIM_TOKEN and APOLLO_SCIM_URL \(the tenant URL/);
    expect(() => requireScim(ctx, 'salesloft')).toThrow(/SALESLOFT_SCIM_URL \(default https:\/\/api\.salesloft\.com\/scim\/v2\)/);
  });
});
