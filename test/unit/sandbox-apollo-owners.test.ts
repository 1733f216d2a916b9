import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { startApolloSimulator, type ApolloSim, type ApolloSimOptions } from '../../src/sandbox/apollo/index.js';
import { send, simulators, type Res } from '../support/sandbox-http.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH';

async function call(sim: ApolloSim, method: Method, path: string, o: { key?: string; body?: unknown; form?: Record<string, string> } = {}): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json', 'x-api-key': o.key ?? sim.masterKey };
  let body: string | undefined;
  if (o.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(o.form).toString();
  } else if (o.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.body);
  }
  return send(`${sim.baseUrl}${path}`, { method, headers, body }, { textBody: true });
}

function ok(r: Res): any {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

const sim = simulators<ApolloSimOptions, ApolloSim>(startApolloSimulator);

/** Active teammates who can own records (not Billing and Seat Managers), and a deactivated one. */
function team(s: ApolloSim) {
  const users = s.users();
  return { active: users.filter((t) => !t.deleted && t.role !== 'Billing and Seat Manager'), deactivated: users.find((t) => t.deleted)! };
}

const idsQuery = (param: string, ids: string[], owner?: string) => [...ids.map((id) => `${param}[]=${id}`), ...(owner ? [`owner_id=${owner}`] : [])].join('&');

describe('Apollo: what teammates own (seed)', () => {
  it('is deterministic, leaves teammates and contacts as they were, and seeds every type with owners', async () => {
    const [a, b] = [await sim(), await sim()];
    expect(a.accounts()).toEqual(b.accounts());
    expect(a.tasks()).toEqual(b.tasks());
    const plain = await sim({ contactCount: 240 });
    expect(a.contacts()).toEqual(plain.contacts());
    const ids = new Set(a.users().map((t) => t.id));
    for (const list of [a.accounts().map((x) => x.owner_id), a.sequences().map((x) => x.user_id), a.tasks().map((x) => x.user_id), a.deals().map((x) => x.owner_id)]) {
      expect(list.length).toBeGreaterThan(20);
      expect(list.every((o) => ids.has(o))).toBe(true);
    }
    expect(new Set(a.tasks().map((t) => t.status))).toEqual(new Set(['scheduled', 'completed']));
    // Deactivated teammates still own records, and their mailboxes stay linked.
    const gone = new Set(a.users().filter((t) => t.deleted).map((t) => t.id));
    expect(a.tasks().some((t) => gone.has(t.user_id))).toBe(true);
    expect(a.emailAccounts().filter((m) => gone.has(m.user_id)).length).toBe(gone.size);
  });

  it('bigBook gives one teammate `count` contacts, accounts, sequences, tasks and deals', async () => {
    const plain = await sim();
    const who = team(plain).active[3]!;
    const big = await sim({ bigBook: { email: who.email, count: 250 } });
    const mine = (list: readonly { owner_id?: string; user_id?: string }[]) => list.filter((r) => (r.owner_id ?? r.user_id) === who.id).length;
    expect(mine(big.contacts()) - mine(plain.contacts())).toBe(250);
    expect(mine(big.accounts()) - mine(plain.accounts())).toBe(250);
    expect(mine(big.sequences()) - mine(plain.sequences())).toBe(250);
    expect(mine(big.tasks()) - mine(plain.tasks())).toBe(250);
    expect(mine(big.deals()) - mine(plain.deals())).toBe(250);
    expect(big.accounts().slice(0, plain.accounts().length)).toEqual(plain.accounts());
    await expect(startApolloSimulator({ bigBook: { email: 'nobody@acme.example' } })).rejects.toThrow(/no Apollo teammate/);
  });
});

describe('Apollo: searches', () => {
  let s: ApolloSim;
  beforeAll(async () => {
    s = await sim();
  });

  it('accounts (JSON body), sequences and tasks (query, no body), deals (GET query): pagination as the spec shows', async () => {
    const acc = ok(await call(s, 'POST', '/accounts/search', { body: { page: 1, per_page: 100 } }));
    expect(acc.pagination).toEqual({ page: 1, per_page: 100, total_entries: s.accounts().length, total_pages: Math.ceil(s.accounts().length / 100) });
    expect(acc.accounts[0]).toMatchObject({ id: s.accounts()[0]!.id, owner_id: s.accounts()[0]!.owner_id });
    const seq = ok(await call(s, 'POST', '/emailer_campaigns/search?page=1&per_page=100'));
    expect(seq.emailer_campaigns[0]).toMatchObject({ user_id: s.sequences()[0]!.user_id, object_owner_id: s.sequences()[0]!.user_id });
    expect(seq.pagination.total_entries).toBe(s.sequences().length);
    const tasks = ok(await call(s, 'POST', '/tasks/search?page=2&per_page=100'));
    expect(tasks.tasks[0]).toEqual(expect.objectContaining({ id: s.tasks()[100]!.id, user_id: expect.any(String), status: expect.any(String), priority: expect.any(String), creator_id: expect.any(String) }));
    const deals = ok(await call(s, 'GET', '/opportunities/search?page=1&per_page=100'));
    expect(deals.opportunities.map((d: any) => d.owner_id)).toEqual(s.deals().slice(0, 100).map((d) => d.owner_id));
  });

  it('per_page is at most 100 (tasks: 422 as the spec shows), no page past 500, and parameters only where the spec puts them', async () => {
    expect(ok(await call(s, 'POST', '/accounts/search', { body: { per_page: 500 } })).pagination.per_page).toBe(100);
    expect((await call(s, 'POST', '/tasks/search?per_page=101')).body).toEqual({ error: 'Per page not supported' });
    const deep = ok(await call(s, 'POST', '/emailer_campaigns/search?page=501&per_page=1'));
    expect(deep.emailer_campaigns).toEqual([]);
    expect(deep.pagination.total_entries).toBe(s.sequences().length);
    // Paging in the body of a query-defined search is refused (the body is not read there).
    expect((await call(s, 'POST', '/emailer_campaigns/search', { body: { page: 2, per_page: 100 } })).status).toBe(422);
    expect((await call(s, 'POST', '/tasks/search', { body: { page: 2 } })).status).toBe(422);
    expect((await call(s, 'POST', '/accounts/search', { form: { page: '2' } })).status).toBe(415);
    expect((await call(s, 'POST', '/accounts/search', { body: { sort_by_field: 'name' } })).body.error).toBe('Invalid sort criteria');
  });

  it('each new endpoint has its own windows and the nine usage headers', async () => {
    const t = await sim({ clock: new ManualClock(), limits: { endpoints: { 'api/v1/tasks/search': { minute: 1 } } } });
    const first = await call(t, 'POST', '/tasks/search');
    expect(first.headers['x-minute-usage']).toBe('1');
    expect(first.headers['x-rate-limit-minute']).toBe('1');
    for (const h of ['x-hourly-usage', 'x-hourly-requests-left', 'x-rate-limit-hourly', 'x-daily-usage', 'x-daily-requests-left', 'x-rate-limit-daily', 'x-minute-requests-left']) expect(first.headers[h], h).toBeDefined();
    const second = await call(t, 'POST', '/tasks/search');
    expect(second.status).toBe(429);
    expect(second.body.message).toMatch(/api\/v1\/tasks\/search is 1 times per minute/);
    expect((await call(t, 'GET', '/opportunities/search')).headers['x-minute-usage']).toBe('1');
    expect(t.usage('deals/api/v1/opportunities/search').minute).toBe(1);
    expect(t.usage('api/v1/tasks/search').minute).toBe(1);
  });
});

describe('Apollo: handing records over', () => {
  let s: ApolloSim;
  beforeAll(async () => {
    s = await sim();
  });

  it('POST /contacts/update_owners with contact_ids[] and owner_id in the query answers {contacts:[{id, owner_id, crm_owner_id}]}', async () => {
    const { active } = team(s);
    const contacts = s.contacts().slice(0, 3);
    const to = active.find((t) => contacts.every((c) => c.owner_id !== t.id))!;
    const r = ok(await call(s, 'POST', `/contacts/update_owners?${idsQuery('contact_ids', [...contacts.map((c) => c.id), 'ffffffffffffffffffffffff'], to.id)}`));
    expect(r).toEqual({ contacts: contacts.map((c) => ({ id: c.id, owner_id: to.id, crm_owner_id: null })) });
    expect(s.contacts().slice(0, 3).every((c) => c.owner_id === to.id)).toBe(true);
    const acc = s.accounts()[0]!;
    expect(ok(await call(s, 'POST', `/accounts/update_owners?${idsQuery('account_ids', [acc.id], to.id)}`))).toEqual({ accounts: [{ id: acc.id, owner_id: to.id, crm_owner_id: null }] });
  });

  it("refuses what the spec does not allow: 422 'Required parameter ... missing', ids in a body, an inactive owner, a URL past 8 KiB", async () => {
    const { active, deactivated } = team(s);
    const c = s.contacts()[10]!;
    expect((await call(s, 'POST', `/contacts/update_owners?owner_id=${active[0]!.id}`)).body).toEqual({ error: "Required parameter 'contact_ids' missing" });
    expect((await call(s, 'POST', `/contacts/update_owners?${idsQuery('contact_ids', [c.id])}`)).body).toEqual({ error: "Required parameter 'owner_id' missing" });
    expect((await call(s, 'POST', `/accounts/update_owners?owner_id=${active[0]!.id}`)).body).toEqual({ error: "Required parameter 'account_ids' missing" });
    // The ids belong in the query: a body carrying them is refused, not read.
    expect((await call(s, 'POST', '/contacts/update_owners', { body: { contact_ids: [c.id], owner_id: active[0]!.id } })).status).toBe(422);
    expect((await call(s, 'POST', `/contacts/update_owners?contact_ids=${c.id}&owner_id=${active[0]!.id}`)).status).toBe(422);
    expect((await call(s, 'POST', `/contacts/update_owners?${idsQuery('contact_ids', [c.id], deactivated.id)}`)).status).toBe(422);
    expect((await call(s, 'POST', `/contacts/update_owners?${idsQuery('contact_ids', [c.id], 'ffffffffffffffffffffffff')}`)).status).toBe(422);
    const many = s.contacts().slice(0, 240).map((x) => x.id);
    const long = await call(s, 'POST', `/contacts/update_owners?${idsQuery('contact_ids', many, active[0]!.id)}`);
    expect(long.status).toBe(414);
    expect(long.headers['x-minute-usage']).toBeUndefined();
    expect(s.contacts()[10]!.owner_id).toBe(c.owner_id);
  });

  it('PUT /sequences/{id} {user_id}: answered with user_id and object_owner_id; 404 for an unknown sequence', async () => {
    const { active, deactivated } = team(s);
    const seq = s.sequences()[0]!;
    const to = active.find((t) => t.id !== seq.user_id)!;
    const r = ok(await call(s, 'PUT', `/sequences/${seq.id}`, { body: { user_id: to.id } }));
    expect(r).toMatchObject({ id: seq.id, user_id: to.id, object_owner_id: to.id, emailer_campaign: { id: seq.id, user_id: to.id, object_owner_id: to.id } });
    expect(s.sequences()[0]!.user_id).toBe(to.id);
    expect((await call(s, 'PUT', '/sequences/ffffffffffffffffffffffff', { body: { user_id: to.id } })).body).toEqual({ error: 'Record not found.' });
    expect((await call(s, 'PUT', `/sequences/${seq.id}`, { body: { user_id: deactivated.id } })).status).toBe(422);
    expect((await call(s, 'PUT', `/sequences/${seq.id}`, { form: { user_id: to.id } })).status).toBe(415);
  });

  it('PATCH /tasks/{id}: user_id only while scheduled; omitting priority or creator_id resets them, as the spec warns', async () => {
    const { active } = team(s);
    const scheduled = s.tasks().filter((t) => t.status === 'scheduled' && t.priority !== 'medium' && t.creator_id !== s.users().find((u) => u.role === 'Admin')!.id);
    const [a, b] = scheduled;
    const to = active.find((t) => t.id !== a!.user_id && t.id !== b!.user_id)!;
    // With the current priority and creator: only the owner changes.
    const kept = ok(await call(s, 'PATCH', `/tasks/${a!.id}`, { body: { user_id: to.id, priority: a!.priority, creator_id: a!.creator_id } }));
    expect(kept.task).toMatchObject({ id: a!.id, user_id: to.id, priority: a!.priority, creator_id: a!.creator_id });
    // Without them: reset to medium and to the key's owner (the admin, for the master key).
    const reset = ok(await call(s, 'PATCH', `/tasks/${b!.id}`, { body: { user_id: to.id } }));
    expect(reset.task).toMatchObject({ user_id: to.id, priority: 'medium', creator_id: s.users().find((u) => u.role === 'Admin')!.id });
    const done = s.tasks().find((t) => t.status === 'completed')!;
    const refused = await call(s, 'PATCH', `/tasks/${done.id}`, { body: { user_id: to.id, priority: done.priority, creator_id: done.creator_id } });
    expect(refused.status).toBe(422);
    expect(s.tasks().find((t) => t.id === done.id)!.user_id).toBe(done.user_id);
    expect(ok(await call(s, 'PATCH', `/tasks/${done.id}`, { body: { note: 'ok', priority: 'low' } })).task).toMatchObject({ note: 'ok', priority: 'low', user_id: done.user_id });
    expect((await call(s, 'PATCH', '/tasks/ffffffffffffffffffffffff', { body: { user_id: to.id } })).body).toEqual({ error: 'This task has been deleted. Please refresh your page.' });
    expect((await call(s, 'PATCH', `/tasks/${a!.id}`, { body: { priority: 'urgent' } })).status).toBe(422);
  });

  it('PATCH /opportunities/{id} {owner_id}; GET /email_accounts lists every teammate’s mailboxes', async () => {
    const { active } = team(s);
    const d = s.deals()[0]!;
    const to = active.find((t) => t.id !== d.owner_id)!;
    expect(ok(await call(s, 'PATCH', `/opportunities/${d.id}`, { body: { owner_id: to.id } })).opportunity).toMatchObject({ id: d.id, owner_id: to.id });
    expect((await call(s, 'PATCH', '/opportunities/ffffffffffffffffffffffff', { body: { owner_id: to.id } })).body).toEqual({ error: 'Opportunity does not exist.' });
    const boxes = ok(await call(s, 'GET', '/email_accounts')).email_accounts;
    expect(boxes).toHaveLength(s.users().length);
    expect(boxes[0]).toMatchObject({ id: expect.any(String), user_id: expect.any(String), email: expect.any(String), active: expect.any(Boolean) });
  });

  it('the request log records the repeated ids of the query and the JSON bodies; a fault can land on the second batch', async () => {
    const { active } = team(s);
    s.requests.length = 0;
    const [c1, c2] = s.contacts();
    s.failNext(1, 502, { path: /update_owners/, skip: 1 });
    ok(await call(s, 'POST', `/contacts/update_owners?${idsQuery('contact_ids', [c1!.id, c2!.id], active[1]!.id)}`));
    expect((await call(s, 'POST', `/contacts/update_owners?${idsQuery('contact_ids', [c1!.id], active[2]!.id)}`)).status).toBe(502);
    ok(await call(s, 'PATCH', `/opportunities/${s.deals()[1]!.id}`, { body: { owner_id: active[1]!.id } }));
    expect(s.requests[0]).toMatchObject({
      endpoint: 'api/v1/contacts/update_owners',
      status: 200,
      query: [
        ['contact_ids[]', c1!.id],
        ['contact_ids[]', c2!.id],
        ['owner_id', active[1]!.id],
      ],
    });
    expect(s.requests[0]!.body).toBeUndefined();
    expect(s.requests[1]!.status).toBe(502);
    expect(s.requests[2]).toMatchObject({ method: 'PATCH', contentType: 'application/json', body: JSON.stringify({ owner_id: active[1]!.id }) });
    expect(s.contacts()[0]!.owner_id).toBe(active[1]!.id);
  });

  it('a scoped key reaches the new endpoints; an OAuth token needs their scopes', async () => {
    expect((await call(s, 'GET', '/email_accounts', { key: s.scopedKey })).status).toBe(200);
    const token = s.issueAccessToken(undefined, ['tasks_list']);
    const headers = { accept: 'application/json', authorization: `Bearer ${token}` };
    expect((await send(`${s.baseUrl}/tasks/search`, { method: 'POST', headers })).status).toBe(200);
    expect((await send(`${s.baseUrl}/email_accounts`, { method: 'GET', headers }, { textBody: true })).status).toBe(403);
  });
});
