import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import type { ApolloSim } from '../../src/sandbox/apollo/index.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import type { ApolloAuthConfig } from '../../src/vendors/apollo/config.js';
import { apolloAdapter } from '../../src/vendors/apollo/adapter.js';
import { withSettings } from '../../src/vendors/connection.js';
import { startStack, structured, textOf, type Stack } from '../support/stack.js';

/** The Apollo simulator of the stack's sandbox. */
function apolloSim(sandbox: Sandbox): ApolloSim {
  return (sandbox as Sandbox & { apollo: ApolloSim }).apollo;
}

/** A `configure` hook that swaps the Apollo credential (the sandbox uses the master key by default). */
function withApolloAuth(auth: (sim: ApolloSim) => ApolloAuthConfig) {
  return (config: Config, sandbox: Sandbox): Config => withSettings(config, apolloAdapter, (s) => ({ ...s, auth: auth(apolloSim(sandbox)) }));
}

const requestsTo = (sim: ApolloSim, endpoint: string) => sim.requests.filter((r) => r.endpoint === endpoint);

describe('Apollo tools on the sandbox (master key, budget 20 credits)', () => {
  let stack: Stack;
  let sim: ApolloSim;
  beforeAll(async () => {
    stack = await startStack({ env: { SALES_ACCESS_CREDIT_BUDGET: '20' } });
    sim = apolloSim(stack.sandbox);
  });
  afterAll(() => stack.close());

  it('apollo_list_users walks every page at 100, maps teammates and flags the sole admin', async () => {
    const before = sim.requests.length;
    const progress: number[] = [];
    const r = await stack.call('apollo_list_users', {}, { onprogress: (p) => progress.push(p.progress) });
    const s = structured(r);
    const teammates = sim.users();
    expect(s.total).toBe(teammates.length);
    const pages = sim.requests.slice(before).filter((q) => q.endpoint === 'api/v1/users/search');
    expect(pages).toHaveLength(Math.ceil(teammates.length / 100));
    expect(pages.every((q) => q.path.includes('per_page=100'))).toBe(true);
    expect(progress).toHaveLength(pages.length);
    expect(s.pages_fetched).toBe(pages.length);
    expect(s.summary.admins).toEqual([teammates.find((t) => t.role === 'Admin')!.email]);
    expect(s.summary.deactivated).toBe(teammates.filter((t) => t.deleted).length);
    expect(s.caveats[0]).toMatch(/Only one active admin .*requires Apollo support/);
    expect(s.caveats.join(' ')).toMatch(/SCIM .*Settings > Users and Teams/);
    expect(s.caveats.join(' ')).toMatch(/does NOT free the paid seat.*annual plans do not allow it mid-contract/);
    expect(s.caveats.join(' ')).toMatch(/unlink the user's mailbox .*'Not sent'.*reassign .*sequences/);
    // 200+ accounts exceed 25 KB: cut to fit, the complete list is a resource.
    expect(s.truncated).toBe(true);
    const link = r.content.find((c) => c.type === 'resource_link') as { uri: string };
    const full = JSON.parse(((await stack.client.readResource({ uri: link.uri })).contents[0] as { text: string }).text);
    expect(full.users).toHaveLength(teammates.length);
    const admin = full.users.find((u: any) => u.is_admin);
    expect(admin).toMatchObject({ vendor: 'apollo', status: 'active', role: 'Admin', seat: 'paid', source: 'rest' });
  });

  it('apollo_list_users status filter returns the deactivated teammates, whose seats are still billed', async () => {
    const s = structured(await stack.call('apollo_list_users', { status: 'deactivated' }));
    expect(s.returned).toBe(sim.users().filter((t) => t.deleted).length);
    for (const u of s.users) expect(u).toMatchObject({ status: 'deactivated', deactivated: true });
  });

  it('the descriptions state the REST limits, the master key, the costs, and that a contact is not a seat', async () => {
    const { tools } = await stack.client.listTools();
    const d = (n: string) => tools.find((t) => t.name === n)!.description!;
    expect(d('apollo_list_users')).toMatch(/cannot deactivate a seat.*SCIM or the admin UI \(Settings > Users and Teams\)/);
    expect(d('apollo_list_users')).toMatch(/MASTER API key/);
    expect(d('apollo_search_people')).toMatch(/NO email addresses and NO phone numbers, and spends NO credits/);
    expect(d('apollo_search_people')).toMatch(/50,000 records/);
    expect(d('apollo_create_contact')).toMatch(/NOT a platform user, teammate or seat/);
    expect(d('apollo_enrich_person')).toMatch(/COSTS CREDITS: 1 credit per person/);
    expect(d('apollo_enrich_person')).toMatch(/confirm_credit_spend: true/);
    expect(d('apollo_get_token_owner')).toMatch(/\/auth\/health/);
  });

  it('apollo_get_api_usage_stats returns typed per-endpoint limits that reflect real usage', async () => {
    const s = structured(await stack.call('apollo_get_api_usage_stats', { endpoint: 'users/search' }));
    expect(s.endpoints).toHaveLength(1);
    const e = s.endpoints[0];
    expect(e).toMatchObject({ endpoint: 'api/v1/users/search', bucket: 'users/search' });
    expect(e.minute).toEqual({ limit: 200, consumed: sim.usage('api/v1/users/search').minute, left_over: 200 - sim.usage('api/v1/users/search').minute });
    expect(e.hour.limit).toBe(600);
    expect(e.day.limit).toBe(6000);
    expect(s.learned).toBeGreaterThan(5);
    // The limits are now what list_connections shows for the bucket.
    const conn = structured(await stack.call('list_connections'));
    const apollo = conn.vendors.find((v: any) => v.vendor === 'apollo');
    expect(apollo.rate_limit.windows).toContainEqual(expect.objectContaining({ bucket: 'people/bulk_match', name: 'minute', limit: 20 }));
  });

  it('apollo_search_people returns no emails or phones, spends nothing, and stops at the ceiling with a message', async () => {
    const spent = sim.creditsSpent();
    const s = structured(await stack.call('apollo_search_people', { per_page: 50 }));
    expect(s.returned).toBe(50);
    expect(s.credits_spent).toBe(0);
    for (const p of s.people) {
      expect(p).not.toHaveProperty('email');
      expect(p.last_name_obfuscated).toMatch(/\*\*\*/);
    }
    expect(s.total_entries).toBe(sim.prospectCount);
    expect(s.ceiling_reached).toBe(true);
    expect(s.notice).toMatch(/Apollo shows at most 50,000 .*Narrow the filters/);
    const last = structured(await stack.call('apollo_search_people', { per_page: 100, page: 500 }));
    expect(last).toMatchObject({ last_page: 500, next_page: null, ceiling_reached: true });
    expect(last.people.length).toBeGreaterThan(0);
    const past = await stack.call('apollo_search_people', { page: 501 });
    expect(past.isError).toBe(true);
    expect(textOf(past)).toMatch(/page/);
    const narrow = structured(await stack.call('apollo_search_people', { person_titles: ['vp of sales'], person_locations: ['texas'], per_page: 20, pages: 3 }));
    expect(narrow.ceiling_reached).toBe(false);
    expect(narrow.notice).toBeNull();
    expect(narrow.returned).toBe(Math.min(narrow.total_entries, 60));
    expect(narrow.last_page).toBe(narrow.total_entries > 40 ? 3 : Math.ceil(narrow.total_entries / 20));
    expect(sim.creditsSpent()).toBe(spent);
  });

  it('apollo_search_contacts finds saved contacts only, by keyword', async () => {
    const c = sim.contacts()[5];
    const s = structured(await stack.call('apollo_search_contacts', { q_keywords: c.email! }));
    expect(s.contacts.map((x: any) => x.id)).toContain(c.id);
    expect(s.contacts[0]).toMatchObject({ email: c.email });
  });

  it('apollo_create_contact creates a CRM contact (audited), and is idempotent on email', async () => {
    const email = `new.lead.${Date.now()}@example.com`;
    const first = structured(await stack.call('apollo_create_contact', { email, first_name: 'New', last_name: 'Lead', title: 'CFO' }));
    expect(first).toMatchObject({ changed: true, contact: { email, name: 'New Lead', source: 'api' } });
    expect(first.caveats[0]).toMatch(/NOT a seat/);
    const lines = stack.auditLines().filter((l) => l.op_id === first.audit_op_id);
    expect(lines.map((l) => l.type)).toEqual(['intent', 'outcome']);
    expect(lines[1]).toMatchObject({ result: 'ok', vendor: 'apollo', tool: 'apollo_create_contact' });
    const again = structured(await stack.call('apollo_create_contact', { email: email.toUpperCase(), first_name: 'New' }));
    expect(again).toMatchObject({ changed: false, audit_op_id: null, contact: { id: first.contact.id } });
    expect(sim.contacts().filter((c) => c.email === email)).toHaveLength(1);
    const empty = await stack.call('apollo_create_contact', { title: 'nobody' });
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toMatch(/at least an `email`/);
  });

  it('apollo_get_token_owner identifies the key owner through /users/api_profile', async () => {
    const s = structured(await stack.call('apollo_get_token_owner'));
    expect(s).toMatchObject({ via: 'GET /users/api_profile', auth_kind: 'api_key', user: { email: sim.users().find((u) => u.role === 'Admin')!.email } });
  });

  it('apollo_enrich_person refuses without confirm_credit_spend, stating the cost, and sends nothing', async () => {
    const before = requestsTo(sim, 'api/v1/people/match').length;
    const r = await stack.call('apollo_enrich_person', { people: [{ id: sim.prospect(7).id }] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/needs `confirm_credit_spend: true`/);
    expect(textOf(r)).toMatch(/up to 1 credit \(1 person × 1 credit/);
    expect(textOf(r)).toMatch(/20 of this month's budget of 20 remain/);
    const f = await stack.call('apollo_enrich_person', { people: [{ id: sim.prospect(7).id }], confirm_credit_spend: false });
    expect(f.isError).toBe(true);
    expect(textOf(f)).toMatch(/confirm_credit_spend must be true/);
    expect(requestsTo(sim, 'api/v1/people/match').length).toBe(before);
    expect(sim.creditsSpent()).toBe(0);
  });

  it('apollo_enrich_person spends, reports the credits (estimated for one person) and audits the call', async () => {
    const p = sim.prospect(11);
    const s = structured(await stack.call('apollo_enrich_person', { people: [{ id: p.id }], confirm_credit_spend: true }));
    expect(s.endpoint).toBe('people/match');
    expect(s.results).toEqual([{ index: 0, matched: true, person: expect.objectContaining({ id: p.id, email: p.email, personal_emails: [] }) }]);
    expect(s.credits).toEqual({ spent: 1, basis: 'estimated', worst_case: 1, budget: 20, remaining_budget: 19, month: expect.stringMatching(/^\d{4}-\d{2}$/) });
    expect(sim.creditsSpent()).toBe(1);
    const lines = stack.auditLines().filter((l) => l.op_id === s.audit_op_id);
    expect(lines.map((l) => l.type)).toEqual(['intent', 'outcome']);
    expect(lines[0]).toMatchObject({ tool: 'apollo_enrich_person', vendor: 'apollo', confirmation: 'credit_spend_flag', target: { id: p.id } });
    expect(lines[1]).toMatchObject({ result: 'ok', after: { credits: { spent: 1, basis: 'estimated' } } });
  });

  it('bulk enrichment (several people) reports Apollo\'s measured credits', async () => {
    const people = [sim.prospect(20), sim.prospect(21), sim.prospect(22)];
    const spent = sim.creditsSpent();
    const s = structured(
      await stack.call('apollo_enrich_person', { people: [...people.map((p) => ({ email: p.email })), { email: 'nobody@nowhere.example' }], reveal_personal_emails: true, confirm_credit_spend: true }),
    );
    expect(s.endpoint).toBe('people/bulk_match');
    expect(s.matched).toBe(3);
    expect(s.results[3]).toEqual({ index: 3, matched: false, person: null });
    // Personal emails only because they were asked for (and each costs one more credit).
    for (const [i, p] of people.entries()) expect(s.results[i].person.personal_emails).toEqual(p.personal_email ? [p.personal_email] : []);
    expect(s.credits.basis).toBe('measured');
    expect(s.credits.worst_case).toBe(8);
    expect(s.credits.spent).toBe(sim.creditsSpent() - spent);
    expect(s.credits.remaining_budget).toBe(20 - 1 - s.credits.spent);
  });

  it('refuses above the remaining budget with the numbers, and refuses phone reveals and unidentifiable people, before any call', async () => {
    const before = sim.requests.filter((r) => r.credits > 0 || r.endpoint?.startsWith('api/v1/people/')).length;
    const ten = Array.from({ length: 10 }, (_, i) => ({ id: sim.prospect(100 + i).id }));
    const over = await stack.call('apollo_enrich_person', { people: ten, reveal_personal_emails: true, confirm_credit_spend: true });
    expect(over.isError).toBe(true);
    expect(textOf(over)).toMatch(/could spend up to 20 credits \(10 people × 2 credits/);
    expect(textOf(over)).toMatch(/only \d+ of this month's Apollo.io budget of 20 remain/);
    expect(textOf(over)).toMatch(/SALES_ACCESS_CREDIT_BUDGET/);
    const phone = await stack.call('apollo_enrich_person', { people: [{ id: ten[0].id }], reveal_phone_number: true, confirm_credit_spend: true });
    expect(phone.isError).toBe(true);
    expect(textOf(phone)).toMatch(/phone reveals are refused.*webhook/);
    const nameOnly = await stack.call('apollo_enrich_person', { people: [{ name: 'Jane Doe' }], confirm_credit_spend: true });
    expect(nameOnly.isError).toBe(true);
    expect(textOf(nameOnly)).toMatch(/Person 1: give an Apollo person `id`/);
    const tooMany = await stack.call('apollo_enrich_person', { people: [...ten, ten[0]], confirm_credit_spend: true });
    expect(tooMany.isError).toBe(true);
    expect(sim.requests.filter((r) => r.credits > 0 || r.endpoint?.startsWith('api/v1/people/')).length).toBe(before);
  });

  it('apollo_get_credit_usage_stats shows the team, the key owner and the budget, reconciled with Apollo', async () => {
    const s = structured(await stack.call('apollo_get_credit_usage_stats'));
    const lead = s.team.credit_types.find((c: any) => c.type === 'lead_credit');
    expect(lead).toEqual({ type: 'lead_credit', limit: 10_000, consumed: sim.creditsConsumed(), left_over: 10_000 - sim.creditsConsumed() });
    expect(s.team.cycle_start).toMatch(/-01T00:00:00.000Z$/);
    expect(s.key_owner.lead_credits_used).toBe(sim.creditsSpent());
    expect(s.budget).toMatchObject({ budget: 20, spent: sim.creditsSpent(), reserved: 0, remaining: 20 - sim.creditsSpent(), adjustment: 0 });
    expect(['in_line', 'baseline']).toContain(s.budget.reconciliation);
    expect(s.notes).toEqual([]);
  });
});

describe('Apollo credit budget across a restart, and the default of no spending', () => {
  it('a restart on the same state directory keeps this month\'s spend', async () => {
    const first = await startStack({ env: { SALES_ACCESS_CREDIT_BUDGET: '3' } });
    try {
      const s = structured(await first.call('apollo_enrich_person', { people: [{ id: apolloSim(first.sandbox).prospect(1).id }], confirm_credit_spend: true }));
      expect(s.credits.remaining_budget).toBe(2);
    } finally {
      await first.close();
    }
    const second = await startStack({ env: { SALES_ACCESS_CREDIT_BUDGET: '3' }, stateDir: first.stateDir });
    try {
      const ten = Array.from({ length: 3 }, (_, i) => ({ id: apolloSim(second.sandbox).prospect(i).id }));
      const r = await second.call('apollo_enrich_person', { people: ten, confirm_credit_spend: true });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/only 2 of this month's Apollo.io budget of 3 remain \(1 spent/);
    } finally {
      await second.close();
    }
  });

  it('without SALES_ACCESS_CREDIT_BUDGET every credit tool refuses and says how to allow spending', async () => {
    const stack = await startStack();
    try {
      const r = await stack.call('apollo_enrich_person', { people: [{ id: apolloSim(stack.sandbox).prospect(1).id }], confirm_credit_spend: true });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/SALES_ACCESS_CREDIT_BUDGET is 0 \(the default\)/);
      expect(apolloSim(stack.sandbox).creditsSpent()).toBe(0);
    } finally {
      await stack.close();
    }
  });
});

describe('Apollo tools with a scoped API key', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ configure: withApolloAuth((sim) => ({ kind: 'api_key', apiKey: sim.scopedKey })) });
  });
  afterAll(() => stack.close());

  it('apollo_list_users returns the master-key message', async () => {
    const r = await stack.call('apollo_list_users');
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('this needs a master API key, created under Settings > Integrations > API with "Set as master key"');
    const u = await stack.call('apollo_get_api_usage_stats');
    expect(u.isError).toBe(true);
    expect(textOf(u)).toMatch(/master API key/);
  });

  it('credit usage falls back to the key owner when the team figures need a master key', async () => {
    const s = structured(await stack.call('apollo_get_credit_usage_stats'));
    expect(s.team).toBeNull();
    expect(s.notes[0]).toMatch(/master API key/);
    expect(s.key_owner.email).toBe(apolloSim(stack.sandbox).users().find((u) => u.role === 'User' && !u.deleted)!.email);
    expect(s.budget.reconciliation).toBe('baseline');
  });

  it('searching still works with a key scoped to it', async () => {
    const s = structured(await stack.call('apollo_search_people', { per_page: 5 }));
    expect(s.returned).toBe(5);
  });
});

describe('Apollo tools with an OAuth access token', () => {
  it('apollo_get_token_owner asks /auth/health, the only thing that endpoint accepts', async () => {
    const stack = await startStack({ configure: withApolloAuth((sim) => ({ kind: 'bearer', accessToken: sim.oauthAccessToken })) });
    try {
      const s = structured(await stack.call('apollo_get_token_owner'));
      const sim = apolloSim(stack.sandbox);
      expect(s).toMatchObject({ via: 'GET /auth/health', auth_kind: 'bearer', user: { email: sim.users().find((u) => u.role === 'Admin')!.email } });
      expect(requestsTo(sim, 'api/v1/auth/health').at(-1)).toMatchObject({ status: 200, credential: 'oauth' });
    } finally {
      await stack.close();
    }
  });
});
