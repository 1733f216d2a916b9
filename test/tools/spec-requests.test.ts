import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asSent, checkRequest, JSON_API_QUERY, loadOpenApi, SALESLOFT_NOTES_QUERY, type CheckOptions, type OpenApiSpec } from '../support/openapi.js';
import { ACCEPT, startStack, structured, unlockedOutreachUsers, type Stack } from '../support/stack.js';

/*
 * Every request the REST clients send while the tools run, checked against the vendor's published OpenAPI
 * document (test/fixtures/vendor-specs): the operation exists, its query parameters are declared and typed,
 * bodies go where the spec has them, in its media type, with its required fields. The hand-over requests of
 * an offboarding are checked the same way in offboarding-owners.test.ts. ZoomInfo is left out: its only
 * OpenAPI documents were converted from a Postman collection or carry no origin (shared PROVENANCE.md), so
 * they are not the vendor's word.
 */

function problemsOf(log: readonly (Parameters<typeof asSent>[0] & { status: number })[], spec: OpenApiSpec, opts: CheckOptions): string[] {
  return [...new Set(log.filter((r) => r.status !== 401).flatMap((r) => checkRequest(spec, asSent(r), opts).problems))];
}

describe('requests the tools send are valid against the vendors\' published specs', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ elicit: ACCEPT });
  });
  afterAll(() => stack?.close());

  it('Outreach: listings, reads, create, update, lock, unlock and mailboxes', async () => {
    const [a, b] = unlockedOutreachUsers(stack);
    structured(await stack.call('outreach_list_users', { all: true }));
    structured(await stack.call('outreach_list_users', { locked: false, updated_since: '2025-01-01T00:00:00Z', page_size: 50 }));
    structured(await stack.call('outreach_get_user', { email: a!.email }));
    structured(await stack.call('outreach_list_roles', {}));
    structured(await stack.call('outreach_list_profiles', {}));
    structured(await stack.call('outreach_list_mailboxes', { email: a!.email }));
    structured(await stack.call('outreach_create_user', { email: 'spec.check@acme.example', first_name: 'Spec', last_name: 'Check', role: 'Sales Rep' }));
    structured(await stack.call('outreach_update_user', { id: String(b!.id), title: 'Account Executive' }));
    structured(await stack.call('outreach_lock_user', { id: String(b!.id) }));
    structured(await stack.call('outreach_unlock_user', { id: String(b!.id) }));
    const log = stack.sandbox.outreach.requests;
    expect(new Set(log.map((r) => r.method))).toEqual(new Set(['GET', 'POST', 'PATCH']));
    // The spec declares no query parameters on its JSON:API collections (filter[…], page[…], sort).
    expect(problemsOf(log, loadOpenApi('outreach-v2-openapi.json'), { undeclaredQuery: JSON_API_QUERY })).toEqual([]);
  });

  it('SalesLoft: listings (cursor walk), reads, role change, deactivation and reactivation', async () => {
    const users = stack.sandbox.salesloft.users().filter((u) => u.team_id === stack.sandbox.salesloft.teamId && u.active && u.role_id !== 'Admin');
    const target = users[0]!;
    structured(await stack.call('salesloft_list_users', { all: true }));
    structured(await stack.call('salesloft_list_users', { search: target.email, per_page: 10 }));
    structured(await stack.call('salesloft_get_user', { id: String(target.id) }));
    structured(await stack.call('salesloft_get_me', {}));
    structured(await stack.call('salesloft_list_roles', {}));
    structured(await stack.call('salesloft_list_groups', {}));
    structured(await stack.call('salesloft_update_user', { id: String(target.id), role: 'User' }));
    const inactive = stack.sandbox.salesloft.users().find((u) => u.team_id === stack.sandbox.salesloft.teamId && !u.active)!;
    structured(await stack.call('salesloft_reactivate_user', { id: String(inactive.id) }));
    const log = stack.sandbox.salesloft.requests;
    expect(log.some((r) => r.method === 'PUT')).toBe(true);
    // The notes' dialect rides beside the spec's where they disagree (see the client); team members and
    // pending invitations are the notes' resources, which the spec does not have: read, not checked here.
    const own = log.filter((r) => !/\/v2\/(team_members|pending_email_accounts|roles)\b/.test(r.path));
    expect(problemsOf(own, loadOpenApi('salesloft-v2-openapi.yaml'), { undeclaredQuery: SALESLOFT_NOTES_QUERY })).toEqual([]);
  });

  it('Apollo: teammates, key owner and usage statistics', async () => {
    structured(await stack.call('apollo_list_users', {}));
    structured(await stack.call('apollo_get_token_owner', {}));
    structured(await stack.call('apollo_get_api_usage_stats', {}));
    structured(await stack.call('apollo_get_credit_usage_stats', {}));
    const log = stack.sandbox.apollo.requests;
    expect(log.length).toBeGreaterThan(0);
    expect(problemsOf(log, loadOpenApi('apollo-openapi.json'), {})).toEqual([]);
  });

  it('the cross-vendor tools: find_user, access_review and check_connections', async () => {
    for (const r of [stack.sandbox.outreach.requests, stack.sandbox.salesloft.requests, stack.sandbox.apollo.requests]) r.length = 0;
    const someone = unlockedOutreachUsers(stack)[2]!.email;
    structured(await stack.call('find_user', { email: someone }));
    structured(await stack.call('access_review', { roster_path: 'roster.csv' }));
    structured(await stack.call('check_connections', {}));
    expect(problemsOf(stack.sandbox.outreach.requests, loadOpenApi('outreach-v2-openapi.json'), { undeclaredQuery: JSON_API_QUERY })).toEqual([]);
    const sl = stack.sandbox.salesloft.requests.filter((r) => !/\/v2\/(team_members|pending_email_accounts|roles)\b/.test(r.path));
    expect(problemsOf(sl, loadOpenApi('salesloft-v2-openapi.yaml'), { undeclaredQuery: SALESLOFT_NOTES_QUERY })).toEqual([]);
    expect(problemsOf(stack.sandbox.apollo.requests, loadOpenApi('apollo-openapi.json'), {})).toEqual([]);
  });
});
