import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { SCIM_SCHEMA, type ScimSim } from '../../src/sandbox/scim/index.js';
import { send as sendRequest, type Res } from '../support/sandbox-http.js';

/**
 * The sandbox's SCIM servers of Outreach, SalesLoft and Apollo are linked to their REST simulators: one user
 * store behind both APIs, as at the vendor. Everything goes over real HTTP on both sides.
 */

const SCIM = 'application/scim+json';
const JSONAPI = 'application/vnd.api+json';
const MINUTE = 60_000;

function send(url: string, method: string, headers: Record<string, string>, body?: unknown, contentType?: string): Promise<Res> {
  if (body === undefined) return sendRequest(url, { method, headers });
  return sendRequest(url, { method, headers: { ...headers, 'content-type': contentType ?? 'application/json' }, body: JSON.stringify(body) });
}

const scim = (s: ScimSim, method: string, path: string, body?: unknown) =>
  send(`${s.url}${path}`, method, { accept: SCIM, authorization: `Bearer ${s.token}` }, body, SCIM);
const outreach = (sb: Sandbox, method: string, path: string, body?: unknown) =>
  send(`${sb.outreach.baseUrl}${path}`, method, { accept: JSONAPI, authorization: `Bearer ${sb.outreach.staticAccessToken}` }, body, JSONAPI);
const salesloft = (sb: Sandbox, method: string, path: string, body?: unknown) =>
  send(`${sb.salesloft.baseUrl}${path}`, method, { accept: 'application/json', authorization: `Bearer ${sb.salesloft.token}` }, body);
const apollo = (sb: Sandbox, path: string) => send(`${sb.apollo.baseUrl}${path}`, 'GET', { accept: 'application/json', 'x-api-key': sb.apollo.masterKey });

const patchActive = (active: boolean) => ({ schemas: [SCIM_SCHEMA.patchOp], Operations: [{ op: 'replace', value: { active } }] });

async function expectOk(r: Promise<Res>, status = 200): Promise<any> {
  const res = await r;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}

interface Seat {
  id: string;
  email: string;
  active: boolean;
}

/** Every SCIM user, walked page by page. */
async function scimSeats(s: ScimSim): Promise<Seat[]> {
  const out: Seat[] = [];
  for (let start = 1; ; start += 100) {
    const page = await expectOk(scim(s, 'GET', `/Users?startIndex=${start}&count=100`));
    out.push(...page.Resources.map((u: any) => ({ id: u.id, email: u.userName, active: u.active })));
    if (start + page.itemsPerPage > page.totalResults || page.itemsPerPage === 0) break;
  }
  return out;
}

/** Every Outreach REST user (the list has no hidden state: locked and inactive users are all in it). */
async function outreachSeats(sb: Sandbox): Promise<(Seat & { locked: boolean })[]> {
  const out: (Seat & { locked: boolean })[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await expectOk(outreach(sb, 'GET', `/users?page[size]=1000&page[offset]=${offset}`));
    out.push(...page.data.map((u: any) => ({ id: u.id, email: u.attributes.email, active: u.attributes.active, locked: u.attributes.locked })));
    if (!page.links.next) break;
  }
  return out;
}

/** Every SalesLoft REST user of the team, deactivated ones included (the notes' include_deactivated=true). */
async function salesloftSeats(sb: Sandbox): Promise<Seat[]> {
  const out: Seat[] = [];
  for (let page = 1; ; page++) {
    const body = await expectOk(salesloft(sb, 'GET', `/users?include_deactivated=true&per_page=100&page=${page}&sort=id&sort_direction=ASC`));
    out.push(...body.data.map((u: any) => ({ id: String(u.id), email: u.email, active: u.active })));
    if (body.metadata.paging.next_page === null) break;
  }
  return out;
}

/** Every Apollo teammate (deactivated ones stay in the list with deleted: true); `active` is !deleted. */
async function apolloSeats(sb: Sandbox): Promise<(Seat & { deleted: boolean })[]> {
  const out: (Seat & { deleted: boolean })[] = [];
  for (let page = 1; ; page++) {
    const body = await expectOk(apollo(sb, `/users/search?per_page=100&page=${page}`));
    out.push(...body.users.map((u: any) => ({ id: u.id, email: u.email, active: !u.deleted, deleted: u.deleted })));
    if (page >= body.pagination.total_pages) break;
  }
  return out;
}

