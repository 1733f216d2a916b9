import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { TokenStore } from '../../src/auth/token-store.js';
import { systemClock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import type { Deps } from '../../src/deps.js';
import { silentLogger } from '../../src/log.js';
import { startSalesloftSimulator, type SalesloftSim } from '../../src/sandbox/salesloft/index.js';
import type { SalesloftClient } from '../../src/vendors/salesloft/client.js';
import { salesloftConfig } from '../../src/vendors/salesloft/config.js';
import { createSalesloftClient } from '../../src/vendors/salesloft/connect.js';
import type { ScimUser } from '../../src/vendors/scim/wire.js';
import { withSettings } from '../../src/vendors/connection.js';
import { salesloftAdapter, SalesloftRest } from '../../src/vendors/salesloft/adapter.js';
import { BUILTIN_ADAPTERS } from '../../src/vendors/registry.js';
import deactivateUser from '../../tools/salesloft/deactivate-user.js';
import type { ToolContext } from '../../tools/types.js';
import { ACCEPT, DECLINE, startStack, structured, textOf, type Stack } from '../support/stack.js';

/** The stack's SalesLoft simulator (src/sandbox/index.ts starts it as `salesloft`). */
const slSim = (stack: Stack) => (stack.sandbox as unknown as { salesloft: SalesloftSim }).salesloft;
const teamOf = (sim: SalesloftSim) => sim.users().filter((u) => u.team_id === sim.teamId);

/**
 * No SalesLoft SCIM connection, so salesloft_deactivate_user takes the REST path. (The sandbox's SalesLoft
 * SCIM simulator keeps its own users, apart from the REST simulator's; the SCIM path is tested below with a
 * SCIM client double that acts on the REST simulator's data.)
 */
const withoutSalesloftScim = (config: Config): Config => withSettings(config, salesloftAdapter, (s) => s, null);

/** An active user of the token's team (not the token's owner) whose email is unique. */
function pickActive(sim: SalesloftSim, skip = 0) {
  return teamOf(sim).filter((u) => u.active && u.id !== sim.meId)[skip]!;
}

async function fullResult(stack: Stack, r: Awaited<ReturnType<Stack['call']>>): Promise<any> {
  const s = structured(r);
  if (!s.truncated) return s;
  const full = await stack.client.readResource({ uri: s.full_result_uri });
  return JSON.parse((full.contents[0] as { text: string }).text);
}

describe('SalesLoft tools on the sandbox (elicitation accepted)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ elicit: ACCEPT, configure: withoutSalesloftScim });
  });
  afterAll(() => stack.close());

  it('salesloft_list_users all: true returns every user of the team, deactivated ones included and counted, by the cursor', async () => {
    const sim = slSim(stack);
    const team = teamOf(sim);
    const before = sim.requests.length;
    const costBefore = sim.costSpent();
    const progress: number[] = [];
    const r = await stack.call('salesloft_list_users', { all: true }, { onprogress: (p) => progress.push(p.progress) });
    const s = structured(r);
    const full = await fullResult(stack, r);
    expect(s.total).toBe(team.length);
    expect(full.users).toHaveLength(team.length);
    expect(new Set(full.users.map((u: any) => u.id))).toEqual(new Set(team.map((u) => String(u.id))));
    const deactivated = team.filter((u) => !u.active).length;
    expect(deactivated).toBeGreaterThan(0);
    expect(s.deactivated_count).toBe(deactivated);
    expect(s.active_count).toBe(team.length - deactivated);
    expect(full.users.filter((u: any) => u.status === 'deactivated')).toHaveLength(deactivated);
    for (const u of full.users) expect(u.status).toBe(u.active ? 'active' : 'deactivated');
    expect(s.mode).toBe('cursor');
    // Only cost-1 requests: the updated_at walk never goes past page 1.
    const userRequests = sim.requests.slice(before).filter((q) => q.path.startsWith('/v2/users'));
    expect(userRequests.every((q) => q.cost === 1 && q.path.includes('page=1&'))).toBe(true);
    expect(s.requests).toBe(userRequests.length);
    expect(s.cost).toBe(sim.costSpent() - costBefore);
    expect(progress.length).toBe(userRequests.length);
    // 300 users as JSON exceed 25 KB: the result is cut and links to the complete one.
    expect(s.truncated).toBe(true);
  });

  it('one page at a time with next_cursor: every user once, across the seeded tie at position 100', async () => {
    const sim = slSim(stack);
    const seen: string[] = [];
    let r = structured(await stack.call('salesloft_list_users', { per_page: 25 }));
    expect(r.total).toBe(teamOf(sim).length);
    seen.push(...r.users.map((u: any) => u.id));
    for (let i = 0; r.next_cursor && i < 50; i++) {
      r = structured(await stack.call('salesloft_list_users', { cursor: r.next_cursor }));
      expect(r.truncated).toBe(false);
      seen.push(...r.users.map((u: any) => u.id));
    }
    expect(r.next_cursor).toBeNull();
    expect(seen).toHaveLength(new Set(seen).size);
    expect(new Set(seen)).toEqual(new Set(teamOf(sim).map((u) => String(u.id))));
  });

  it('filters: active: false lists only deactivated users; include_deactivated: false only active ones; email finds one', async () => {
    const sim = slSim(stack);
    const onlyDeactivated = await fullResult(stack, await stack.call('salesloft_list_users', { active: false, all: true }));
    expect(onlyDeactivated.users.length).toBe(teamOf(sim).filter((u) => !u.active).length);
    expect(onlyDeactivated.users.every((u: any) => u.status === 'deactivated')).toBe(true);
    const onlyActive = structured(await stack.call('salesloft_list_users', { include_deactivated: false, all: true }));
    expect(onlyActive.deactivated_count).toBe(0);
    const target = teamOf(sim).find((u) => !u.active)!;
    const byEmail = structured(await stack.call('salesloft_list_users', { email: target.email.toUpperCase() }));
    expect(byEmail).toMatchObject({ returned: 1, mode: 'email', deactivated_count: 1 });
    expect(byEmail.users[0]).toMatchObject({ id: String(target.id), status: 'deactivated' });
  });

  it('salesloft_get_user: by id and email; another team\'s user is "not found" with the team-scope explanation', async () => {
    const sim = slSim(stack);
    const u = pickActive(sim, 5);
    const byId = structured(await stack.call('salesloft_get_user', { id: String(u.id) }));
    expect(byId.user).toMatchObject({ id: String(u.id), email: u.email, status: 'active', vendor: 'salesloft', source: 'rest', team_id: String(sim.teamId) });
    const byEmail = structured(await stack.call('salesloft_get_user', { email: u.email.toUpperCase() }));
    expect(byEmail.user.id).toBe(String(u.id));
    const other = sim.users().find((x) => x.team_id === sim.otherTeamId)!;
    const r = await stack.call('salesloft_get_user', { id: String(other.id) });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/another team.*team-scoped/);
    const byOtherEmail = await stack.call('salesloft_get_user', { email: other.email });
    expect(byOtherEmail.isError).toBe(true);
    expect(textOf(byOtherEmail)).toMatch(/No SalesLoft user on this team/);
  });

  it('salesloft_get_me, salesloft_list_roles, salesloft_list_groups, salesloft_list_pending_invitations, salesloft_list_team_members', async () => {
    const sim = slSim(stack);
    const me = structured(await stack.call('salesloft_get_me'));
    expect(me.user).toMatchObject({ id: String(sim.meId), is_admin: true, role: 'Admin' });
    expect(me.team_id).toBe(String(sim.teamId));

    const roles = structured(await stack.call('salesloft_list_roles')).roles;
    expect(roles.filter((r: any) => r.builtin).map((r: any) => r.id)).toEqual(['Admin', 'User']);
    expect(roles.length).toBe(sim.roles().length);

    const groups = structured(await stack.call('salesloft_list_groups')).groups;
    expect(groups).toHaveLength(sim.groups().length);
    expect(groups.find((g: any) => g.depth === 2)?.path).toMatch(/^Revenue \/ Sales \/ /);

    const inv = structured(await stack.call('salesloft_list_pending_invitations'));
    expect(inv.invitations.map((i: any) => i.email)).toEqual(sim.pendingInvitations().map((p) => p.email));

    const members = structured(await stack.call('salesloft_list_team_members', { all: true }));
    expect(members.total).toBe(teamOf(sim).filter((u) => u.active).length);
    const page = structured(await stack.call('salesloft_list_team_members', { per_page: 10 }));
    expect(page).toMatchObject({ returned: 10, next_page: 2, requests: 1, cost: 1 });
  });

  it('salesloft_deactivate_user by email twice: changed through REST, then changed: false with nothing sent; audited', async () => {
    const sim = slSim(stack);
    const target = pickActive(sim, 1);
    const first = structured(await stack.call('salesloft_deactivate_user', { email: target.email }));
    expect(first).toMatchObject({ changed: true, path: 'rest', scim_method: null, confirmation: 'elicit' });
    expect(first.before).toMatchObject({ id: String(target.id), status: 'active' });
    expect(first.after).toMatchObject({ id: String(target.id), status: 'deactivated', active: false });
    expect(first.caveats.join(' ')).toMatch(/[Cc]adences and tasks .* NOT reassigned/);
    expect(stack.elicitations.at(-1)).toContain(target.email);
    expect(sim.users().find((u) => u.id === target.id)!.active).toBe(false);

    const writes = sim.requests.length;
    const second = structured(await stack.call('salesloft_deactivate_user', { email: target.email.toUpperCase() }));
    expect(second).toMatchObject({ changed: false, path: 'rest', audit_op_id: null, confirmation: 'none' });
    expect(second.after.status).toBe('deactivated');
    expect(sim.requests.slice(writes).some((q) => q.method === 'PUT' || q.method === 'PATCH')).toBe(false);

    const lines = stack.auditLines().filter((l) => l.op_id === first.audit_op_id);
    expect(lines.map((l) => l.type)).toEqual(['intent', 'outcome']);
    expect(lines[1]).toMatchObject({ result: 'ok', confirmation: 'elicit', vendor: 'salesloft' });
  });

  it('refusing to deactivate the token\'s own user comes back as SalesLoft\'s error, audited as failed', async () => {
    const sim = slSim(stack);
    const r = await stack.call('salesloft_deactivate_user', { id: String(sim.meId) });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/your own user/);
    expect(sim.users().find((u) => u.id === sim.meId)!.active).toBe(true);
  });
});

