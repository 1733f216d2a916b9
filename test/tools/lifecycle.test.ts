import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesloftSim } from '../../src/sandbox/salesloft/index.js';
import { ACCEPT, DECLINE, startStack, structured, textOf, type Stack } from '../support/stack.js';

/** The lifecycle tools the vendor notes name beside offboarding: SalesLoft role/group and reactivation, SCIM groups. */
const slSim = (stack: Stack) => (stack.sandbox as unknown as { salesloft: SalesloftSim }).salesloft;

describe('lifecycle tools on the sandbox', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ elicit: ACCEPT });
  });
  afterAll(() => stack.close());

  it('salesloft_update_user changes the role by name after approval, audits it, and is a no-op the second time', async () => {
    const sim = slSim(stack);
    const user = sim.users().find((u) => u.team_id === sim.teamId && u.active && u.role_id === 'User' && u.id !== sim.meId)!;
    const r = structured(await stack.call('salesloft_update_user', { id: String(user.id), role: 'admin' }));
    expect(r).toMatchObject({ changed: true, confirmation: 'elicit', after: { role_id: 'Admin' } });
    expect(sim.users().find((u) => u.id === user.id)!.role_id).toBe('Admin');
    expect(stack.elicitations.at(-1)).toMatch(/role → Admin/);
    expect(stack.auditLines().filter((l) => l.op_id === r.audit_op_id).map((l) => l.type)).toEqual(['intent', 'outcome']);
    const again = structured(await stack.call('salesloft_update_user', { id: String(user.id), role: 'Admin' }));
    expect(again).toMatchObject({ changed: false, confirmation: 'none', audit_op_id: null });
  });

  it('salesloft_update_user names the valid roles for an unknown one, and changes nothing', async () => {
    const sim = slSim(stack);
    const user = sim.users().find((u) => u.team_id === sim.teamId && u.active && u.id !== sim.meId)!;
    const r = await stack.call('salesloft_update_user', { id: String(user.id), role: 'Wizard' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/no role "Wizard". Valid roles: .*Admin/);
  });

  it('salesloft_reactivate_user gives login back through REST after approval', async () => {
    const sim = slSim(stack);
    const user = sim.users().find((u) => u.team_id === sim.teamId && !u.active)!;
    const r = structured(await stack.call('salesloft_reactivate_user', { id: String(user.id) }));
    expect(r).toMatchObject({ changed: true, after: { status: 'active' } });
    expect(sim.users().find((u) => u.id === user.id)!.active).toBe(true);
  });

  it('scim_create_group is idempotent by name; scim_delete_group needs approval and is a no-op once gone', async () => {
    const created = structured(await stack.call('scim_create_group', { connection: 'outreach', display_name: 'Offboarding Test Team' }));
    expect(created).toMatchObject({ created: true, group: { display_name: 'Offboarding Test Team' } });
    const again = structured(await stack.call('scim_create_group', { connection: 'outreach', display_name: 'offboarding test team' }));
    expect(again).toMatchObject({ created: false, group: { id: created.group.id } });
    const del = structured(await stack.call('scim_delete_group', { connection: 'outreach', group_id: created.group.id }));
    expect(del).toMatchObject({ changed: true, confirmation: 'elicit' });
    const gone = structured(await stack.call('scim_delete_group', { connection: 'outreach', group_id: created.group.id }));
    expect(gone).toMatchObject({ changed: false, group: null, audit_op_id: null });
  });

  it('Apollo has no SCIM groups: both group tools refuse and send nothing', async () => {
    const r = await stack.call('scim_create_group', { connection: 'apollo', display_name: 'Nope' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/`connection`: Apollo.io has no groups through SCIM/);
  });
});

describe('a declined role change', () => {
  it('changes nothing and writes no audit line', async () => {
    const stack = await startStack({ elicit: DECLINE });
    try {
      const sim = slSim(stack);
      const user = sim.users().find((u) => u.team_id === sim.teamId && u.active && u.role_id === 'User' && u.id !== sim.meId)!;
      const r = await stack.call('salesloft_update_user', { id: String(user.id), role: 'Admin' });
      expect(r.isError).toBe(true);
      expect(sim.users().find((u) => u.id === user.id)!.role_id).toBe('User');
      expect(stack.auditLines()).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});
