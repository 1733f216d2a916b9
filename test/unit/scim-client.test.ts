import { randomUUID } from 'node:crypto';
import type { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenStore } from '../../src/auth/token-store.js';
import { systemClock } from '../../src/clock.js';
import type { SandboxVendor as Vendor } from '../../src/sandbox/index.js';
import { ToolInputError, VendorError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { scimIdPath, type ScimClient } from '../../src/vendors/scim/client.js';
import { scimClientFor } from '../../src/vendors/connection.js';
import { BUILTIN_ADAPTERS } from '../../src/vendors/registry.js';
import { scimErrorDetail } from '../../src/vendors/scim/connect.js';
import { scimStatus, scimToAccount } from '../../src/vendors/scim/map.js';
import { normaliseKeys, ScimUser } from '../../src/vendors/scim/wire.js';
import { lowerHeaders, offlineAgent } from '../support/mock-http.js';

const ORIGIN = 'https://scim.vendor.test';
const BASE = `${ORIGIN}/scim/v2`;
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface Seen {
  method: string;
  /** Path below the base URL, e.g. /Users/42. */
  path: string;
  /** The raw query string as sent, without '?'. */
  rawQuery: string;
  query: URLSearchParams;
  body: any;
  headers: Record<string, string>;
}
interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

let agent: MockAgent;
let clients: ScimClient[] = [];

beforeEach(() => {
  agent = offlineAgent();
  clients = [];
});
afterEach(async () => {
  for (const c of clients) await c.close();
  await agent.close();
});

/** One fake SCIM server on ORIGIN: every request goes to `handler`, and is recorded. */
function server(handler: (req: Seen) => Answer): Seen[] {
  const seen: Seen[] = [];
  agent
    .get(ORIGIN)
    .intercept({ path: () => true, method: () => true })
    .reply((opts) => {
      const url = new URL(`${ORIGIN}${opts.path}`);
      const headers = lowerHeaders(opts.headers);
      const req: Seen = {
        method: opts.method,
        path: url.pathname.replace(/^\/scim\/v2/, ''),
        rawQuery: String(opts.path).split('?')[1] ?? '',
        query: url.searchParams,
        body: opts.body ? JSON.parse(String(opts.body)) : undefined,
        headers,
      };
      seen.push(req);
      const a = handler(req);
      return {
        statusCode: a.status,
        data: a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body),
        responseOptions: { headers: { ...(a.body === undefined ? {} : { 'content-type': 'application/scim+json' }), ...a.headers } },
      };
    })
    .persist();
  return seen;
}

function client(vendor: Vendor = 'salesloft'): ScimClient {
  // A distinct token per client keeps limiter keys (vendor + credential identity) independent.
  const c = scimClientFor(BUILTIN_ADAPTERS.find((a) => a.id === vendor)!, { url: BASE, token: `scim-test-${randomUUID()}` }, {
    tokens: {} as TokenStore,
    clock: systemClock,
    log: silentLogger,
    dispatcher: agent,
    retryBaseDelayMs: 1,
  });
  clients.push(c);
  return c;
}

function spc(over: { patch?: boolean; etag?: boolean; filter?: boolean; maxResults?: number } = {}) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    patch: { supported: over.patch ?? true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: over.filter ?? true, maxResults: over.maxResults ?? 200 },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: over.etag ?? false },
    authenticationSchemes: [],
  };
}

function scimUser(id: string, over: Record<string, unknown> = {}) {
  return {
    schemas: [USER_SCHEMA],
    id,
    externalId: `ext-${id}`,
    userName: `user${id}@acme.example`,
    name: { givenName: 'U', familyName: id },
    displayName: `U ${id}`,
    emails: [{ value: `user${id}@acme.example`, type: 'work', primary: true }],
    groups: [{ value: 'g1', display: 'Sales' }],
    active: true,
    meta: { resourceType: 'User', created: '2026-01-01T00:00:00Z', lastModified: '2026-01-02T00:00:00Z', version: 'W/"1"', location: `${BASE}/Users/${id}` },
    ...over,
  };
}

function list(resources: unknown[], total = resources.length, startIndex = 1) {
  return { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources };
}

const scimError = (status: number, scimType: string | undefined, detail: string): Answer => ({
  status,
  body: { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail },
});

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

/**
 * A stateful user store behind /Users/{id}: GET reads it (with an ETag per version), PATCH/PUT are answered
 * by `write` (which may change the store).
 */
