import { describe, expect, it } from 'vitest';
import type { AccountStatus } from '../../src/domain/account.js';
import type { SandboxVendor as Vendor } from '../../src/sandbox/index.js';
import { compactReview } from '../../src/workflows/review/compact.js';
import { reviewAccess } from '../../src/workflows/review/engine.js';
import { compileExceptions, globMatch } from '../../src/workflows/review/exceptions.js';
import { mergeSources } from '../../src/workflows/review/merge.js';
import type { Finding, FindingCode, ReviewAccount, ReviewResult, RosterEntry, VendorInventory } from '../../src/domain/review.js';

const NOW = new Date('2026-11-02T09:00:00Z');
const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY).toISOString();

let seq = 0;
function acct(vendor: Vendor, email: string | null, status: AccountStatus, extra: Partial<ReviewAccount> = {}): ReviewAccount {
  seq += 1;
  return {
    vendor,
    id: String(seq),
    email,
    name: email ? email.split('@')[0] : null,
    status,
    role: null,
    created_at: '2025-01-01T00:00:00Z',
    updated_at: null,
    source: 'rest',
    is_admin: false,
    ...extra,
  };
}

function inv(vendor: Vendor, accounts: ReviewAccount[], extra: Partial<VendorInventory> = {}): VendorInventory {
  return { vendor, auditable: true, sources: ['rest'], scim_configured: true, accounts, invitations: [], admin_known: true, ...extra };
}

function roster(...rows: [string, RosterEntry['status'], string?][]): RosterEntry[] {
  return rows.map(([email, status, terminated_on]) => ({ email, status, terminated_on: terminated_on ?? null }));
}

const of = (r: ReviewResult, code: FindingCode, vendor?: Vendor): Finding[] => r.findings.filter((f) => f.code === code && (vendor === undefined || f.vendor === vendor));
const emailsOf = (fs: Finding[]) => fs.flatMap((f) => f.accounts.map((a) => a.email));

