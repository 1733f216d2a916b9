import type { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VendorError } from '../../src/errors.js';
import { collectWarnings, mergeWarnings, sideLookup } from '../../src/side-lookup.js';
import { offlineAgent } from '../support/mock-http.js';
import { MOCK_BASE_URLS, MOCK_ORIGINS, startMockStack, type MockStack } from '../support/mock-stack.js';
import { structured } from '../support/stack.js';

/**
 * Issue 14 item 2: a failed side lookup (names, invitations, usage counters, SCIM capabilities) leaves the
 * primary result whole and says, in `warnings`, what is missing and how to fix it. Vendor answers come from
 * undici MockAgent; the tools are called through the MCP SDK client.
 */

const JSONAPI = { headers: { 'content-type': 'application/vnd.api+json' } };
const JSON_HEADERS = { headers: { 'content-type': 'application/json' } };
const SCIM_HEADERS = { headers: { 'content-type': 'application/scim+json' } };
const unique = () => Math.random().toString(36).slice(2);

let agent: MockAgent;
let stack: MockStack | undefined;
beforeEach(() => {
  agent = offlineAgent();
});
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  await agent.close();
});

function outreachUser(id: number, roleId: string, profileId: string | null) {
  return {
    type: 'user',
    id: String(id),
    attributes: { email: `u${id}@acme.example`, firstName: 'U', lastName: String(id), locked: false, active: true },
    relationships: { role: { data: { type: 'role', id: roleId } }, profile: { data: profileId === null ? null : { type: 'profile', id: profileId } } },
  };
}

/** Outreach with two users; `/roles` answers `rolesStatus`, `/profiles` a list with an admin profile. */
function mockOutreach(rolesStatus: number) {
  const pool = agent.get(MOCK_ORIGINS.outreach);
  const hits = { roles: 0, profiles: 0 };
  pool
    .intercept({ path: (p) => p.startsWith('/api/v2/users?'), method: 'GET' })
    .reply(200, JSON.stringify({ data: [outreachUser(1, '41', '9'), outreachUser(2, '42', null)], meta: { count: 2 } }), JSONAPI)
    .persist();
  pool
    .intercept({ path: (p) => p.startsWith('/api/v2/roles'), method: 'GET' })
    .reply(() => {
      hits.roles += 1;
      return rolesStatus === 200
        ? { statusCode: 200, data: JSON.stringify({ data: [{ type: 'role', id: '41', attributes: { name: 'Sales Rep' } }], meta: { count: 1 } }), responseOptions: JSONAPI }
        : { statusCode: rolesStatus, data: JSON.stringify({ errors: [{ title: 'nope' }] }), responseOptions: JSONAPI };
    })
    .persist();
  pool
    .intercept({ path: (p) => p.startsWith('/api/v2/profiles'), method: 'GET' })
    .reply(() => {
      hits.profiles += 1;
      return { statusCode: 200, data: JSON.stringify({ data: [{ type: 'profile', id: '9', attributes: { name: 'Admin' } }], meta: { count: 1 } }), responseOptions: JSONAPI };
    })
    .persist();
  return hits;
}

