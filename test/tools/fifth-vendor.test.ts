import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ADAPTERS } from '../../src/vendors/registry.js';
import { acmeAdapter, startAcmeSimulator, type AcmeSim } from '../support/acme.js';
import { ACCEPT, startStack, structured, type Stack } from '../support/stack.js';

/**
 * The adapter contract holds: a vendor the server has never heard of (test/support/acme.ts, an adapter plus
 * a tiny simulator) becomes a full participant by being added to the registry, and by nothing else.
 */
describe('a fifth vendor added only as a registry entry', () => {
  let stack: Stack;
  let acme: AcmeSim;
  const staying = 'stays.here@acme.example';
  const leaving = 'has.left@acme.example';

  beforeAll(async () => {
    acme = await startAcmeSimulator([
      { email: staying, name: 'Stays Here', active: true, admin: true },
      { email: 'second.admin@acme.example', name: 'Second Admin', active: true, admin: true },
      { email: leaving, name: 'Has Left', active: true, admin: false },
      { email: 'long.gone@acme.example', name: 'Long Gone', active: false, admin: false },
    ]);
    stack = await startStack({
      elicit: ACCEPT,
      registry: [...BUILTIN_ADAPTERS, acmeAdapter],
      env: { ACME_BASE_URL: acme.baseUrl, ACME_API_TOKEN: acme.token },
    });
  });
  afterAll(async () => {
    await stack.close();
    await acme.close();
  });

  it('list_connections shows it with its label, capabilities and budget', async () => {
    const c = structured(await stack.call('list_connections'));
    const v = c.vendors.find((x: any) => x.vendor === 'acme');
    expect(v).toMatchObject({ label: 'Acme CRM', configured: true, rest_available: true, scim_available: false, auth_kind: 'bearer' });
    expect(v.capabilities.deactivate_user).toEqual(['rest']);
    expect(v.rate_limit.windows[0]).toMatchObject({ name: 'minute', limit: 600 });
  });

  it('find_user finds the person in it', async () => {
    const r = structured(await stack.call('find_user', { email: leaving.toUpperCase() }));
    expect(r.found_in).toContain('acme');
    expect(r.lookups.find((l: any) => l.vendor === 'acme')).toMatchObject({ source: 'rest', state: 'found', accounts: [{ id: '1003', status: 'active' }] });
  });

  it('access_review lists it and flags the leaver absent from the roster', async () => {
    const r = structured(await stack.call('access_review', { roster: [staying, 'second.admin@acme.example'], vendors: ['acme'] }));
    expect(r.summary.by_vendor.acme).toMatchObject({ auditable: true, accounts: 4 });
    const orphan = r.top_findings.find((f: any) => f.code === 'ORPHANED_ACCOUNT' && f.vendor === 'acme');
    expect(orphan.accounts.map((a: any) => a.email)).toEqual([leaving]);
  });

  it('plan_offboarding and execute_offboarding deactivate the leaver through its adapter, audited', async () => {
    const plan = structured(await stack.call('plan_offboarding', { emails: [leaving], vendors: ['acme'] }));
    expect(plan.steps).toEqual([expect.objectContaining({ vendor: 'acme', path: 'rest_deactivate', seat_freed: true, follow_ups: ['Reassign their Acme CRM deals by hand.'] })]);
    const exec = structured(await stack.call('execute_offboarding', { plan_id: plan.plan_id }));
    expect(exec.summary).toMatchObject({ done: 1, failed: 0 });
    expect(acme.users().find((u) => u.email === leaving)!.active).toBe(false);
    const lines = stack.auditLines().filter((l) => l.plan_id === plan.plan_id);
    expect(lines.map((l) => [l.type, l.vendor])).toEqual([
      ['intent', 'acme'],
      ['outcome', 'acme'],
    ]);
    const again = structured(await stack.call('plan_offboarding', { emails: [leaving], vendors: ['acme'] }));
    expect(again.summary).toMatchObject({ automated: 0, already_done: 1 });
  });
});
