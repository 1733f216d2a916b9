import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { generatePeople } from '../../src/sandbox/people.js';
import {
  SCIM_SCHEMA,
  SCIM_VENDORS,
  buildScimDirectory,
  startScimSimulator,
  type ScimSim,
  type ScimSimOptions,
  type ScimVendor,
} from '../../src/sandbox/scim/index.js';
import { send, simulators, type Res } from '../support/sandbox-http.js';

const SCIM = 'application/scim+json';

async function call(
  sim: ScimSim,
  method: string,
  path: string,
  o: { token?: string | null; body?: unknown; headers?: Record<string, string>; contentType?: string } = {},
): Promise<Res> {
  const headers: Record<string, string> = { accept: SCIM, ...o.headers };
  const token = o.token === undefined ? sim.token : o.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (o.body !== undefined) {
    headers['content-type'] = o.contentType ?? SCIM;
    body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  }
  return send(path.startsWith('http') ? path : `${sim.url}${path}`, { method, headers, body });
}

const q = (filter: string) => `/Users?filter=${encodeURIComponent(filter)}`;
const patchOp = (...Operations: unknown[]) => ({ schemas: [SCIM_SCHEMA.patchOp], Operations });
const newUser = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [SCIM_SCHEMA.user],
  userName,
  name: { givenName: 'Test', familyName: 'User' },
  emails: [{ value: userName, type: 'work', primary: true }],
  displayName: 'Test User',
  active: true,
  ...extra,
});

const sim = simulators<ScimSimOptions, ScimSim>(startScimSimulator);

async function create(s: ScimSim, userName: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await call(s, 'POST', '/Users', { body: newUser(userName, extra) });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

function expectScimError(r: Res, status: number, scimType?: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers['content-type']).toBe(SCIM);
  expect(r.body.schemas).toEqual([SCIM_SCHEMA.error]);
  expect(r.body.status).toBe(String(status));
  expect(typeof r.body.detail).toBe('string');
  if (scimType) expect(r.body.scimType).toBe(scimType);
}

// ---------------------------------------------------------------------------------------------------------

