import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { ZoomInfoSim } from '../../src/sandbox/zoominfo/index.js';
import { startStack, structured, textOf, type Stack } from '../support/stack.js';

/** The ZoomInfo simulator of a stack's sandbox. */
function zi(stack: Stack): ZoomInfoSim {
  return (stack.sandbox as unknown as { zoominfo: ZoomInfoSim }).zoominfo;
}

/** Requests of one kind the simulator answered since `from`. */
function sent(stack: Stack, path: string, from = 0) {
  return zi(stack).requests.slice(from).filter((r) => r.path.startsWith(path));
}

// A generous client-side rate keeps these tests from waiting on the limiter; the adaptive rate has its own tests.
const ENV = { SALES_ACCESS_CREDIT_BUDGET: '100', ZOOMINFO_RATE_LIMIT_PER_MINUTE: '1000' };
const CHEAP_FIELDS = ['firstName', 'lastName', 'jobTitle', 'companyName'];

describe('ZoomInfo tools on the sandbox (budget 100)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: ENV });
  });
  afterAll(() => stack.close());
  afterEach(() => {
    zi(stack).enableRoute('/lookup/usage');
    zi(stack).enableRoute('/usage');
  });

  it('lists the six tools; every credit-spending one states its cost and asks for confirm_credit_spend', async () => {
    const { tools } = await stack.client.listTools();
    const names = tools.filter((t) => t.name.startsWith('zoominfo_')).map((t) => t.name).sort();
    expect(names).toEqual([
      'zoominfo_enrich_company',
      'zoominfo_enrich_contact',
      'zoominfo_get_usage',
      'zoominfo_lookup_contact',
      'zoominfo_search_companies',
      'zoominfo_search_contacts',
    ]);
    for (const t of tools.filter((x) => x.name.startsWith('zoominfo_') && x.name !== 'zoominfo_get_usage')) {
      expect(t.description).toMatch(/COST: .*credits/);
      expect(t.description).toMatch(/confirm_credit_spend: true/);
      expect(Object.keys(t.inputSchema.properties ?? {})).toContain('confirm_credit_spend');
      expect(t.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
    }
    const usage = tools.find((t) => t.name === 'zoominfo_get_usage')!;
    expect(usage.annotations?.readOnlyHint).toBe(true);
    // No pretending: ZoomInfo's REST API has no seat list.
    expect(usage.description).toMatch(/no user or seat list.*SCIM/);
  });

  it('refuses without confirm_credit_spend, stating the worst case and the budget, and sends nothing', async () => {
    const from = zi(stack).requests.length;
    const audit = stack.auditLines().length;
    const r = await stack.call('zoominfo_search_contacts', { company_name: 'Acme Corp', rpp: 20, pages: 2, output_fields: CHEAP_FIELDS });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/up to 40 \(2 pages × 20 records × 1 credit per record/);
    expect(textOf(r)).toMatch(/confirm_credit_spend: true/);
    expect(textOf(r)).toMatch(/of 100 credits left/);
    expect(sent(stack, '/search', from)).toHaveLength(0);
    expect(stack.auditLines()).toHaveLength(audit);
    const f = await stack.call('zoominfo_search_contacts', { company_name: 'Acme Corp', confirm_credit_spend: false });
    expect(f.isError).toBe(true);
  });

  it('refuses above the remaining budget with the numbers, before calling ZoomInfo', async () => {
    const from = zi(stack).requests.length;
    const r = await stack.call('zoominfo_search_contacts', { company_name: 'Acme Corp', rpp: 100, pages: 2, confirm_credit_spend: true });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/up to 200 credits/);
    expect(textOf(r)).toMatch(/of this month's ZoomInfo budget of 100 remain/);
    expect(sent(stack, '/search', from)).toHaveLength(0);
  });

  it('runs when confirmed and within budget, reports the measured spend, and writes it to the audit log', async () => {
    const before = zi(stack).creditsUsed();
    const r = structured(await stack.call('zoominfo_search_contacts', { company_name: 'Acme Corp', job_titles: ['Account Executive'], rpp: 10, output_fields: CHEAP_FIELDS, confirm_credit_spend: true }));
    expect(r.returned).toBe(10);
    expect(r.contacts[0]).toMatchObject({ company_name: 'Acme Corp', job_title: expect.stringMatching(/Account Executive/) });
    expect(r.contacts[0].email).toBeNull();
    expect(r.next_page).toBe(2);
    expect(zi(stack).creditsUsed() - before).toBe(10);
    expect(r.credits).toMatchObject({ spent: 10, basis: 'measured', worst_case: 10, budget: 100 });
    expect(r.credits.budget_remaining).toBeLessThanOrEqual(90);
    const lines = stack.auditLines().filter((l) => l.op_id === r.audit_op_id);
    expect(lines.map((l) => l.type)).toEqual(['intent', 'outcome']);
    expect(lines[0]).toMatchObject({ tool: 'zoominfo_search_contacts', vendor: 'zoominfo', confirmation: 'confirm_credit_spend' });
    expect(lines[1]).toMatchObject({ result: 'ok', after: { records: 10, credits_spent: 10, credits_basis: 'measured' } });
  });

  it('bad input is refused before any request: no criteria, rpp over 100, an enrich input ZoomInfo cannot match', async () => {
    const from = zi(stack).requests.length;
    const none = await stack.call('zoominfo_search_contacts', { rpp: 5, confirm_credit_spend: true });
    expect(none.isError).toBe(true);
    expect(textOf(none)).toMatch(/at least one search criterion/);
    const big = await stack.call('zoominfo_search_companies', { company_name: 'Acme', rpp: 101, confirm_credit_spend: true });
    expect(big.isError).toBe(true);
    const weak = await stack.call('zoominfo_enrich_contact', { contacts: [{ first_name: 'Jane' }], confirm_credit_spend: true });
    expect(weak.isError).toBe(true);
    expect(textOf(weak)).toMatch(/contacts\[0\]: give person_id, email or phone/);
    const badId = await stack.call('zoominfo_lookup_contact', { id: '12ab', confirm_credit_spend: true });
    expect(badId.isError).toBe(true);
    const tooMany = await stack.call('zoominfo_enrich_company', { companies: Array.from({ length: 26 }, () => ({ company_name: 'Acme Corp' })), confirm_credit_spend: true });
    expect(tooMany.isError).toBe(true);
    expect(zi(stack).requests.slice(from)).toHaveLength(0);
  });

  it('enrich contact: reports matchStatus, drops low-confidence matches unless asked, and counts them as paid', async () => {
    const sim = zi(stack);
    const acme = sim.companies().find((c) => c.name === 'Acme Corp')!;
    const [a, b] = sim.contacts().filter((c) => c.companyId === acme.id);
    const contacts = [
      { email: a!.email },
      { first_name: b!.firstName, last_name: b!.lastName, company_name: 'Globex Corporation' },
      { email: 'nobody@nowhere.example' },
    ];
    const r = structured(await stack.call('zoominfo_enrich_contact', { contacts, output_fields: CHEAP_FIELDS, confirm_credit_spend: true }));
    expect(r.results.map((x: any) => [x.match_status, x.confidence, x.dropped])).toEqual([
      ['FULL_MATCH', 'high', false],
      ['CONTACT_ONLY_MATCH', 'low', true],
      ['NO_MATCH', 'none', false],
    ]);
    expect(r.results[0].contacts[0]).toMatchObject({ id: String(a!.id), company_name: 'Acme Corp' });
    expect(r.results[1].contacts).toEqual([]);
    expect(r).toMatchObject({ matched: 1, low_confidence: 1, no_match: 1, records_paid: 2 });
    expect(r.credits).toMatchObject({ spent: 2, basis: 'measured', worst_case: 3 });
    expect(r.caveats.join(' ')).toMatch(/dropped but still cost credits/);

    const all = structured(await stack.call('zoominfo_enrich_contact', { contacts, output_fields: CHEAP_FIELDS, include_low_confidence: true, confirm_credit_spend: true }));
    expect(all.results[1]).toMatchObject({ confidence: 'low', dropped: false, reason: expect.stringMatching(/not at the company given/) });
    expect(all.results[1].contacts).toHaveLength(1);
  });

  it('enrich company: name and website match; a name alone is matched loosely, flagged low and dropped', async () => {
    const r = structured(
      await stack.call('zoominfo_enrich_company', {
        companies: [{ company_name: 'Acme Corp', website: 'acme.example' }, { company_name: 'Acme' }],
        output_fields: ['name', 'website', 'employeeCount'],
        confirm_credit_spend: true,
      }),
    );
    expect(r.results[0]).toMatchObject({ match_status: 'FULL_MATCH', confidence: 'high', companies: [{ name: 'Acme Corp' }] });
    expect(r.results[1]).toMatchObject({ match_status: 'FULL_MATCH', confidence: 'low', dropped: true, reason: expect.stringMatching(/Acme Holdings/) });
    expect(r.caveats.join(' ')).toMatch(/only a name or only a website/);
    expect(r.credits).toMatchObject({ spent: 2, basis: 'measured' });
  });

  it('search companies spends per row returned', async () => {
    const r = structured(await stack.call('zoominfo_search_companies', { company_name: 'Acme', rpp: 10, confirm_credit_spend: true }));
    expect(r.companies.map((c: any) => c.name).sort()).toEqual(['Acme Corp', 'Acme Holdings']);
    expect(r.next_page).toBeNull();
    expect(r.credits).toMatchObject({ spent: 2, worst_case: 10, basis: 'measured' });
  });

  it('lookup by id: pays once; the cached answer spends nothing, needs no confirmation and says so', async () => {
    const target = zi(stack).contacts()[5]!;
    const refused = await stack.call('zoominfo_lookup_contact', { id: String(target.id) });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/up to 1/);
    const first = structured(await stack.call('zoominfo_lookup_contact', { id: String(target.id), confirm_credit_spend: true }));
    expect(first).toMatchObject({ cached: false, via: 'lookup', contact: { id: String(target.id), email: target.email } });
    expect(first.credits).toMatchObject({ spent: 1, basis: 'measured' });
    const from = zi(stack).requests.length;
    const again = structured(await stack.call('zoominfo_lookup_contact', { id: String(target.id) }));
    expect(again).toMatchObject({ cached: true, via: 'cache', audit_op_id: null, credits: { spent: 0 } });
    expect(again.credits.note).toMatch(/cache/);
    expect(zi(stack).requests.slice(from)).toHaveLength(0);
  });

  it('falls back to an estimate when ZoomInfo has no usage endpoint, and says why', async () => {
    zi(stack).disableRoute('/lookup/usage');
    zi(stack).disableRoute('/usage');
    const r = structured(await stack.call('zoominfo_search_contacts', { company_name: 'Initech', rpp: 3, output_fields: CHEAP_FIELDS, confirm_credit_spend: true }));
    expect(r.credits).toMatchObject({ spent: 3, basis: 'estimated' });
    expect(r.credits.note).toMatch(/usage endpoint did not answer/);
  });

  it('get_usage reads /lookup/usage, falls back to /usage on a 404, spends nothing and reconciles the budget', async () => {
    const used = zi(stack).creditsUsed();
    const u = structured(await stack.call('zoominfo_get_usage'));
    expect(u).toMatchObject({ usage_path: '/lookup/usage', credits_used: used, basis: 'usage[recordLimit]' });
    expect(u.budget).toMatchObject({ budget: 100, reserved: 0 });
    expect(u.budget.spent).toBeGreaterThanOrEqual(used);
    expect(u.reconciliation).not.toBeNull();
    expect(zi(stack).creditsUsed()).toBe(used);
    zi(stack).disableRoute('/lookup/usage');
    const n = structured(await stack.call('zoominfo_get_usage'));
    expect(n.usage_path).toBe('/usage');
    expect(n.caveats.join(' ')).toMatch(/404/);
  });
});