function userStore(initial: Record<string, unknown>, opts: { spc?: ReturnType<typeof spc> | null; write?: (req: Seen, store: { user: any; version: number }) => Answer } = {}) {
  const store = { user: structuredClone(initial) as any, version: 1 };
  const seen = server((req) => {
    if (req.path === '/ServiceProviderConfig') return opts.spc === null ? scimError(404, undefined, 'Endpoint Not Found') : { status: 200, body: opts.spc ?? spc() };
    if (req.path === `/Users/${store.user.id}` && req.method === 'GET') {
      return { status: 200, body: { ...store.user, meta: { ...store.user.meta, version: `W/"${store.version}"` } }, headers: { etag: `W/"${store.version}"` } };
    }
    if (opts.write) return opts.write(req, store);
    return scimError(500, undefined, `unexpected ${req.method} ${req.path}`);
  });
  return { store, seen, writes: () => seen.filter((r) => r.method !== 'GET') };
}

describe('ServiceProviderConfig', () => {
  it('is read once per client, and filter.maxResults caps count', async () => {
    const seen = server((req) => (req.path === '/ServiceProviderConfig' ? { status: 200, body: spc({ maxResults: 50 }) } : { status: 200, body: list([]) }));
    const c = client();
    await Promise.all([c.listUsers({ count: 500 }), c.listUsers({ count: 10 })]);
    await c.listUsers();
    expect(seen.filter((r) => r.path === '/ServiceProviderConfig')).toHaveLength(1);
    const counts = seen.filter((r) => r.path === '/Users').map((r) => r.query.get('count'));
    expect(counts.sort()).toEqual(['10', '50', '50']);
    expect(c.knownCapabilities()).toMatchObject({ patch: true, etag: false, maxResults: 50, source: 'server' });
  });

  it('a server without the endpoint gets conservative defaults: PATCH, no ETag, 100 per page', async () => {
    server((req) => (req.path === '/ServiceProviderConfig' ? scimError(404, undefined, 'Endpoint Not Found') : { status: 200, body: list([]) }));
    const c = client();
    const page = await c.listUsers({ count: 1000 });
    expect(page.count).toBe(100);
    expect(await c.serviceProviderConfig()).toMatchObject({ patch: true, etag: false, filter: true, maxResults: 100, source: 'default' });
  });

  it('a 401 on the config is not cached as defaults: it fails and names the token variable', async () => {
    server(() => scimError(401, undefined, 'Invalid token'));
    const err = await failure(client('apollo').listUsers());
    expect(err).toBeInstanceOf(VendorError);
    expect(err.message).toMatch(/APOLLO_SCIM_TOKEN/);
    expect(err.message).toMatch(/APOLLO_SCIM_URL/);
  });
});

