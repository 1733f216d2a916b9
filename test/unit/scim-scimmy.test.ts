import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenStore } from '../../src/auth/token-store.js';
import { systemClock } from '../../src/clock.js';
import { VendorError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import type { ScimClient } from '../../src/vendors/scim/client.js';
import { scimClientFor } from '../../src/vendors/connection.js';
import { zoominfoAdapter } from '../../src/vendors/zoominfo/adapter.js';
import { scimToAccount } from '../../src/vendors/scim/map.js';

/**
 * The "third-party server" proof: the ScimClient against SCIMMY (npm `scimmy` + `scimmy-routers`), an
 * independent SCIM 2.0 implementation, served by express on 127.0.0.1 as `<VENDOR>_SCIM_URL` would point at it.
 * SCIMMY owns the protocol (routing, ListResponse paging, filter parsing, PatchOp application, error bodies);
 * this file only supplies an in-memory user array through its ingress/egress/degress handlers and a bearer check.
 *
 * A second mount of the same SCIMMY routers answers PATCH with 405, as a server without PATCH would, to show
 * the PUT fallback against SCIMMY's own PUT handling.
 */

const TOKEN = `scimmy-${randomUUID()}`;

interface StoredUser {
  id: string;
  userName: string;
  active?: boolean;
  [k: string]: unknown;
}

const users: StoredUser[] = [];
let nextId = 1;
const requests: { method: string; url: string }[] = [];

/** A plain copy of what SCIMMY hands to ingress (a Schemas.User instance), without the shadow attributes. */
function plain(instance: unknown): Record<string, unknown> {
  const { schemas: _s, meta: _m, id: _i, ...rest } = JSON.parse(JSON.stringify(instance)) as Record<string, unknown>;
  return rest;
}

SCIMMY.Resources.declare(SCIMMY.Resources.User)
  .egress((resource) => {
    if (resource.id) {
      const u = users.find((x) => x.id === resource.id);
      if (!u) throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
      return structuredClone(u) as never;
    }
    const all = users.map((u) => structuredClone(u));
    return (resource.filter ? resource.filter.match(all) : all) as never;
  })
  .ingress((resource, instance) => {
    const data = plain(instance);
    if (resource.id) {
      const i = users.findIndex((x) => x.id === resource.id);
      if (i < 0) throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
      users[i] = { ...data, id: resource.id } as StoredUser;
      return structuredClone(users[i]) as never;
    }
    const userName = String(data.userName ?? '');
    if (users.some((u) => u.userName.toLowerCase() === userName.toLowerCase())) {
      throw new SCIMMY.Types.Error(409, 'uniqueness', `userName ${userName} is already in use`);
    }
    const created = { ...data, id: String(nextId++) } as StoredUser;
    users.push(created);
    return structuredClone(created) as never;
  })
  .degress((resource) => {
    const i = users.findIndex((x) => x.id === resource.id);
    if (i < 0) throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
    users.splice(i, 1);
  });

let http: Server;
let base: string;
const clients: ScimClient[] = [];

function client(path: string): ScimClient {
  const c = scimClientFor(zoominfoAdapter, { url: `${base}${path}`, token: TOKEN }, { tokens: {} as TokenStore, clock: systemClock, log: silentLogger, retryBaseDelayMs: 1 });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  const routers = new SCIMMYRouters({
    type: 'bearer',
    handler: (req) => {
      if (req.header('Authorization') !== `Bearer ${TOKEN}`) throw new Error('Bearer token missing or wrong');
      return 'admin';
    },
  });
  // Small pages make the walk visible (SCIMMY publishes this as filter.maxResults).
  SCIMMY.Config.set({ filter: { supported: true, maxResults: 2 } });
  const app = express();
  app.use((req, _res, next) => {
    requests.push({ method: req.method, url: req.originalUrl });
    next();
  });
  app.use('/scim/v2', routers);
  app.patch('/nopatch/scim/v2/Users/:id', (_req, res) => {
    res.status(405).type('application/scim+json').send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '405', detail: 'PATCH is not supported' });
  });
  app.use('/nopatch/scim/v2', routers);
  await new Promise<void>((resolve) => {
    http = app.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  for (const [userName, active] of [
    ['ada@acme.example', true],
    ['grace@acme.example', true],
    ['linus@acme.example', false],
    ['ken@acme.example', true],
    ['barbara@acme.example', true],
  ] as const) {
    users.push({ id: String(nextId++), userName, active, name: { givenName: userName.split('@')[0], familyName: 'Test' }, emails: [{ value: userName, primary: true, type: 'work' }] });
  }
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

describe('ScimClient against SCIMMY (third-party SCIM 2.0 server)', () => {
  it('reads SCIMMY\'s ServiceProviderConfig: PATCH supported, no ETag, maxResults 2', async () => {
    const caps = await client('/scim/v2').serviceProviderConfig();
    expect(caps).toMatchObject({ patch: true, etag: false, filter: true, maxResults: 2, source: 'server' });
  });

  it('rejects a wrong token with a message naming ZOOMINFO_SCIM_TOKEN', async () => {
    const bad = scimClientFor(zoominfoAdapter, { url: `${base}/scim/v2`, token: 'wrong-token-123' }, { tokens: {} as TokenStore, clock: systemClock, log: silentLogger });
    clients.push(bad);
    const err = await bad.listUsers().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as VendorError).status).toBe(401);
    expect((err as VendorError).message).toMatch(/ZOOMINFO_SCIM_TOKEN/);
  });

  it('lists one page and walks every page with startIndex/count', async () => {
    const c = client('/scim/v2');
    const page = await c.listUsers({ count: 50 });
    expect(page.count).toBe(2);
    expect(page.items).toHaveLength(2);
    expect(page.totalResults).toBe(users.length);
    const all = await c.listAllUsers();
    expect(all.items.map((u) => u.userName).sort()).toEqual(users.map((u) => u.userName).sort());
    expect(all.pages).toBe(Math.ceil(users.length / 2));
    const active = await c.listAllUsers({ active: false });
    expect(active.items.map((u) => u.userName)).toEqual(['linus@acme.example']);
  });

  it('finds by userName through a quoted filter', async () => {
    const c = client('/scim/v2');
    const found = await c.findByUserName('grace@acme.example');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ userName: 'grace@acme.example', active: true });
    expect(await c.findByUserName('nobody@acme.example')).toEqual([]);
  });

  it('a value with an escaped quote cannot inject: SCIMMY\'s tokenizer does not read the RFC escape and answers invalidFilter, reported clearly', async () => {
    // RFC 7644 §3.4.2.2 filter strings are JSON strings, so `"` is sent as `\"`. SCIMMY 1.3 matches string
    // literals with /"(?:[^"]|\\.|\n)*"/, which ends the literal at the escaped quote: its limitation, and the
    // outcome is a 400 invalidFilter, never a widened match.
    const err = await client('/scim/v2').findByUserName('nobody" or userName pr or userName eq "x@acme.example').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as VendorError).status).toBe(400);
    expect((err as VendorError).message).toMatch(/ZoomInfo rejected the request \(400\): invalidFilter: /);
  });

  it('provisions, and a second provision returns the existing user; a raw 409 from SCIMMY is handled too', async () => {
    const c = client('/scim/v2');
    const first = await c.provisionUser({ userName: 'margaret@acme.example', givenName: 'Margaret', familyName: 'Hamilton' });
    expect(first.created).toBe(true);
    expect(scimToAccount('zoominfo', first.user)).toMatchObject({ email: 'margaret@acme.example', name: 'Margaret Hamilton', status: 'active' });
    const second = await c.provisionUser({ userName: 'Margaret@acme.example' });
    expect(second).toMatchObject({ created: false, user: { id: first.user.id } });
    // createUser skips the lookup: SCIMMY answers 409 uniqueness, and the existing user comes back.
    const raced = await c.createUser({ userName: 'margaret@acme.example' });
    expect(raced).toMatchObject({ created: false, user: { id: first.user.id } });
  });

  it('deprovisions with PATCH: active false confirmed by a re-read; a second call changes nothing', async () => {
    const c = client('/scim/v2');
    const before = await c.resolveUser({ userName: 'ken@acme.example' });
    const mark = requests.length;
    const r = await c.deprovision(before);
    expect(r).toMatchObject({ changed: true, method: 'patch', after: { active: false } });
    expect(users.find((u) => u.userName === 'ken@acme.example')!.active).toBe(false);
    expect(requests.slice(mark).map((q) => q.method)).toEqual(['PATCH', 'GET']);
    // The rest of the user survived SCIMMY's PatchOp application.
    expect(r.after).toMatchObject({ userName: 'ken@acme.example', name: { givenName: 'ken' } });

    const again = await c.deprovision(await c.getUser(before.id));
    expect(again).toMatchObject({ changed: false, method: 'none' });
    expect(requests.slice(mark).filter((q) => q.method !== 'GET')).toHaveLength(1);
  });

  it('falls back to PUT when PATCH answers 405, and SCIMMY accepts the read resource without meta/id', async () => {
    const c = client('/nopatch/scim/v2');
    const before = await c.resolveUser({ userName: 'barbara@acme.example' });
    const mark = requests.length;
    const r = await c.deprovision(before);
    expect(r).toMatchObject({ changed: true, method: 'put', after: { active: false, userName: 'barbara@acme.example' } });
    expect(requests.slice(mark).map((q) => q.method)).toEqual(['PATCH', 'PUT', 'GET']);
    const stored = users.find((u) => u.userName === 'barbara@acme.example')!;
    expect(stored).toMatchObject({ active: false, name: { givenName: 'barbara', familyName: 'Test' }, emails: [{ value: 'barbara@acme.example', primary: true }] });
    expect(await c.deprovision(r.after)).toMatchObject({ changed: false });
  });

  it('deletes, and a second delete reports the user already gone', async () => {
    const c = client('/scim/v2');
    const u = await c.resolveUser({ userName: 'margaret@acme.example' });
    expect(await c.deleteUser(u.id)).toMatchObject({ deleted: true });
    expect(await c.deleteUser(u.id)).toMatchObject({ deleted: false });
    await expect(c.getUser(u.id)).rejects.toMatchObject({ code: 'not_found' });
  });
});