describe('Outreach role and profile names', () => {
  it('a 403 on /roles leaves the users listed, with role ids and a warning naming the scope; the failure is not cached', async () => {
    const hits = mockOutreach(403);
    stack = await startMockStack({ agent, env: { ...MOCK_BASE_URLS, OUTREACH_ACCESS_TOKEN: `tok-${unique()}` }, flags: ['--vendors', 'outreach'] });
    const r = await stack.call('outreach_list_users', { page_size: 10 });
    const s = structured(r);
    expect(s.users.map((u: any) => u.id)).toEqual(['1', '2']);
    expect(s.users[0]).toMatchObject({ role: '41', profile: 'Admin', is_admin: true });
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/Outreach role names \(GET \/roles\) could not be read: access denied \(403\)/);
    expect(s.warnings[0]).toMatch(/roles\.read/);
    // A later call asks again (a scope added meanwhile takes effect without a restart).
    const again = structured(await stack.call('outreach_list_users', { page_size: 10 }));
    expect(again.warnings).toHaveLength(1);
    expect(hits.roles).toBe(2);
  });

  it('names that load are cached and give no warning', async () => {
    const hits = mockOutreach(200);
    stack = await startMockStack({ agent, env: { ...MOCK_BASE_URLS, OUTREACH_ACCESS_TOKEN: `tok-${unique()}` }, flags: ['--vendors', 'outreach'] });
    const s = structured(await stack.call('outreach_list_users', { page_size: 10 }));
    expect(s.users[0].role).toBe('Sales Rep');
    expect(s.warnings).toEqual([]);
    await stack.call('outreach_list_users', { page_size: 10 });
    expect(hits.roles).toBe(1);
  });

  it('in an access review: the listing stands, the warning is in the review, and admins are undetermined rather than guessed', async () => {
    mockOutreach(500);
    stack = await startMockStack({ agent, env: { ...MOCK_BASE_URLS, OUTREACH_ACCESS_TOKEN: `tok-${unique()}` }, flags: ['--vendors', 'outreach'] });
    const s = structured(await stack.call('access_review', { roster: ['u1@acme.example'] }));
    expect(s.summary.accounts_total).toBe(2);
    expect(s.warnings.join(' ')).toMatch(/outreach: Outreach role names .* the vendor failed \(5xx\)/);
    expect(s.undetermined).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'SOLE_ADMIN', vendor: 'outreach' })]));
    expect(s.top_findings.some((f: any) => f.code === 'ORPHANED_ACCOUNT')).toBe(true);
  });
});

function salesloftUsers() {
  return [
    { id: 11, email: 'a@acme.example', first_name: 'A', last_name: 'A', active: true, updated_at: '2026-01-01T00:00:01.000000Z', role: { id: '7' }, group: { id: '3' } },
    { id: 12, email: 'b@acme.example', first_name: 'B', last_name: 'B', active: false, updated_at: '2026-01-01T00:00:02.000000Z', role: { id: 'Admin' }, group: null },
  ];
}
const paging = (n: number) => ({ paging: { per_page: 100, current_page: 1, next_page: null, prev_page: null, total_pages: 1, total_count: n } });

function mockSalesloft(opts: { groups: number; invitations: number }) {
  const pool = agent.get(MOCK_ORIGINS.salesloft);
  pool
    .intercept({ path: (p) => p.startsWith('/v2/users.json?'), method: 'GET' })
    .reply((o) => {
      const q = new URL(`${MOCK_ORIGINS.salesloft}${o.path}`).searchParams;
      // The cursor walk asks for users past the last one it saw.
      const after = q.get('updated_at[gt]') ?? q.get('updated_at[gte]');
      const list = salesloftUsers().filter((u) => !after || u.updated_at > after || (q.has('updated_at[gte]') && u.updated_at === after));
      return { statusCode: 200, data: JSON.stringify({ data: list, metadata: paging(list.length) }), responseOptions: JSON_HEADERS };
    })
    .persist();
  pool.intercept({ path: (p) => p.startsWith('/v2/custom_roles.json'), method: 'GET' }).reply(200, JSON.stringify({ data: [{ id: '7', name: 'Manager' }], metadata: paging(1) }), JSON_HEADERS).persist();
  pool
    .intercept({ path: (p) => p.startsWith('/v2/groups'), method: 'GET' })
    .reply(opts.groups, JSON.stringify(opts.groups === 200 ? { data: [{ id: '3', name: 'NA West' }], metadata: paging(1) } : { error: 'x' }), JSON_HEADERS)
    .persist();
  pool
    .intercept({ path: (p) => p.startsWith('/v2/pending_email_accounts'), method: 'GET' })
    .reply(opts.invitations, JSON.stringify(opts.invitations === 200 ? { data: [], metadata: paging(0) } : { error: 'Not Found' }), JSON_HEADERS)
    .persist();
}