describe('listing and filters', () => {
  it('sends application/scim+json, the quoted and escaped filter URL-encoded, startIndex and count', async () => {
    const seen = server((req) => (req.path === '/ServiceProviderConfig' ? { status: 200, body: spc() } : { status: 200, body: list([scimUser('1')], 7, 3) }));
    const page = await client().listUsers({ filter: { userName: 'o\'brien"x\\y@acme.example', active: true }, startIndex: 3, count: 25 });
    const req = seen.find((r) => r.path === '/Users')!;
    expect(req.headers.accept).toBe('application/scim+json');
    expect(req.rawQuery).toBe('filter=userName+eq+%22o%27brien%5C%22x%5C%5Cy%40acme.example%22+and+active+eq+true&startIndex=3&count=25');
    expect(req.query.get('filter')).toBe('userName eq "o\'brien\\"x\\\\y@acme.example" and active eq true');
    expect(page).toMatchObject({ totalResults: 7, startIndex: 3, count: 25 });
    expect(page.items[0].id).toBe('1');
  });

  it('externalId and active=false filters', async () => {
    const seen = server((req) => (req.path === '/ServiceProviderConfig' ? { status: 200, body: spc() } : { status: 200, body: list([]) }));
    await client().listUsers({ filter: { externalId: '00u1 or 1 eq 1', active: false } });
    expect(seen.find((r) => r.path === '/Users')!.query.get('filter')).toBe('externalId eq "00u1 or 1 eq 1" and active eq false');
  });

  it('a bad filter value or start index is refused before any request', async () => {
    const seen = server(() => ({ status: 200, body: spc() }));
    const c = client();
    await expect(c.listUsers({ filter: { userName: 'jane\n@acme.example' } })).rejects.toBeInstanceOf(ToolInputError);
    await expect(c.listUsers({ filter: { userName: 'x'.repeat(600) } })).rejects.toThrow(/longer than 512/);
    expect(seen).toHaveLength(0);
    await expect(c.listUsers({ startIndex: 0 })).rejects.toThrow(/1-based/);
  });

  it('a SCIM error body becomes a message with scimType and detail', async () => {
    server((req) => (req.path === '/ServiceProviderConfig' ? { status: 200, body: spc() } : scimError(400, 'invalidFilter', 'The specified filter syntax was invalid')));
    const err = await failure(client().listUsers({ filter: { active: true } }));
    expect(err).toBeInstanceOf(VendorError);
    expect((err as VendorError).status).toBe(400);
    expect(err.message).toContain('invalidFilter: The specified filter syntax was invalid');
  });

  it('scimErrorDetail reads SCIM errors in any attribute case and falls back for other shapes', () => {
    expect(scimErrorDetail(409, { Schemas: [ERROR_SCHEMA], ScimType: 'uniqueness', Detail: 'userName taken', Status: 409 })).toBe('uniqueness: userName taken');
    expect(scimErrorDetail(404, { detail: 'Resource 9 not found' })).toBe('Resource 9 not found');
    expect(scimErrorDetail(500, { message: 'boom' })).toBe('boom');
    expect(scimErrorDetail(500, 'text')).toBeUndefined();
  });

  it('all: walks startIndex 1, 101, 201 at maxResults and stops on totalResults without an extra request', async () => {
    const total = 250;
    const seen = server((req) => {
      if (req.path === '/ServiceProviderConfig') return { status: 200, body: spc({ maxResults: 100 }) };
      const start = Number(req.query.get('startIndex'));
      const count = Number(req.query.get('count'));
      const n = Math.max(0, Math.min(count, total - start + 1));
      return { status: 200, body: list(Array.from({ length: n }, (_, i) => scimUser(String(start + i))), total, start) };
    });
    const pages: [number, number | undefined][] = [];
    const all = await client().listAllUsers({ active: true }, async (n, of) => void pages.push([n, of]));
    expect(all.items).toHaveLength(250);
    expect(all.pages).toBe(3);
    expect(seen.filter((r) => r.path === '/Users').map((r) => [r.query.get('startIndex'), r.query.get('count'), r.query.get('filter')])).toEqual([
      ['1', '100', 'active eq true'],
      ['101', '100', 'active eq true'],
      ['201', '100', 'active eq true'],
    ]);
    expect(pages).toEqual([[1, 3], [2, 3], [3, 3]]);
  });

  it('all: a server that returns fewer than count is walked by what it returned, not skipped over', async () => {
    const total = 45;
    const seen = server((req) => {
      if (req.path === '/ServiceProviderConfig') return { status: 200, body: spc({ maxResults: 100 }) };
      const start = Number(req.query.get('startIndex'));
      const n = Math.max(0, Math.min(20, total - start + 1)); // ignores count=100
      return { status: 200, body: list(Array.from({ length: n }, (_, i) => scimUser(String(start + i))), total, start) };
    });
    const all = await client().listAllUsers();
    expect(all.items.map((u) => u.id)).toEqual(Array.from({ length: 45 }, (_, i) => String(i + 1)));
    expect(seen.filter((r) => r.path === '/Users').map((r) => r.query.get('startIndex'))).toEqual(['1', '21', '41']);
  });

  it('all: an empty page ends the walk even when totalResults promises more', async () => {
    const seen = server((req) => {
      if (req.path === '/ServiceProviderConfig') return { status: 200, body: spc({ maxResults: 2 }) };
      const start = Number(req.query.get('startIndex'));
      return { status: 200, body: start === 1 ? list([scimUser('1'), scimUser('2')], 10) : { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 10 } };
    });
    const all = await client().listAllUsers();
    expect(all.items).toHaveLength(2);
    expect(seen.filter((r) => r.path === '/Users')).toHaveLength(2);
  });

  it('all: a server that ignores startIndex (same page again) fails clearly instead of looping', async () => {
    server((req) => (req.path === '/ServiceProviderConfig' ? { status: 200, body: spc({ maxResults: 2 }) } : { status: 200, body: list([scimUser('1'), scimUser('2')], 10) }));
    const err = await failure(client().listAllUsers());
    expect(err).toBeInstanceOf(VendorError);
    expect(err.message).toMatch(/ignore startIndex/);
  });

  it('attribute names are case-insensitive: UserName, Active, Emails, resources, TotalResults all parse', async () => {
    server((req) =>
      req.path === '/ServiceProviderConfig'
        ? { status: 200, body: { Patch: { Supported: true }, Filter: { SUPPORTED: true, MaxResults: 5 }, ETag: { supported: 'true' } } }
        : {
            status: 200,
            body: {
              Schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
              TotalResults: 1,
              resources: [{ ID: '77', UserName: 'Mixed.Case@acme.example', Active: 'False', Emails: [{ Value: 'mixed@acme.example', Primary: true }], Meta: { Created: '2026-01-01T00:00:00Z' } }],
            },
          },
    );
    const c = client();
    const page = await c.listUsers();
    expect(page.count).toBe(5);
    expect(await c.serviceProviderConfig()).toMatchObject({ etag: true, maxResults: 5 });
    const u = page.items[0];
    expect(u).toMatchObject({ id: '77', userName: 'Mixed.Case@acme.example', active: false });
    expect(scimToAccount('salesloft', u)).toMatchObject({ email: 'mixed@acme.example', status: 'deactivated', created_at: '2026-01-01T00:00:00Z', source: 'scim' });
  });
});