describe('ORPHANED_ACCOUNT', () => {
  const accounts = [
    acct('salesloft', 'keep@acme.example', 'active'),
    acct('salesloft', 'Left@acme.example', 'active'),
    acct('salesloft', 'stranger@acme.example', 'active'),
    acct('salesloft', 'invited@acme.example', 'pending'),
    acct('salesloft', 'locked@acme.example', 'locked'),
    acct('salesloft', 'gone@acme.example', 'deactivated'),
    acct('salesloft', 'mystery@acme.example', 'unknown'),
    acct('salesloft', 'jane+crm@acme.example', 'active'),
    acct('salesloft', 'leaving-soon@acme.example', 'active'),
    acct('salesloft', 'left-by-date@acme.example', 'active'),
    acct('salesloft', 'unsure@acme.example', 'active'),
    acct('salesloft', null, 'active'),
  ];
  const hr = roster(
    ['keep@acme.example', 'active'],
    ['left@acme.example', 'terminated'],
    ['jane@acme.example', 'active'],
    ['leaving-soon@acme.example', 'terminated', '2026-12-31'],
    ['left-by-date@acme.example', 'active', '2026-10-01'],
    ['unsure@acme.example', 'unknown'],
  );

  it('flags active (high) and pending (medium) accounts absent from the roster or terminated in it', () => {
    const r = reviewAccess([inv('salesloft', accounts)], hr, { now: NOW });
    const found = of(r, 'ORPHANED_ACCOUNT');
    expect(found.map((f) => [f.accounts[0].email, f.severity, f.accounts[0].roster])).toEqual([
      // sorted by lower-cased email: '-' sorts before '@'
      ['left-by-date@acme.example', 'high', 'terminated'],
      ['Left@acme.example', 'high', 'terminated'],
      ['stranger@acme.example', 'high', 'absent'],
      ['invited@acme.example', 'medium', 'absent'],
    ]);
    expect(found[0].id).toMatch(/^ORPHANED_ACCOUNT:salesloft:\d+$/);
    expect(found[0].message).toMatch(/terminated in the roster/);
    // unknown-status and email-less live accounts are undetermined, not silently passed
    const und = r.undetermined.filter((u) => u.code === 'ORPHANED_ACCOUNT').map((u) => u.reason);
    expect(und).toEqual([
      '1 account absent from or terminated in the roster has status unknown (the listing did not say whether it is active)',
      '1 account without an email cannot be joined to the roster',
      // unsure@ is on the roster with a status the review cannot read: not counted as present and employed.
      '1 live account belongs to people whose roster status this review cannot read (see the roster warnings); check them by hand or use statuses such as active / terminated',
    ]);
  });

  it('is undetermined without a roster', () => {
    const r = reviewAccess([inv('salesloft', accounts), inv('apollo', [acct('apollo', 'x@acme.example', 'active')])], null, { now: NOW });
    expect(of(r, 'ORPHANED_ACCOUNT')).toEqual([]);
    expect(r.undetermined.filter((u) => u.code === 'ORPHANED_ACCOUNT').map((u) => u.vendor)).toEqual(['salesloft', 'apollo']);
    expect(r.roster).toEqual({ provided: false, entries: 0, terminated: 0 });
  });

  it('a live account of someone whose roster status cannot be read is undetermined, not silently passed', () => {
    const r = reviewAccess([inv('outreach', [acct('outreach', 'retired@acme.example', 'active'), acct('outreach', 'gone@acme.example', 'deactivated')])], roster(['retired@acme.example', 'unknown'], ['gone@acme.example', 'unknown']), { now: NOW });
    expect(of(r, 'ORPHANED_ACCOUNT')).toEqual([]);
    const u = r.undetermined.filter((x) => x.code === 'ORPHANED_ACCOUNT' && x.vendor === 'outreach');
    expect(u).toHaveLength(1);
    expect(u[0].reason).toMatch(/^1 live account belongs to people whose roster status this review cannot read/);
  });

  it('counts invitations listed apart for people absent from the roster', () => {
    const r = reviewAccess([inv('salesloft', [], { invitations: [{ email: 'Outsider@other.example', invited_at: daysAgo(2) }] })], roster(['a@acme.example', 'active']), { now: NOW });
    const [f] = of(r, 'ORPHANED_ACCOUNT');
    expect(f.severity).toBe('medium');
    expect(f.accounts[0]).toMatchObject({ kind: 'invitation', email: 'Outsider@other.example', roster: 'absent' });
  });
});

describe('LOCKED_STILL_BILLED', () => {
  it('flags Outreach users with locked true and active not false, unless they hold no seat', () => {
    const a = [
      acct('outreach', 'locked@acme.example', 'locked', { locked: true, active: null }),
      acct('outreach', 'locked-active@acme.example', 'locked', { locked: true, active: true }),
      acct('outreach', 'deprovisioned@acme.example', 'deactivated', { locked: true, active: false }),
      acct('outreach', 'fine@acme.example', 'active', { locked: false, active: true }),
      acct('outreach', 'freed@acme.example', 'locked', { locked: true, seat_held: false }),
    ];
    const r = reviewAccess([inv('outreach', a), inv('salesloft', [acct('salesloft', 'sl@acme.example', 'locked', { locked: true })])], null, { now: NOW });
    expect(emailsOf(of(r, 'LOCKED_STILL_BILLED'))).toEqual(['locked-active@acme.example', 'locked@acme.example']);
    const f = of(r, 'LOCKED_STILL_BILLED')[0];
    expect(f.vendor).toBe('outreach');
    expect(f.severity).toBe('low');
    expect(f.message).toMatch(/seat is still held/);
  });
});

describe('DEACTIVATED_SEAT_NOT_FREED', () => {
  it('flags deactivated Apollo users, not free seats and not other vendors', () => {
    const r = reviewAccess(
      [
        inv('apollo', [acct('apollo', 'old@acme.example', 'deactivated'), acct('apollo', 'billing@acme.example', 'deactivated', { seat_held: false }), acct('apollo', 'live@acme.example', 'active', { is_admin: true }), acct('apollo', 'admin2@acme.example', 'active', { is_admin: true })]),
        inv('salesloft', [acct('salesloft', 'off@acme.example', 'deactivated')]),
      ],
      null,
      { now: NOW },
    );
    const found = of(r, 'DEACTIVATED_SEAT_NOT_FREED');
    expect(emailsOf(found)).toEqual(['old@acme.example']);
    expect(found[0].recommended_action).toMatch(/Settings > Plan Overview/);
  });
});