describe('SalesLoft group names and pending invitations', () => {
  it('a failing /groups leaves role names resolved and group ids in place, with a warning', async () => {
    mockSalesloft({ groups: 503, invitations: 200 });
    stack = await startMockStack({ agent, env: { ...MOCK_BASE_URLS, SALESLOFT_API_KEY: `key-${unique()}` }, flags: ['--vendors', 'salesloft'] });
    const s = structured(await stack.call('salesloft_list_users', {}));
    const user = s.users.find((u: any) => u.id === '11');
    expect(user).toMatchObject({ role: 'Manager', group: '3', group_id: '3' });
    expect(s.warnings.join(' ')).toMatch(/SalesLoft group names \(GET \/v2\/groups\) could not be read: the vendor failed \(5xx\) \(HTTP 503\)/);
  });

  it('an access review without /pending_email_accounts (404) lists every user, and says invitations could not be checked', async () => {
    mockSalesloft({ groups: 200, invitations: 404 });
    stack = await startMockStack({ agent, env: { ...MOCK_BASE_URLS, SALESLOFT_API_KEY: `key-${unique()}` }, flags: ['--vendors', 'salesloft'] });
    const s = structured(await stack.call('access_review', { roster: ['a@acme.example'] }));
    expect(s.summary.accounts_total).toBe(2);
    expect(s.not_auditable).toEqual([]);
    expect(s.warnings.join(' ')).toMatch(/pending invitations .* not offered for this account \(404\).*Settings > Users/);
    expect(s.undetermined).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'STALE_INVITATION', vendor: 'salesloft' })]));
  });
});

describe('SCIM ServiceProviderConfig', () => {
  it('a 403 on /ServiceProviderConfig lists the users with the default capabilities and a warning; it is asked again next time', async () => {
    const pool = agent.get(MOCK_ORIGINS.scim);
    let spc = 0;
    pool
      .intercept({ path: '/scim/v2/ServiceProviderConfig', method: 'GET' })
      .reply(() => {
        spc += 1;
        return { statusCode: 403, data: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '403', detail: 'forbidden' }), responseOptions: SCIM_HEADERS };
      })
      .persist();
    pool
      .intercept({ path: (p) => p.startsWith('/scim/v2/Users'), method: 'GET' })
      .reply(
        200,
        JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
          totalResults: 1,
          startIndex: 1,
          itemsPerPage: 1,
          Resources: [{ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: 'u-1', userName: 'jane@acme.example', active: true }],
        }),
        SCIM_HEADERS,
      )
      .persist();
    stack = await startMockStack({
      agent,
      env: { OUTREACH_SCIM_URL: `${MOCK_ORIGINS.scim}/scim/v2`, OUTREACH_SCIM_TOKEN: `scim-${unique()}` },
      flags: ['--vendors', 'outreach'],
    });
    const s = structured(await stack.call('scim_list_users', { connection: 'outreach' }));
    expect(s.users.map((u: any) => u.email ?? u.user_name ?? u.userName)).toHaveLength(1);
    expect(s.warnings.join(' ')).toMatch(/Outreach SCIM capabilities \(GET \/ServiceProviderConfig\) could not be read: access denied \(403\)/);
    await stack.call('scim_list_users', { connection: 'outreach' });
    expect(spc).toBe(2);
  });
});

