import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MockAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/auth/token-store.js';
import { systemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { ApolloClient } from '../../src/vendors/apollo/client.js';
import type { ApolloAuthConfig } from '../../src/vendors/apollo/config.js';
import { createApolloClient } from '../../src/vendors/apollo/connect.js';
import { ApolloRecords } from '../../src/vendors/apollo/records.js';
import { lowerHeaders, offlineAgent } from '../support/mock-http.js';
import { checkRequest, loadOpenApi, openApiFrom, type SentRequest } from '../support/openapi.js';

/**
 * Issue 14 item 4: every request the Apollo client sends is checked against Apollo's published OpenAPI
 * document (test/fixtures/vendor-specs/apollo-openapi.json): the operation exists, parameters are where the
 * spec puts them (query or body), the body has the spec's media type and its required fields. That covers the
 * client's own methods and what an offboarding sends through it (records.ts: owned records, mailboxes).
 */

const ORIGIN = 'https://api.apollo.test';
const JSON_HEADERS = { headers: { 'content-type': 'application/json' } };

/** Requests to endpoints the spec does not have, which the client sends on the notes' word. */
const NOT_IN_SPEC: Record<string, string> = {
  'GET /users': "the notes' List Users; used only after /users/search answered 404",
  'GET /auth/health': "the notes' Get User Profile (OAuth): the owner of a bearer token",
  'POST /oauth/token': "the notes' OAuth token exchange (partner apps)",
};

/** Canned answers that parse; the check is about what was sent, not what came back. */
function answer(path: string, method: string): { status: number; body: unknown } {
  const p = path.split('?')[0].replace(/^\/api\/v1/, '');
  if (p === '/users/search' && method === 'GET') return { status: 404, body: { error: 'not found' } }; // drives the /users fallback once
  if (p === '/users') return { status: 200, body: { users: [{ id: 'u1', email: 'a@acme.example' }], pagination: { page: 1, per_page: 100, total_entries: 1, total_pages: 1 } } };
  if (p === '/usage_stats/api_usage_stats') return { status: 200, body: { '["api/v1/contacts", "search"]': { minute: { limit: 50, consumed: 1, left_over: 49 } } } };
  if (p === '/usage_stats/credit_usage_stats') return { status: 200, body: { credit_usage_stats: { lead_credit: { limit: 10, consumed: 1, left_over: 9 } } } };
  if (p === '/users/api_profile') return { status: 200, body: { id: 'me', email: 'me@acme.example', num_lead_credits_used: 1 } };
  if (p === '/auth/health') return { status: 200, body: { is_logged_in: true, user: { id: 'me' } } };
  if (p === '/mixed_people/api_search') return { status: 200, body: { people: [], total_entries: 0 } };
  if (p === '/contacts/search') return { status: 200, body: { contacts: [], pagination: { total_entries: 0 } } };
  if (p === '/contacts') return { status: 200, body: { contact: { id: 'c1', email: 'jane@example.com' } } };
  if (p === '/people/match') return { status: 200, body: { person: null } };
  if (p === '/people/bulk_match') return { status: 200, body: { matches: [null, null], credits_consumed: 0, missing_records: 2 } };
  // Owned records and mailboxes (records.ts): the searches, the owner changes and the mailbox list.
  if (p === '/accounts/search') return { status: 200, body: { accounts: [], pagination: { total_pages: 1 } } };
  if (p === '/emailer_campaigns/search') return { status: 200, body: { emailer_campaigns: [], pagination: { total_pages: 1 } } };
  if (p === '/tasks/search') return { status: 200, body: { tasks: [], pagination: { total_pages: 1 } } };
  if (p === '/opportunities/search') return { status: 200, body: { opportunities: [], pagination: { total_pages: 1 } } };
  if (p === '/contacts/update_owners') return { status: 200, body: { contacts: [{ id: 'c1', owner_id: 'u2' }] } };
  if (p === '/accounts/update_owners') return { status: 200, body: { accounts: [{ id: 'a1', owner_id: 'u2' }] } };
  if (p.startsWith('/sequences/')) return { status: 200, body: { emailer_campaign: { id: 's1', user_id: 'u2' } } };
  if (p.startsWith('/tasks/')) return { status: 200, body: { task: { id: 't1', user_id: 'u2' } } };
  if (p.startsWith('/opportunities/')) return { status: 200, body: { opportunity: { id: 'd1', owner_id: 'u2' } } };
  if (p === '/email_accounts') return { status: 200, body: { email_accounts: [{ id: 'm1', user_id: 'u1', email: 'a@acme.example', active: true }] } };
  if (p === '/oauth/token') return { status: 200, body: { access_token: 'at-new', token_type: 'bearer', expires_in: 3600, refresh_token: 'rt-new', scope: 'read_user_profile' } };
  return { status: 599, body: { error: `unexpected ${method} ${p}` } };
}

async function capture(auth: ApolloAuthConfig, drive: (c: ApolloClient) => Promise<void>): Promise<SentRequest[]> {
  const agent: MockAgent = offlineAgent();
  const sent: SentRequest[] = [];
  agent
    .get(ORIGIN)
    .intercept({ path: () => true, method: () => true })
    .reply((o) => {
      sent.push({ method: o.method, path: o.path, headers: lowerHeaders(o.headers), body: o.body === undefined || o.body === null ? '' : String(o.body) });
      const a = answer(o.path, o.method);
      return { statusCode: a.status, data: JSON.stringify(a.body), responseOptions: JSON_HEADERS };
    })
    .persist();
  const client = await createApolloClient(
    { baseUrl: `${ORIGIN}/api/v1`, tokenUrl: `${ORIGIN}/api/v1/oauth/token`, auth, rateWindowScale: 1 },
    { tokens: new TokenStore(mkdtempSync(join(tmpdir(), 'sam-apollo-spec-'))), clock: systemClock, log: silentLogger, dispatcher: agent, retryBaseDelayMs: 1 },
  );
  try {
    await drive(client!);
  } finally {
    await client!.close();
    await agent.close();
  }
  return sent;
}

/** `POST /people/match` of a captured request, without the base path and query. */
function opOf(r: SentRequest): string {
  return `${r.method} ${r.path.split('?')[0].replace(/^\/api\/v1/, '')}`;
}

describe('every request of the Apollo client matches the published spec', () => {
  const spec = loadOpenApi('apollo-openapi.json');
  let sent: SentRequest[] = [];

  beforeAll(async () => {
    const key = () => `spec-key-${Math.random().toString(36).slice(2)}`;
    sent = await capture({ kind: 'api_key', apiKey: key() }, async (c) => {
      await c.listAllUsers(); // /users/search (404 here), then the notes' /users
      await c.apiUsageStats();
      await c.creditUsageStats();
      await c.apiProfile();
      await c.apiProfile({ includeCreditUsage: true });
      await c.tokenOwner();
      await c.searchPeople(
        { person_titles: ['vp of sales', 'cro'], include_similar_titles: false, person_seniorities: ['vp'], person_locations: ['ireland'], organization_locations: ['chicago'], organization_domains: ['apollo.io'], q_keywords: 'revops' },
        { page: 2, perPage: 100 },
      );
      await c.searchContacts({ q_keywords: 'jane', contact_stage_ids: ['s1'], sort_by_field: 'contact_created_at', sort_ascending: true }, { page: 1, perPage: 25 });
      await c.findContactsByEmail('jane@example.com');
      await c.createContact({ first_name: 'Jane', last_name: 'Doe', email: 'jane@example.com', title: 'VP', organization_name: 'Example', website_url: 'https://example.com', present_raw_address: 'Dublin' });
      await c.enrichPerson({ email: 'jane@example.com' }, { revealPersonalEmails: true });
      await c.enrichPerson({ first_name: 'Jane', last_name: 'Doe', domain: 'example.com', organization_name: 'Example', linkedin_url: 'https://linkedin.com/in/jane' });
      await c.bulkEnrich([{ id: 'p1' }, { name: 'Jane Doe', domain: 'example.com' }], { revealPersonalEmails: true });
      // What an offboarding sends through the same client (src/vendors/apollo/records.ts).
      const records = new ApolloRecords(c);
      for (const kind of ['contacts', 'accounts', 'sequences', 'tasks', 'deals'] as const) await records.page(kind, 1);
      await records.updateOwners('contacts', ['c1', 'c2'], 'u2');
      await records.updateOwners('accounts', ['a1'], 'u2');
      await records.setOwner('sequences', { id: 's1' }, 'u2');
      await records.setOwner('tasks', { id: 't1', extra: { priority: 'high', creator_id: 'u1' } }, 'u2');
      await records.setOwner('deals', { id: 'd1' }, 'u2');
      await records.mailboxes('u1');
    });
    // The OAuth side: a token exchange and the bearer owner's endpoint.
    sent.push(
      ...(await capture({ kind: 'oauth_refresh', clientId: 'cid', clientSecret: 'csecret', refreshToken: 'rt-old' } as ApolloAuthConfig, async (c) => {
        await c.tokenOwner();
      })),
    );
  });

  it('sends every request the spec defines where and how the spec says', () => {
    const problems = sent.filter((r) => !(opOf(r) in NOT_IN_SPEC)).flatMap((r) => checkRequest(spec, r).problems);
    expect(problems).toEqual([]);
  });

  it('covers every client method that talks to Apollo, and nothing outside the spec but the notes-only endpoints', () => {
    const ops = new Set(sent.map(opOf));
    for (const op of [
      'GET /users/search',
      'GET /users',
      'POST /usage_stats/api_usage_stats',
      'POST /usage_stats/credit_usage_stats',
      'GET /users/api_profile',
      'POST /mixed_people/api_search',
      'POST /contacts/search',
      'POST /contacts',
      'POST /people/match',
      'POST /people/bulk_match',
      'GET /auth/health',
      'POST /oauth/token',
      'POST /accounts/search',
      'POST /emailer_campaigns/search',
      'POST /tasks/search',
      'GET /opportunities/search',
      'POST /contacts/update_owners',
      'POST /accounts/update_owners',
      'PUT /sequences/s1',
      'PATCH /tasks/t1',
      'PATCH /opportunities/d1',
      'GET /email_accounts',
    ]) {
      expect(ops.has(op), op).toBe(true);
    }
    const outside = [...ops].filter((op) => checkRequest(spec, sent.find((r) => opOf(r) === op)!).operation === undefined);
    expect(outside.sort()).toEqual(Object.keys(NOT_IN_SPEC).sort());
    // A new public method of the client must be driven above (and so checked).
    const methods = Object.getOwnPropertyNames(ApolloClient.prototype).filter((m) => !['constructor', 'call', 'forbidden', 'close', 'toAccounts'].includes(m));
    expect(methods.sort()).toEqual(
      ['apiProfile', 'apiUsageStats', 'bulkEnrich', 'createContact', 'creditUsageStats', 'enrichPerson', 'findContactsByEmail', 'listAllUsers', 'listUsersPage', 'searchContacts', 'searchPeople', 'tokenOwner'].sort(),
    );
  });

  it('People API Search and People Enrichment carry their parameters in the query and send no body', () => {
    const search = sent.find((r) => opOf(r) === 'POST /mixed_people/api_search')!;
    const q = new URL(search.path, ORIGIN).searchParams;
    expect(q.getAll('person_titles[]')).toEqual(['vp of sales', 'cro']);
    expect(q.get('q_organization_domains_list[]')).toBe('apollo.io');
    expect(q.get('include_similar_titles')).toBe('false');
    expect(search.body).toBe('');
    const match = sent.find((r) => opOf(r) === 'POST /people/match')!;
    expect(new URL(match.path, ORIGIN).searchParams.get('reveal_personal_emails')).toBe('true');
    expect(match.body).toBe('');
    const bulk = sent.find((r) => opOf(r) === 'POST /people/bulk_match')!;
    expect(new URL(bulk.path, ORIGIN).searchParams.get('reveal_personal_emails')).toBe('true');
    expect(Object.keys(JSON.parse(bulk.body!))).toEqual(['details']);
  });
});

describe('checkRequest (the helper itself)', () => {
  const spec = openApiFrom({
    openapi: '3.1.0',
    servers: [{ url: 'https://api.example.test/v2' }],
    components: { parameters: { Page: { name: 'page', in: 'query', schema: { type: 'integer' } } } },
    paths: {
      '/items/search': { post: { parameters: [{ $ref: '#/components/parameters/Page' }, { name: 'tags[]', in: 'query', schema: { type: 'array', items: { type: 'string' } } }] } },
      '/items/{id}': { get: { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'expand', in: 'query', required: true, schema: { type: 'boolean' } }] } },
      '/items': {
        post: {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, parts: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' } } } } } } } },
          },
        },
      },
    },
  });

  it('accepts what the spec describes', () => {
    expect(checkRequest(spec, { method: 'POST', path: '/v2/items/search?page=2&tags[]=a&tags[]=b' }).problems).toEqual([]);
    expect(checkRequest(spec, { method: 'GET', path: '/v2/items/42?expand=true' })).toEqual({ operation: 'GET /items/{id}', problems: [] });
    expect(checkRequest(spec, { method: 'POST', path: '/v2/items', headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: '{"name":"x","parts":[{"sku":"1"}]}' }).problems).toEqual([]);
  });

  it('names each misplaced parameter, missing field, wrong media type and unknown operation', () => {
    const p = (r: SentRequest) => checkRequest(spec, r).problems.join('\n');
    expect(p({ method: 'POST', path: '/v2/items/search?tags=a&page=x', headers: { 'content-type': 'application/json' }, body: '{"page":1}' })).toMatch(
      /`tags` is not declared[\s\S]*`page`="x" is not of type integer[\s\S]*sends a body, but the spec defines no request body/,
    );
    expect(p({ method: 'GET', path: '/v2/items/42' })).toMatch(/required query parameter `expand` is missing/);
    expect(p({ method: 'POST', path: '/v2/items', headers: { 'content-type': 'text/plain' }, body: 'x' })).toMatch(/body sent as text\/plain, the spec accepts application\/json/);
    expect(p({ method: 'POST', path: '/v2/items', headers: { 'content-type': 'application/json' }, body: '{"parts":[{"sku":"1","price":2}]}' })).toMatch(
      /required property `name` is missing[\s\S]*body\.parts\[0\]: property `price` is not declared/,
    );
    expect(p({ method: 'POST', path: '/v2/items' })).toMatch(/requires a request body/);
    expect(checkRequest(spec, { method: 'DELETE', path: '/v2/items/1' }).operation).toBeUndefined();
  });

  it('reads YAML specs too', async () => {
    const { writeFileSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'sam-spec-'));
    writeFileSync(join(dir, 's.yaml'), 'openapi: 3.0.0\nservers:\n  - url: /v1\npaths:\n  /ping:\n    get:\n      parameters:\n        - name: n\n          in: query\n          schema: { type: integer }\n');
    const y = loadOpenApi(join(dir, 's.yaml'));
    expect(checkRequest(y, { method: 'GET', path: '/v1/ping?n=1' }).problems).toEqual([]);
    expect(checkRequest(y, { method: 'GET', path: '/v1/ping?m=1' }).problems).toEqual(['GET /ping: query parameter `m` is not declared by the spec']);
  });
});
