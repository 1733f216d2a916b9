import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, DECLINE, startStack, structured, textOf, unlockedOutreachUsers, type Stack } from '../support/stack.js';

/** A seeded user that is active, unlocked and whose email is unique case-insensitively. */
function pickUnlocked(stack: Stack, skip = 0) {
  return unlockedOutreachUsers(stack)[skip];
}

describe('Outreach tools on the sandbox (elicitation accepted)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ elicit: ACCEPT });
  });
  afterAll(() => stack.close());

  it('lists one page with a cursor, then the next page from the cursor', async () => {
    const first = structured(await stack.call('outreach_list_users', { page_size: 20 }));
    expect(first.returned).toBe(20);
    expect(first.total).toBe(stack.sandbox.outreach.users().length);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = structured(await stack.call('outreach_list_users', { cursor: first.next_cursor }));
    expect(second.users[0].id).not.toBe(first.users[0].id);
    expect(second.returned).toBe(20);
    for (const u of first.users) expect(['active', 'locked', 'deactivated']).toContain(u.status);
  });

  it('all: true walks every page at size 1000 with one progress notification per page, and caps the result at 25 KB', async () => {
    const progress: number[] = [];
    const before = stack.sandbox.outreach.requests.length;
    const r = await stack.call('outreach_list_users', { all: true }, { onprogress: (p) => progress.push(p.progress) });
    const s = structured(r);
    expect(s.total).toBe(stack.sandbox.outreach.users().length);
    const userRequests = stack.sandbox.outreach.requests.slice(before).filter((q) => q.path.startsWith('/api/v2/users'));
    expect(userRequests.every((q) => q.path.includes('page%5Bsize%5D=1000') || q.path.includes('page[size]=1000'))).toBe(true);
    expect(progress.length).toBe(userRequests.length);
    // 300 users as JSON exceed 25 KB: the result is cut and links to the complete one.
    const text = r.content.find((c) => c.type === 'text');
    expect(Buffer.byteLength((text as { text: string }).text)).toBeLessThanOrEqual(25_000);
    expect(s.truncated).toBe(true);
    expect(s.returned).toBeLessThan(s.total);
    const link = r.content.find((c) => c.type === 'resource_link') as { uri: string } | undefined;
    expect(link?.uri).toBe(s.full_result_uri);
    const full = await stack.client.readResource({ uri: link!.uri });
    const complete = JSON.parse((full.contents[0] as { text: string }).text);
    expect(complete.users).toHaveLength(s.total);
  });

  it('filters locked users and maps them to status locked', async () => {
    const s = structured(await stack.call('outreach_list_users', { locked: true, page_size: 1000 }));
    expect(s.returned).toBeGreaterThan(0);
    expect(s.users.every((u: any) => u.locked === true)).toBe(true);
    // Locked maps to status locked unless SCIM also deprovisioned the user (active: false → deactivated).
    for (const u of s.users) expect(u.status).toBe(u.active === false ? 'deactivated' : 'locked');
  });

  it('get_user by email refuses an email shared up to case and lists the candidates', async () => {
    const users = stack.sandbox.outreach.users();
    const dup = users.find((u) => users.some((v) => v !== u && v.email.toLowerCase() === u.email.toLowerCase()));
    expect(dup, 'the seed has emails differing only in case').toBeDefined();
    const r = await stack.call('outreach_get_user', { email: dup!.email.toLowerCase() });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/2 Outreach users match/);
    expect(textOf(r)).toContain('"candidates"');
  });

  it('locks a user after the human accepts, reports changed: false the second time, and audits the write', async () => {
    const target = pickUnlocked(stack);
    const first = structured(await stack.call('outreach_lock_user', { email: target.email }));
    expect(first).toMatchObject({ changed: true, confirmation: 'elicit' });
    expect(first.before.locked).toBe(false);
    expect(first.after).toMatchObject({ locked: true, status: 'locked' });
    expect(first.caveats.join(' ')).toMatch(/seat/);
    expect(stack.elicitations.at(-1)).toContain(target.email);

    const second = structured(await stack.call('outreach_lock_user', { id: String(target.id) }));
    expect(second).toMatchObject({ changed: false, audit_op_id: null });

    const got = structured(await stack.call('outreach_get_user', { id: String(target.id) }));
    expect(got.user.locked).toBe(true);

    const lines = stack.auditLines().filter((l) => l.op_id === first.audit_op_id);
    expect(lines.map((l) => l.type)).toEqual(['intent', 'outcome']);
    expect(lines[1]).toMatchObject({ result: 'ok', confirmation: 'elicit' });
  });

  it('a lock Outreach accepted stays a success (audited ok) when reading the user back fails', async () => {
    const target = pickUnlocked(stack, 5);
    // Lookup by email goes through the list endpoint; after the PATCH, the read-back fails on its first try
    // and on all four retries the HTTP core makes.
    stack.sandbox.outreach.failNext(5, 503, { path: new RegExp(`^/api/v2/users/${target.id}$`), method: 'GET' });
    const r = structured(await stack.call('outreach_lock_user', { email: target.email }));
    expect(r.changed).toBe(true);
    expect(r.after).toMatchObject({ locked: true, status: 'locked' });
    expect(r.caveats[0]).toMatch(/reading the user back failed/);
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(true);
    expect(stack.auditLines().find((l) => l.op_id === r.audit_op_id && l.type === 'outcome')).toMatchObject({ result: 'ok' });
  });

  it('unlocks only after the human accepts too, and records it', async () => {
    const target = stack.sandbox.outreach.users().find((u) => u.locked)!;
    const r = structured(await stack.call('outreach_unlock_user', { id: String(target.id) }));
    expect(r).toMatchObject({ changed: true, confirmation: 'elicit' });
    expect(r.after.locked).toBe(false);
    expect(stack.elicitations.at(-1)).toContain('Unlock Outreach user');
    expect(stack.elicitations.at(-1)).toContain('restores login');
    expect(stack.auditLines().find((l) => l.op_id === r.audit_op_id && l.type === 'outcome')).toMatchObject({ result: 'ok', confirmation: 'elicit' });
    const again = structured(await stack.call('outreach_unlock_user', { id: String(target.id) }));
    expect(again).toMatchObject({ changed: false, confirmation: 'none', audit_op_id: null });
  });

  it('creates a user with role and profile by name, idempotently', async () => {
    const args = { email: 'new.rep@acme.example', first_name: 'New', last_name: 'Rep', role: 'sales rep', profile: 'Sales Rep' };
    const created = structured(await stack.call('outreach_create_user', args));
    expect(created.changed).toBe(true);
    expect(created.user).toMatchObject({ email: 'new.rep@acme.example', role: 'Sales Rep', profile: 'Sales Rep', status: 'active' });
    // Watch out for (Create User): no invitation email unless the org is configured to send one.
    expect(created.caveats.join(' ')).toMatch(/no invitation email/);
    const again = structured(await stack.call('outreach_create_user', { ...args, email: 'NEW.REP@acme.example' }));
    expect(again).toMatchObject({ changed: false, audit_op_id: null });
    expect(stack.sandbox.outreach.users().filter((u) => u.email.toLowerCase() === 'new.rep@acme.example')).toHaveLength(1);
  });

  it('an unknown role name returns the valid names and creates nothing', async () => {
    const r = await stack.call('outreach_create_user', { email: 'x.y@acme.example', first_name: 'X', last_name: 'Y', role: 'Wizard' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/no role "Wizard". Valid roles: .*Sales Rep/);
    expect(stack.sandbox.outreach.users().some((u) => u.email === 'x.y@acme.example')).toBe(false);
  });

  it('updates a title after confirmation and reports no change when values are equal', async () => {
    const target = pickUnlocked(stack, 3);
    const r = structured(await stack.call('outreach_update_user', { id: String(target.id), title: 'Head of Things' }));
    expect(r).toMatchObject({ changed: true, confirmation: 'elicit' });
    expect(r.after.title).toBe('Head of Things');
    const again = structured(await stack.call('outreach_update_user', { id: String(target.id), title: 'Head of Things' }));
    expect(again.changed).toBe(false);
  });

  it('bad input comes back as an error naming the field', async () => {
    const r1 = await stack.call('outreach_get_user', { id: 'abc' });
    expect(r1.isError).toBe(true);
    expect(textOf(r1)).toMatch(/id/);
    const r2 = await stack.call('outreach_list_users', { page_size: 5000 });
    expect(r2.isError).toBe(true);
    expect(textOf(r2)).toMatch(/page_size/);
    const r3 = await stack.call('outreach_lock_user', {});
    expect(r3.isError).toBe(true);
    expect(textOf(r3)).toMatch(/`id`.*`email`/);
    const r4 = await stack.call('outreach_list_users', { cursor: 'not-a-cursor' });
    expect(textOf(r4)).toMatch(/cursor/);
  });

  it('waits out a 429 with Retry-After and one without, then succeeds', async () => {
    stack.sandbox.outreach.failNext(1, 429, { retryAfterSec: 1 });
    const started = Date.now();
    const a = await stack.call('outreach_list_roles');
    expect(a.isError).toBeFalsy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    stack.sandbox.outreach.failNext(2, 429);
    const b = await stack.call('outreach_list_profiles');
    expect(b.isError).toBeFalsy();
  });

  it('a vendor outage becomes an actionable error', async () => {
    stack.sandbox.outreach.failNext(10, 503);
    const r = await stack.call('outreach_get_user', { id: '1' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/unavailable|retry/i);
    stack.sandbox.outreach.failNext(0, 503);
  });
});

