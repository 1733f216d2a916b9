import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { buildOutreachBook, buildOutreachOrg, startOutreachSimulator, type OutreachSim, type OutreachSimOptions } from '../../src/sandbox/outreach/index.js';
import { SCIM_MEDIA_TYPE, startScimSimulator, type ScimSim } from '../../src/sandbox/scim/index.js';
import { send, simulators, type Res } from '../support/sandbox-http.js';

const JSONAPI = 'application/vnd.api+json';

async function call(sim: OutreachSim, method: string, path: string, o: { token?: string; body?: unknown; contentType?: string } = {}): Promise<Res> {
  const headers: Record<string, string> = { authorization: `Bearer ${o.token ?? sim.staticAccessToken}`, accept: JSONAPI };
  let body: string | undefined;
  if (o.body !== undefined) {
    headers['content-type'] = o.contentType ?? JSONAPI;
    body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  }
  return send(`${sim.baseUrl}${path}`, { method, headers, body });
}

function ok(r: Res, status = 200): any {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body;
}

const sim = simulators<OutreachSimOptions, OutreachSim>(startOutreachSimulator);

/** Users who can own records (unlocked, active), and the owner with the most prospects. */
function people(s: OutreachSim) {
  const users = s.users();
  const usable = users.filter((u) => !u.locked && u.active);
  const counts = new Map<number, number>();
  for (const p of s.prospects()) if (p.ownerId !== null) counts.set(p.ownerId, (counts.get(p.ownerId) ?? 0) + 1);
  const richest = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  return { users, usable, richest, locked: users.find((u) => u.locked)! };
}

const batchBody = (ids: unknown[], ownerId: unknown) => ({ data: { type: 'batch', attributes: { ids, ownerId } }, type: 'batch' });

describe('Outreach: what users own (seed)', () => {
  it('is deterministic, leaves the org as it was, and gives every active user one mailbox', async () => {
    const org = buildOutreachOrg(300, 42);
    const a = buildOutreachBook(org.users, 42);
    const b = buildOutreachBook(buildOutreachOrg(300, 42).users, 42);
    expect(a).toEqual(b);
    const s = await sim();
    // The org the simulator serves is the org of the seed, records or not.
    expect(s.users()).toEqual(org.users);
    expect(s.prospects()).toEqual(a.prospects);

    const active = org.users.filter((u) => u.active);
    expect(a.mailboxes.map((m) => m.userId).sort()).toEqual(active.map((u) => u.id).sort());
    expect(a.mailboxes.every((m) => m.email === org.users.find((u) => u.id === m.userId)!.email)).toBe(true);

    const unnamed = a.accounts.filter((x) => !x.named).length;
    expect(unnamed).toBeGreaterThan(0);
    expect(unnamed).toBeLessThan(a.accounts.length / 4);
    expect(new Set(a.tasks.map((t) => t.state))).toEqual(new Set(['pending', 'incomplete', 'complete']));
    // Locked users (leavers among them) own records too; service accounts own nothing.
    const lockedIds = new Set(org.users.filter((u) => u.locked).map((u) => u.id));
    expect(a.prospects.some((p) => lockedIds.has(p.ownerId!))).toBe(true);
    const services = new Set(org.users.filter((u) => u.seedKind === 'service').map((u) => u.id));
    expect(a.prospects.some((p) => services.has(p.ownerId!))).toBe(false);
    for (const list of [a.prospects, a.accounts, a.sequences, a.opportunities, a.tasks]) expect(new Set(list.map((r) => r.id)).size).toBe(list.length);
  });

  it('bigBook gives one person `count` records of each type and leaves everyone else as seeded', async () => {
    const org = buildOutreachOrg(300, 42);
    const person = org.users.find((u) => u.seedKind === 'person' && u.active && !u.locked)!;
    const plain = buildOutreachBook(org.users, 42);
    const big = buildOutreachBook(org.users, 42, { email: person.email.toUpperCase(), count: 1200 });
    for (const type of ['prospects', 'accounts', 'sequences', 'opportunities', 'tasks'] as const) {
      const mine = (list: { ownerId: number | null }[]) => list.filter((r) => r.ownerId === person.id).length;
      expect(mine(big[type]) - mine(plain[type]), type).toBe(1200);
      expect(big[type].slice(0, plain[type].length)).toEqual(plain[type]);
    }
    expect(() => buildOutreachBook(org.users, 42, { email: 'nobody@acme.example' })).toThrow(/no Outreach user/);
    await expect(startOutreachSimulator({ bigBook: { email: 'nobody@acme.example' } })).rejects.toThrow(/no Outreach user/);
  });
});

