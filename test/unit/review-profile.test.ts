import { describe, expect, it } from 'vitest';
import { reviewAccess } from '../../src/workflows/review/engine.js';
import type { VendorReviewProfile } from '../../src/domain/review.js';
import { registryProfiles } from '../../src/workflows/review/profiles.js';

const builtinProfileOf = registryProfiles().profileOf;
import { accountKey, type FindingRule } from '../../src/domain/review.js';
import type { ReviewAccount, VendorInventory } from '../../src/domain/review.js';

const NOW = new Date('2026-11-02T09:00:00Z');

function acct(vendor: string, id: string, email: string, extra: Partial<ReviewAccount> = {}): ReviewAccount {
  return { vendor, id, email, name: null, status: 'active', role: null, created_at: null, updated_at: null, source: 'rest', is_admin: false, ...extra };
}

function inv(vendor: string, accounts: ReviewAccount[], extra: Partial<VendorInventory> = {}): VendorInventory {
  return { vendor, auditable: true, sources: ['rest'], scim_configured: true, accounts, invitations: [], admin_known: true, ...extra };
}

// A vendor the engine has never heard of: everything it knows comes from this profile.
const seatsRule: FindingRule = {
  code: 'LOCKED_STILL_BILLED',
  check(v, emit) {
    for (const a of v.accounts) {
      if (a.locked) emit.finding({ key: accountKey(a), severity: 'low', accounts: [{ row: a, detail: 'locked' }], message: `${v.profile.label} keeps the seat.`, recommended_action: 'Free it.' });
    }
  },
};
const hubspot: VendorReviewProfile = {
  label: 'HubSpot',
  rules: [seatsRule],
  offboardingPath: (scim) => (scim ? 'SCIM' : 'the HubSpot console'),
  noAutomatedOffboarding: { severity: 'info', message: 'HubSpot offboarding is manual.', recommended_action: 'Configure SCIM.' },
  soleAdmin: { message: 'HubSpot has one super admin.', recommended_action: 'Add another.' },
  invitationHoldsSeat: true,
};
const profileOf = (v: string) => (v === 'hubspot' ? hubspot : builtinProfileOf(v));

describe('a vendor known only by its review profile', () => {
  it('gets the generic rules in its own words, its own rules, and its place in the given order', () => {
    const r = reviewAccess(
      [
        inv('outreach', [acct('outreach', '1', 'a@acme.example', { is_admin: true }), acct('outreach', '2', 'b@acme.example', { is_admin: true })]),
        inv('hubspot', [acct('hubspot', 'h1', 'boss@acme.example', { is_admin: true }), acct('hubspot', 'h2', 'gone@acme.example', { status: 'locked', locked: true })], {
          scim_configured: false,
          invitations: [{ email: 'new@acme.example', invited_at: '2026-01-01T00:00:00Z' }],
        }),
      ],
      [{ email: 'boss@acme.example', status: 'active', terminated_on: null }],
      { now: NOW, profileOf, vendorOrder: ['hubspot', 'outreach'] },
    );
    expect(Object.keys(r.summary.by_vendor)).toEqual(['hubspot', 'outreach']);
    const hs = r.findings.filter((f) => f.vendor === 'hubspot');
    expect(hs.map((f) => f.id).sort()).toEqual([
      'LOCKED_STILL_BILLED:hubspot:h2',
      'NO_AUTOMATED_OFFBOARDING:hubspot:',
      'ORPHANED_ACCOUNT:hubspot:invitation:new@acme.example',
      'SOLE_ADMIN:hubspot:h1',
      'STALE_INVITATION:hubspot:invitation:new@acme.example',
    ]);
    expect(hs.find((f) => f.code === 'ORPHANED_ACCOUNT')!.message).toBe('HubSpot pending invitation of someone absent from the roster.');
    expect(hs.find((f) => f.code === 'SOLE_ADMIN')!.message).toBe('HubSpot has one super admin.');
    expect(hs.find((f) => f.code === 'STALE_INVITATION')!.recommended_action).toMatch(/reserves access and a paid seat/);
    expect(hs.find((f) => f.code === 'NO_AUTOMATED_OFFBOARDING')!.severity).toBe('info');
    expect(r.accounts.find((a) => a.id === 'h2')!.findings).toEqual(['LOCKED_STILL_BILLED']);
    // The evidence rows follow the given vendor order too.
    expect([...new Set(r.accounts.map((a) => a.vendor))]).toEqual(['hubspot', 'outreach']);
  });

  it('runs only the rules that need no seats when the vendor cannot be listed', () => {
    const r = reviewAccess([inv('hubspot', [], { auditable: false, scim_configured: false, invitations: null, admin_known: false })], null, { now: NOW, profileOf });
    expect(r.findings.map((f) => f.code)).toEqual(['NO_AUTOMATED_OFFBOARDING']);
    expect(r.undetermined).toEqual([]);
    expect(r.not_auditable).toEqual([{ vendor: 'hubspot', reason: "HubSpot's seats cannot be listed with what is configured" }]);
  });

  it('is refused without a profile', () => {
    expect(() => reviewAccess([inv('hubspot', [])], null, { now: NOW })).toThrow(/unknown vendor in inventory: hubspot/);
  });
});