describe('STALE_INVITATION', () => {
  it('flags invitations and pending accounts older than the threshold; undated ones are undetermined', () => {
    const accounts = [
      acct('salesloft', 'pending-old@acme.example', 'pending', { source: 'scim', invited_at: daysAgo(40) }),
      acct('salesloft', 'pending-new@acme.example', 'pending', { source: 'scim', invited_at: daysAgo(3) }),
      acct('salesloft', 'pending-created@acme.example', 'pending', { source: 'scim', invited_at: null, created_at: daysAgo(100) }),
      acct('salesloft', 'pending-undated@acme.example', 'pending', { source: 'scim', invited_at: null, created_at: null }),
    ];
    const invitations = [
      { email: 'inv-old@acme.example', invited_at: daysAgo(45) },
      { email: 'inv-new@acme.example', invited_at: daysAgo(29) },
      { email: 'inv-undated@acme.example', invited_at: null },
      // The same person as a pending account: folded into it, not reported twice.
      { email: 'Pending-Old@acme.example', invited_at: daysAgo(41) },
    ];
    const r = reviewAccess([inv('salesloft', accounts, { invitations, sources: ['rest', 'scim'] })], null, { now: NOW });
    const found = of(r, 'STALE_INVITATION');
    expect(found.map((f) => [f.accounts[0].email, f.accounts[0].detail])).toEqual([
      ['inv-old@acme.example', 'invited 45 days ago'],
      ['pending-created@acme.example', 'invited 100 days ago'],
      ['pending-old@acme.example', 'invited 41 days ago'],
    ]);
    expect(r.undetermined).toContainEqual({ code: 'STALE_INVITATION', vendor: 'salesloft', reason: '2 pending invitations without a date' });

    const r60 = reviewAccess([inv('salesloft', accounts, { invitations })], null, { now: NOW, staleInvitationDays: 60 });
    expect(emailsOf(of(r60, 'STALE_INVITATION'))).toEqual(['pending-created@acme.example']);
  });

  it('is undetermined where the vendor does not expose invitations, still checking pending accounts', () => {
    const r = reviewAccess([inv('apollo', [acct('apollo', 'p@acme.example', 'pending', { invited_at: daysAgo(90) })], { invitations: null })], null, { now: NOW });
    expect(r.undetermined.filter((u) => u.code === 'STALE_INVITATION')).toEqual([
      { code: 'STALE_INVITATION', vendor: 'apollo', reason: 'Apollo.io does not expose pending invitations to this connection; only accounts in status pending were checked' },
    ]);
    expect(emailsOf(of(r, 'STALE_INVITATION'))).toEqual(['p@acme.example']);
    expect(r.summary.by_vendor.apollo).toMatchObject({ auditable: true, invitations: null });
  });
});