const byId = (a: Seat, b: Seat) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const plain = (s: Seat): Seat => ({ id: s.id, email: s.email, active: s.active });

describe('the sandbox links the SCIM servers of Outreach, SalesLoft and Apollo to their REST simulators', () => {
  let sb: Sandbox;
  const clock = new ManualClock();
  beforeAll(async () => {
    sb = await startSandbox({ clock });
  });
  afterAll(() => sb?.close());

  describe('the seat sets agree, deactivated seats included', () => {
    it('Outreach: same seats, same emails as userName, SCIM active is REST active (locked users included)', async () => {
      const rest = await outreachSeats(sb);
      const viaScim = await scimSeats(sb.scim.outreach);
      expect(viaScim.length).toBe(rest.length);
      expect(viaScim.map(plain).sort(byId)).toEqual(rest.map(plain).sort(byId));
      expect(rest.some((u) => !u.active)).toBe(true);
      // A locked user that SCIM never deprovisioned is still active: true in SCIM.
      const lockedActive = rest.filter((u) => u.locked && u.active);
      expect(lockedActive.length).toBeGreaterThan(0);
      const inScim = new Map(viaScim.map((u) => [u.id, u]));
      for (const u of lockedActive) expect(inScim.get(u.id)?.active).toBe(true);
    });

    it('SalesLoft: same seats of the team (other teams excluded), same emails, SCIM active is REST active', async () => {
      const rest = await salesloftSeats(sb);
      const viaScim = await scimSeats(sb.scim.salesloft);
      expect(viaScim.map(plain).sort(byId)).toEqual(rest.map(plain).sort(byId));
      expect(rest.some((u) => !u.active)).toBe(true);
      expect(viaScim.some((u) => u.email.endsWith('@globex.example'))).toBe(false);
    });

    it('Apollo: same teammates, same emails, SCIM active is the inverse of deleted', async () => {
      const rest = await apolloSeats(sb);
      const viaScim = await scimSeats(sb.scim.apollo);
      expect(viaScim.map(plain).sort(byId)).toEqual(rest.map(plain).sort(byId));
      expect(rest.some((u) => u.deleted)).toBe(true);
    });

    it('SCIM-only data stays in SCIM: Okta externalIds and Outreach teams over the same seats', async () => {
      const users = sb.scim.outreach.users();
      expect(users.some((u) => u.externalId?.startsWith('00u'))).toBe(true);
      expect(sb.scim.outreach.groups().some((g) => g.memberIds.length > 0)).toBe(true);
      const ids = new Set(sb.outreach.users().map((u) => String(u.id)));
      for (const g of sb.scim.outreach.groups()) for (const m of g.memberIds) expect(ids.has(m)).toBe(true);
      // The same person carries the same externalId in every linked vendor.
      const outreachByKey = new Map(users.filter((u) => u.externalId && u.personKey).map((u) => [u.personKey, u.externalId]));
      const shared = sb.scim.salesloft.users().filter((u) => u.externalId && u.personKey && outreachByKey.has(u.personKey));
      expect(shared.length).toBeGreaterThan(0);
      for (const u of shared) expect(u.externalId).toBe(outreachByKey.get(u.personKey));
    });
  });

  describe('a SCIM deprovisioning (PATCH active=false) shows over REST', () => {
    it('Outreach: active false, locked untouched, updatedAt moved', async () => {
      const target = (await outreachSeats(sb)).find((u) => u.active && !u.locked)!;
      const before = (await expectOk(outreach(sb, 'GET', `/users/${target.id}`))).data.attributes;
      clock.advance(MINUTE);
      const patched = await expectOk(scim(sb.scim.outreach, 'PATCH', `/Users/${target.id}`, patchActive(false)));
      expect(patched.active).toBe(false);
      const after = (await expectOk(outreach(sb, 'GET', `/users/${target.id}`))).data.attributes;
      expect(after).toMatchObject({ active: false, locked: false, email: before.email });
      expect(Date.parse(after.updatedAt)).toBe(clock.now());
      expect(Date.parse(after.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
      // The change poller finds it.
      const since = new Date(clock.now() - 1000).toISOString();
      const changed = await expectOk(outreach(sb, 'GET', `/users?filter[updatedAt]=${since}..inf`));
      expect(changed.data.map((u: any) => u.id)).toContain(target.id);
    });

    it('SalesLoft: active false, and the updated_at cursor walk sees the change', async () => {
      const target = (await salesloftSeats(sb)).find((u) => u.active && Number(u.id) !== sb.salesloft.meId)!;
      const before = (await expectOk(salesloft(sb, 'GET', `/users/${target.id}`))).data;
      clock.advance(MINUTE);
      await expectOk(scim(sb.scim.salesloft, 'PATCH', `/Users/${target.id}`, patchActive(false)));
      const after = (await expectOk(salesloft(sb, 'GET', `/users/${target.id}`))).data;
      expect(after.active).toBe(false);
      expect(after.updated_at).not.toBe(before.updated_at);
      // A cursor poller that last saw everything up to just before the SCIM write finds exactly this user.
      const cursor = encodeURIComponent(new Date(clock.now() - 1).toISOString());
      const walk = await expectOk(salesloft(sb, 'GET', `/users?include_deactivated=true&sort=updated_at&sort_direction=ASC&per_page=100&updated_at[gt]=${cursor}`));
      expect(walk.data.map((u: any) => [String(u.id), u.active])).toEqual([[target.id, false]]);
      // Without include_deactivated the REST list now hides the user, as it hides every deactivated one.
      const visible = await expectOk(salesloft(sb, 'GET', `/users?ids=${target.id}`));
      expect(visible.data).toEqual([]);
    });

    it('Apollo: the teammate is deleted: true (deactivated), and a SCIM reactivation brings it back', async () => {
      const target = (await apolloSeats(sb)).find((u) => u.active)!;
      await expectOk(scim(sb.scim.apollo, 'PATCH', `/Users/${target.id}`, patchActive(false)));
      expect((await apolloSeats(sb)).find((u) => u.id === target.id)).toMatchObject({ deleted: true });
      await expectOk(scim(sb.scim.apollo, 'PATCH', `/Users/${target.id}`, patchActive(true)));
      expect((await apolloSeats(sb)).find((u) => u.id === target.id)).toMatchObject({ deleted: false });
    });

    it('Apollo: an in-place email change is still refused, and the REST email stays', async () => {
      const target = (await apolloSeats(sb)).find((u) => u.active)!;
      const r = await scim(sb.scim.apollo, 'PATCH', `/Users/${target.id}`, {
        schemas: [SCIM_SCHEMA.patchOp],
        Operations: [{ op: 'replace', path: 'userName', value: 'someone.else@acme.example' }],
      });
      expect(r.status).toBe(400);
      expect(r.body.scimType).toBe('mutability');
      expect((await apolloSeats(sb)).find((u) => u.id === target.id)?.email).toBe(target.email);
    });
  });

  describe('a REST change shows over SCIM', () => {
    it('SalesLoft: PUT active false over REST -> SCIM active false, meta.lastModified moved', async () => {
      const target = (await salesloftSeats(sb)).find((u) => u.active && Number(u.id) !== sb.salesloft.meId)!;
      const before = await expectOk(scim(sb.scim.salesloft, 'GET', `/Users/${target.id}`));
      expect(before.active).toBe(true);
      clock.advance(MINUTE);
      await expectOk(salesloft(sb, 'PUT', `/users/${target.id}.json`, { active: false }));
      const after = await expectOk(scim(sb.scim.salesloft, 'GET', `/Users/${target.id}`));
      expect(after.active).toBe(false);
      expect(Date.parse(after.meta.lastModified)).toBeGreaterThan(Date.parse(before.meta.lastModified));
      const filtered = await expectOk(scim(sb.scim.salesloft, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${target.email}"`)}`));
      expect(filtered.Resources.map((u: any) => [u.id, u.active])).toEqual([[target.id, false]]);
      // And back.
      await expectOk(salesloft(sb, 'PUT', `/users/${target.id}.json`, { active: true }));
      expect((await expectOk(scim(sb.scim.salesloft, 'GET', `/Users/${target.id}`))).active).toBe(true);
    });

    it('Outreach: a REST lock (locked: true) leaves SCIM active: true', async () => {
      const target = (await outreachSeats(sb)).find((u) => u.active && !u.locked)!;
      const locked = await expectOk(
        outreach(sb, 'PATCH', `/users/${target.id}`, { data: { type: 'user', id: target.id, attributes: { locked: true } } }),
      );
      expect(locked.data.attributes).toMatchObject({ locked: true, active: true });
      expect((await expectOk(scim(sb.scim.outreach, 'GET', `/Users/${target.id}`))).active).toBe(true);
    });

    it('Apollo: a deactivation in the Apollo UI (setUserDeleted) -> SCIM active false', async () => {
      const target = (await apolloSeats(sb)).find((u) => u.active)!;
      sb.apollo.setUserDeleted(target.id, true);
      expect((await expectOk(scim(sb.scim.apollo, 'GET', `/Users/${target.id}`))).active).toBe(false);
      sb.apollo.setUserDeleted(target.id, false);
      expect((await expectOk(scim(sb.scim.apollo, 'GET', `/Users/${target.id}`))).active).toBe(true);
    });

    it('Outreach: a user created over REST joins the SCIM list; a REST rename shows in SCIM', async () => {
      const created = await expectOk(
        outreach(sb, 'POST', '/users', { data: { type: 'user', attributes: { firstName: 'Rest', lastName: 'Made', email: 'rest.made@acme.example' } } }),
        201,
      );
      const id = created.data.id as string;
      const viaScim = await expectOk(scim(sb.scim.outreach, 'GET', `/Users/${id}`));
      expect(viaScim).toMatchObject({ id, userName: 'rest.made@acme.example', active: true, name: { givenName: 'Rest', familyName: 'Made' } });
      await expectOk(outreach(sb, 'PATCH', `/users/${id}`, { data: { type: 'user', id, attributes: { lastName: 'Renamed' } } }));
      const renamed = await expectOk(scim(sb.scim.outreach, 'GET', `/Users/${id}`));
      expect(renamed.name).toMatchObject({ givenName: 'Rest', familyName: 'Renamed', formatted: 'Rest Renamed' });
      expect(renamed.displayName).toBe('Rest Renamed');
    });
  });

  describe('SCIM DELETE', () => {
    it('SalesLoft: deactivates; REST shows the user inactive and SCIM still serves it with active false', async () => {
      const target = (await salesloftSeats(sb)).find((u) => u.active && Number(u.id) !== sb.salesloft.meId)!;
      const del = await scim(sb.scim.salesloft, 'DELETE', `/Users/${target.id}`);
      expect(del.status).toBe(204);
      expect((await expectOk(salesloft(sb, 'GET', `/users/${target.id}`))).data.active).toBe(false);
      expect((await expectOk(scim(sb.scim.salesloft, 'GET', `/Users/${target.id}`))).active).toBe(false);
    });

    it('Outreach: hides the user from SCIM (404) and leaves the REST record with active false', async () => {
      const target = (await outreachSeats(sb)).find((u) => u.active && !u.locked)!;
      expect((await scim(sb.scim.outreach, 'DELETE', `/Users/${target.id}`)).status).toBe(204);
      expect((await scim(sb.scim.outreach, 'GET', `/Users/${target.id}`)).status).toBe(404);
      expect((await expectOk(outreach(sb, 'GET', `/users/${target.id}`))).data.attributes.active).toBe(false);
      expect(sb.scim.outreach.users().find((u) => u.id === target.id)).toMatchObject({ deleted: true, active: false });
    });

    it('Apollo: deactivates the teammate (deleted: true)', async () => {
      const target = (await apolloSeats(sb)).find((u) => u.active)!;
      expect((await scim(sb.scim.apollo, 'DELETE', `/Users/${target.id}`)).status).toBe(204);
      expect((await apolloSeats(sb)).find((u) => u.id === target.id)).toMatchObject({ deleted: true });
    });
  });

  describe('SCIM provisioning creates the REST seat too', () => {
    const newUser = (userName: string) => ({
      schemas: [SCIM_SCHEMA.user],
      userName,
      name: { givenName: 'Scim', familyName: 'Made' },
      emails: [{ value: userName, type: 'work', primary: true }],
      active: true,
    });

    it('SalesLoft: the REST API lists the new user; the invitation stays pending in the SCIM extension', async () => {
      const created = await expectOk(scim(sb.scim.salesloft, 'POST', '/Users', newUser('scim.made@acme.example')), 201);
      expect(created[SCIM_SCHEMA.salesloftUser]).toEqual({ invitationStatus: 'pending' });
      const rest = (await expectOk(salesloft(sb, 'GET', `/users/${created.id}`))).data;
      expect(rest).toMatchObject({ email: 'scim.made@acme.example', first_name: 'Scim', last_name: 'Made', active: true, team_id: sb.salesloft.teamId });
      expect((await salesloftSeats(sb)).map((u) => u.email)).toContain('scim.made@acme.example');
      const again = await scim(sb.scim.salesloft, 'POST', '/Users', newUser('SCIM.Made@acme.example'));
      expect(again.status).toBe(409);
    });

    it('Outreach and Apollo: the new user is a REST user too', async () => {
      const o = await expectOk(scim(sb.scim.outreach, 'POST', '/Users', newUser('scim.outreach@acme.example')), 201);
      expect((await expectOk(outreach(sb, 'GET', `/users/${o.id}`))).data.attributes).toMatchObject({
        email: 'scim.outreach@acme.example',
        active: true,
        locked: false,
        externalSource: 'scim',
      });
      const a = await expectOk(scim(sb.scim.apollo, 'POST', '/Users', newUser('scim.apollo@acme.example')), 201);
      expect((await apolloSeats(sb)).find((u) => u.id === a.id)).toMatchObject({ email: 'scim.apollo@acme.example', deleted: false });
    });

    it('after all of the above, the seat sets still agree', async () => {
      expect((await scimSeats(sb.scim.outreach)).length).toBe((await outreachSeats(sb)).filter((u) => !sb.scim.outreach.users().find((s) => s.id === u.id)?.deleted).length);
      expect((await scimSeats(sb.scim.salesloft)).map(plain).sort(byId)).toEqual((await salesloftSeats(sb)).map(plain).sort(byId));
      expect((await scimSeats(sb.scim.apollo)).map(plain).sort(byId)).toEqual((await apolloSeats(sb)).map(plain).sort(byId));
    });
  });

  it("Outreach's older case-variant seats are listed like REST lists them, and can still be written", async () => {
    const rest = await outreachSeats(sb);
    const lower = rest.map((u) => u.email.toLowerCase());
    const dup = rest.find((u) => u.email !== u.email.toLowerCase() && lower.filter((e) => e === u.email.toLowerCase()).length === 2)!;
    expect(dup).toBeDefined();
    const filter = encodeURIComponent(`userName eq "${dup.email.toLowerCase()}"`);
    const both = await expectOk(scim(sb.scim.outreach, 'GET', `/Users?filter=${filter}`));
    expect(both.totalResults).toBe(2);
    // A write that keeps the userName does not trip over the clash the seed already had.
    await expectOk(scim(sb.scim.outreach, 'PATCH', `/Users/${dup.id}`, patchActive(false)));
    expect((await expectOk(outreach(sb, 'GET', `/users/${dup.id}`))).data.attributes.active).toBe(false);
  });

  it('ZoomInfo stays standalone (its REST API has no seat list)', async () => {
    const seats = await scimSeats(sb.scim.zoominfo);
    expect(seats.length).toBe(sb.scim.zoominfo.users().length);
    expect(seats.length).toBeGreaterThan(0);
  });
});