describe('ZoomInfo credit budget across a restart, and the default budget of 0', () => {
  it('the ledger lives in the state directory: a restart does not reset it', async () => {
    const first = await startStack({ env: ENV });
    let stateDir: string;
    try {
      stateDir = first.stateDir;
      const r = structured(await first.call('zoominfo_search_companies', { company_name: 'Globex', rpp: 5, confirm_credit_spend: true }));
      expect(r.credits.budget_remaining).toBe(99);
    } finally {
      await first.close();
    }
    const second = await startStack({ env: ENV, stateDir });
    try {
      const u = structured(await second.call('zoominfo_get_usage'));
      expect(u.budget).toMatchObject({ spent: 1, remaining: 99 });
      const refused = await second.call('zoominfo_search_contacts', { company_name: 'Acme Corp', rpp: 100, confirm_credit_spend: true });
      expect(textOf(refused)).toMatch(/only 99 of this month's ZoomInfo budget of 100 remain/);
    } finally {
      await second.close();
    }
  });

  it('without SALES_ACCESS_CREDIT_BUDGET nothing may be spent, and the refusal says how to allow it', async () => {
    const stack = await startStack({ env: { ZOOMINFO_RATE_LIMIT_PER_MINUTE: '1000' } });
    try {
      const r = await stack.call('zoominfo_search_companies', { company_name: 'Acme', rpp: 1, confirm_credit_spend: true });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/SALES_ACCESS_CREDIT_BUDGET is 0/);
      expect(sent(stack, '/search')).toHaveLength(0);
    } finally {
      await stack.close();
    }
  });
});