describe('SOLE_ADMIN', () => {
  it('flags a vendor with exactly one active admin (Apollo: recovery through support)', () => {
    const r = reviewAccess(
      [
        inv('apollo', [
          acct('apollo', 'boss@acme.example', 'active', { is_admin: true }),
          acct('apollo', 'old-admin@acme.example', 'deactivated', { is_admin: true }),
          acct('apollo', 'rep@acme.example', 'active'),
        ]),
      ],
      roster(['boss@acme.example', 'active'], ['rep@acme.example', 'active']),
      { now: NOW },
    );
    const [f] = of(r, 'SOLE_ADMIN');
    expect(f).toMatchObject({ vendor: 'apollo', severity: 'medium', id: expect.stringMatching(/^SOLE_ADMIN:apollo:/) });
    expect(f.accounts.map((a) => a.email)).toEqual(['boss@acme.example']);
    expect(f.message).toMatch(/Apollo support/);
    expect(f.recommended_action).toMatch(/Settings > Users and Teams/);
    expect(r.summary.by_vendor.apollo).toMatchObject({ active_admins: 1 });
  });

  it('is high when the sole admin left; none with two admins; undetermined when admins are unknown', () => {
    const leaving = reviewAccess([inv('salesloft', [acct('salesloft', 'boss@acme.example', 'active', { is_admin: true }), acct('salesloft', 'rep@acme.example', 'active')])], roster(['rep@acme.example', 'active']), { now: NOW });
    expect(of(leaving, 'SOLE_ADMIN')[0].severity).toBe('high');

    const two = reviewAccess([inv('salesloft', [acct('salesloft', 'a@acme.example', 'active', { is_admin: true }), acct('salesloft', 'b@acme.example', 'active', { is_admin: true })])], null, { now: NOW });
    expect(of(two, 'SOLE_ADMIN')).toEqual([]);
    expect(two.undetermined.filter((u) => u.code === 'SOLE_ADMIN')).toEqual([]);

    const unknown = reviewAccess([inv('zoominfo', [acct('zoominfo', 'a@acme.example', 'active', { is_admin: null, source: 'scim' })], { admin_known: false })], null, { now: NOW });
    expect(of(unknown, 'SOLE_ADMIN')).toEqual([]);
    expect(unknown.undetermined).toContainEqual({ code: 'SOLE_ADMIN', vendor: 'zoominfo', reason: 'the ZoomInfo listing does not say which users are admins' });
    expect(unknown.summary.by_vendor.zoominfo).toMatchObject({ active_admins: null });

    const partial = reviewAccess([inv('outreach', [acct('outreach', 'a@acme.example', 'active', { is_admin: true }), acct('outreach', 'b@acme.example', 'active', { is_admin: null })])], null, { now: NOW });
    expect(of(partial, 'SOLE_ADMIN')).toEqual([]);
    expect(partial.undetermined.find((u) => u.code === 'SOLE_ADMIN')?.reason).toMatch(/1 active account do not say/);
  });
});