describe('get, find and resolve', () => {
  it('bad ids are refused before any request and good ids are percent-encoded', async () => {
    const seen = server(() => ({ status: 200, body: spc() }));
    const c = client();
    for (const bad of ['', '../x', '..', '.', 'a/b', 'a\\b', 'a?b', 'a#b', ' 42', 'a\nb', 'x'.repeat(257)]) {
      await expect(c.getUser(bad), JSON.stringify(bad)).rejects.toBeInstanceOf(ToolInputError);
    }
    await expect(c.deprovision(ScimUser.parse({ id: '../admin', active: true }))).rejects.toBeInstanceOf(ToolInputError);
    await expect(c.deleteUser('../../Groups/1')).rejects.toBeInstanceOf(ToolInputError);
    expect(seen.filter((r) => r.path !== '/ServiceProviderConfig')).toHaveLength(0);
    expect(scimIdPath('a b'.replace(' ', '%'))).toBe('a%25b');
    expect(scimIdPath('user@acme:1')).toBe('user%40acme%3A1');
  });

  it('findByUserName asks with the value as given and lower-cased, and keeps only case-insensitive matches', async () => {
    const seen = server((req) => {
      if (req.path === '/ServiceProviderConfig') return { status: 200, body: spc() };
      // A case-exact server that also returns a near miss.
      const f = req.query.get('filter');
      if (f === 'userName eq "Jane.Doe@acme.example"') return { status: 200, body: list([scimUser('1', { userName: 'Jane.Doe@acme.example' }), scimUser('9', { userName: 'jane.doe@acme.example.evil' })]) };
      if (f === 'userName eq "jane.doe@acme.example"') return { status: 200, body: list([scimUser('2', { userName: 'jane.doe@acme.example' })]) };
      return { status: 200, body: list([]) };
    });
    const found = await client().findByUserName('Jane.Doe@acme.example');
    expect(found.map((u) => u.id).sort()).toEqual(['1', '2']);
    expect(seen.filter((r) => r.path === '/Users')).toHaveLength(2);
  });

  it('resolveUser by userName with several matches lists the candidates and changes nothing', async () => {
    server((req) => (req.path === '/ServiceProviderConfig' ? { status: 200, body: spc() } : { status: 200, body: list([scimUser('1', { userName: 'Dana@acme.example' }), scimUser('2', { userName: 'dana@acme.example' })]) }));
    const err = await failure(client().resolveUser({ userName: 'dana@acme.example' }));
    expect(err).toBeInstanceOf(ToolInputError);
    expect(err.message).toMatch(/2 SalesLoft SCIM users match/);
    expect((err as ToolInputError).data).toMatchObject({ candidates: [{ id: '1' }, { id: '2' }] });
  });

  it('resolveUser needs exactly one of id and userName; an unknown userName says so', async () => {
    server((req) => (req.path === '/ServiceProviderConfig' ? { status: 200, body: spc() } : { status: 200, body: list([]) }));
    const c = client();
    await expect(c.resolveUser({})).rejects.toThrow(/exactly one/);
    await expect(c.resolveUser({ id: '1', userName: 'x' })).rejects.toThrow(/exactly one/);
    await expect(c.resolveUser({ userName: 'nobody@acme.example' })).rejects.toThrow(/no SalesLoft SCIM user has the userName/);
  });

  it('getUser keeps the ETag header as meta.version', async () => {
    userStore(scimUser('5'));
    const u = await client().getUser('5');
    expect(u.meta?.version).toBe('W/"1"');
  });
});