describe('ZoomInfo token expiry in the middle of a multi-page search', () => {
  it('re-authenticates exactly once and the search succeeds (server and ZoomInfo share the clock)', async () => {
    const clock = new ManualClock();
    const stack = await startStack({ env: ENV, clock });
    try {
      structured(await stack.call('zoominfo_get_usage'));
      const logins = zi(stack).logins();
      expect(logins).toBe(1);
      let advanced = false;
      const untap = zi(stack).tap((e) => {
        if (!advanced && e.path === '/search/contact' && e.status === 200) {
          advanced = true;
          clock.advance(61 * 60_000);
        }
      });
      const r = structured(await stack.call('zoominfo_search_contacts', { company_name: 'Acme Corp', rpp: 20, pages: 3, output_fields: ['firstName'], confirm_credit_spend: true }));
      untap();
      expect(advanced).toBe(true);
      expect(r.pages_fetched).toBe(3);
      expect(r.returned).toBe(60);
      expect(zi(stack).logins()).toBe(logins + 1);
      expect(r.credits).toMatchObject({ spent: 60, basis: 'measured' });
    } finally {
      await stack.close();
    }
  });

  it('re-authenticates exactly once when only ZoomInfo sees the token expire (401 in the middle)', async () => {
    const sandboxClock = new ManualClock();
    const stack = await startStack({ env: ENV, sandboxClock });
    try {
      structured(await stack.call('zoominfo_get_usage'));
      const logins = zi(stack).logins();
      let advanced = false;
      const untap = zi(stack).tap((e) => {
        if (!advanced && e.path === '/search/contact' && e.status === 200) {
          advanced = true;
          sandboxClock.advance(61 * 60_000);
        }
      });
      const from = zi(stack).requests.length;
      const r = structured(await stack.call('zoominfo_search_contacts', { company_name: 'Acme Corp', rpp: 20, pages: 3, output_fields: ['firstName'], confirm_credit_spend: true }));
      untap();
      expect(r.returned).toBe(60);
      expect(zi(stack).logins()).toBe(logins + 1);
      expect(zi(stack).requests.slice(from).filter((q) => q.status === 401)).toHaveLength(1);
    } finally {
      await stack.close();
    }
  });
});