describe('REST + SCIM merge and DUPLICATE_IDENTITY', () => {
  it('merges REST and SCIM records of one person before judging duplicates', () => {
    const records = [
      acct('outreach', 'Dana.Lee@acme.example', 'active', { id: '1' }),
      acct('outreach', 'dana.lee@acme.example', 'active', { id: '2' }),
      acct('outreach', 'dana.lee@acme.example', 'active', { id: 'scim-2', source: 'scim' }),
      acct('outreach', 'wei@acme.example', 'active', { id: '3' }),
      acct('outreach', 'WEI@acme.example', 'active', { id: 'scim-3', source: 'scim' }),
    ];
    const merged = mergeSources('outreach', records);
    expect(merged.accounts).toHaveLength(3);
    const dana = merged.accounts.find((a) => a.ids.scim === 'scim-2');
    expect(dana).toMatchObject({ id: '2', ids: { rest: '2', scim: 'scim-2' }, sources: ['rest', 'scim'], email: 'dana.lee@acme.example' });

    const r = reviewAccess([inv('outreach', records, { sources: ['rest', 'scim'] })], null, { now: NOW });
    const dups = of(r, 'DUPLICATE_IDENTITY');
    expect(dups).toHaveLength(1);
    expect(dups[0].accounts.map((a) => [a.email, a.detail, a.sources])).toEqual([
      ['Dana.Lee@acme.example', 'case variant', ['rest']],
      ['dana.lee@acme.example', 'case variant', ['rest', 'scim']],
    ]);
    expect(dups[0].message).toMatch(/differing only in case/);
    expect(r.summary.by_vendor.outreach).toMatchObject({ accounts: 3, by_source: { rest: 1, scim: 0, both: 2 } });
  });

  it('pairs by id when the emails agree, and never merges two records of the same source', () => {
    const m = mergeSources('outreach', [
      acct('outreach', 'a@acme.example', 'active', { id: '7' }),
      acct('outreach', 'A@acme.example', 'active', { id: '7', source: 'scim' }),
      acct('outreach', 'b@acme.example', 'active', { id: '8' }),
      acct('outreach', 'someone-else@acme.example', 'active', { id: '8', source: 'scim' }),
    ]);
    expect(m.accounts.map((a) => [a.id, a.sources.join('+')])).toEqual([
      ['7', 'rest+scim'],
      ['8', 'rest'],
      ['8', 'scim'],
    ]);
  });

  it('keeps the more alive status on a conflict and notes it; REST locked + SCIM active is locked', () => {
    const r = reviewAccess(
      [
        inv(
          'outreach',
          [
            acct('outreach', 'x@acme.example', 'active', { id: '1' }),
            acct('outreach', 'x@acme.example', 'deactivated', { id: 's1', source: 'scim' }),
            acct('outreach', 'y@acme.example', 'locked', { id: '2', locked: true }),
            acct('outreach', 'y@acme.example', 'active', { id: 's2', source: 'scim', active: true }),
          ],
          { sources: ['rest', 'scim'] },
        ),
      ],
      roster(),
      { now: NOW },
    );
    const x = r.accounts.find((a) => a.email === 'x@acme.example')!;
    expect(x.status).toBe('active');
    expect(x.status_by_source).toEqual({ rest: 'active', scim: 'deactivated' });
    expect(x.notes).toEqual(['status conflict: REST says active, SCIM says deactivated; reviewed as active']);
    const y = r.accounts.find((a) => a.email === 'y@acme.example')!;
    expect(y.status).toBe('locked');
    expect(y.notes).toEqual([]);
    expect(r.summary.by_vendor.outreach).toMatchObject({ status_conflicts: 1 });
    // x is active in one source, so it is an orphan; y is locked, so it is billed, not orphaned.
    expect(emailsOf(of(r, 'ORPHANED_ACCOUNT'))).toEqual(['x@acme.example']);
    expect(emailsOf(of(r, 'LOCKED_STILL_BILLED'))).toEqual(['y@acme.example']);
  });

  it('finds +tag sub-addresses and the same email on two ids, but not deactivated leftovers', () => {
    const r = reviewAccess(
      [
        inv('salesloft', [
          acct('salesloft', 'jane@acme.example', 'active'),
          acct('salesloft', 'jane+demo@acme.example', 'active'),
          acct('salesloft', 'sam@acme.example', 'active', { id: '100' }),
          acct('salesloft', 'sam@acme.example', 'pending', { id: '101' }),
          acct('salesloft', 'old@acme.example', 'active'),
          acct('salesloft', 'Old@acme.example', 'deactivated'),
        ]),
      ],
      null,
      { now: NOW },
    );
    const dups = of(r, 'DUPLICATE_IDENTITY');
    expect(dups.map((d) => d.id)).toEqual(['DUPLICATE_IDENTITY:salesloft:jane@acme.example', 'DUPLICATE_IDENTITY:salesloft:sam@acme.example']);
    expect(dups[0].accounts.map((a) => [a.email, a.detail])).toEqual([
      ['jane+demo@acme.example', 'sub-address'],
      ['jane@acme.example', 'base address'],
    ]);
    expect(dups[1].accounts.map((a) => a.detail)).toEqual(['same email', 'same email']);
    expect(dups[1].message).toMatch(/same email on several accounts/);
  });
});