describe('confirmation gate', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('a client without elicitation cannot lock anyone in elicit mode', async () => {
    stack = await startStack({ confirm: 'elicit' });
    const target = pickUnlocked(stack);
    const r = await stack.call('outreach_lock_user', { email: target.email, confirm: target.email });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/SALES_ACCESS_CONFIRM/);
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(false);
    expect(stack.auditLines()).toEqual([]);
  });

  it('declining the elicitation leaves the sandbox unchanged', async () => {
    stack = await startStack({ elicit: DECLINE });
    const target = pickUnlocked(stack);
    const patchesBefore = stack.sandbox.outreach.requests.filter((q) => q.method === 'PATCH').length;
    const r = await stack.call('outreach_lock_user', { email: target.email });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/declined/);
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(false);
    expect(stack.sandbox.outreach.requests.filter((q) => q.method === 'PATCH').length).toBe(patchesBefore);
  });

  it('declining an unlock leaves the user locked', async () => {
    stack = await startStack({ elicit: DECLINE });
    const target = stack.sandbox.outreach.users().find((u) => u.locked)!;
    const r = await stack.call('outreach_unlock_user', { id: String(target.id) });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/declined/);
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(true);
    expect(stack.auditLines()).toEqual([]);
  });

  it('accept without ticking approve changes nothing', async () => {
    stack = await startStack({ elicit: { action: 'accept', content: { approve: false } } });
    const target = pickUnlocked(stack);
    const r = await stack.call('outreach_lock_user', { id: String(target.id) });
    expect(r.isError).toBe(true);
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(false);
  });

  it('token mode requires confirm naming the target exactly', async () => {
    stack = await startStack({ env: { SALES_ACCESS_CONFIRM: 'token' } });
    const lock = (await stack.client.listTools()).tools.find((t) => t.name === 'outreach_lock_user')!;
    expect(Object.keys(lock.inputSchema.properties ?? {})).toContain('confirm'); // shown only in token mode
    const target = pickUnlocked(stack);
    const missing = await stack.call('outreach_lock_user', { email: target.email });
    expect(missing.isError).toBe(true);
    const wrong = await stack.call('outreach_lock_user', { email: target.email, confirm: 'someone.else@acme.example' });
    expect(wrong.isError).toBe(true);
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(false);
    const ok = structured(await stack.call('outreach_lock_user', { email: target.email, confirm: target.email }));
    expect(ok).toMatchObject({ changed: true, confirmation: 'token' });
    const outcome = stack.auditLines().find((l) => l.type === 'outcome');
    expect(stack.auditLines().find((l) => l.type === 'intent')).toMatchObject({ confirmation: 'token' });
    expect(outcome).toMatchObject({ result: 'ok' });
  });
});