describe('seed', () => {
  const people = generatePeople(300, 42);
  const byEmail = new Map(people.map((p) => [p.email, p]));

  it('is deterministic per (vendor, userCount, seed) and changes with the seed', () => {
    for (const v of SCIM_VENDORS) {
      expect(buildScimDirectory(v)).toEqual(buildScimDirectory(v, 300, 42));
      expect(buildScimDirectory(v, 300, 7).users.map((u) => u.userName)).not.toEqual(buildScimDirectory(v).users.map((u) => u.userName));
    }
  });

  it('draws every person seat from the shared people, so one person has accounts in several vendors', () => {
    const seats = new Map<string, Map<ScimVendor, string | null>>();
    for (const v of SCIM_VENDORS) {
      for (const u of buildScimDirectory(v).users) {
        if (u.seedKind !== 'person') continue;
        const p = byEmail.get(u.userName)!;
        expect(p, u.userName).toBeDefined();
        expect(u.personKey).toBe(p.key);
        expect([u.givenName, u.familyName, u.email]).toEqual([p.firstName, p.lastName, p.email]);
        if (!seats.has(p.key)) seats.set(p.key, new Map());
        seats.get(p.key)!.set(v, u.externalId);
      }
    }
    const multi = [...seats.values()].filter((m) => m.size >= 3);
    expect(multi.length).toBeGreaterThan(10);
    // The IdP's user id is per person: wherever two vendors both carry an externalId, it is the same.
    for (const m of seats.values()) {
      const ids = new Set([...m.values()].filter((x): x is string => x !== null));
      expect(ids.size).toBeLessThanOrEqual(1);
    }
  });

  it('has the composition an access review needs, per vendor', () => {
    const dirs = Object.fromEntries(SCIM_VENDORS.map((v) => [v, buildScimDirectory(v)])) as Record<ScimVendor, ReturnType<typeof buildScimDirectory>>;
    expect(dirs.outreach.users.length).toBeGreaterThan(dirs.salesloft.users.length);
    expect(dirs.outreach.users.length).toBeGreaterThan(dirs.apollo.users.length);
    expect(dirs.zoominfo.users.length).toBeLessThan(Math.min(dirs.salesloft.users.length, dirs.apollo.users.length));
    for (const v of SCIM_VENDORS) {
      const { users } = dirs[v];
      const terminated = users.filter((u) => u.personKey && byEmail.get(u.userName)!.employment === 'terminated');
      expect(users.filter((u) => !u.active).length, v).toBeGreaterThan(0);
      expect(terminated.filter((u) => u.active).length, `${v}: leavers still active`).toBeGreaterThan(0);
      expect(terminated.filter((u) => !u.active).length, `${v}: leavers offboarded`).toBeGreaterThan(0);
      expect(users.filter((u) => u.externalId).length, v).toBeGreaterThan(users.length / 2);
      expect(users.filter((u) => u.seedKind === 'service')).toHaveLength(1);
      expect(new Set(users.map((u) => u.userName.toLowerCase())).size).toBe(users.length);
      expect(new Set(users.map((u) => u.id)).size).toBe(users.length);
      for (const u of users) expect(u.created <= u.lastModified, u.userName).toBe(true);
      expect(users.filter((u) => u.invitationStatus === 'pending').length > 0).toBe(v === 'salesloft');
    }
    expect(dirs.apollo.groups).toEqual([]);
    expect(dirs.outreach.groups.map((g) => g.displayName)).toContain('SDR Team');
    expect(dirs.outreach.groups.find((g) => g.displayName === 'EMEA Expansion')!.memberIds).toEqual([]);
    expect(dirs.salesloft.groups.length).toBeGreaterThan(0);
    expect(dirs.zoominfo.groups.length).toBeGreaterThan(0);
    // Vendor-flavoured ids: Outreach/SalesLoft integers, Apollo ObjectIds, ZoomInfo UUIDs.
    expect(dirs.outreach.users[0]!.id).toMatch(/^\d+$/);
    expect(dirs.apollo.users[0]!.id).toMatch(/^[0-9a-f]{24}$/);
    expect(dirs.zoominfo.users[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('scales down to an empty directory', () => {
    expect(buildScimDirectory('outreach', 0).users).toEqual([]);
    expect(() => buildScimDirectory('outreach', -1)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('protocol basics', () => {
  let s: ScimSim;
  beforeAll(async () => {
    s = await sim({ vendor: 'outreach' });
  });

  it('answers application/scim+json and accepts scim+json or json requests', async () => {
    const r = await call(s, 'GET', '/Users?count=1');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(SCIM);
    const a = await call(s, 'POST', '/Users', { body: newUser('json.client@acme.example'), contentType: 'application/json; charset=utf-8' });
    expect(a.status).toBe(201);
    expect(a.headers['content-type']).toBe(SCIM);
    expectScimError(await call(s, 'POST', '/Users', { body: 'userName=x', contentType: 'application/x-www-form-urlencoded' }), 415);
    expectScimError(await call(s, 'GET', '/Users', { headers: { accept: 'text/html' } }), 406);
    expect((await call(s, 'GET', '/Users?count=1', { headers: { accept: '*/*' } })).status).toBe(200);
    expectScimError(await call(s, 'POST', '/Users', { body: '{"userName": ' }), 400, 'invalidSyntax');
  });

  it('requires the bearer token everywhere', async () => {
    for (const path of ['/Users', '/Groups', '/ServiceProviderConfig', '/Users/123']) {
      const none = await call(s, 'GET', path, { token: null });
      expectScimError(none, 401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer realm=/);
      expectScimError(await call(s, 'GET', path, { token: 'wrong' }), 401);
    }
    const basic = await request(`${s.url}/Users`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.statusCode).toBe(401);
    await basic.body.dump();
  });

  it('404s outside the SCIM base and on unknown resources', async () => {
    expectScimError(await call(s, 'GET', `${s.origin}/api/v2/users`), 404);
    expectScimError(await call(s, 'GET', '/Widgets'), 404);
    const r = await call(s, 'GET', '/Users/999999999');
    expectScimError(r, 404);
    expect(r.body.detail).toBe('Resource 999999999 not found');
    expectScimError(await call(s, 'POST', '/Bulk', { body: { schemas: [] } }), 501);
  });

  it('serves ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const spc = (await call(s, 'GET', '/ServiceProviderConfig')).body;
    expect(spc).toMatchObject({
      schemas: expect.arrayContaining([SCIM_SCHEMA.serviceProviderConfig]),
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 100 },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken', primary: true })],
    });
    const rt = (await call(s, 'GET', '/ResourceTypes')).body;
    expect(rt.schemas).toEqual([SCIM_SCHEMA.listResponse]);
    expect(rt.Resources.map((r: any) => r.endpoint)).toEqual(['/Users', '/Groups']);
    expect((await call(s, 'GET', '/ResourceTypes/User')).body.schema).toBe(SCIM_SCHEMA.user);
    const schemas = (await call(s, 'GET', '/Schemas')).body;
    expect(schemas.Resources.map((r: any) => r.id)).toEqual([SCIM_SCHEMA.user, SCIM_SCHEMA.enterpriseUser, SCIM_SCHEMA.group]);
    const user = (await call(s, 'GET', `/Schemas/${SCIM_SCHEMA.user}`)).body;
    expect(user.attributes.find((a: any) => a.name === 'userName')).toMatchObject({ required: true, caseExact: false, uniqueness: 'server' });
    expectScimError(await call(s, 'GET', '/Schemas?filter=' + encodeURIComponent('id eq "x"')), 403);
  });

  it('stamps writes with the injected clock', async () => {
    const clock = new ManualClock(Date.parse('2027-01-04T10:00:00Z'));
    const c = await sim({ vendor: 'zoominfo', clock, userCount: 20 });
    const u = await create(c, 'clocked@acme.example');
    expect(u.meta.created).toBe('2027-01-04T10:00:00.000Z');
    clock.advance(60_000);
    const p = await call(c, 'PATCH', `/Users/${u.id}`, { body: patchOp({ op: 'replace', path: 'title', value: 'AE' }) });
    expect(p.body.meta.lastModified).toBe('2027-01-04T10:01:00.000Z');
    expect(p.body.meta.created).toBe('2027-01-04T10:00:00.000Z');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('paging', () => {
  let s: ScimSim;
  beforeAll(async () => {
    s = await sim({ vendor: 'outreach', maxResults: 25 });
  });

  it('pages with 1-based startIndex and count capped at maxResults', async () => {
    const total = s.users().filter((u) => !u.deleted).length;
    const first = (await call(s, 'GET', '/Users?startIndex=1&count=10')).body;
    expect(first).toMatchObject({ schemas: [SCIM_SCHEMA.listResponse], totalResults: total, startIndex: 1, itemsPerPage: 10 });
    expect(first.Resources).toHaveLength(10);
    const capped = (await call(s, 'GET', '/Users?count=1000')).body;
    expect(capped.itemsPerPage).toBe(25);
    const dflt = (await call(s, 'GET', '/Users')).body;
    expect(dflt.itemsPerPage).toBe(25);
    const zero = (await call(s, 'GET', '/Users?count=0')).body;
    expect(zero).toMatchObject({ totalResults: total, itemsPerPage: 0, Resources: [] });
    const low = (await call(s, 'GET', '/Users?startIndex=0&count=2')).body;
    expect(low.startIndex).toBe(1);
    expect(low.Resources.map((r: any) => r.id)).toEqual(first.Resources.slice(0, 2).map((r: any) => r.id));
    expect((await call(s, 'GET', '/Users?count=-5')).body.itemsPerPage).toBe(0);
    const past = (await call(s, 'GET', `/Users?startIndex=${total + 1}`)).body;
    expect(past).toMatchObject({ totalResults: total, itemsPerPage: 0, Resources: [] });
    expectScimError(await call(s, 'GET', '/Users?count=ten'), 400, 'invalidValue');
  });

  it('returns the same order for any page size (Okta requires it)', async () => {
    const walk = async (size: number) => {
      const ids: string[] = [];
      for (let start = 1; ; start += size) {
        const page = (await call(s, 'GET', `/Users?startIndex=${start}&count=${size}`)).body;
        ids.push(...page.Resources.map((r: any) => r.id));
        if (start + size > page.totalResults) break;
      }
      return ids;
    };
    const a = await walk(7);
    expect(a).toEqual(await walk(25));
    expect(new Set(a).size).toBe(a.length);
    expect(a).toEqual(s.users().filter((u) => !u.deleted).map((u) => u.id));
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('filters', () => {
  let s: ScimSim;
  beforeAll(async () => {
    s = await sim({ vendor: 'salesloft' });
  });

  const ids = async (filter: string) => {
    const r = await call(s, 'GET', q(filter) + '&count=100');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return (r.body.Resources as any[]).map((x) => x.id).sort();
  };
  /** The ids the filter should match, computed from the snapshot; never empty, so a match-nothing bug shows. */
  const expected = (pred: (u: ReturnType<ScimSim['users']>[number]) => boolean) => {
    const out = s.users().filter((u) => !u.deleted && pred(u)).map((u) => u.id).sort();
    expect(out.length).toBeGreaterThan(0);
    expect(out.length).toBeLessThan(s.users().length);
    return out;
  };

  it('userName eq is case-insensitive (RFC 7643 caseExact=false)', async () => {
    const u = s.users().find((x) => x.seedKind === 'person')!;
    expect(await ids(`userName eq "${u.userName.toUpperCase()}"`)).toEqual([u.id]);
    expect(await ids(`USERNAME EQ "${u.userName}"`)).toEqual([u.id]);
    expect(await ids('userName eq "nobody@acme.example"')).toEqual([]);
  });

  it('externalId eq is case-exact; active, emails.value, and/or/not, pr, co/sw/ew, value paths, dates', async () => {
    const u = s.users().find((x) => x.externalId)!;
    expect(await ids(`externalId eq "${u.externalId}"`)).toEqual([u.id]);
    expect(await ids(`externalId eq "${u.externalId!.toUpperCase()}"`)).toEqual([]);
    expect(await ids('active eq false')).toEqual(expected((x) => !x.active));
    expect(await ids(`emails.value eq "${u.email!.toUpperCase()}"`)).toEqual([u.id]);
    expect(await ids(`emails[type eq "work" and value eq "${u.email}"]`)).toEqual([u.id]);
    expect(await ids(`emails eq "${u.email}"`)).toEqual([u.id]);
    expect(await ids(`active eq true and userName eq "${u.userName}"`)).toEqual(u.active ? [u.id] : []);
    expect(await ids('active eq false or not (externalId pr)')).toEqual(expected((x) => !x.active || !x.externalId));
    expect(await ids('userName sw "dana." and userName ew "@acme.example"')).toEqual(expected((x) => x.userName.startsWith('dana.')));
    expect(await ids('name.familyName co "LEE"')).toEqual(expected((x) => (x.familyName ?? '').toLowerCase().includes('lee')));
    expect(await ids('(title eq "Account Executive")')).toEqual(expected((x) => x.title === 'Account Executive'));
    expect(await ids(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales Development"`)).toEqual(
      expected((x) => x.department === 'Sales Development'),
    );
    expect(await ids(`${SCIM_SCHEMA.salesloftUser}:invitationStatus eq "pending"`)).toEqual(expected((x) => x.invitationStatus === 'pending'));
    expect(await ids('meta.lastModified gt "2026-06-01T00:00:00Z"')).toEqual(expected((x) => x.lastModified > '2026-06-01T00:00:00Z'));
  });

  it('parses quoted values with escaped \\" and \\\\', async () => {
    const tricky = 'Quote " and back\\slash';
    const u = await create(s, 'escape.test@acme.example', { displayName: tricky });
    const filter = `displayName eq ${JSON.stringify(tricky)}`;
    expect(filter).toBe('displayName eq "Quote \\" and back\\\\slash"');
    expect(await ids(filter)).toEqual([u.id]);
    expect(await ids('displayName eq "Quote \\" and"')).toEqual([]);
    expect(await ids('displayName co "\\"" and displayName co "\\\\"')).toEqual([u.id]);
  });

  it('answers 400 invalidFilter with a helpful detail for unsupported or malformed filters', async () => {
    const cases: [string, RegExp][] = [
      ['userName eq dana', /double quotes/],
      ['nickname eq "x" and foo eq "y"', /unknown attribute 'foo'.*filterable attributes: .*userName/],
      ['userName like "x"', /unknown operator 'like'/],
      ['userName eq "unterminated', /unterminated string/],
      ['userName eq "a" userName eq "b"', /unexpected 'userName'/],
      ['active eq "true"', /boolean: compare it with true or false, unquoted/],
      ['active gt true', /only eq and ne/],
      ['name eq "Dana"', /complex; name a sub-attribute/],
      ['(userName eq "a"', /expected '\)'/],
      ['userName eq "bad \\q escape"', /invalid escape/],
      ['meta.created gt "yesterday"', /not an xsd:dateTime/],
      ['', /empty/],
    ];
    for (const [filter, detail] of cases) {
      const r = await call(s, 'GET', q(filter));
      expectScimError(r, 400, 'invalidFilter');
      expect(r.body.detail, filter).toMatch(detail);
    }
  });

  it('filters groups by displayName and members', async () => {
    const g = s.groups()[0]!;
    const r = await call(s, 'GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${g.displayName.toLowerCase()}"`)}`);
    expect(r.body.Resources.map((x: any) => x.id)).toEqual([g.id]);
    const m = await call(s, 'GET', `/Groups?filter=${encodeURIComponent(`members[value eq "${g.memberIds[0]}"]`)}`);
    expect(m.body.Resources.map((x: any) => x.id)).toContain(g.id);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('users: create, replace, patch', () => {
  let s: ScimSim;
  beforeAll(async () => {
    s = await sim({ vendor: 'zoominfo' });
  });

  it('creates with 201, Location and meta; 409 uniqueness on a case-insensitive userName clash', async () => {
    const r = await call(s, 'POST', '/Users', {
      body: { ...newUser('New.Hire@acme.example'), externalId: '00uNEWHIRE', password: 'x1y2z3', groups: [], id: 'ignored' },
    });
    expect(r.status).toBe(201);
    expect(r.headers.location).toBe(`${s.url}/Users/${r.body.id}`);
    expect(r.body.id).not.toBe('ignored');
    expect(r.body).toMatchObject({
      schemas: [SCIM_SCHEMA.user],
      userName: 'New.Hire@acme.example',
      externalId: '00uNEWHIRE',
      active: true,
      groups: [],
      meta: { resourceType: 'User', location: r.headers.location },
    });
    expect(r.body.meta.created).toBe(r.body.meta.lastModified);
    expect(r.body.password).toBeUndefined();
    expect(r.body.meta.version).toBeUndefined();
    const dup = await call(s, 'POST', '/Users', { body: newUser('new.hire@ACME.example') });
    expectScimError(dup, 409, 'uniqueness');
    const seeded = s.users()[0]!;
    expectScimError(await call(s, 'POST', '/Users', { body: newUser(seeded.userName.toUpperCase()) }), 409, 'uniqueness');
  });

  it('rejects bodies without the User schema, without userName, or with wrongly typed values', async () => {
    const { schemas: _s, ...noSchemas } = newUser('x1@acme.example');
    expectScimError(await call(s, 'POST', '/Users', { body: noSchemas }), 400, 'invalidSyntax');
    expectScimError(await call(s, 'POST', '/Users', { body: { schemas: [SCIM_SCHEMA.user], name: { givenName: 'A' } } }), 400, 'invalidValue');
    expectScimError(await call(s, 'POST', '/Users', { body: newUser('x2@acme.example', { active: 'true' }) }), 400, 'invalidValue');
    expectScimError(await call(s, 'POST', '/Users', { body: newUser('x3@acme.example', { emails: { value: 'x3@acme.example' } }) }), 400, 'invalidValue');
    const twoPrimaries = [
      { value: 'a@acme.example', primary: true },
      { value: 'b@acme.example', primary: true },
    ];
    expectScimError(await call(s, 'POST', '/Users', { body: newUser('x4@acme.example', { emails: twoPrimaries }) }), 400, 'invalidValue');
  });

  it('reads attribute names case-insensitively and serves them in schema case', async () => {
    const r = await call(s, 'POST', '/Users', {
      body: {
        SCHEMAS: [SCIM_SCHEMA.user],
        USERNAME: 'shouty@acme.example',
        Name: { GivenName: 'Shouty', FAMILYNAME: 'Case' },
        Active: true,
        'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER': { Department: 'Sales' },
      },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ userName: 'shouty@acme.example', name: { givenName: 'Shouty', familyName: 'Case' }, active: true });
    expect(r.body[SCIM_SCHEMA.enterpriseUser]).toEqual({ department: 'Sales' });
    expect(r.body.schemas).toEqual([SCIM_SCHEMA.user, SCIM_SCHEMA.enterpriseUser]);
  });

  it('PUT replaces: ignores id/meta, clears omitted attributes, keeps active when omitted', async () => {
    const u = await create(s, 'put.me@acme.example', { title: 'SDR', nickName: 'Putty' });
    const r = await call(s, 'PUT', `/Users/${u.id}`, {
      body: { schemas: [SCIM_SCHEMA.user], id: 'other', meta: { created: '2000-01-01T00:00:00Z' }, userName: 'put.me@acme.example', name: { givenName: 'Put', familyName: 'Me' } },
    });
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(u.id);
    expect(r.body.meta.created).toBe(u.meta.created);
    expect(r.body.title).toBeUndefined();
    expect(r.body.nickName).toBeUndefined();
    expect(r.body.emails).toBeUndefined();
    expect(r.body.active).toBe(true);
    expect(r.body.name).toEqual({ givenName: 'Put', familyName: 'Me' });
    const off = await call(s, 'PUT', `/Users/${u.id}`, { body: { ...newUser('put.me@acme.example'), active: false } });
    expect(off.body.active).toBe(false);
    expectScimError(await call(s, 'PUT', `/Users/does-not-exist`, { body: newUser('z@acme.example') }), 404);
  });

  it('PATCH: replace with and without path, Okta/Entra op spellings, add, remove, value paths', async () => {
    const u = await create(s, 'patch.me@acme.example', { title: 'SDR' });
    const patch = async (...ops: unknown[]) => {
      const r = await call(s, 'PATCH', `/Users/${u.id}`, { body: patchOp(...ops) });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };
    expect((await patch({ op: 'replace', path: 'active', value: false })).active).toBe(false);
    // Okta's deactivate, and Entra ID's capitalised op names.
    expect((await patch({ op: 'Replace', value: { active: true } })).active).toBe(true);
    expect((await patch({ op: 'replace', value: { active: false, id: u.id } })).active).toBe(false);
    expect((await patch({ op: 'REPLACE', path: 'name.givenName', value: 'Patched' })).name).toEqual({ givenName: 'Patched', familyName: 'User' });
    expect((await patch({ op: 'replace', value: { 'name.familyName': 'Dotted', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department': 'Marketing' } }))).toMatchObject({
      name: { familyName: 'Dotted' },
      [SCIM_SCHEMA.enterpriseUser]: { department: 'Marketing' },
    });
    expect((await patch({ op: 'replace', path: 'emails[type eq "work"].value', value: 'patch.me2@acme.example' })).emails).toEqual([
      { value: 'patch.me2@acme.example', type: 'work', primary: true },
    ]);
    // Entra ID adds a typed value through a value path that matches nothing yet.
    const added = await patch({ op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' });
    expect(added.phoneNumbers).toEqual([{ type: 'mobile', value: '+1 555 0100' }]);
    const home = await patch({ op: 'add', path: 'emails', value: [{ value: 'home@example.com', type: 'home', primary: true }] });
    expect(home.emails).toEqual([
      { value: 'patch.me2@acme.example', type: 'work', primary: false },
      { value: 'home@example.com', type: 'home', primary: true },
    ]);
    expect((await patch({ op: 'remove', path: 'emails[type eq "home"]' })).emails).toHaveLength(1);
    expect((await patch({ op: 'remove', path: 'title' })).title).toBeUndefined();
    expect((await patch({ op: 'add', value: { title: 'AE', nickName: 'P' } })).title).toBe('AE');
    expect(s.users().find((x) => x.id === u.id)!.title).toBe('AE');
  });

  it('PATCH errors: noTarget, invalidPath, mutability, invalidSyntax, invalidValue; all-or-nothing', async () => {
    const u = await create(s, 'patch.err@acme.example', { title: 'SDR' });
    const bad = (body: unknown) => call(s, 'PATCH', `/Users/${u.id}`, { body });
    expectScimError(await bad(patchOp({ op: 'remove' })), 400, 'noTarget');
    expectScimError(await bad(patchOp({ op: 'replace', path: 'emails[type eq "home"].value', value: 'x@y.z' })), 400, 'noTarget');
    expectScimError(await bad(patchOp({ op: 'replace', path: 'favouriteColour', value: 'x' })), 400, 'invalidPath');
    expectScimError(await bad(patchOp({ op: 'replace', path: 'emails[type eq work].value', value: 'x' })), 400, 'invalidPath');
    expectScimError(await bad(patchOp({ op: 'replace', path: 'id', value: 'x' })), 400, 'mutability');
    expectScimError(await bad(patchOp({ op: 'add', path: 'groups', value: [{ value: '1' }] })), 400, 'mutability');
    expectScimError(await bad(patchOp({ op: 'merge', path: 'title', value: 'x' })), 400, 'invalidSyntax');
    expectScimError(await bad(patchOp()), 400, 'invalidSyntax');
    expectScimError(await bad({ Operations: [{ op: 'replace', path: 'title', value: 'x' }] }), 400, 'invalidSyntax');
    expectScimError(await bad(patchOp({ op: 'replace', path: 'active', value: 'False' })), 400, 'invalidValue');
    expectScimError(await bad(patchOp({ op: 'remove', path: 'userName' })), 400, 'invalidValue');
    // Atomic: the first operation is not applied when the second fails.
    expectScimError(await bad(patchOp({ op: 'replace', path: 'title', value: 'Changed' }, { op: 'replace', path: 'nope', value: 1 })), 400, 'invalidPath');
    expect((await call(s, 'GET', `/Users/${u.id}`)).body.title).toBe('SDR');
    const other = s.users()[0]!;
    expectScimError(await bad(patchOp({ op: 'replace', path: 'userName', value: other.userName })), 409, 'uniqueness');
  });

  it('supports attributes and excludedAttributes', async () => {
    const u = s.users()[0]!;
    const only = (await call(s, 'GET', `/Users/${u.id}?attributes=userName,name.givenName`)).body;
    expect(only).toEqual({ schemas: expect.any(Array), id: u.id, userName: u.userName, name: { givenName: u.givenName } });
    const without = (await call(s, 'GET', `/Users?count=1&excludedAttributes=groups,emails`)).body.Resources[0];
    expect(without.groups).toBeUndefined();
    expect(without.emails).toBeUndefined();
    expect(without.userName).toBeDefined();
  });

  it('PATCH can answer 204, and a no-op PATCH leaves lastModified alone', async () => {
    const clock = new ManualClock();
    const s204 = await sim({ vendor: 'outreach', patchStatus: 204, clock, userCount: 20 });
    const u = await create(s204, 'nobody.home@acme.example');
    clock.advance(5000);
    const r = await call(s204, 'PATCH', `/Users/${u.id}`, { body: patchOp({ op: 'replace', path: 'active', value: true }) });
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    expect(s204.users().find((x) => x.id === u.id)!.lastModified).toBe(u.meta.lastModified);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('ETags', () => {
  let s: ScimSim;
  beforeAll(async () => {
    s = await sim({ vendor: 'outreach', etag: true });
  });

  it('serves meta.version and ETag; If-None-Match gives 304; a stale If-Match gives 412', async () => {
    expect((await call(s, 'GET', '/ServiceProviderConfig')).body.etag).toEqual({ supported: true });
    const c = await call(s, 'POST', '/Users', { body: newUser('etag.user@acme.example') });
    expect(c.headers.etag).toBe('W/"1"');
    expect(c.body.meta.version).toBe('W/"1"');
    const id = c.body.id;
    const nm = await call(s, 'GET', `/Users/${id}`, { headers: { 'if-none-match': 'W/"1"' } });
    expect(nm.status).toBe(304);
    const upd = await call(s, 'PATCH', `/Users/${id}`, { body: patchOp({ op: 'replace', path: 'title', value: 'AE' }), headers: { 'if-match': 'W/"1"' } });
    expect(upd.status).toBe(200);
    expect(upd.headers.etag).toBe('W/"2"');
    const stale = await call(s, 'PUT', `/Users/${id}`, { body: newUser('etag.user@acme.example'), headers: { 'if-match': 'W/"1"' } });
    expectScimError(stale, 412);
    expect((await call(s, 'GET', `/Users/${id}`)).body.title).toBe('AE');
    expectScimError(await call(s, 'DELETE', `/Users/${id}`, { headers: { 'if-match': '"1"' } }), 412);
    expect((await call(s, 'PUT', `/Users/${id}`, { body: newUser('etag.user@acme.example'), headers: { 'if-match': '*' } })).status).toBe(200);
    expect((await call(s, 'GET', `/Users/${id}`, { headers: { 'if-none-match': 'W/"2"' } })).status).toBe(200);
    const g = s.groups()[0]!;
    expectScimError(await call(s, 'PATCH', `/Groups/${g.id}`, { body: patchOp({ op: 'remove', path: 'members' }), headers: { 'if-match': 'W/"99"' } }), 412);
  });

  it('ignores If-Match when ETags are off', async () => {
    const off = await sim({ vendor: 'apollo', userCount: 40 });
    const u = off.users()[0]!;
    const r = await call(off, 'PATCH', `/Users/${u.id}`, { body: patchOp({ op: 'replace', path: 'title', value: 'x' }), headers: { 'if-match': 'W/"999"' } });
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBeUndefined();
    expect(r.body.meta.version).toBeUndefined();
  });
});

describe('PATCH unsupported', () => {
  it('patchSupported: false answers 501 and says so in ServiceProviderConfig; PUT still works', async () => {
    const s = await sim({ vendor: 'salesloft', patchSupported: false, userCount: 30 });
    expect((await call(s, 'GET', '/ServiceProviderConfig')).body.patch).toEqual({ supported: false });
    const u = s.users()[0]!;
    expectScimError(await call(s, 'PATCH', `/Users/${u.id}`, { body: patchOp({ op: 'replace', path: 'active', value: false }) }), 501);
    expectScimError(await call(s, 'PATCH', `/Groups/${s.groups()[0]!.id}`, { body: patchOp({ op: 'remove', path: 'members' }) }), 501);
    const put = await call(s, 'PUT', `/Users/${u.id}`, { body: { ...newUser(u.userName), active: false } });
    expect(put.status).toBe(200);
    expect(put.body.active).toBe(false);
  });

  it('patchMethodNotAllowed answers 405 with Allow', async () => {
    const s = await sim({ vendor: 'zoominfo', patchMethodNotAllowed: true, userCount: 30 });
    expect((await call(s, 'GET', '/ServiceProviderConfig')).body.patch).toEqual({ supported: false });
    const r = await call(s, 'PATCH', `/Users/${s.users()[0]!.id}`, { body: patchOp({ op: 'replace', path: 'active', value: false }) });
    expectScimError(r, 405);
    expect(r.headers.allow).toBe('GET, PUT, DELETE');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('vendor quirks', () => {
  it('Apollo: no groups anywhere', async () => {
    const s = await sim({ vendor: 'apollo' });
    for (const [method, path] of [['GET', '/Groups'], ['POST', '/Groups'], ['GET', '/Groups/1'], ['PATCH', '/Groups/1']] as const) {
      const r = await call(s, method, path, method === 'GET' ? {} : { body: { schemas: [SCIM_SCHEMA.group], displayName: 'x' } });
      expectScimError(r, 501);
      expect(r.body.detail).toMatch(/Apollo supports users but not user groups/);
    }
    const rt = (await call(s, 'GET', '/ResourceTypes')).body;
    expect(rt.Resources.map((r: any) => r.id)).toEqual(['User']);
    expectScimError(await call(s, 'GET', '/ResourceTypes/Group'), 404);
    const spc = (await call(s, 'GET', '/ServiceProviderConfig')).body;
    expect(spc[SCIM_SCHEMA.sandboxConfig].groups).toMatchObject({ supported: false, detail: expect.stringMatching(/not user groups/) });
    const u = (await call(s, 'GET', '/Users?count=1')).body.Resources[0];
    expect(u.groups).toBeUndefined();
  });

  it('Apollo: refuses to change the primary email or userName in place', async () => {
    const s = await sim({ vendor: 'apollo' });
    const u = s.users().find((x) => x.seedKind === 'person')!;
    const changes: unknown[] = [
      patchOp({ op: 'replace', path: 'userName', value: 'renamed@acme.example' }),
      patchOp({ op: 'replace', path: 'emails[type eq "work"].value', value: 'renamed@acme.example' }),
      patchOp({ op: 'replace', value: { userName: 'renamed@acme.example' } }),
    ];
    for (const body of changes) {
      const r = await call(s, 'PATCH', `/Users/${u.id}`, { body });
      expectScimError(r, 400, 'mutability');
      expect(r.body.detail).toMatch(/unassign the user .* in the IdP.*reassign/);
    }
    const put = await call(s, 'PUT', `/Users/${u.id}`, { body: newUser('renamed@acme.example') });
    expectScimError(put, 400, 'mutability');
    expect(s.users().find((x) => x.id === u.id)!.userName).toBe(u.userName);
    // Everything else still updates; a case-only difference is not a change of address.
    const ok = await call(s, 'PATCH', `/Users/${u.id}`, {
      body: patchOp(
        { op: 'replace', path: 'title', value: 'SDR Team Lead' },
        { op: 'replace', path: 'userName', value: u.userName.toUpperCase() },
        { op: 'add', path: 'emails', value: [{ value: 'alias@acme.example', type: 'other' }] },
        { op: 'replace', value: { active: false } },
      ),
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ title: 'SDR Team Lead', active: false });
    expect(ok.body.emails).toHaveLength(2);
    // DELETE deactivates (the notes: admins can only deactivate), the user stays readable.
    const other = s.users().find((x) => x.active && x.seedKind === 'person')!;
    expect((await call(s, 'DELETE', `/Users/${other.id}`)).status).toBe(204);
    expect((await call(s, 'GET', `/Users/${other.id}`)).body.active).toBe(false);
  });

  it('SalesLoft: a SCIM-created user is active but pending until the invitation is accepted', async () => {
    const s = await sim({ vendor: 'salesloft' });
    const c = await create(s, 'invitee@acme.example');
    expect(c.active).toBe(true);
    expect(c.schemas).toContain(SCIM_SCHEMA.salesloftUser);
    expect(c[SCIM_SCHEMA.salesloftUser]).toEqual({ invitationStatus: 'pending' });
    expect(s.users().find((u) => u.id === c.id)!.invitationStatus).toBe('pending');
    // The extension is read-only: a path to it is refused, a body carrying it is ignored.
    expectScimError(
      await call(s, 'PATCH', `/Users/${c.id}`, { body: patchOp({ op: 'replace', path: `${SCIM_SCHEMA.salesloftUser}:invitationStatus`, value: 'accepted' }) }),
      400,
      'mutability',
    );
    const put = await call(s, 'PUT', `/Users/${c.id}`, { body: { ...newUser('invitee@acme.example'), [SCIM_SCHEMA.salesloftUser]: { invitationStatus: 'accepted' } } });
    expect(put.body[SCIM_SCHEMA.salesloftUser]).toEqual({ invitationStatus: 'pending' });
    expect((await call(s, 'PATCH', `/Users/${c.id}`, { body: patchOp({ op: 'replace', value: { active: true } }) })).body[SCIM_SCHEMA.salesloftUser]).toEqual({
      invitationStatus: 'pending',
    });
    const accepted = s.acceptInvitation(c.id);
    expect(accepted.invitationStatus).toBe('accepted');
    expect((await call(s, 'GET', `/Users/${c.id}`)).body[SCIM_SCHEMA.salesloftUser]).toEqual({ invitationStatus: 'accepted' });
    const seededPending = s.users().filter((u) => u.invitationStatus === 'pending' && u.seedKind === 'person');
    expect(seededPending.length).toBeGreaterThan(0);
    expect(seededPending.every((u) => u.active)).toBe(true);
    expect(() => s.acceptInvitation('nope')).toThrow();
  });

  it('SalesLoft: DELETE deactivates and the user is still returned', async () => {
    const s = await sim({ vendor: 'salesloft' });
    const u = s.users().find((x) => x.active)!;
    const d = await call(s, 'DELETE', `/Users/${u.id}`);
    expect(d.status).toBe(204);
    const g = await call(s, 'GET', `/Users/${u.id}`);
    expect(g.status).toBe(200);
    expect(g.body.active).toBe(false);
    expect((await call(s, 'GET', q(`userName eq "${u.userName}"`))).body.totalResults).toBe(1);
    expect((await call(s, 'DELETE', `/Users/${u.id}`)).status).toBe(204);
    expectScimError(await call(s, 'POST', '/Users', { body: newUser(u.userName) }), 409, 'uniqueness');
  });

  it('acceptInvitation is SalesLoft-only', async () => {
    const s = await sim({ vendor: 'zoominfo', userCount: 20 });
    expect(() => s.acceptInvitation(s.users()[0]!.id)).toThrow(/SalesLoft-only/);
    expect(s.users().every((u) => u.invitationStatus === null)).toBe(true);
  });

  it('Outreach: groups are Teams; DELETE removes the user from SCIM but keeps the data', async () => {
    const s = await sim({ vendor: 'outreach' });
    const spc = (await call(s, 'GET', '/ServiceProviderConfig')).body;
    expect(spc[SCIM_SCHEMA.sandboxConfig].groups).toEqual({ supported: true, mapsTo: 'Outreach Teams' });
    const teams = (await call(s, 'GET', '/Groups')).body;
    expect(teams.Resources.map((t: any) => t.displayName)).toContain('SDR Team');
    const team = s.groups().find((g) => g.displayName === 'SDR Team')!;
    const member = s.users().find((u) => u.id === team.memberIds[0])!;
    const asUser = (await call(s, 'GET', `/Users/${member.id}`)).body;
    expect(asUser.groups).toContainEqual({ value: team.id, $ref: `${s.url}/Groups/${team.id}`, display: 'SDR Team', type: 'direct' });

    expect((await call(s, 'DELETE', `/Users/${member.id}`)).status).toBe(204);
    expectScimError(await call(s, 'GET', `/Users/${member.id}`), 404);
    expect((await call(s, 'GET', q(`userName eq "${member.userName}"`))).body.totalResults).toBe(0);
    const kept = s.users().find((u) => u.id === member.id)!;
    expect(kept).toMatchObject({ deleted: true, active: false, userName: member.userName, groupIds: [] });
    expect((await call(s, 'GET', `/Groups/${team.id}`)).body.members.map((m: any) => m.value)).not.toContain(member.id);
    // The userName is free again for a re-provisioned seat.
    expect((await call(s, 'POST', '/Users', { body: newUser(member.userName) })).status).toBe(201);
  });

  it('ZoomInfo: tenant-prefixed base URL, users and groups', async () => {
    const s = await sim({ vendor: 'zoominfo' });
    expect(s.url).toBe(`${s.origin}/tenants/acme/scim/v2`);
    expectScimError(await call(s, 'GET', `${s.origin}/scim/v2/Users`), 404);
    expect((await call(s, 'GET', '/Users?count=1')).body.Resources[0].meta.location).toMatch(new RegExp(`^${s.url}/Users/`));
    expect((await call(s, 'GET', '/Groups')).body.totalResults).toBe(s.groups().length);
    const u = s.users().find((x) => x.active)!;
    expect((await call(s, 'DELETE', `/Users/${u.id}`)).status).toBe(204);
    expect((await call(s, 'GET', `/Users/${u.id}`)).body.active).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('groups', () => {
  let s: ScimSim;
  beforeAll(async () => {
    s = await sim({ vendor: 'outreach' });
  });

  it('creates, renames, adds and removes members (RFC, Okta and Entra ID forms), deletes', async () => {
    const [a, b, c] = s.users().filter((u) => !u.deleted);
    const created = await call(s, 'POST', '/Groups', { body: { schemas: [SCIM_SCHEMA.group], displayName: 'APAC Pod', members: [{ value: a!.id, display: 'ignored' }] } });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`${s.url}/Groups/${created.body.id}`);
    expect(created.body.members).toEqual([{ value: a!.id, $ref: `${s.url}/Users/${a!.id}`, display: a!.displayName, type: 'User' }]);
    const id = created.body.id;
    expectScimError(await call(s, 'POST', '/Groups', { body: { schemas: [SCIM_SCHEMA.group], displayName: 'apac pod' } }), 409, 'uniqueness');

    const patch = async (...ops: unknown[]) => {
      const r = await call(s, 'PATCH', `/Groups/${id}`, { body: patchOp(...ops) });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return (r.body.members as any[]).map((m) => m.value);
    };
    expect(await patch({ op: 'add', path: 'members', value: [{ value: b!.id }, { value: c!.id }, { value: a!.id }] })).toEqual([a!.id, b!.id, c!.id]);
    expect(await patch({ op: 'remove', path: `members[value eq "${b!.id}"]` })).toEqual([a!.id, c!.id]);
    expect(await patch({ op: 'Remove', path: 'members', value: [{ value: c!.id }] })).toEqual([a!.id]);
    expect(await patch({ op: 'remove', path: `members[value eq "not-a-member"]` })).toEqual([a!.id]);
    expect(await patch({ op: 'replace', path: 'members', value: [{ value: b!.id }] })).toEqual([b!.id]);
    // Okta renames with the id in the value, and Entra ID adds single member objects.
    await patch({ op: 'replace', value: { id, displayName: 'APAC Pod (renamed)' } });
    expect(await patch({ op: 'Add', path: 'members', value: { value: c!.id } })).toEqual([b!.id, c!.id]);
    expect(s.groups().find((g) => g.id === id)).toMatchObject({ displayName: 'APAC Pod (renamed)', memberIds: [b!.id, c!.id] });
    expect((await call(s, 'GET', `/Users/${c!.id}`)).body.groups.map((g: any) => g.value)).toContain(id);
    const slim = (await call(s, 'GET', `/Groups/${id}?excludedAttributes=members`)).body;
    expect(slim.members).toBeUndefined();
    expect(slim.displayName).toBe('APAC Pod (renamed)');

    expectScimError(await call(s, 'PATCH', `/Groups/${id}`, { body: patchOp({ op: 'add', path: 'members', value: [{ value: 'ghost' }] }) }), 400, 'invalidValue');
    expectScimError(await call(s, 'PATCH', `/Groups/${id}`, { body: patchOp({ op: 'replace', path: 'displayName', value: '' }) }), 400, 'invalidValue');

    const put = await call(s, 'PUT', `/Groups/${id}`, { body: { schemas: [SCIM_SCHEMA.group], displayName: 'APAC Pod', members: [{ value: a!.id }] } });
    expect(put.body.members.map((m: any) => m.value)).toEqual([a!.id]);

    expect((await call(s, 'DELETE', `/Groups/${id}`)).status).toBe(204);
    expectScimError(await call(s, 'GET', `/Groups/${id}`), 404);
    expect(s.groups().some((g) => g.id === id)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('fault injection and request log', () => {
  it('failNext answers SCIM errors with Retry-After, optionally for matching paths only, or drops the connection', async () => {
    const s = await sim({ vendor: 'salesloft', userCount: 30 });
    s.requests.length = 0;
    s.failNext(2, 503, { retryAfterSec: 3, path: /\/Users\?/ });
    const other = await call(s, 'GET', '/Groups');
    expect(other.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const r = await call(s, 'GET', '/Users?count=1');
      expectScimError(r, 503);
      expect(r.headers['retry-after']).toBe('3');
    }
    expect((await call(s, 'GET', '/Users?count=1')).status).toBe(200);
    s.failNext(1, 429);
    const limited = await call(s, 'GET', '/Users?count=1');
    expectScimError(limited, 429);
    expect(limited.headers['retry-after']).toBeUndefined();
    s.failNext(1, 0, { dropConnection: true });
    await expect(call(s, 'GET', '/Users?count=1')).rejects.toThrow();
    expect(s.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /scim/v2/Groups 200',
      'GET /scim/v2/Users?count=1 503',
      'GET /scim/v2/Users?count=1 503',
      'GET /scim/v2/Users?count=1 200',
      'GET /scim/v2/Users?count=1 429',
      'GET /scim/v2/Users?count=1 0',
    ]);
  });
});