describe('NOT_AUDITABLE and NO_AUTOMATED_OFFBOARDING', () => {
  it('lists a vendor that cannot be listed with its reason, never as zero accounts', () => {
    const r = reviewAccess(
      [
        inv('zoominfo', [], { auditable: false, not_auditable_reason: "ZoomInfo's REST API has no seat list; configure SCIM to audit seats", sources: [], scim_configured: false, invitations: null, admin_known: false }),
        inv('outreach', [acct('outreach', 'a@acme.example', 'active', { is_admin: true }), acct('outreach', 'b@acme.example', 'active', { is_admin: true })]),
      ],
      null,
      { now: NOW },
    );
    expect(r.not_auditable).toEqual([{ vendor: 'zoominfo', reason: "ZoomInfo's REST API has no seat list; configure SCIM to audit seats" }]);
    expect(r.summary.by_vendor.zoominfo).toEqual({ auditable: false, reason: "ZoomInfo's REST API has no seat list; configure SCIM to audit seats", scim_configured: false });
    expect(r.summary.accounts_total).toBe(2);
    expect(r.summary.not_auditable_total).toBe(1);
    expect(r.undetermined.filter((u) => u.vendor === 'zoominfo')).toEqual([]);
    expect(r.findings.filter((f) => f.vendor === 'zoominfo').map((f) => f.code)).toEqual(['NO_AUTOMATED_OFFBOARDING']);
    expect(r.accounts.filter((a) => a.vendor === 'zoominfo')).toEqual([]);
  });

  it('says partially manual for Outreach and SalesLoft, fully manual with the console path for Apollo', () => {
    const r = reviewAccess(
      [
        inv('outreach', [], { scim_configured: false }),
        inv('salesloft', [], { scim_configured: false }),
        inv('apollo', [], { scim_configured: false }),
        inv('zoominfo', [], { scim_configured: true, sources: ['scim'] }),
      ],
      null,
      { now: NOW },
    );
    const f = of(r, 'NO_AUTOMATED_OFFBOARDING');
    expect(f.map((x) => [x.vendor, x.severity])).toEqual([
      ['apollo', 'medium'],
      ['outreach', 'low'],
      ['salesloft', 'low'],
    ]);
    expect(f.find((x) => x.vendor === 'outreach')!.message).toMatch(/partially manual.*keeps the licensed seat/);
    expect(f.find((x) => x.vendor === 'salesloft')!.message).toMatch(/partially manual/);
    expect(f.find((x) => x.vendor === 'apollo')!.message).toMatch(/fully manual.*Settings > Users and Teams/);
    expect(f.every((x) => x.accounts.length === 0)).toBe(true);
  });
});

