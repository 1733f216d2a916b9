import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, type CallToolResult, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { MockAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoggerTo } from '../../src/log.js';
import { lowerHeaders, offlineAgent } from '../support/mock-http.js';
import { MOCK_BASE_URLS, MOCK_ORIGINS, startMockStack, type MockStack } from '../support/mock-stack.js';
import { filesUnder, findLeaks, sentinel, type Haystack } from '../support/secrets.js';
import { assertBuilt, cleanEnv, MAIN, tempStateDir } from '../support/spawn.js';

/**
 * Issue 14 item 6: the secrets regression test. Distinctive sentinels in every credential variable; a
 * scenario (list, find, review, plan, execute, a failing call, a 401); then stdout, stderr, every result, the
 * audit log, the evidence and the whole state directory are searched for each sentinel in clear, URL-encoded
 * and base64 forms. Zero hits.
 *
 * Two halves: the built server spawned over stdio with --sandbox (which swaps the vendor credentials for its
 * own, but reads every variable first), and an in-process server whose vendor calls are answered by an undici
 * MockAgent, so the sentinels really are sent to vendors (and a vendor echoes one back in an error body).
 */

/** Every variable that holds a credential. Client ids and the ZoomInfo username are identities, not secrets. */
const CREDENTIAL_VARIABLES = [
  'OUTREACH_ACCESS_TOKEN',
  'OUTREACH_CLIENT_SECRET',
  'OUTREACH_REFRESH_TOKEN',
  'SALESLOFT_API_KEY',
  'SALESLOFT_CLIENT_SECRET',
  'SALESLOFT_REFRESH_TOKEN',
  'APOLLO_ACCESS_TOKEN',
  'APOLLO_CLIENT_SECRET',
  'APOLLO_REFRESH_TOKEN',
  'ZOOMINFO_PASSWORD',
  'OUTREACH_SCIM_TOKEN',
  'SALESLOFT_SCIM_TOKEN',
  'APOLLO_SCIM_TOKEN',
  'ZOOMINFO_SCIM_TOKEN',
  'SALES_ACCESS_HTTP_TOKEN',
] as const;

function texts(r: CallToolResult): string {
  return JSON.stringify(r);
}

describe('secrets never leave where they live: spawned stdio server on the sandbox', () => {
  const stateDir = tempStateDir();
  const secrets: Record<string, string> = Object.fromEntries(CREDENTIAL_VARIABLES.map((v) => [v, sentinel(v)]));
  let client: Client;
  let stderr = '';
  const frames: string[] = [];
  const results: Haystack[] = [];

  beforeAll(async () => {
    assertBuilt();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MAIN, '--sandbox'],
      env: cleanEnv({
        ...secrets,
        // Apollo takes a key or OAuth, not both: the OAuth variables here, the key in the in-process half.
        OUTREACH_CLIENT_ID: 'outreach-client-id',
        SALESLOFT_CLIENT_ID: 'salesloft-client-id',
        APOLLO_CLIENT_ID: 'apollo-client-id',
        ZOOMINFO_USERNAME: 'api-user@acme.example',
        APOLLO_SCIM_URL: 'https://scim.apollo.example/scim/v2',
        ZOOMINFO_SCIM_URL: 'https://scim.zoominfo.example/scim/v2',
        SALES_ACCESS_STATE_DIR: stateDir,
        SALES_ACCESS_CONFIRM: 'elicit',
        LOG_LEVEL: 'trace',
      }),
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d) => (stderr += d));
    client = new Client({ name: 'secrets-e2e', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      frames.push(JSON.stringify(req));
      return { action: 'accept', content: { approve: true } };
    });
    await client.connect(transport);
    // Everything the server writes to stdout reaches the client as a message: record each one.
    const deliver = transport.onmessage;
    transport.onmessage = (m: JSONRPCMessage) => {
      frames.push(JSON.stringify(m));
      deliver?.(m);
    };
    await client.listTools();
  });
  afterAll(async () => {
    await client?.close();
  });

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = (await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as CallToolResult;
    results.push({ where: `result of ${name}`, text: texts(r) });
    return r;
  };

  it('runs the scenario, then finds no sentinel in stdout, stderr, results, audit, evidence or the state directory', async () => {
    await call('list_connections');
    await call('check_connections'); // the live probe of every credential
    const page = (await call('outreach_list_users', { locked: false, page_size: 50 })).structuredContent as { users: { id: string; email: string }[] };
    const person = page.users.find((u) => page.users.filter((v) => v.email.toLowerCase() === u.email.toLowerCase()).length === 1)!.email;
    await call('find_user', { email: person });
    const review = await call('access_review', { roster: [person] });
    expect(review.isError).toBeFalsy();
    const plan = (await call('plan_offboarding', { emails: [person] })).structuredContent as { plan_id: string };
    const exec = await call('execute_offboarding', { plan_id: plan.plan_id });
    expect(exec.isError).toBeFalsy();
    const failing = await call('outreach_get_user', { id: '999999' });
    expect(failing.isError).toBe(true);
    await call('scim_list_users', { connection: 'salesloft', count: 5 });

    const leaks = findLeaks(secrets, [
      { where: 'stdout (every JSON-RPC message)', text: frames.join('\n') },
      { where: 'stderr', text: stderr },
      ...results,
      ...filesUnder(stateDir, '<state dir>'),
    ]);
    expect(leaks).toEqual([]);
    // The search did look at something: the audit log and the evidence are there.
    const files = filesUnder(stateDir).map((f) => f.where);
    expect(files.some((f) => f.endsWith('/audit.log'))).toBe(true);
    expect(files.some((f) => /\/evidence\/access-review-.+\.html$/.test(f))).toBe(true);
    expect(stderr).toMatch(/"level":20/); // debug lines (every vendor request) were logged and searched
  });
});