describe('Outreach: collections of owned records', () => {
  let s: OutreachSim;
  beforeAll(async () => {
    s = await sim();
  });

  it('filter[owner][id] lists what one user owns, with meta.count and owner relationships', async () => {
    const { richest } = people(s);
    for (const type of ['prospects', 'sequences', 'opportunities', 'tasks'] as const) {
      const expected = s[type]().filter((r) => r.ownerId === richest);
      const body = ok(await call(s, 'GET', `/${type}?filter[owner][id]=${richest}&page[size]=1000`));
      expect(body.meta.count, type).toBe(expected.length);
      expect(body.data.map((r: any) => r.id)).toEqual(expected.map((r) => String(r.id)));
      for (const r of body.data) expect(r.relationships.owner.data).toEqual({ type: 'user', id: String(richest) });
    }
    const t = ok(await call(s, 'GET', `/tasks?filter[owner][id]=${richest}&filter[state]=incomplete`));
    expect(t.data.every((x: any) => x.attributes.state === 'incomplete' && x.attributes.completed === false)).toBe(true);
    expect(t.meta.count).toBe(s.tasks().filter((x) => x.ownerId === richest && x.state === 'incomplete').length);
  });

  it('lists only named accounts unless filter[named] asks (the spec: "Only named accounts will show up on the collection index")', async () => {
    const all = s.accounts();
    const index = ok(await call(s, 'GET', '/accounts?page[size]=1000'));
    expect(index.meta.count).toBe(all.filter((a) => a.named).length);
    const unnamed = ok(await call(s, 'GET', '/accounts?filter[named]=false&page[size]=1000'));
    expect(unnamed.meta.count).toBe(all.filter((a) => !a.named).length);
    expect(unnamed.data.every((a: any) => a.attributes.named === false)).toBe(true);
    const owner = all.find((a) => !a.named)!.ownerId!;
    const mine = ok(await call(s, 'GET', `/accounts?filter[owner][id]=${owner}&filter[named]=false`));
    expect(mine.data.map((a: any) => a.id)).toContain(String(all.find((a) => !a.named)!.id));
  });

  it('pages at most 1000, refuses unknown filters and parameters, and reads one record by id', async () => {
    expect((await call(s, 'GET', '/prospects?page[size]=1001')).status).toBe(400);
    expect((await call(s, 'GET', '/prospects?filter[color]=red')).status).toBe(400);
    expect((await call(s, 'GET', '/prospects?owner_id=3')).status).toBe(400);
    const p = s.prospects()[3]!;
    const one = ok(await call(s, 'GET', `/prospects/${p.id}?include=owner`));
    expect(one.data).toMatchObject({ type: 'prospect', id: String(p.id), attributes: { firstName: p.firstName, emails: p.emails } });
    expect(one.included[0]).toMatchObject({ type: 'user', id: String(p.ownerId) });
    expect((await call(s, 'GET', '/prospects/999999999')).status).toBe(404);
    expect((await call(s, 'DELETE', `/prospects/${p.id}`)).status).toBe(405);
  });

  it('mailboxes: filter[user][id], attribute email and userId, relationship user; DELETE answers 204, then 404', async () => {
    const box = s.mailboxes()[5]!;
    const list = ok(await call(s, 'GET', `/mailboxes?filter[user][id]=${box.userId}`));
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ type: 'mailbox', id: String(box.id), attributes: { email: box.email, userId: box.userId }, relationships: { user: { data: { type: 'user', id: String(box.userId) } } } });
    ok(await call(s, 'GET', `/mailboxes/${box.id}`));
    const del = await call(s, 'DELETE', `/mailboxes/${box.id}`);
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expect(del.headers['x-ratelimit-remaining']).toBeDefined();
    expect((await call(s, 'GET', `/mailboxes/${box.id}`)).status).toBe(404);
    expect((await call(s, 'DELETE', `/mailboxes/${box.id}`)).status).toBe(404);
    expect(ok(await call(s, 'GET', `/mailboxes?filter[user][id]=${box.userId}`)).data).toEqual([]);
  });
});