describe('exceptions', () => {
  const accounts = [
    acct('outreach', 'integration.bot@acme.example', 'active', { is_admin: true }),
    acct('outreach', 'svc-sync@acme.example', 'active'),
    acct('outreach', 'SVC-Report@partner.example', 'active'),
    acct('outreach', 'human@acme.example', 'active', { is_admin: true }),
    acct('outreach', 'a.b@acme.example', 'active'),
    acct('outreach', 'axb@acme.example', 'active'),
    acct('outreach', 'jane@acme.example', 'active'),
    acct('outreach', 'jane+bot@acme.example', 'active'),
  ];

  it('suppresses findings for exact emails and glob patterns and lists what it suppressed', () => {
    const r = reviewAccess([inv('outreach', accounts)], roster(['jane@acme.example', 'active']), {
      now: NOW,
      exceptions: ['*.bot@acme.example', 'svc-*@*', 'A.B@acme.example', '*+bot@*'],
    });
    expect(emailsOf(of(r, 'ORPHANED_ACCOUNT'))).toEqual(['axb@acme.example', 'human@acme.example']);
    expect(r.suppressed.map((s) => [s.code, s.email, s.matched_exception])).toEqual([
      ['ORPHANED_ACCOUNT', 'a.b@acme.example', 'A.B@acme.example'],
      ['ORPHANED_ACCOUNT', 'integration.bot@acme.example', '*.bot@acme.example'],
      ['ORPHANED_ACCOUNT', 'svc-report@partner.example', 'svc-*@*'],
      ['ORPHANED_ACCOUNT', 'svc-sync@acme.example', 'svc-*@*'],
    ]);
    expect(r.summary.suppressed_total).toBe(4);
    // A duplicate group is suppressed only when every account in it matches: jane@ does not.
    expect(of(r, 'DUPLICATE_IDENTITY')).toHaveLength(1);
    const row = r.accounts.find((a) => a.email === 'svc-sync@acme.example')!;
    expect(row.suppressed).toEqual(['ORPHANED_ACCOUNT']);
    expect(row.findings).toEqual([]);
  });

  it('treats regex metacharacters literally and stays fast on pathological patterns', () => {
    const m = compileExceptions(['(a+)+$', 'a.b@acme.example', '[x]@*']);
    expect(m.match('a.b@acme.example')).toBe('a.b@acme.example');
    expect(m.match('axb@acme.example')).toBeNull();
    expect(m.match('(a+)+$')).toBe('(a+)+$');
    expect(m.match('[x]@y.example')).toBe('[x]@*');
    expect(m.match('x@y.example')).toBeNull();
    expect(globMatch('a?c', 'abc')).toBe(true);
    expect(globMatch('a?c', 'ac')).toBe(false);
    // A backtracking matcher would take exponential time here and never finish within the test timeout.
    expect(globMatch('*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5_000))).toBe(false);
    expect(() => compileExceptions(Array.from({ length: 1001 }, () => 'x'))).toThrow(/at most 1000/);
  });
});

describe('inputs', () => {
  it('combines two inventories of one vendor (REST and SCIM listed separately) and merges their records', () => {
    const r = reviewAccess(
      [
        inv('salesloft', [acct('salesloft', 'a@acme.example', 'active', { id: '1', is_admin: true }), acct('salesloft', 'b@acme.example', 'active', { id: '2' })], { scim_configured: false, invitations: null }),
        inv('salesloft', [acct('salesloft', 'A@acme.example', 'active', { id: 's1', source: 'scim', is_admin: null })], { sources: ['scim'], scim_configured: true, admin_known: false }),
      ],
      null,
      { now: NOW },
    );
    expect(r.summary.by_vendor.salesloft).toMatchObject({ accounts: 2, by_source: { rest: 1, scim: 0, both: 1 }, scim_configured: true, active_admins: 1 });
    expect(of(r, 'NO_AUTOMATED_OFFBOARDING')).toEqual([]);
    expect(of(r, 'SOLE_ADMIN')).toHaveLength(1);
  });

  it('rejects a bad clock, a negative threshold and an unknown vendor', () => {
    expect(() => reviewAccess([], null, { now: new Date('nope') })).toThrow(/valid Date/);
    expect(() => reviewAccess([], null, { now: NOW, staleInvitationDays: -1 })).toThrow(/non-negative/);
    expect(() => reviewAccess([inv('hubspot' as Vendor, [])], null, { now: NOW })).toThrow(/unknown vendor/);
  });

  it('keeps the compact result small even with many long listing errors', () => {
    const errors = Array.from({ length: 500 }, (_, i) => `page ${i} failed: ${'x'.repeat(2000)}`);
    const r = reviewAccess([inv('outreach', [acct('outreach', 'a@acme.example', 'active')], { errors })], null, { now: NOW });
    expect(r.warnings).toHaveLength(500);
    const compact = compactReview(r);
    expect(Buffer.byteLength(JSON.stringify(compact))).toBeLessThanOrEqual(24_000);
    expect(compact.truncated).toBe(true);
  });
});

describe('determinism and scale', () => {
  function synthetic(n: number): { inventories: VendorInventory[]; roster: RosterEntry[] } {
    const hr: RosterEntry[] = [];
    for (let i = 0; i < n; i++) {
      // every 10th person is absent from the roster, every 10th + 1 terminated
      if (i % 10 === 0) continue;
      hr.push({ email: `user${i}@acme.example`, status: i % 10 === 1 ? 'terminated' : 'active', terminated_on: null });
    }
    const make = (vendor: Vendor, i: number, source: 'rest' | 'scim'): ReviewAccount => ({
      vendor,
      id: `${source}-${i}`,
      email: i % 7 === 0 ? `User${i}@ACME.example` : `user${i}@acme.example`,
      name: `User ${i}`,
      status: i % 20 === 5 ? 'deactivated' : i % 20 === 6 && vendor === 'outreach' ? 'locked' : 'active',
      role: i < 2 ? 'Admin' : 'User',
      created_at: '2025-01-01T00:00:00Z',
      updated_at: null,
      source,
      is_admin: i < 2,
      locked: vendor === 'outreach' ? i % 20 === 6 : undefined,
      active: vendor === 'outreach' ? i % 20 !== 5 : undefined,
    });
    const inventories: VendorInventory[] = [];
    for (const vendor of ['outreach', 'salesloft', 'apollo', 'zoominfo'] as const) {
      const accounts: ReviewAccount[] = [];
      for (let i = 0; i < n; i++) accounts.push(make(vendor, i, vendor === 'zoominfo' ? 'scim' : 'rest'));
      // Outreach is listed through both APIs: every person twice, to be merged.
      if (vendor === 'outreach') for (let i = 0; i < n; i++) accounts.push(make(vendor, i, 'scim'));
      inventories.push({
        vendor,
        auditable: true,
        sources: vendor === 'outreach' ? ['rest', 'scim'] : [vendor === 'zoominfo' ? 'scim' : 'rest'],
        scim_configured: vendor === 'outreach' || vendor === 'zoominfo',
        accounts,
        invitations: vendor === 'salesloft' ? [{ email: 'new@acme.example', invited_at: daysAgo(60) }] : null,
        admin_known: true,
      });
    }
    return { inventories, roster: hr };
  }

  it('gives the same output for shuffled input', () => {
    const { inventories, roster: hr } = synthetic(200);
    const a = reviewAccess(inventories, hr, { now: NOW, exceptions: ['user1*@acme.example'] });
    const shuffled = inventories
      .slice()
      .reverse()
      .map((i) => ({ ...i, accounts: i.accounts.slice().reverse() }));
    const b = reviewAccess(shuffled, hr.slice().reverse(), { now: NOW, exceptions: ['user1*@acme.example'] });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = reviewAccess(inventories, hr, { now: NOW, exceptions: ['user1*@acme.example'] });
    expect(JSON.stringify(c)).toBe(JSON.stringify(a));
  });

  it('reviews 4 vendors x 10,000 accounts with the right counts and a small compact result', () => {
    const n = 10_000;
    const { inventories, roster: hr } = synthetic(n);
    const t0 = performance.now();
    const r = reviewAccess(inventories, hr, { now: NOW });
    const ms = performance.now() - t0;
    console.log(`reviewAccess 4 x ${n}: ${ms.toFixed(0)} ms, ${r.findings.length} findings`);

    expect(r.summary.accounts_total).toBe(4 * n);
    const outreach = r.summary.by_vendor.outreach!;
    expect(outreach).toMatchObject({ auditable: true, accounts: n, by_source: { rest: 0, scim: 0, both: n } });
    const deactivated = n / 20;
    const locked = n / 20;
    expect(r.summary.by_status.deactivated).toBe(4 * deactivated);
    expect(r.summary.by_status.locked).toBe(locked);
    expect(r.summary.by_status.active).toBe(4 * n - 4 * deactivated - locked);

    // Orphans: active people whose index is 0 or 1 mod 10 (absent or terminated); 5 and 6 mod 20 are never 0/1 mod 10.
    const orphansPerVendor = n / 5;
    expect(r.summary.by_finding.ORPHANED_ACCOUNT).toBe(4 * orphansPerVendor + 1); // + the salesloft invitation
    expect(r.summary.by_finding.LOCKED_STILL_BILLED).toBe(locked);
    expect(r.summary.by_finding.DEACTIVATED_SEAT_NOT_FREED).toBe(deactivated);
    expect(r.summary.by_finding.STALE_INVITATION).toBe(1);
    expect(r.summary.by_finding.SOLE_ADMIN).toBe(0);
    expect(r.summary.by_finding.DUPLICATE_IDENTITY).toBe(0);
    expect(r.summary.by_finding.NO_AUTOMATED_OFFBOARDING).toBe(2);
    expect(r.accounts).toHaveLength(4 * n + 1);

    const compact = compactReview(r);
    const bytes = Buffer.byteLength(JSON.stringify(compact));
    expect(bytes).toBeLessThanOrEqual(24_000);
    expect(compact.truncated).toBe(true);
    expect(compact.top_findings.length).toBeGreaterThan(0);
    expect(compact.top_findings.length + compact.findings_omitted).toBe(r.findings.length);
    expect(compact.top_findings[0].severity).toBe('high');
  });
});