describe('provision', () => {
  it('POSTs the core User schema with active true and the primary work email', async () => {
    const seen = server((req) => {
      if (req.path === '/ServiceProviderConfig') return { status: 200, body: spc() };
      if (req.method === 'GET') return { status: 200, body: list([]) };
      return { status: 201, body: { ...req.body, id: 'new-1', meta: { resourceType: 'User' } }, headers: { etag: 'W/"a"' } };
    });
    const r = await client().provisionUser({ userName: 'new.rep@acme.example', givenName: 'New', familyName: 'Rep', externalId: '00u9' });
    expect(r.created).toBe(true);
    expect(r.user.id).toBe('new-1');
    const post = seen.find((q) => q.method === 'POST')!;
    expect(post.headers['content-type']).toBe('application/scim+json');
    expect(post.body).toEqual({
      schemas: [USER_SCHEMA],
      userName: 'new.rep@acme.example',
      externalId: '00u9',
      name: { givenName: 'New', familyName: 'Rep', formatted: 'New Rep' },
      displayName: 'New Rep',
      emails: [{ value: 'new.rep@acme.example', type: 'work', primary: true }],
      active: true,
    });
  });

  it('an existing userName is returned with created: false and no POST', async () => {
    const seen = server((req) => {
      if (req.path === '/ServiceProviderConfig') return { status: 200, body: spc() };
      if (req.path === '/Users/3') return { status: 200, body: scimUser('3') };
      return { status: 200, body: list([scimUser('3')]) };
    });
    const r = await client().provisionUser({ userName: 'USER3@acme.example' });
    expect(r).toMatchObject({ created: false, user: { id: '3' } });
    expect(seen.filter((q) => q.method === 'POST')).toHaveLength(0);
  });

  it('a 409 uniqueness conflict (a concurrent create) returns the existing user with created: false', async () => {
    let created = false;
    const seen = server((req) => {
      if (req.path === '/ServiceProviderConfig') return { status: 200, body: spc() };
      if (req.method === 'POST') {
        created = true;
        return scimError(409, 'uniqueness', 'User name already exists');
      }
      if (req.path === '/Users/8') return { status: 200, body: scimUser('8', { userName: 'race@acme.example' }) };
      return { status: 200, body: list(created ? [scimUser('8', { userName: 'race@acme.example' })] : []) };
    });
    const r = await client().createUser({ userName: 'race@acme.example' });
    expect(r).toMatchObject({ created: false, user: { id: '8' } });
    expect(seen.filter((q) => q.method === 'POST')).toHaveLength(1);
  });
});