describe('secrets never leave where they live: vendor calls carry them (MockAgent)', () => {
  const secrets: Record<string, string> = Object.fromEntries(
    [...CREDENTIAL_VARIABLES.filter((v) => !v.startsWith('APOLLO_') || v === 'APOLLO_SCIM_TOKEN'), 'APOLLO_API_KEY'].map((v) => [v, sentinel(v)]),
  );
  let agent: MockAgent;
  let stack: MockStack;
  let log = '';
  const sent: string[] = [];
  const results: Haystack[] = [];

  /** SCIM directories, one per vendor; only Outreach's knows Jane. */
  const scimUsers: Record<string, Record<string, { id: string; userName: string; active: boolean }>> = {
    outreach: { 'o-1': { id: 'o-1', userName: 'jane@acme.example', active: true } },
    salesloft: {},
    apollo: {},
    zoominfo: {},
  };

  beforeAll(async () => {
    agent = offlineAgent();
    const json = { 'content-type': 'application/json' };
    const record = (o: { method: string; path: string; headers?: unknown; body?: unknown }) => sent.push(`${o.method} ${o.path} ${JSON.stringify(lowerHeaders(o.headers))} ${o.body ?? ''}`);

    // Outreach: OAuth refresh (the client secret and refresh token travel in the form body).
    const outreach = agent.get(MOCK_ORIGINS.outreach);
    outreach
      .intercept({ path: () => true, method: () => true })
      .reply((o) => {
        record(o);
        const path = o.path;
        if (path === '/oauth/token') return { statusCode: 200, data: JSON.stringify({ access_token: 'outreach-access-issued-1', refresh_token: 'outreach-refresh-issued-2', token_type: 'bearer', expires_in: 7200 }), responseOptions: { headers: json } };
        const ja = { headers: { 'content-type': 'application/vnd.api+json' } };
        const jane = { type: 'user', id: '1', attributes: { email: 'jane@acme.example', firstName: 'Jane', lastName: 'Doe', locked: false, active: true }, relationships: { role: { data: null }, profile: { data: null } } };
        if (path.startsWith('/api/v2/users/77')) return { statusCode: 500, data: JSON.stringify({ errors: [{ detail: 'boom' }] }), responseOptions: ja };
        if (path.startsWith('/api/v2/users/1')) return { statusCode: 200, data: JSON.stringify({ data: jane }), responseOptions: ja };
        if (path.startsWith('/api/v2/users')) return { statusCode: 200, data: JSON.stringify({ data: [jane], meta: { count: 1 } }), responseOptions: ja };
        if (path.startsWith('/api/v2/roles') || path.startsWith('/api/v2/profiles')) return { statusCode: 200, data: JSON.stringify({ data: [], meta: { count: 0 } }), responseOptions: ja };
        return { statusCode: 404, data: '{}', responseOptions: ja };
      })
      .persist();

    // SalesLoft: API key as a bearer token.
    agent
      .get(MOCK_ORIGINS.salesloft)
      .intercept({ path: () => true, method: () => true })
      .reply((o) => {
        record(o);
        const paging = (n: number) => ({ paging: { per_page: 100, current_page: 1, next_page: null, prev_page: null, total_pages: 1, total_count: n } });
        if (o.path.startsWith('/v2/users.json?')) {
          const q = new URL(`${MOCK_ORIGINS.salesloft}${o.path}`).searchParams;
          const all = [{ id: 11, email: 'sam@acme.example', active: true, updated_at: '2026-01-01T00:00:01.000000Z', role: { id: 'Admin', name: 'Admin' } }];
          const after = q.get('updated_at[gt]');
          const list = all.filter((u) => !after || u.updated_at > after);
          return { statusCode: 200, data: JSON.stringify({ data: list, metadata: paging(list.length) }), responseOptions: { headers: json } };
        }
        if (o.path.startsWith('/v2/pending_email_accounts')) return { statusCode: 200, data: JSON.stringify({ data: [], metadata: paging(0) }), responseOptions: { headers: json } };
        return { statusCode: 404, data: '{}', responseOptions: { headers: json } };
      })
      .persist();

    // Apollo: the key in X-Api-Key; its 401 echoes the key back, as a careless vendor might.
    agent
      .get(MOCK_ORIGINS.apollo)
      .intercept({ path: () => true, method: () => true })
      .reply((o) => {
        record(o);
        const key = lowerHeaders(o.headers)['x-api-key'];
        if (o.path.startsWith('/api/v1/users/api_profile')) return { statusCode: 401, data: `Invalid API key ${key}. Check api_key=${encodeURIComponent(key ?? '')}`, responseOptions: { headers: { 'content-type': 'text/plain' } } };
        if (o.path.startsWith('/api/v1/users/search')) return { statusCode: 200, data: JSON.stringify({ users: [{ id: 'a1', email: 'al@acme.example' }], pagination: { total_entries: 1, total_pages: 1 } }), responseOptions: { headers: json } };
        return { statusCode: 404, data: '{}', responseOptions: { headers: json } };
      })
      .persist();

    // ZoomInfo: username and password in the /authenticate JSON body; then the JWT.
    const iat = Math.floor(Date.now() / 1000);
    const jwt = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iat, exp: iat + 3600 })).toString('base64url')}.zi-sig`;
    agent
      .get(MOCK_ORIGINS.zoominfo)
      .intercept({ path: () => true, method: () => true })
      .reply((o) => {
        record(o);
        if (o.path === '/authenticate') return { statusCode: 200, data: JSON.stringify({ jwt }), responseOptions: { headers: json } };
        if (o.path === '/lookup/usage') return { statusCode: 200, data: JSON.stringify({ usage: [{ limitType: 'recordLimit', limit: 100, currentUsage: 1, usageRemaining: 99 }] }), responseOptions: { headers: json } };
        return { statusCode: 404, data: '{}', responseOptions: { headers: json } };
      })
      .persist();

    // SCIM: one small directory per vendor, under /<vendor>/scim/v2.
    const scimJson = { headers: { 'content-type': 'application/scim+json' } };
    agent
      .get(MOCK_ORIGINS.scim)
      .intercept({ path: () => true, method: () => true })
      .reply((o) => {
        record(o);
        const url = new URL(`${MOCK_ORIGINS.scim}${o.path}`);
        const [, vendor, , , resource, id] = url.pathname.split('/');
        const dir = scimUsers[vendor] ?? {};
        const doc = (u: { id: string; userName: string; active: boolean }) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], ...u });
        if (resource === 'Users' && id && o.method === 'PATCH') {
          const u = dir[id];
          if (!u) return { statusCode: 404, data: '{}', responseOptions: scimJson };
          u.active = false;
          return { statusCode: 200, data: JSON.stringify(doc(u)), responseOptions: scimJson };
        }
        if (resource === 'Users' && id) {
          const u = dir[id];
          return u ? { statusCode: 200, data: JSON.stringify(doc(u)), responseOptions: scimJson } : { statusCode: 404, data: '{}', responseOptions: scimJson };
        }
        if (resource === 'Users') {
          const m = /userName eq "([^"]*)"/.exec(url.searchParams.get('filter') ?? '');
          const list = Object.values(dir).filter((u) => !m || u.userName.toLowerCase() === m[1].toLowerCase());
          return { statusCode: 200, data: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: list.length, startIndex: 1, itemsPerPage: list.length, Resources: list.map(doc) }), responseOptions: scimJson };
        }
        return { statusCode: 404, data: '{}', responseOptions: scimJson };
      })
      .persist();

    const sink = new Writable({
      write(chunk, _enc, done) {
        log += chunk;
        done();
      },
    });
    const scim = (v: string) => ({ [`${v.toUpperCase()}_SCIM_URL`]: `${MOCK_ORIGINS.scim}/${v}/scim/v2` });
    stack = await startMockStack({
      agent,
      elicit: { action: 'accept', content: { approve: true } },
      log: createLoggerTo(sink, 'trace'),
      env: {
        ...MOCK_BASE_URLS,
        ...secrets,
        ...scim('outreach'),
        ...scim('salesloft'),
        ...scim('apollo'),
        ...scim('zoominfo'),
        // Outreach and SalesLoft: OAuth wins over the static token and key, which are still set (and searched).
        OUTREACH_CLIENT_ID: 'outreach-client-id',
        SALESLOFT_CLIENT_ID: '',
        SALESLOFT_CLIENT_SECRET: '',
        SALESLOFT_REFRESH_TOKEN: '',
        ZOOMINFO_USERNAME: 'api-user@acme.example',
        SALES_ACCESS_CREDIT_BUDGET: '0',
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await agent?.close();
  });

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await stack.call(name, args);
    results.push({ where: `result of ${name}`, text: texts(r) });
    return r;
  };

  it('sends each sentinel to its vendor, runs the scenario (a 401 echoing the key included), and leaks none', async () => {
    await call('list_connections');
    await call('check_connections');
    await call('outreach_list_users', { page_size: 10 });
    await call('find_user', { email: 'jane@acme.example' });
    const review = await call('access_review', { roster: ['jane@acme.example'] });
    expect(review.isError).toBeFalsy();
    const plan = (await call('plan_offboarding', { emails: ['jane@acme.example'], vendors: ['outreach'] })).structuredContent as { plan_id: string };
    const exec = await call('execute_offboarding', { plan_id: plan.plan_id });
    expect(exec.structuredContent).toMatchObject({ summary: { done: 1 } });
    expect((await call('outreach_get_user', { id: '77' })).isError).toBe(true); // a failing call (500)
    const unauthorized = await call('apollo_get_token_owner');
    expect(unauthorized.isError).toBe(true); // the 401
    await call('zoominfo_get_usage');

    // The sentinels did reach the vendors, each where it belongs.
    const wire = sent.join('\n');
    expect(wire).toContain(encodeURIComponent(secrets.OUTREACH_CLIENT_SECRET));
    expect(wire).toContain(encodeURIComponent(secrets.OUTREACH_REFRESH_TOKEN));
    expect(wire).toContain(`"x-api-key":"${secrets.APOLLO_API_KEY}"`);
    expect(wire).toContain(`bearer ${secrets.SALESLOFT_API_KEY}`.replace('bearer', 'Bearer'));
    expect(wire).toContain(secrets.ZOOMINFO_PASSWORD);
    expect(wire).toContain(`Bearer ${secrets.OUTREACH_SCIM_TOKEN}`);

    const leaks = findLeaks(secrets, [{ where: 'server log (trace)', text: log }, ...results, ...filesUnder(stack.stateDir, '<state dir>')]);
    expect(leaks).toEqual([]);
    expect(filesUnder(stack.stateDir).some((f) => f.where.endsWith('/audit.log'))).toBe(true);
  });
});

describe('the search itself', () => {
  it('finds a sentinel in clear, URL-encoded, form-encoded and base64 forms, also inside a larger encoded value', () => {
    const s = sentinel('X_SECRET');
    const hay = (text: string) => findLeaks({ X: s }, [{ where: 'h', text }]);
    expect(hay(`token=${s}`)).not.toEqual([]);
    expect(hay(`q=${encodeURIComponent(s)}`)).not.toEqual([]);
    expect(hay(`Basic ${Buffer.from(`client-id:${s}`).toString('base64')}`)).not.toEqual([]);
    expect(hay(Buffer.from(`{"a":"${s}"}`).toString('base64url'))).not.toEqual([]);
    expect(hay(Buffer.from(`ab${s}`).toString('base64'))).not.toEqual([]);
    expect(hay('nothing to see')).toEqual([]);
  });
});
