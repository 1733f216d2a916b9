import type { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ToolInputError, VendorError } from '../../src/errors.js';
import { HttpCore } from '../../src/http/core.js';
import { xRateLimitHeaders } from '../../src/http/rate-headers.js';
import { OutreachClient, userIdPath } from '../../src/vendors/outreach/client.js';
import { outreachStatus } from '../../src/vendors/outreach/map.js';
import { offlineAgent, uniqueBearer } from '../support/mock-http.js';

const ORIGIN = 'https://api.outreach.test';
const JSONAPI = { 'content-type': 'application/vnd.api+json' };

function user(id: number, attrs: Record<string, unknown> = {}) {
  return { type: 'user', id: String(id), attributes: { email: `u${id}@acme.example`, firstName: 'U', lastName: String(id), locked: false, ...attrs }, relationships: { role: { data: { type: 'role', id: '41' } }, profile: { data: null } } };
}

describe('OutreachClient (MockAgent)', () => {
  let agent: MockAgent;
  let client: OutreachClient;
  let core: HttpCore;

  beforeEach(() => {
    agent = offlineAgent();
    core = new HttpCore({
      vendor: 'outreach',
      baseUrl: `${ORIGIN}/api/v2`,
      auth: uniqueBearer('test-token'),
      limits: { windows: [{ name: 'hour', intervalMs: 3_600_000, limit: 10_000 }], headers: xRateLimitHeaders('hour') },
      retry: { baseDelayMs: 1 },
      dispatcher: agent,
    });
    client = new OutreachClient(core, 'bearer');
  });
  afterEach(async () => {
    await core.close();
    await agent.close();
  });

  it('sends the JSON:API media type as Accept and pages at the requested size', async () => {
    let accept: string | undefined;
    agent
      .get(ORIGIN)
      .intercept({ path: (p) => p.startsWith('/api/v2/users?'), method: 'GET' })
      .reply((opts) => {
        accept = (opts.headers as Record<string, string>).accept ?? (opts.headers as Record<string, string>).Accept;
        const q = new URL(`${ORIGIN}${opts.path}`).searchParams;
        expect(q.get('page[size]')).toBe('2');
        expect(q.get('page[offset]')).toBe('0');
        return { statusCode: 200, data: JSON.stringify({ data: [user(1), user(2)], meta: { count: 5 } }), responseOptions: { headers: JSONAPI } };
      });
    const page = await client.listUsers({ pageSize: 2, offset: 0 });
    expect(accept).toBe('application/vnd.api+json');
    expect(page.users.map((u) => u.id)).toEqual(['1', '2']);
    expect(page.nextOffset).toBe(2);
    expect(page.total).toBe(5);
  });

  it('walks all pages at 1000 and stops on meta.count without an extra empty request', async () => {
    const pool = agent.get(ORIGIN);
    const offsets: string[] = [];
    pool
      .intercept({ path: (p) => p.startsWith('/api/v2/users?'), method: 'GET' })
      .reply((opts) => {
        const q = new URL(`${ORIGIN}${opts.path}`).searchParams;
        offsets.push(q.get('page[offset]')!);
        expect(q.get('page[size]')).toBe('1000');
        const off = Number(q.get('page[offset]'));
        const n = Math.min(1000, 2000 - off);
        return { statusCode: 200, data: JSON.stringify({ data: Array.from({ length: n }, (_, i) => user(off + i + 1)), meta: { count: 2000 } }), responseOptions: { headers: JSONAPI } };
      })
      .persist();
    const pages: number[] = [];
    const all = await client.listAllUsers({}, async (n) => void pages.push(n));
    expect(all.users).toHaveLength(2000);
    expect(offsets).toEqual(['0', '1000']);
    expect(pages).toEqual([1, 2]);
  });

  it('PATCH puts the id in the body as a string and uses the integer in the path', async () => {
    let body: any;
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v2/users/123', method: 'PATCH' })
      .reply((opts) => {
        body = JSON.parse(String(opts.body));
        expect((opts.headers as Record<string, string>)['content-type']).toBe('application/vnd.api+json');
        return { statusCode: 200, data: JSON.stringify({ data: { type: 'user', id: '123', attributes: { locked: true } } }), responseOptions: { headers: JSONAPI } };
      });
    const { user: u } = await client.updateUser('123', { locked: true });
    expect(body).toEqual({ data: { type: 'user', id: '123', attributes: { locked: true } } });
    expect(u.attributes.locked).toBe(true);
  });

  it('refuses a non-integer id before any request', () => {
    expect(() => userIdPath('12a')).toThrow(ToolInputError);
    expect(() => userIdPath('0')).toThrow(/positive integers/);
    expect(userIdPath(' 42 ')).toBe('42');
  });

  it('resolves by email case-insensitively and returns candidates when several match', async () => {
    const pool = agent.get(ORIGIN);
    pool.intercept({ path: (p) => p.startsWith('/api/v2/users?'), method: 'GET' }).reply(200, JSON.stringify({ data: [user(7, { email: 'Dana.Lee@acme.example' }), user(8, { email: 'dana.lee@acme.example' })], meta: { count: 2 } }), { headers: JSONAPI }).persist();
    pool.intercept({ path: (p) => p.startsWith('/api/v2/roles'), method: 'GET' }).reply(200, JSON.stringify({ data: [{ type: 'role', id: '41', attributes: { name: 'Sales Rep' } }] }), { headers: JSONAPI }).persist();
    pool.intercept({ path: (p) => p.startsWith('/api/v2/profiles'), method: 'GET' }).reply(200, JSON.stringify({ data: [] }), { headers: JSONAPI }).persist();
    const err = await client.resolveUser({ email: 'DANA.LEE@acme.example' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolInputError);
    expect((err as ToolInputError).message).toMatch(/2 Outreach users match/);
    expect((err as ToolInputError).data).toMatchObject({ candidates: [{ id: '7' }, { id: '8' }] });
  });

  it('a role name unknown to the org lists the valid names', async () => {
    agent.get(ORIGIN).intercept({ path: (p) => p.startsWith('/api/v2/roles'), method: 'GET' }).reply(200, JSON.stringify({ data: [{ type: 'role', id: '41', attributes: { name: 'Sales Rep' } }, { type: 'role', id: '53', attributes: { name: 'Admin' } }] }), { headers: JSONAPI });
    await expect(client.resolveNamed('role', 'Wizard')).rejects.toThrow(/Valid roles: Sales Rep \(id 41\), Admin \(id 53\)/);
  });

  it('a JSON:API error document becomes a VendorError carrying the vendor detail, without the token', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v2/users', method: 'POST' })
      .reply(422, JSON.stringify({ errors: [{ title: 'Validation Error', detail: 'Email has already been taken', source: { pointer: '/data/attributes/email' } }] }), { headers: JSONAPI });
    const err = await client.createUser({ firstName: 'a', lastName: 'b', email: 'x@acme.example' }, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as VendorError).status).toBe(422);
    expect((err as VendorError).message).toMatch(/already been taken/);
    expect((err as VendorError).message).not.toMatch(/test-token/);
  });

  it('a body that is not a JSON:API user document is an invalid_response, not a guess', async () => {
    agent.get(ORIGIN).intercept({ path: '/api/v2/users/5', method: 'GET' }).reply(200, JSON.stringify({ data: { type: 'prospect', id: '5' } }), { headers: JSONAPI });
    await expect(client.getUser('5')).rejects.toMatchObject({ code: 'invalid_response' });
  });
});

describe('Outreach status mapping', () => {
  it.each([
    [{ locked: false, active: true }, 'active'],
    [{ locked: true, active: true }, 'locked'],
    [{ locked: true }, 'locked'],
    [{ locked: true, active: false }, 'deactivated'],
    [{ locked: false, active: false }, 'deactivated'],
    [{}, 'unknown'],
  ])('%j → %s', (attrs, status) => {
    expect(outreachStatus(attrs)).toBe(status);
  });
});