describe('deprovision', () => {
  it('PATCHes active=false with the PatchOp schema, accepts 204, re-reads to confirm', async () => {
    const { store, seen, writes } = userStore(scimUser('10'), {
      write: (req, s) => {
        s.user.active = false;
        s.version++;
        return { status: 204 };
      },
    });
    const c = client();
    const before = await c.getUser('10');
    const r = await c.deprovision(before);
    expect(r).toMatchObject({ changed: true, method: 'patch' });
    expect(r.after.active).toBe(false);
    expect(store.user.active).toBe(false);
    expect(writes()).toHaveLength(1);
    expect(writes()[0]).toMatchObject({ method: 'PATCH', path: '/Users/10', body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] } });
    expect(writes()[0].headers['content-type']).toBe('application/scim+json');
    // No If-Match: this server's config says etag unsupported.
    expect(writes()[0].headers['if-match']).toBeUndefined();
    expect(seen.at(-1)).toMatchObject({ method: 'GET', path: '/Users/10' });
  });

  it('accepts 200 with the updated resource as body, and still re-reads', async () => {
    const { seen } = userStore(scimUser('11'), {
      write: (_req, s) => {
        s.user.active = false;
        return { status: 200, body: s.user };
      },
    });
    const c = client();
    const r = await c.deprovision(await c.getUser('11'));
    expect(r).toMatchObject({ changed: true, method: 'patch', after: { active: false } });
    expect(seen.filter((q) => q.method === 'GET' && q.path === '/Users/11')).toHaveLength(2);
  });

  it('is idempotent: already inactive → changed false and no write; a second call after a first makes no write', async () => {
    const { writes } = userStore(scimUser('12'), {
      write: (_req, s) => {
        s.user.active = false;
        return { status: 204 };
      },
    });
    const c = client();
    const first = await c.deprovision(await c.getUser('12'));
    expect(first.changed).toBe(true);
    const second = await c.deprovision(await c.getUser('12'));
    expect(second).toMatchObject({ changed: false, method: 'none' });
    expect(writes()).toHaveLength(1);
  });

  it.each([405, 501])('falls back from PATCH to PUT on %i: the read resource without meta/id/groups, only active changed, If-Match with ETags', async (status) => {
    const initial = scimUser('13', { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Sales' }, nickName: 'Jo' });
    const { store, writes } = userStore(initial, {
      spc: spc({ etag: true }),
      write: (req, s) => {
        if (req.method === 'PATCH') return scimError(status, undefined, 'PATCH is not supported');
        if (req.headers['if-match'] !== `W/"${s.version}"`) return scimError(412, undefined, 'version mismatch');
        s.user = { ...req.body, id: s.user.id, meta: s.user.meta };
        s.version++;
        return { status: 200, body: s.user };
      },
    });
    const c = client();
    const r = await c.deprovision(await c.getUser('13'));
    expect(r).toMatchObject({ changed: true, method: 'put', after: { active: false } });
    const [patch, put] = writes();
    expect(patch.method).toBe('PATCH');
    expect(patch.headers['if-match']).toBe('W/"1"');
    expect(put.method).toBe('PUT');
    expect(put.path).toBe('/Users/13');
    expect(put.headers['if-match']).toBe('W/"1"');
    const { id, meta, groups, ...rest } = initial;
    expect(put.body).toEqual({ ...rest, active: false });
    expect(put.body).not.toHaveProperty('meta');
    expect(put.body).not.toHaveProperty('id');
    expect(put.body).not.toHaveProperty('groups');
    expect(store.user.active).toBe(false);
    expect([id, meta, groups]).toBeTruthy();
    // The refusal is remembered: the next write goes straight to PUT.
    await c.updateUser(await c.getUser('13'), { title: 'AE' });
    expect(writes().slice(2).map((w) => w.method)).toEqual(['PUT']);
  });

  it('sends PUT straight away when the config says PATCH is unsupported', async () => {
    const { writes } = userStore(scimUser('14'), {
      spc: spc({ patch: false }),
      write: (req, s) => {
        s.user.active = req.body.active;
        return { status: 204 };
      },
    });
    const c = client();
    const r = await c.deprovision(await c.getUser('14'));
    expect(r.method).toBe('put');
    expect(writes().map((w) => w.method)).toEqual(['PUT']);
    expect(writes()[0].headers['if-match']).toBeUndefined();
  });

  it('a user found by listing (no filter support) is written back as the server sent it, values the parser drops included', async () => {
    let user: Record<string, unknown> = scimUser('18', { title: 42, emails: [{ value: 'user18@acme.example', primary: 'yes' }] });
    const seen = server((req) => {
      if (req.path === '/ServiceProviderConfig') return { status: 200, body: spc({ filter: false, patch: false }) };
      if (req.method === 'GET' && req.path === '/Users') return { status: 200, body: list([scimUser('19'), user]) };
      if (req.method === 'PUT') {
        user = { ...req.body, id: '18', meta: user.meta };
        return { status: 204 };
      }
      return { status: 200, body: user };
    });
    const c = client();
    const [found] = await c.findByUserName('USER18@acme.example');
    const r = await c.deprovision(found!);
    expect(r).toMatchObject({ changed: true, method: 'put' });
    const put = seen.find((q) => q.method === 'PUT')!;
    expect(put.body).toMatchObject({ title: 42, emails: [{ value: 'user18@acme.example', primary: 'yes' }], active: false });
  });

  it('a 412 on If-Match is a clear conflict and is not retried', async () => {
    const { writes } = userStore(scimUser('15'), { spc: spc({ etag: true }), write: () => scimError(412, undefined, 'Precondition Failed') });
    const c = client();
    const err = await failure(c.deprovision(await c.getUser('15')));
    expect(err).toBeInstanceOf(VendorError);
    expect((err as VendorError).code).toBe('conflict');
    expect((err as VendorError).status).toBe(412);
    expect(err.message).toMatch(/changed since it was read/);
    expect(err.message).toMatch(/Read it again and retry/);
    expect(writes()).toHaveLength(1);
    expect(writes()[0].headers['if-match']).toBe('W/"1"');
  });

  it('a conditional write that meets a 503 is not repeated (a landed first attempt would turn the repeat into a false 412)', async () => {
    const { writes } = userStore(scimUser('17'), { spc: spc({ etag: true }), write: () => scimError(503, undefined, 'busy') });
    const c = client();
    const err = await failure(c.deprovision(await c.getUser('17')));
    expect(writes()).toHaveLength(1);
    expect(writes()[0].headers['if-match']).toBe('W/"1"');
    expect((err as VendorError).code).toBe('unavailable');
    expect(err.message).not.toMatch(/nothing was changed/);
  });

  it('a 409 answering an If-Match is treated like 412', async () => {
    const { writes } = userStore(scimUser('16'), { spc: spc({ etag: true }), write: () => scimError(409, undefined, 'version conflict') });
    const c = client();
    const err = await failure(c.deprovision(await c.getUser('16')));
    expect(err.message).toMatch(/changed since it was read \(409 Conflict/);
    expect(writes()).toHaveLength(1);
  });

  it('a 409 uniqueness on a write with If-Match stays a uniqueness error', async () => {
    const other = userStore(scimUser('16'), { spc: spc({ etag: true }), write: () => scimError(409, 'uniqueness', 'externalId already used') });
    const c2 = client();
    const err2 = await failure(c2.deprovision(await c2.getUser('16')));
    expect(err2.message).not.toMatch(/changed since/);
    expect(err2.message).toMatch(/uniqueness: externalId already used/);
    expect(other.writes()).toHaveLength(1);
  });

  it('a server that accepts but leaves active=true is reported as not deactivated', async () => {
    userStore(scimUser('17'), { write: () => ({ status: 204 }) });
    const c = client('apollo');
    const err = await failure(c.deprovision(await c.getUser('17')));
    expect(err).toBeInstanceOf(VendorError);
    expect(err.message).toMatch(/Apollo.io SCIM accepted the PATCH for user 17 but, read again, still reports active=true/);
    expect(err.message).toMatch(/NOT deactivated/);
  });
});

describe('update, delete and groups', () => {
  it('updateUser sends only differing values; nothing differs → no request', async () => {
    const { writes } = userStore(scimUser('20'), {
      write: (req, s) => {
        for (const op of req.body.Operations) if (op.path === 'title') s.user.title = op.value;
        return { status: 204 };
      },
    });
    const c = client();
    const u = await c.getUser('20');
    expect(await c.updateUser(u, { givenName: 'U', displayName: 'U 20' })).toMatchObject({ changed: false, method: 'none' });
    const r = await c.updateUser(u, { givenName: 'U', title: 'AE' });
    expect(r).toMatchObject({ changed: true, method: 'patch', after: { title: 'AE' } });
    expect(writes()[0].body.Operations).toEqual([{ op: 'replace', path: 'title', value: 'AE' }]);
  });

  it('deleteUser: 204 → deleted; 404 → deleted false (already gone); 405 → use deprovision', async () => {
    let gone = false;
    server((req) => {
      if (req.path === '/ServiceProviderConfig') return { status: 200, body: spc() };
      if (req.path === '/Users/30') {
        if (gone) return scimError(404, undefined, 'Resource 30 not found');
        gone = true;
        return { status: 204 };
      }
      return scimError(405, undefined, 'DELETE not allowed');
    });
    const c = client();
    expect((await c.deleteUser('30')).deleted).toBe(true);
    expect((await c.deleteUser('30')).deleted).toBe(false);
    await expect(c.deleteUser('31')).rejects.toThrow(/does not support deleting users \(405\); use scim_deprovision_user/);
  });

  it('updateGroupMembers: one add operation and a quoted remove path per member', async () => {
    const seen = server((req) => (req.path === '/ServiceProviderConfig' ? { status: 200, body: spc() } : { status: 204 }));
    await client().updateGroupMembers('g-1', { add: ['u1', 'u2'], remove: ['u"3'] });
    const patch = seen.find((r) => r.method === 'PATCH')!;
    expect(patch.path).toBe('/Groups/g-1');
    expect(patch.body).toEqual({
      schemas: [PATCH_SCHEMA],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: 'u1' }, { value: 'u2' }] },
        { op: 'remove', path: 'members[value eq "u\\"3"]' },
      ],
    });
  });

  it('updateGroupMembers without PATCH support refuses clearly', async () => {
    const seen = server((req) => (req.path === '/ServiceProviderConfig' ? { status: 200, body: spc({ patch: false }) } : { status: 204 }));
    await expect(client().updateGroupMembers('g-1', { add: ['u1'], remove: [] })).rejects.toThrow(/does not support SCIM PATCH/);
    expect(seen.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });

  it('listGroups leaves members out unless asked, and filters by displayName', async () => {
    const seen = server((req) => (req.path === '/ServiceProviderConfig' ? { status: 200, body: spc() } : { status: 200, body: list([{ id: 'g1', displayName: 'Sales' }]) }));
    const c = client();
    await c.listGroups({ displayName: 'Sales "EMEA"' });
    await c.listGroups({ members: true });
    const [a, b] = seen.filter((r) => r.path === '/Groups');
    expect(a.query.get('excludedAttributes')).toBe('members');
    expect(a.query.get('filter')).toBe('displayName eq "Sales \\"EMEA\\""');
    expect(b.query.get('excludedAttributes')).toBeNull();
  });
});