describe('Outreach: batch actions hand prospects and accounts over', () => {
  let s: OutreachSim;
  beforeAll(async () => {
    s = await sim();
  });

  it('skipConfirmation: applies at once, answers the finished batch, and GET /batches/{id} reads it back', async () => {
    const { richest, usable } = people(s);
    const to = usable.find((u) => u.id !== richest)!;
    const ids = s.prospects().filter((p) => p.ownerId === richest).map((p) => p.id);
    const r = await call(s, 'POST', '/batches/actions/prospectsAssignOwner?actionParams[skipConfirmation]=true', { body: batchBody([...ids, 999_999_999], to.id) });
    const batch = ok(r).data;
    expect(r.headers['content-type']).toBe(JSONAPI);
    expect(batch).toMatchObject({ type: 'batch', attributes: { action: 'prospectsAssignOwner', state: 'finished', total: ids.length + 1, confirmCount: ids.length, failures: 1, pending: 0 } });
    expect(batch.attributes.finishedAt).toEqual(expect.any(String));
    expect(batch.attributes.summary.failures).toEqual([{ id: 999_999_999, detail: 'prospect 999999999 not found' }]);
    expect(s.prospects().filter((p) => p.ownerId === richest)).toEqual([]);
    expect(s.prospects().filter((p) => ids.includes(p.id)).every((p) => p.ownerId === to.id)).toBe(true);
    expect(ok(await call(s, 'GET', `/batches/${batch.id}`)).data.attributes).toMatchObject({ state: 'finished', failures: 1 });
    expect((await call(s, 'GET', '/batches/1')).status).toBe(404);
  });

  it('accepts the type beside data (the spec), in data (JSON:API) or both; refuses any other type', async () => {
    const { usable } = people(s);
    const [a, b] = usable;
    const acc = s.accounts().find((x) => x.ownerId === a!.id) ?? s.accounts()[0]!;
    const path = '/batches/actions/accountsAssignOwner?actionParams[skipConfirmation]=true';
    ok(await call(s, 'POST', path, { body: { data: { attributes: { ids: [acc.id], ownerId: b!.id } }, type: 'batch' } }));
    ok(await call(s, 'POST', path, { body: { data: { type: 'batch', attributes: { ids: [acc.id], ownerId: a!.id } } } }));
    expect(s.accounts().find((x) => x.id === acc.id)!.ownerId).toBe(a!.id);
    expect((await call(s, 'POST', path, { body: { data: { attributes: { ids: [acc.id], ownerId: b!.id } } } })).status).toBe(400);
    expect((await call(s, 'POST', path, { body: { data: { type: 'account', attributes: { ids: [acc.id], ownerId: b!.id } }, type: 'batch' } })).status).toBe(409);
    expect((await call(s, 'POST', path, { body: batchBody([acc.id], b!.id), contentType: 'application/json' })).status).toBe(415);
  });

  it('refuses what the spec does not allow: string ids or owner, an unknown or locked owner, no targets', async () => {
    const { usable, locked } = people(s);
    const p = s.prospects()[0]!;
    const path = '/batches/actions/prospectsAssignOwner?actionParams[skipConfirmation]=true';
    const before = s.prospects();
    expect((await call(s, 'POST', path, { body: batchBody([String(p.id)], usable[0]!.id) })).status).toBe(400);
    expect((await call(s, 'POST', path, { body: batchBody([p.id], String(usable[0]!.id)) })).status).toBe(400);
    const unknown = await call(s, 'POST', path, { body: batchBody([p.id], 999_999) });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors[0]).toMatchObject({ status: '422', source: { pointer: '/data/attributes/ownerId' } });
    expect((await call(s, 'POST', path, { body: batchBody([p.id], locked.id) })).status).toBe(422);
    expect((await call(s, 'POST', path, { body: batchBody([], usable[0]!.id) })).status).toBe(422);
    expect((await call(s, 'POST', path, { body: { data: { type: 'batch', attributes: { ownerId: usable[0]!.id } } } })).status).toBe(422);
    expect((await call(s, 'POST', '/batches/actions/prospectsAssignOwner?actionParams[skipConfirmation]=yes', { body: batchBody([p.id], usable[0]!.id) })).status).toBe(400);
    expect((await call(s, 'POST', '/batches/actions/prospectsDestroyAll', { body: batchBody([p.id], usable[0]!.id) })).status).toBe(404);
    expect(s.prospects()).toEqual(before);
  });

  it('without skipConfirmation the batch waits: confirm with the right confirmedCount runs it, cancel drops it', async () => {
    const { usable } = people(s);
    const [from, to] = usable.filter((u) => s.prospects().some((p) => p.ownerId === u.id));
    const ids = s.prospects().filter((p) => p.ownerId === from!.id).map((p) => p.id);
    const pending = ok(await call(s, 'POST', '/batches/actions/prospectsAssignOwner', { body: batchBody(ids, to!.id) })).data;
    expect(pending.attributes).toMatchObject({ state: 'pending', confirmedCountRequired: true, confirmCount: ids.length, pending: ids.length, failures: 0 });
    expect(s.prospects().filter((p) => p.ownerId === from!.id)).toHaveLength(ids.length);
    expect((await call(s, 'POST', `/batches/${pending.id}/actions/confirm`)).status).toBe(422);
    expect((await call(s, 'POST', `/batches/${pending.id}/actions/confirm?actionParams[confirmedCount]=${ids.length + 1}`)).status).toBe(422);
    const done = ok(await call(s, 'POST', `/batches/${pending.id}/actions/confirm?actionParams[confirmedCount]=${ids.length}`)).data;
    expect(done.attributes).toMatchObject({ state: 'finished', pending: 0 });
    expect(done.attributes.confirmedAt).toEqual(expect.any(String));
    expect(s.prospects().filter((p) => p.ownerId === from!.id)).toEqual([]);
    expect((await call(s, 'POST', `/batches/${pending.id}/actions/confirm?actionParams[confirmedCount]=${ids.length}`)).status).toBe(422);

    const other = ok(await call(s, 'POST', '/batches/actions/prospectsAssignOwner', { body: batchBody([ids[0]], from!.id) })).data;
    expect(ok(await call(s, 'POST', `/batches/${other.id}/actions/cancel`)).data.attributes.state).toBe('canceled');
    expect(s.prospects().find((p) => p.id === ids[0])!.ownerId).toBe(to!.id);
  });

  it('actionParams[filter] selects the targets by a list filter, unnamed accounts included', async () => {
    const { usable } = people(s);
    const from = usable.find((u) => s.accounts().some((a) => a.ownerId === u.id && !a.named))!;
    const to = usable.find((u) => u.id !== from.id)!;
    const n = s.accounts().filter((a) => a.ownerId === from.id).length;
    const b = ok(await call(s, 'POST', `/batches/actions/accountsAssignOwner?actionParams[skipConfirmation]=true&actionParams[filter][owner][id]=${from.id}`, { body: { data: { type: 'batch', attributes: { ownerId: to.id } } } })).data;
    expect(b.attributes).toMatchObject({ state: 'finished', total: n, failures: 0 });
    expect(s.accounts().filter((a) => a.ownerId === from.id)).toEqual([]);
  });

  it('a fault can land on the second batch; the first has run, the second changed nothing', async () => {
    const { usable } = people(s);
    const owners = usable.filter((u) => s.prospects().some((p) => p.ownerId === u.id)).slice(0, 3);
    s.failNext(1, 503, { path: /\/batches\/actions\//, skip: 1 });
    const path = '/batches/actions/prospectsAssignOwner?actionParams[skipConfirmation]=true';
    const first = s.prospects().filter((p) => p.ownerId === owners[0]!.id).map((p) => p.id);
    const second = s.prospects().filter((p) => p.ownerId === owners[1]!.id).map((p) => p.id);
    ok(await call(s, 'POST', path, { body: batchBody(first, owners[2]!.id) }));
    const failed = await call(s, 'POST', path, { body: batchBody(second, owners[2]!.id) });
    expect(failed.status).toBe(503);
    expect(s.prospects().filter((p) => second.includes(p.id)).every((p) => p.ownerId === owners[1]!.id)).toBe(true);
    ok(await call(s, 'POST', path, { body: batchBody(second, owners[2]!.id) }));
  });
});

describe('Outreach: one-record owner changes', () => {
  let s: OutreachSim;
  beforeAll(async () => {
    s = await sim();
  });
  const ownerDoc = (type: string, id: unknown, owner: unknown, ownerType = 'user') => ({ data: { type, id, relationships: { owner: { data: { type: ownerType, id: owner } } } } });

  it('PATCH /sequences/{id} and /opportunities/{id} with the owner relationship; the spec types ids as integers', async () => {
    const { usable } = people(s);
    for (const [type, resource, list] of [
      ['sequences', 'sequence', () => s.sequences()],
      ['opportunities', 'opportunity', () => s.opportunities()],
    ] as const) {
      const rec = list().find((x) => usable.some((u) => u.id === x.ownerId))!;
      const to = usable.find((u) => u.id !== rec.ownerId)!;
      const r = ok(await call(s, 'PATCH', `/${type}/${rec.id}`, { body: ownerDoc(resource, rec.id, to.id) }));
      expect(r.data.relationships.owner.data).toEqual({ type: 'user', id: String(to.id) });
      expect(list().find((x) => x.id === rec.id)!.ownerId).toBe(to.id);
      // Strings are JSON:API's ids; accepted as well.
      ok(await call(s, 'PATCH', `/${type}/${rec.id}`, { body: ownerDoc(resource, String(rec.id), String(rec.ownerId)) }));
      expect(list().find((x) => x.id === rec.id)!.ownerId).toBe(rec.ownerId);

      expect((await call(s, 'PATCH', `/${type}/${rec.id}`, { body: ownerDoc('prospect', rec.id, to.id) })).status).toBe(409);
      expect((await call(s, 'PATCH', `/${type}/${rec.id}`, { body: ownerDoc(resource, rec.id + 1, to.id) })).status).toBe(409);
      expect((await call(s, 'PATCH', `/${type}/${rec.id}`, { body: ownerDoc(resource, 1.5, to.id) })).status).toBe(400);
      expect((await call(s, 'PATCH', `/${type}/${rec.id}`, { body: { data: { type: resource, relationships: {} } } })).status).toBe(400);
      expect((await call(s, 'PATCH', `/${type}/${rec.id}`, { body: ownerDoc(resource, rec.id, 999_999) })).status).toBe(422);
      expect((await call(s, 'PATCH', `/${type}/${rec.id}`, { body: ownerDoc(resource, rec.id, to.id, 'role') })).status).toBe(422);
      expect((await call(s, 'PATCH', `/${type}/999999999`, { body: ownerDoc(resource, 999_999_999, to.id) })).status).toBe(404);
      expect(list().find((x) => x.id === rec.id)!.ownerId).toBe(rec.ownerId);
    }
  });

  it('POST /tasks/{id}/actions/reassignOwner?actionParams[ownerId]=V, no body; 422 without or with an unknown owner', async () => {
    const { usable, locked } = people(s);
    const task = s.tasks().find((t) => t.state === 'incomplete')!;
    const to = usable.find((u) => u.id !== task.ownerId)!;
    const r = ok(await call(s, 'POST', `/tasks/${task.id}/actions/reassignOwner?actionParams[ownerId]=${to.id}`));
    expect(r.data).toMatchObject({ type: 'task', id: String(task.id), relationships: { owner: { data: { type: 'user', id: String(to.id) } } } });
    expect(s.tasks().find((t) => t.id === task.id)!.ownerId).toBe(to.id);
    for (const q of ['', '?actionParams[ownerId]=', '?actionParams[ownerId]=999999', `?actionParams[ownerId]=${locked.id}`, '?actionParams[ownerId]=abc']) {
      expect((await call(s, 'POST', `/tasks/${task.id}/actions/reassignOwner${q}`)).status, q).toBe(422);
    }
    expect((await call(s, 'POST', `/tasks/${task.id}/actions/reassignOwner?ownerId=${to.id}`)).status).toBe(400);
    expect((await call(s, 'POST', `/tasks/${task.id}/actions/reassignOwner`, { body: { data: { ownerId: to.id } } })).status).toBe(400);
    expect((await call(s, 'POST', `/tasks/999999999/actions/reassignOwner?actionParams[ownerId]=${to.id}`)).status).toBe(404);
    expect((await call(s, 'PATCH', `/tasks/${task.id}`, { body: { data: { type: 'task', id: task.id } } })).status).toBe(405);
  });
});

describe('Outreach: limits, scopes and the request log on the new endpoints', () => {
  it('counts every request in the hourly window, with the X-RateLimit headers, and 429s past it', async () => {
    const clock = new ManualClock();
    const s = await sim({ clock, rateLimit: { limit: 3, windowMs: 3_600_000 } });
    const owner = s.prospects()[0]!.ownerId;
    const a = await call(s, 'GET', `/prospects?filter[owner][id]=${owner}`);
    expect(a.headers['x-ratelimit-limit']).toBe('3');
    expect(a.headers['x-ratelimit-remaining']).toBe('2');
    await call(s, 'GET', '/mailboxes');
    const c = await call(s, 'POST', `/tasks/${s.tasks()[0]!.id}/actions/reassignOwner?actionParams[ownerId]=1`);
    expect(c.headers['x-ratelimit-remaining']).toBe('0');
    const d = await call(s, 'POST', '/batches/actions/prospectsAssignOwner', { body: batchBody([1], 1) });
    expect(d.status).toBe(429);
    expect(d.headers['retry-after']).toBeDefined();
  });

  it('needs the collection scopes: a token for users only gets 403', async () => {
    const s = await sim();
    const token = await (async () => {
      const r = await send(`${s.tokenUrl}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret, scope: 'users.read users.write' }).toString(),
      });
      return r.body.access_token as string;
    })();
    expect((await call(s, 'GET', '/prospects', { token })).status).toBe(403);
    expect((await call(s, 'GET', '/mailboxes', { token })).status).toBe(403);
    expect((await call(s, 'POST', '/batches/actions/prospectsAssignOwner', { token, body: batchBody([1], 1) })).status).toBe(403);
    expect((await call(s, 'GET', '/users', { token })).status).toBe(200);
  });

  it('logs the query, Content-Type and body of each request', async () => {
    const s = await sim();
    s.requests.length = 0;
    const to = people(s).usable[0]!;
    const body = batchBody([s.prospects()[0]!.id], to.id);
    await call(s, 'POST', '/batches/actions/prospectsAssignOwner?actionParams[skipConfirmation]=true', { body });
    await call(s, 'GET', `/prospects?filter[owner][id]=${to.id}&page[size]=5`);
    expect(s.requests[0]).toEqual({
      method: 'POST',
      path: '/api/v2/batches/actions/prospectsAssignOwner?actionParams[skipConfirmation]=true',
      status: 200,
      query: [['actionParams[skipConfirmation]', 'true']],
      contentType: JSONAPI,
      body: JSON.stringify(body),
    });
    expect(s.requests[1]).toEqual({
      method: 'GET',
      path: `/api/v2/prospects?filter[owner][id]=${to.id}&page[size]=5`,
      status: 200,
      query: [
        ['filter[owner][id]', String(to.id)],
        ['page[size]', '5'],
      ],
    });
  });
});

describe('Outreach: seats', () => {
  let s: OutreachSim;
  let scim: ScimSim;
  beforeAll(async () => {
    s = await sim();
    scim = await startScimSimulator({ vendor: 'outreach', link: s.linkUsers() });
    return () => scim.close();
  });

  async function scimCall(method: string, path: string): Promise<Res> {
    return send(`${scim.url}${path}`, { method, headers: { authorization: `Bearer ${scim.token}`, accept: SCIM_MEDIA_TYPE } });
  }

  it('a locked user holds a seat; SCIM DELETE removes the REST user (404) and frees it; what it owned stays', async () => {
    const seats = s.seats();
    expect(seats).toBe(s.users().length);
    const u = people(s).usable.find((x) => s.prospects().some((p) => p.ownerId === x.id))!;
    ok(await call(s, 'PATCH', `/users/${u.id}`, { body: { data: { type: 'user', id: String(u.id), attributes: { locked: true } } } }));
    expect(s.seats()).toBe(seats);
    expect((await scimCall('DELETE', `/Users/${u.id}`)).status).toBe(204);
    expect(s.seats()).toBe(seats - 1);
    expect((await call(s, 'GET', `/users/${u.id}`)).status).toBe(404);
    expect(ok(await call(s, 'GET', `/users?filter[email]=${encodeURIComponent(u.email)}`)).data.map((x: any) => x.id)).not.toContain(String(u.id));
    expect((await scimCall('GET', `/Users/${u.id}`)).status).toBe(404);
    expect((await scimCall('DELETE', `/Users/${u.id}`)).status).toBe(404);
    expect(s.seats()).toBe(seats - 1);
    // The records stay, still pointing at the removed user, and cannot be handed to it.
    const owned = ok(await call(s, 'GET', `/prospects?filter[owner][id]=${u.id}`));
    expect(owned.meta.count).toBeGreaterThan(0);
    expect((await call(s, 'POST', '/batches/actions/prospectsAssignOwner?actionParams[skipConfirmation]=true', { body: batchBody([s.prospects()[0]!.id], u.id) })).status).toBe(422);
    // A new user never takes a removed user's id.
    const created = ok(await call(s, 'POST', '/users', { body: { data: { type: 'user', attributes: { firstName: 'New', lastName: 'Hire', email: 'new.hire.seat@acme.example' } } } }), 201);
    expect(Number(created.data.id)).toBeGreaterThan(Math.max(...s.users().filter((x) => x.email !== 'new.hire.seat@acme.example').map((x) => x.id), u.id));
    expect(s.seats()).toBe(seats);
  });
});