describe('tool filtering', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('--read-only registers only read-only tools, even when --tools names a write tool', async () => {
    stack = await startStack({ flags: ['--read-only', '--tools', 'outreach_lock_user,outreach_get_user'] });
    const { tools } = await stack.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['outreach_get_user']);
  });

  it('--vendors without outreach hides the Outreach tools (and the Outreach SCIM connection)', async () => {
    stack = await startStack({ flags: ['--vendors', 'zoominfo'] });
    const names = (await stack.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('list_connections');
    expect(names.filter((n) => n.startsWith('outreach_'))).toEqual([]);
    expect(names).toContain('zoominfo_get_usage');
    const r = await stack.call('scim_list_users', { connection: 'outreach' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/OUTREACH_SCIM_TOKEN/);
  });

  it('list_connections reports Outreach with its capability matrix and budget', async () => {
    stack = await startStack();
    const s = structured(await stack.call('list_connections'));
    const o = s.vendors.find((v: any) => v.vendor === 'outreach');
    expect(o).toMatchObject({ configured: true, rest_available: true, auth_kind: 'bearer' });
    expect(o.capabilities.deactivate_user).toEqual(['rest', 'scim']);
    expect(o.rate_limit.windows[0]).toMatchObject({ name: 'hour', limit: 10_000 });
    expect(JSON.stringify(s)).not.toContain(stack.sandbox.outreach.staticAccessToken);
    const apollo = s.vendors.find((v: any) => v.vendor === 'apollo');
    expect(apollo.capabilities.deactivate_user).not.toContain('rest');
  });
});