describe('usage counters beside credit-spending calls', () => {
  it('Apollo: enrichment succeeds when the credit counter is refused, and says the ledger was not reconciled', async () => {
    const pool = agent.get(MOCK_ORIGINS.apollo);
    pool.intercept({ path: (p) => p.startsWith('/api/v1/users/api_profile'), method: 'GET' }).reply(403, JSON.stringify({ error: 'no', error_code: 'API_INACCESSIBLE' }), JSON_HEADERS).persist();
    pool
      .intercept({ path: (p) => p.startsWith('/api/v1/people/match?'), method: 'POST' })
      .reply(200, JSON.stringify({ person: { id: 'p1', first_name: 'Jane', last_name: 'Doe', email: 'jane@example.com', title: 'VP' } }), JSON_HEADERS);
    stack = await startMockStack({ agent, env: { ...MOCK_BASE_URLS, APOLLO_API_KEY: `key-${unique()}`, SALES_ACCESS_CREDIT_BUDGET: '10' }, flags: ['--vendors', 'apollo'] });
    const s = structured(await stack.call('apollo_enrich_person', { people: [{ email: 'jane@example.com' }], confirm_credit_spend: true }));
    expect(s.matched).toBe(1);
    expect(s.credits.spent).toBe(1);
    expect(s.warnings.join(' ')).toMatch(/Apollo\.io key owner's credit counter .* could not be read: access denied \(403\).*not reconciled/);
  });

  it('Apollo: credit usage stats show what they can when one half fails', async () => {
    const pool = agent.get(MOCK_ORIGINS.apollo);
    pool.intercept({ path: '/api/v1/usage_stats/credit_usage_stats', method: 'POST' }).reply(502, 'bad gateway').persist();
    pool
      .intercept({ path: (p) => p.startsWith('/api/v1/users/api_profile'), method: 'GET' })
      .reply(200, JSON.stringify({ id: 'me', email: 'admin@acme.example', num_lead_credits_used: 3 }), JSON_HEADERS);
    stack = await startMockStack({ agent, env: { ...MOCK_BASE_URLS, APOLLO_API_KEY: `key-${unique()}` }, flags: ['--vendors', 'apollo'] });
    const s = structured(await stack.call('apollo_get_credit_usage_stats'));
    expect(s.team).toBeNull();
    expect(s.key_owner).toMatchObject({ id: 'me', lead_credits_used: 3 });
    expect(s.notes.join(' ')).toMatch(/team credit usage .* the vendor failed \(5xx\)/);
  });

  it('ZoomInfo: a search succeeds without a usage endpoint (404), estimating the spend, with a warning saying why', async () => {
    const pool = agent.get(MOCK_ORIGINS.zoominfo);
    const iat = Math.floor(Date.now() / 1000);
    const jwt = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iat, exp: iat + 3600 })).toString('base64url')}.sig`;
    pool.intercept({ path: '/authenticate', method: 'POST' }).reply(200, JSON.stringify({ jwt }), JSON_HEADERS).persist();
    pool.intercept({ path: '/lookup/usage', method: 'GET' }).reply(404, JSON.stringify({ message: 'nope' }), JSON_HEADERS).persist();
    pool.intercept({ path: '/usage', method: 'GET' }).reply(404, JSON.stringify({ message: 'nope' }), JSON_HEADERS).persist();
    pool
      .intercept({ path: '/search/company', method: 'POST' })
      .reply(200, JSON.stringify({ maxResults: 1, totalResults: 1, currentPage: 1, data: [{ id: 5, name: 'Acme' }] }), JSON_HEADERS);
    stack = await startMockStack({
      agent,
      env: { ...MOCK_BASE_URLS, ZOOMINFO_USERNAME: `api-${unique()}@acme.example`, ZOOMINFO_PASSWORD: 'pw', SALES_ACCESS_CREDIT_BUDGET: '100' },
      flags: ['--vendors', 'zoominfo'],
    });
    const s = structured(await stack.call('zoominfo_search_companies', { company_name: 'Acme', confirm_credit_spend: true }));
    expect(s.returned).toBe(1);
    expect(s.credits.basis).toBe('estimated');
    expect(s.warnings.join(' ')).toMatch(/ZoomInfo usage counter .* not offered for this account \(404\).*ZOOMINFO_CREDITS_PER_RECORD/);
  });
});

describe('side-lookup.ts', () => {
  it('degrades only vendor failures; a bug or an abort still throws', async () => {
    const spec = { vendor: 'V', what: 'names', without: 'ids are shown' };
    const degraded = await collectWarnings(() => sideLookup(spec, () => Promise.reject(new VendorError({ vendor: 'v', code: 'unavailable', status: 503, message: 'x' })), 'fallback'));
    expect(degraded).toEqual({ value: 'fallback', warnings: ['V names could not be read: the vendor failed (5xx) (HTTP 503). So ids are shown. Usually temporary: call again later.'] });
    await expect(sideLookup(spec, () => Promise.reject(new TypeError('bug')), 'fallback')).rejects.toThrow('bug');
    const ac = new AbortController();
    ac.abort();
    await expect(sideLookup(spec, () => Promise.reject(new VendorError({ vendor: 'v', code: 'network', message: 'x' })), 'f', ac.signal)).rejects.toThrow();
  });

  it('a tool without a warnings field gets them as text; with one, merged once', () => {
    expect(mergeWarnings({}, {}, ['a'])).toBe('Warnings: a');
    const out: Record<string, unknown> = { warnings: ['a'] };
    expect(mergeWarnings({ warnings: 1 }, out, ['a', 'b'])).toBeUndefined();
    expect(out.warnings).toEqual(['a', 'b']);
  });
});
