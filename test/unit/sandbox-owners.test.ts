import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { SCIM_MEDIA_TYPE, SCIM_SCHEMA, type ScimSim } from '../../src/sandbox/scim/index.js';
import { send, type Res } from '../support/sandbox-http.js';

/*
 * The sandbox as a whole: SCIM group create and delete on the linked Outreach and SalesLoft servers (Apollo
 * keeps refusing groups), and startSandbox's bigBook.
 */

function scim(s: ScimSim, method: string, path: string, body?: unknown): Promise<Res> {
  const headers: Record<string, string> = { authorization: `Bearer ${s.token}`, accept: SCIM_MEDIA_TYPE };
  if (body !== undefined) headers['content-type'] = SCIM_MEDIA_TYPE;
  return send(`${s.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

describe('SCIM groups on the linked sandbox', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox();
  });
  afterAll(() => sb.close());

  for (const vendor of ['outreach', 'salesloft'] as const) {
    it(`${vendor}: POST /Groups (displayName required, members optional), DELETE answers 204, then 404`, async () => {
      const s = sb.scim[vendor];
      const [a, b] = s.users().filter((u) => !u.deleted && u.active);
      const bare = await scim(s, 'POST', '/Groups', { schemas: [SCIM_SCHEMA.group], displayName: `Pod ${vendor}` });
      expect(bare.status).toBe(201);
      expect(bare.body.members).toEqual([]);
      const made = await scim(s, 'POST', '/Groups', { schemas: [SCIM_SCHEMA.group], displayName: `Team ${vendor}`, members: [{ value: a!.id }, { value: b!.id }] });
      expect(made.status).toBe(201);
      expect(made.body.members.map((m: any) => m.value)).toEqual([a!.id, b!.id]);
      expect((await scim(s, 'GET', `/Groups/${made.body.id}`)).body.displayName).toBe(`Team ${vendor}`);
      const missing = await scim(s, 'POST', '/Groups', { schemas: [SCIM_SCHEMA.group], members: [{ value: a!.id }] });
      expect(missing.status).toBe(400);
      expect(missing.body.scimType).toBe('invalidValue');
      for (const id of [made.body.id, bare.body.id]) {
        expect((await scim(s, 'DELETE', `/Groups/${id}`)).status).toBe(204);
        expect((await scim(s, 'GET', `/Groups/${id}`)).status).toBe(404);
        expect((await scim(s, 'DELETE', `/Groups/${id}`)).status).toBe(404);
      }
      expect(s.requests.filter((r) => r.method === 'POST').map((r) => r.contentType)).toContain(SCIM_MEDIA_TYPE);
    });
  }

  it('apollo: still refuses groups (the notes: users but not user groups)', async () => {
    expect((await scim(sb.scim.apollo, 'POST', '/Groups', { schemas: [SCIM_SCHEMA.group], displayName: 'x' })).status).toBe(501);
    expect((await scim(sb.scim.apollo, 'DELETE', '/Groups/1')).status).toBe(501);
  });
});

describe('startSandbox bigBook', () => {
  it('gives the person the big book in every record-owning simulator that seats them', async () => {
    const probe = await startSandbox();
    const seatedEverywhere = probe.outreach
      .users()
      .filter((u) => u.seedKind === 'person' && u.active && !u.locked)
      .map((u) => u.email)
      .find((e) => probe.salesloft.users().some((u) => u.email === e && u.active && u.team_id === probe.salesloft.teamId) && probe.apollo.users().some((t) => t.email === e && !t.deleted))!;
    const base = {
      outreach: probe.outreach.prospects().length,
      salesloft: probe.salesloft.people().length,
      apollo: probe.apollo.contacts().length,
    };
    await probe.close();
    const sb = await startSandbox({ bigBook: { email: seatedEverywhere, count: 300 } });
    try {
      expect(sb.outreach.prospects().length - base.outreach).toBe(300);
      expect(sb.salesloft.people().length - base.salesloft).toBe(300);
      expect(sb.apollo.contacts().length - base.apollo).toBe(300);
    } finally {
      await sb.close();
    }
    await expect(startSandbox({ bigBook: { email: 'nobody@acme.example' } })).rejects.toThrow(/no simulator seats/);
  });
});

describe('startSandbox books: false', () => {
  it('a tenant where nobody owns records or has a mailbox connected; users unchanged', async () => {
    const sb = await startSandbox({ books: false });
    try {
      for (const list of [sb.outreach.prospects(), sb.outreach.accounts(), sb.outreach.tasks(), sb.outreach.mailboxes(), sb.salesloft.people(), sb.salesloft.cadences(), sb.apollo.contacts(), sb.apollo.tasks(), sb.apollo.emailAccounts()]) {
        expect(list).toEqual([]);
      }
      const u = sb.salesloft.users().find((x) => x.team_id === sb.salesloft.teamId && x.active)!;
      const r = await send(`${sb.salesloft.baseUrl}/users/${u.id}.json`, { method: 'GET', headers: { authorization: `Bearer ${sb.salesloft.token}` } });
      expect(r.body.data).toMatchObject({ email_client_configured: false, email_client_email_address: null });
      expect(sb.outreach.users().length).toBeGreaterThan(250);
    } finally {
      await sb.close();
    }
  });
});