describe('normaliseKeys', () => {
  it('canonicalises known names at any depth, keeps unknown names and URN keys, and lets the canonical spelling win', () => {
    const doc = {
      USERNAME: 'a@acme.example',
      userName: 'b@acme.example', // the canonical spelling wins, whichever comes first
      Emails: [{ VALUE: 'a@acme.example', Primary: true }],
      customField: 1,
      'URN:EXAMPLE:EXT': { Department: 'x', TYPE: 'y' },
      ACTIVE: false,
      active_flag: 'left alone',
    };
    expect(normaliseKeys(doc)).toEqual({
      userName: 'b@acme.example',
      emails: [{ value: 'a@acme.example', primary: true }],
      customField: 1,
      'URN:EXAMPLE:EXT': { Department: 'x', type: 'y' },
      active: false,
      active_flag: 'left alone',
    });
    expect(normaliseKeys({ userName: 'b', UserName: 'a' })).toEqual({ userName: 'b' });
    expect(doc.USERNAME).toBe('a@acme.example'); // a copy: the input is untouched
  });
});

describe('mapping', () => {
  it('status: active false → deactivated, SalesLoft pending invitation → pending, true → active, absent → unknown', () => {
    const p = (o: Record<string, unknown>) => ScimUser.parse(normaliseKeys({ id: '1', ...o }));
    expect(scimStatus(p({ active: false }))).toBe('deactivated');
    expect(scimStatus(p({ active: true, 'urn:ietf:params:scim:schemas:extension:salesloft:2.0:User': { invitationStatus: 'pending' } }))).toBe('pending');
    expect(scimStatus(p({ active: true, 'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:SALESLOFT:2.0:USER': { InvitationStatus: 'Pending' } }))).toBe('pending');
    expect(scimStatus(p({ active: true, 'urn:ietf:params:scim:schemas:extension:salesloft:2.0:User': { invitationStatus: 'accepted' } }))).toBe('active');
    expect(scimStatus(p({ active: false, 'urn:ietf:params:scim:schemas:extension:salesloft:2.0:User': { invitationStatus: 'pending' } }))).toBe('deactivated');
    expect(scimStatus(p({}))).toBe('unknown');
  });

  it('email is the primary email, else the first, else the userName', () => {
    const p = (o: Record<string, unknown>) => scimToAccount('zoominfo', ScimUser.parse({ id: '1', userName: 'login@acme.example', ...o }));
    expect(p({ emails: [{ value: 'a@x' }, { value: 'b@x', primary: true }] }).email).toBe('b@x');
    expect(p({ emails: [{ value: 'a@x' }] }).email).toBe('a@x');
    expect(p({}).email).toBe('login@acme.example');
    expect(p({ name: { givenName: 'Jo', familyName: 'Ng' } }).name).toBe('Jo Ng');
  });
});