describe('SalesLoft deactivation declined', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ elicit: DECLINE, configure: withoutSalesloftScim });
  });
  afterAll(() => stack.close());

  it('changes nothing and writes no audit line', async () => {
    const sim = slSim(stack);
    const target = pickActive(sim, 2);
    const r = await stack.call('salesloft_deactivate_user', { id: String(target.id) });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Nothing was changed|declined/i);
    expect(sim.users().find((u) => u.id === target.id)!.active).toBe(true);
    expect(stack.auditLines()).toHaveLength(0);
  });
});

describe('salesloft_deactivate_user through SCIM (handler with a SCIM client double)', () => {
  let sim: SalesloftSim;
  let client: SalesloftClient;
  let audit: AuditLog;
  const dir = mkdtempSync(join(tmpdir(), 'sl-scim-'));
  beforeAll(async () => {
    sim = await startSalesloftSimulator();
    const cfg = { ...salesloftConfig({ SALESLOFT_API_KEY: sim.token }), baseUrl: sim.baseUrl };
    client = (await createSalesloftClient(cfg, { tokens: new TokenStore(dir), clock: systemClock, log: silentLogger }))!;
    audit = new AuditLog(join(dir, 'audit.log'));
    await audit.open();
  });
  afterAll(async () => {
    await client.core.close();
    await audit.close();
    await sim.close();
  });

  function ctxWith(scim: unknown): ToolContext {
    const vendors = [{ adapter: salesloftAdapter, rest: new SalesloftRest(client), scim, scimUrl: null, close: async () => {} }];
    const deps = { registry: BUILTIN_ADAPTERS, vendors, audit, log: silentLogger, clock: systemClock } as unknown as Deps;
    return {
      deps,
      actor: { kind: 'mcp_client', name: 'test', version: '1' },
      confirmationDetail: () => undefined,
      signal: new AbortController().signal,
      progress: async () => {},
      confirm: async () => ({ method: 'token', at: new Date().toISOString() }),
    };
  }

  /** Stands in for ScimClient: finds by userName, deprovisions by turning the user inactive in the simulator. */
  function fakeScim() {
    const calls: string[] = [];
    return {
      calls,
      async findByUserName(userName: string): Promise<ScimUser[]> {
        calls.push(`find ${userName}`);
        const u = sim.users().find((x) => x.team_id === sim.teamId && x.email.toLowerCase() === userName.toLowerCase());
        return u ? [{ id: `scim-${u.id}`, userName: u.email, active: u.active } as ScimUser] : [];
      },
      async deprovision(user: ScimUser) {
        calls.push(`deprovision ${user.id}`);
        sim.setUserActive(Number(String(user.id).slice(5)), false);
        return { changed: true, method: 'patch' as const, after: { ...user, active: false }, requestId: 'scim-req-1' };
      },
    };
  }

  it('uses SCIM when a SCIM client is configured, says so, and adds the IdP caveat', async () => {
    const target = pickActive(sim, 3);
    const scim = fakeScim();
    const r = await deactivateUser.handler({ email: target.email }, ctxWith(scim));
    expect(r).toMatchObject({ changed: true, path: 'scim', scim_method: 'patch', confirmation: 'token' });
    expect(r.after.status).toBe('deactivated');
    expect(scim.calls).toEqual([`find ${target.email}`, `deprovision scim-${target.id}`]);
    expect(r.caveats.join(' ')).toMatch(/identity provider may reactivate/);
    expect(sim.requests.some((q) => q.method === 'PUT')).toBe(false);
    const lines = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ type: 'outcome', result: 'ok', vendor_request_id: 'scim-req-1' });
  });

  it('falls back to REST when SCIM does not know the user, and says so before asking', async () => {
    const target = pickActive(sim, 4);
    const scim = { ...fakeScim(), findByUserName: async () => [] };
    const r = await deactivateUser.handler({ id: String(target.id) }, ctxWith(scim));
    expect(r).toMatchObject({ changed: true, path: 'rest' });
    expect(r.caveats.join(' ')).toMatch(/SCIM is configured but has no user/);
    expect(sim.requests.some((q) => q.method === 'PUT' && q.path === `/v2/users/${target.id}.json`)).toBe(true);
  });

  it('an already-deactivated user is changed: false, and SCIM is not called', async () => {
    const target = teamOf(sim).find((u) => !u.active)!;
    const scim = fakeScim();
    const r = await deactivateUser.handler({ id: String(target.id) }, ctxWith(scim));
    expect(r).toMatchObject({ changed: false, path: 'scim', audit_op_id: null });
    expect(scim.calls).toEqual([]);
  });
});
