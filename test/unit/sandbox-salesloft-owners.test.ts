import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { buildSalesloftBook, buildSalesloftOrg, startSalesloftSimulator, type SalesloftSim, type SalesloftSimOptions } from '../../src/sandbox/salesloft/index.js';
import { send, simulators, type Res } from '../support/sandbox-http.js';

const FORM = 'application/x-www-form-urlencoded';

async function call(sim: SalesloftSim, method: string, path: string, o: { form?: Record<string, string>; json?: unknown } = {}): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${sim.token}` };
  let body: string | undefined;
  if (o.form) {
    headers['content-type'] = FORM;
    body = new URLSearchParams(o.form).toString();
  } else if (o.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.json);
  }
  return send(`${sim.baseUrl}${path}`, { method, headers, body });
}

function ok(r: Res): any {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

const sim = simulators<SalesloftSimOptions, SalesloftSim>(startSalesloftSimulator);

/** Active users of the token's team, and the one owning the most people. */
function team(s: SalesloftSim) {
  const users = s.users().filter((u) => u.team_id === s.teamId);
  const counts = new Map<number, number>();
  for (const p of s.people()) if (p.team_id === s.teamId && p.owner_id !== null) counts.set(p.owner_id, (counts.get(p.owner_id) ?? 0) + 1);
  const richest = users.find((u) => u.id === [...counts].sort((a, b) => b[1] - a[1])[0]![0])!;
  return { users, active: users.filter((u) => u.active), inactive: users.filter((u) => !u.active), richest, other: s.users().find((u) => u.team_id !== s.teamId)! };
}

describe('SalesLoft: what users own (seed)', () => {
  it('is deterministic, leaves the org as it was, and has records on both teams', async () => {
    const org = buildSalesloftOrg(undefined, 42);
    const a = buildSalesloftBook(org.users, org.teamId, org.otherTeamId, 42);
    expect(buildSalesloftBook(buildSalesloftOrg(undefined, 42).users, org.teamId, org.otherTeamId, 42)).toEqual(a);
    const s = await sim();
    expect(s.users()).toEqual(org.users);
    expect(s.people()).toEqual(a.people);
    const mine = org.users.filter((u) => u.team_id === org.teamId);
    const deactivated = new Set(mine.filter((u) => !u.active).map((u) => u.id));
    // Deactivated users (leavers) still own people; the other team owns a few records of its own.
    expect(a.people.some((p) => deactivated.has(p.owner_id!))).toBe(true);
    expect(a.people.some((p) => p.team_id === org.otherTeamId)).toBe(true);
    expect(new Set(a.tasks.map((t) => t.current_state))).toEqual(new Set(['scheduled', 'completed']));
    const domains = a.accounts.filter((x) => x.team_id === org.teamId).map((x) => x.domain);
    expect(new Set(domains).size).toBe(domains.length);
    // Users carry whether an email client is connected, and from where.
    const r = ok(await call(s, 'GET', `/users/${mine[0]!.id}.json`));
    expect(r.data).toHaveProperty('email_client_configured');
    expect(r.data).toHaveProperty('email_client_email_address');
    const all = ok(await call(s, 'GET', '/users.json?include_deactivated=true&per_page=100')).data as any[];
    expect(all.some((u) => u.email_client_configured && u.email_client_email_address === u.email)).toBe(true);
    expect(all.some((u) => !u.email_client_configured && u.email_client_email_address === null)).toBe(true);
  });

  it('bigBook gives one user `count` records of each type; the rest is as seeded', () => {
    const org = buildSalesloftOrg(undefined, 42);
    const who = org.users.find((u) => u.team_id === org.teamId && u.active)!;
    const plain = buildSalesloftBook(org.users, org.teamId, org.otherTeamId, 42);
    const big = buildSalesloftBook(org.users, org.teamId, org.otherTeamId, 42, { email: who.email, count: 700 });
    expect(big.people.filter((p) => p.owner_id === who.id).length - plain.people.filter((p) => p.owner_id === who.id).length).toBe(700);
    expect(big.tasks.filter((t) => t.user_id === who.id).length - plain.tasks.filter((t) => t.user_id === who.id).length).toBe(700);
    expect(big.people.slice(0, plain.people.length)).toEqual(plain.people);
    expect(() => buildSalesloftBook(org.users, org.teamId, org.otherTeamId, 42, { email: 'nobody@acme.example' })).toThrow(/no SalesLoft user/);
  });
});

describe('SalesLoft: listing what a user owns', () => {
  let s: SalesloftSim;
  beforeAll(async () => {
    s = await sim();
  });

  it('people by owner_id[] (or owned_by_guid[]), in the {data, metadata:{paging}} envelope with counts', async () => {
    const { richest } = team(s);
    const expected = s.people().filter((p) => p.owner_id === richest.id);
    const r = ok(await call(s, 'GET', `/people.json?owner_id[]=${richest.id}&per_page=100&page=1&include_paging_counts=true`));
    expect(r.metadata.paging).toMatchObject({ per_page: 100, current_page: 1, total_count: expected.length });
    expect(r.data.map((p: any) => p.id).sort()).toEqual(expected.map((p) => p.id).sort());
    expect(r.data.every((p: any) => p.owner.id === richest.id && p.owner._href.endsWith(`/v2/users/${richest.id}`))).toBe(true);
    const byGuid = ok(await call(s, 'GET', `/people.json?owned_by_guid[]=${richest.guid}&per_page=1&include_paging_counts=true`));
    expect(byGuid.metadata.paging.total_count).toBe(expected.length);
    expect((await call(s, 'GET', `/people.json?owner_id[]=${richest.id}&per_page=101`)).status).toBe(422);
    expect((await call(s, 'GET', '/people.json?owner_id[]=abc')).status).toBe(422);
  });

  it('accounts by owner_id[], cadences by owned_by_guid[] (the guid, not the id), scheduled tasks by user_id[]', async () => {
    const { richest } = team(s);
    const accounts = ok(await call(s, 'GET', `/accounts.json?owner_id[]=${richest.id}&per_page=100&include_paging_counts=true`));
    expect(accounts.metadata.paging.total_count).toBe(s.accounts().filter((a) => a.owner_id === richest.id).length);
    const owner = s.cadences().find((x) => x.team_id === s.teamId)!.owner_id;
    const guid = s.users().find((u) => u.id === owner)!.guid;
    const cadences = ok(await call(s, 'GET', `/cadences.json?owned_by_guid[]=${guid}&per_page=100&include_paging_counts=true`));
    expect(cadences.metadata.paging.total_count).toBe(s.cadences().filter((x) => x.owner_id === owner).length);
    expect(cadences.data.every((x: any) => x.owner.id === owner)).toBe(true);
    // owner_id is not a cadence filter in the spec: ignored, as Rails ignores unknown parameters.
    const ignored = ok(await call(s, 'GET', `/cadences.json?owner_id[]=${owner}&per_page=1&include_paging_counts=true`));
    expect(ignored.metadata.paging.total_count).toBe(s.cadences().filter((x) => x.team_id === s.teamId).length);
    const tasks = ok(await call(s, 'GET', `/tasks.json?user_id[]=${owner}&current_state[]=scheduled&per_page=100&include_paging_counts=true`));
    expect(tasks.metadata.paging.total_count).toBe(s.tasks().filter((t) => t.user_id === owner && t.current_state === 'scheduled').length);
    expect(tasks.data.every((t: any) => t.user.id === owner && t.current_state === 'scheduled')).toBe(true);
  });

  it('is team-scoped: the other team never shows, and its records are 404 by id', async () => {
    const { other } = team(s);
    const theirs = s.people().find((p) => p.team_id !== s.teamId)!;
    expect((await call(s, 'GET', `/people/${theirs.id}.json`)).status).toBe(404);
    expect((await call(s, 'PUT', `/people/${theirs.id}.json`, { form: { owner_id: String(team(s).active[0]!.id) } })).status).toBe(404);
    const listed = ok(await call(s, 'GET', `/people.json?owner_id[]=${other.id}&include_paging_counts=true`));
    expect(listed.metadata.paging.total_count).toBe(0);
    const mine = s.people().find((p) => p.team_id === s.teamId)!;
    expect(ok(await call(s, 'GET', `/people/${mine.id}.json`)).data.id).toBe(mine.id);
    expect(ok(await call(s, 'GET', `/people/${mine.id}`)).data.id).toBe(mine.id);
  });

  it('costs deep pages as rate-limits.md says, with the x-ratelimit headers', async () => {
    const clock = new ManualClock();
    const t = await sim({ clock });
    const r = await call(t, 'GET', '/people.json?per_page=1&page=151');
    expect(r.status).toBe(200);
    expect(r.headers['x-ratelimit-endpoint-cost']).toBe('8');
    expect(r.headers['x-ratelimit-remaining-minute']).toBe('592');
    const w = await call(t, 'PUT', `/people/${t.people().find((p) => p.team_id === t.teamId)!.id}.json`, { form: {} });
    expect(w.headers['x-ratelimit-endpoint-cost']).toBe('1');
  });
});

describe('SalesLoft: changing owners', () => {
  let s: SalesloftSim;
  beforeAll(async () => {
    s = await sim();
  });

  it('PUT /v2/people/{id}.json with a form owner_id hands the person over and answers the record', async () => {
    const { active } = team(s);
    const p = s.people().find((x) => x.team_id === s.teamId)!;
    const to = active.find((u) => u.id !== p.owner_id)!;
    const r = ok(await call(s, 'PUT', `/people/${p.id}.json`, { form: { owner_id: String(to.id) } }));
    expect(r.data).toMatchObject({ id: p.id, owner: { id: to.id } });
    expect(s.people().find((x) => x.id === p.id)!.owner_id).toBe(to.id);
    expect(r.data.updated_at).not.toBe(ok(await call(s, 'GET', `/people/${s.people().find((x) => x.team_id === s.teamId && x.id !== p.id)!.id}.json`)).data.updated_at);
  });

  it('refuses a JSON body (the spec defines form bodies only), an inactive or foreign owner, and PATCH', async () => {
    const { active, inactive, other } = team(s);
    const p = s.people().find((x) => x.team_id === s.teamId)!;
    const before = p.owner_id;
    const json = await call(s, 'PUT', `/people/${p.id}.json`, { json: { owner_id: active[0]!.id } });
    expect(json.status).toBe(415);
    for (const owner of [inactive[0]!.id, other.id, 999_999, 'abc']) {
      const r = await call(s, 'PUT', `/people/${p.id}.json`, { form: { owner_id: String(owner) } });
      expect(r.status, String(owner)).toBe(422);
      expect(r.body.errors.owner_id).toBeDefined();
    }
    expect((await call(s, 'PATCH', `/people/${p.id}.json`, { form: { owner_id: String(active[0]!.id) } })).status).toBe(405);
    expect(s.people().find((x) => x.id === p.id)!.owner_id).toBe(before);
  });

  it('PUT /v2/accounts/{id}.json requires name and domain (the spec), a domain unique on the team, and an active owner', async () => {
    const { active } = team(s);
    const [a, b] = s.accounts().filter((x) => x.team_id === s.teamId);
    const to = active.find((u) => u.id !== a!.owner_id)!;
    const missing = await call(s, 'PUT', `/accounts/${a!.id}.json`, { form: { owner_id: String(to.id) } });
    expect(missing.status).toBe(422);
    expect(Object.keys(missing.body.errors).sort()).toEqual(['domain', 'name']);
    expect((await call(s, 'PUT', `/accounts/${a!.id}.json`, { form: { name: a!.name, owner_id: String(to.id) } })).status).toBe(422);
    expect((await call(s, 'PUT', `/accounts/${a!.id}.json`, { form: { name: a!.name, domain: b!.domain, owner_id: String(to.id) } })).body.errors.domain).toEqual(['has already been taken']);
    expect((await call(s, 'PUT', `/accounts/${a!.id}.json`, { json: { name: a!.name, domain: a!.domain, owner_id: to.id } })).status).toBe(415);
    expect(s.accounts().find((x) => x.id === a!.id)!.owner_id).toBe(a!.owner_id);
    const r = ok(await call(s, 'PUT', `/accounts/${a!.id}.json`, { form: { name: a!.name, domain: a!.domain, owner_id: String(to.id) } }));
    expect(r.data).toMatchObject({ id: a!.id, name: a!.name, domain: a!.domain, owner: { id: to.id } });
  });

  it('cadences have no write; a task PUT cannot change its assignee (user_id is ignored)', async () => {
    const { active } = team(s);
    const cad = s.cadences().find((x) => x.team_id === s.teamId)!;
    const put = await call(s, 'PUT', `/cadences/${cad.id}.json`, { form: { owner_id: String(active[0]!.id) } });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET');
    const task = s.tasks().find((t) => t.team_id === s.teamId && t.current_state === 'scheduled')!;
    const to = active.find((u) => u.id !== task.user_id)!;
    const r = ok(await call(s, 'PUT', `/tasks/${task.id}.json`, { form: { user_id: String(to.id), subject: 'Call back' } }));
    expect(r.data).toMatchObject({ subject: 'Call back', user: { id: task.user_id } });
    expect(s.tasks().find((t) => t.id === task.id)!.user_id).toBe(task.user_id);
    expect(ok(await call(s, 'PUT', `/tasks/${task.id}.json`, { form: { current_state: 'completed' } })).data.current_state).toBe('completed');
    expect((await call(s, 'PUT', `/tasks/${task.id}.json`, { form: { current_state: 'scheduled' } })).status).toBe(422);
  });

  it('PUT /v2/users/{id}.json (form): role_id, group_id and active, for role, group and reactivation', async () => {
    const { users } = team(s);
    const u = users.find((x) => !x.active)!;
    const role = s.roles().find((r) => r.custom)!;
    const group = s.groups()[1]!;
    const r = ok(await call(s, 'PUT', `/users/${u.id}.json`, { form: { role_id: role.id, group_id: String(group.id), active: 'true' } }));
    expect(r.data).toMatchObject({ id: u.id, active: true, role: { id: role.id }, group: { id: group.id } });
    ok(await call(s, 'PUT', `/users/${u.id}.json`, { form: { role_id: 'Admin' } }));
    expect((await call(s, 'PUT', `/users/${u.id}.json`, { form: { role_id: 'Wizard' } })).status).toBe(422);
    expect((await call(s, 'PUT', `/users/${u.id}.json`, { form: { group_id: '1' } })).status).toBe(422);
    expect(ok(await call(s, 'GET', `/users/${u.id}.json`)).data.role.id).toBe('Admin');
  });

  it('logs each request with its query, Content-Type and form body; a fault can skip the first matching request', async () => {
    const { active } = team(s);
    const [p1, p2] = s.people().filter((x) => x.team_id === s.teamId);
    s.requests.length = 0;
    s.failNext(1, 503, { path: /\/people\/\d+/, method: 'PUT', skip: 1 });
    ok(await call(s, 'PUT', `/people/${p1!.id}.json`, { form: { owner_id: String(active[0]!.id) } }));
    expect((await call(s, 'PUT', `/people/${p2!.id}.json`, { form: { owner_id: String(active[0]!.id) } })).status).toBe(503);
    await call(s, 'GET', `/people.json?owner_id[]=${active[0]!.id}&per_page=100`);
    expect(s.requests[0]).toMatchObject({ method: 'PUT', path: `/v2/people/${p1!.id}.json`, status: 200, contentType: FORM, body: `owner_id=${active[0]!.id}`, cost: 1 });
    expect(s.requests[1]).toMatchObject({ status: 503, body: `owner_id=${active[0]!.id}`, cost: 0 });
    expect(s.requests[2]!.query).toEqual([
      ['owner_id[]', String(active[0]!.id)],
      ['per_page', '100'],
    ]);
  });
});
