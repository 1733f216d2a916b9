import { ACCOUNT_STATUSES } from '../../domain/account.js';
import { isTerminated } from '../roster.js';
import {
  FINDING_CODES,
  SEVERITIES,
  type AccountRef,
  type Finding,
  type FindingCode,
  type NotAuditable,
  type ReviewedAccount,
  type ReviewResult,
  type RosterEntry,
  type Severity,
  type StatusCounts,
  type Suppressed,
  type Undetermined,
  type VendorInventory,
  type VendorSummary,
} from '../../domain/review.js';
import { cmp, identityKey, lower, ReviewInputError } from './common.js';
import { compileExceptions, suppressingExceptions, type ExceptionMatcher } from './exceptions.js';
import { foldInvitations, mergeRecords } from './merge.js';
import type { ProfileOf } from '../../domain/review.js';
import { registryProfiles } from './profiles.js';
import type { FindingRule, ReviewRow, RuleEmitter, VendorUnderReview } from '../../domain/review.js';
import { duplicateIdentity } from './rules/duplicate-identity.js';
import { noAutomatedOffboarding } from './rules/no-automated-offboarding.js';
import { orphanedAccount } from './rules/orphaned.js';
import { soleAdmin } from './rules/sole-admin.js';
import { staleInvitation } from './rules/stale-invitation.js';

/**
 * The pure core of the cross-vendor access review (issue 5): inventories and a roster in, findings out.
 * Per vendor: merge its REST and SCIM records (merge.ts), join them with the roster, run the generic rules
 * and the vendor's own (its profile's); then apply exceptions, sort and count. Everything the engine knows
 * about a vendor comes from its VendorReviewProfile. Linear in the number of accounts (maps keyed by
 * lower-cased email; one sort at the end).
 *
 * Roster join. Lower-cased email; when absent, the same address without a `+tag` (jane+x@ → jane@). A roster
 * entry counts as terminated when its termination date is on or before the review day, or, without a date,
 * when its status is terminated; `unknown` entries count as present.
 */

export interface ReviewOptions {
  /** Exact emails (case-insensitive) or glob patterns (`*` any run, `?` one character), e.g. `svc-*@*`. */
  exceptions?: string[];
  /** Pending invitations older than this many days are stale; default 30. */
  staleInvitationDays?: number;
  now: Date;
  /** Each vendor's review profile; default the built-in adapters'. An inventory of a vendor without one is refused. */
  profileOf?: ProfileOf;
  /**
   * The order vendors are reported in (the result's by_vendor keys, and the vendor tie-break of findings,
   * undetermined checks and evidence rows); default the built-in registry's order. Vendors not listed follow
   * by id. An explicit order rather than the inventories' own, so shuffled inputs give the same output.
   */
  vendorOrder?: readonly string[];
}

/** Every vendor gets these; a profile adds its vendor's own rules after them. */
const GENERIC_RULES: readonly FindingRule[] = [orphanedAccount, staleInvitation, soleAdmin, duplicateIdentity, noAutomatedOffboarding];

const SEVERITY_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;
const CODE_RANK = Object.fromEntries(FINDING_CODES.map((c, i) => [c, i])) as Record<FindingCode, number>;

type RosterState = NonNullable<AccountRef['roster']>;

function emptyStatusCounts(): StatusCounts {
  return Object.fromEntries(ACCOUNT_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

/** The roster keyed by lower-cased email; an email listed twice is terminated if either entry says so. */
function indexRoster(roster: readonly RosterEntry[], now: Date): { states: Map<string, RosterState>; terminated: number } {
  const states = new Map<string, RosterState>();
  let terminated = 0;
  for (const entry of roster) {
    const e = lower(entry.email);
    if (e === null) continue;
    const state: RosterState = isTerminated(entry, now) ? 'terminated' : entry.status === 'unknown' ? 'unknown' : 'active';
    const prev = states.get(e);
    if (prev === undefined || (state === 'terminated' && prev !== 'terminated')) {
      states.set(e, state);
      if (state === 'terminated') terminated += 1;
    }
  }
  return { states, terminated };
}

/** Combines inventories given twice for one vendor (e.g. REST and SCIM listed separately); refuses unknown vendors. */
function combineInventories(inventories: readonly VendorInventory[], profileOf: ProfileOf): VendorInventory[] {
  const byVendor = new Map<string, VendorInventory>();
  for (const inv of inventories) {
    if (profileOf(inv.vendor) === undefined) throw new ReviewInputError(`unknown vendor in inventory: ${String(inv.vendor).slice(0, 40)}`);
    const prev = byVendor.get(inv.vendor);
    if (!prev) {
      byVendor.set(inv.vendor, inv);
      continue;
    }
    const auditable = prev.auditable || inv.auditable;
    byVendor.set(inv.vendor, {
      vendor: inv.vendor,
      auditable,
      not_auditable_reason: auditable ? undefined : (prev.not_auditable_reason ?? inv.not_auditable_reason),
      sources: [...new Set([...prev.sources, ...inv.sources])],
      scim_configured: prev.scim_configured || inv.scim_configured,
      accounts: [...(prev.auditable ? prev.accounts : []), ...(inv.auditable ? inv.accounts : [])],
      invitations: prev.invitations === null && inv.invitations === null ? null : [...(prev.invitations ?? []), ...(inv.invitations ?? [])],
      admin_known: (prev.auditable && prev.admin_known) || (inv.auditable && inv.admin_known),
      errors: [...(prev.errors ?? []), ...(inv.errors ?? [])],
    });
  }
  return [...byVendor.values()];
}

/** Rank of each vendor: its place in `order`, then the vendors `order` does not list, by id. */
function rankVendors(vendors: readonly string[], order: readonly string[]): Map<string, number> {
  const rank = new Map<string, number>();
  order.forEach((v, i) => {
    if (!rank.has(v)) rank.set(v, i);
  });
  const rest = vendors.filter((v) => !rank.has(v)).sort(cmp);
  rest.forEach((v, i) => rank.set(v, order.length + i));
  return rank;
}

/**
 * Splits findings into those kept and those an exception suppresses (suppressingExceptions), and records
 * each finding's code on the evidence rows it concerns, as a finding or as suppressed.
 */
function applyExceptions(findings: readonly Finding[], exceptions: ExceptionMatcher, rowOfRef: ReadonlyMap<AccountRef, ReviewRow>): { kept: Finding[]; suppressed: Suppressed[] } {
  const kept: Finding[] = [];
  const suppressed: Suppressed[] = [];
  const mark = (ref: AccountRef, list: 'findings' | 'suppressed', code: FindingCode) => {
    const row = rowOfRef.get(ref);
    if (row && !row[list].includes(code)) row[list].push(code);
  };
  for (const f of findings) {
    const matched = suppressingExceptions(f.accounts, exceptions);
    if (matched) {
      f.accounts.forEach((a, i) => {
        suppressed.push({ code: f.code, vendor: f.vendor, email: lower(a.email) as string, matched_exception: matched[i], finding_id: f.id });
        mark(a, 'suppressed', f.code);
      });
      continue;
    }
    kept.push(f);
    for (const a of f.accounts) mark(a, 'findings', f.code);
  }
  return { kept, suppressed };
}

function countFindings(findings: readonly Finding[]): Pick<ReviewResult['summary'], 'by_finding' | 'by_severity'> {
  const byFinding = Object.fromEntries(FINDING_CODES.map((c) => [c, 0])) as Record<FindingCode, number>;
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) {
    byFinding[f.code] += 1;
    bySeverity[f.severity] += 1;
  }
  return { by_finding: byFinding, by_severity: bySeverity };
}

function auditableSummary(inv: VendorInventory, rows: readonly ReviewRow[], conflicts: number): VendorSummary {
  const counts = emptyStatusCounts();
  const bySource = { rest: 0, scim: 0, both: 0 };
  let activeAdmins = 0;
  for (const a of rows) {
    counts[a.status] += 1;
    if (a.sources.length === 2) bySource.both += 1;
    else bySource[a.sources[0]] += 1;
    if (a.status === 'active' && a.is_admin === true) activeAdmins += 1;
  }
  return {
    auditable: true,
    accounts: rows.length,
    by_status: counts,
    by_source: bySource,
    invitations: inv.invitations === null ? null : inv.invitations.length,
    active_admins: inv.admin_known ? activeAdmins : null,
    status_conflicts: conflicts,
    scim_configured: inv.scim_configured,
    errors: [...(inv.errors ?? [])],
  };
}

/**
 * Runs the review. Findings (after exceptions) are sorted by severity, vendor, first account email, code
 * and id, so the same inputs always give the same output. What each code means is in FINDING_DESCRIPTIONS;
 * its exact rule is documented in its module (rules/, or the vendor's profile).
 */
export function reviewAccess(inventories: readonly VendorInventory[], roster: readonly RosterEntry[] | null, opts: ReviewOptions): ReviewResult {
  const now = opts.now;
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new ReviewInputError('opts.now must be a valid Date');
  const staleDays = opts.staleInvitationDays ?? 30;
  if (!Number.isFinite(staleDays) || staleDays < 0) throw new ReviewInputError('stale_invitation_days must be a non-negative number');
  const exceptions = compileExceptions(opts.exceptions);
  const builtin = opts.profileOf && opts.vendorOrder ? undefined : registryProfiles();
  const profileOf = opts.profileOf ?? builtin!.profileOf;

  const rosterIndex = roster ? indexRoster(roster, now) : null;
  const rosterOf = (emailLower: string | null): RosterState | null => {
    if (!rosterIndex) return null;
    if (emailLower === null) return 'absent';
    return rosterIndex.states.get(emailLower) ?? rosterIndex.states.get(identityKey(emailLower)) ?? 'absent';
  };

  const combined = combineInventories(inventories, profileOf);
  const vendorRank = rankVendors(combined.map((i) => i.vendor), opts.vendorOrder ?? builtin!.vendorOrder);
  const rankOf = (vendor: string) => vendorRank.get(vendor) as number;
  combined.sort((a, b) => rankOf(a.vendor) - rankOf(b.vendor));

  const findings: Finding[] = [];
  const undetermined: Undetermined[] = [];
  const notAuditable: NotAuditable[] = [];
  const warnings: string[] = [];
  const byVendor: Partial<Record<string, VendorSummary>> = {};
  const byStatus = emptyStatusCounts();
  const rows: ReviewRow[] = [];
  let accountsTotal = 0;
  /** Which evidence row each finding's account reference stands for (so codes can be attached in O(1)). */
  const rowOfRef = new Map<AccountRef, ReviewRow>();

  const refOf = (a: ReviewRow, detail?: string): AccountRef => {
    const ref: AccountRef = { kind: a.kind, id: a.id, email: a.email, name: a.name, status: a.status, sources: a.sources, role: a.role, roster: a.roster };
    if (detail !== undefined) ref.detail = detail;
    rowOfRef.set(ref, a);
    return ref;
  };
  const emitterFor = (rule: FindingRule, vendor: string): RuleEmitter => ({
    finding: (d) =>
      findings.push({
        id: `${rule.code}:${vendor}:${d.key}`,
        code: rule.code,
        severity: d.severity,
        vendor,
        accounts: d.accounts.map((x) => refOf(x.row, x.detail)),
        message: d.message,
        recommended_action: d.recommended_action,
      }),
    undetermined: (reason) => undetermined.push({ code: rule.code, vendor, reason }),
  });

  for (const inv of combined) {
    const vendor = inv.vendor;
    const profile = profileOf(vendor)!;
    for (const e of inv.errors ?? []) warnings.push(`${vendor}: ${e}`);

    let accounts: ReviewRow[] = [];
    let invitations: ReviewRow[] = [];
    if (inv.auditable) {
      const merged = mergeRecords(vendor, inv.accounts);
      accounts = merged.rows;
      invitations = foldInvitations(vendor, accounts, inv.invitations ?? []);
      for (const a of accounts) a.roster = rosterOf(a.emailLower);
      for (const a of invitations) a.roster = rosterOf(a.emailLower);
      byVendor[vendor] = auditableSummary(inv, accounts, merged.conflicts);
      for (const a of accounts) byStatus[a.status] += 1;
      accountsTotal += accounts.length;
      rows.push(...accounts, ...invitations);
    } else {
      const reason = inv.not_auditable_reason?.trim() || `${profile.label}'s seats cannot be listed with what is configured`;
      notAuditable.push({ vendor, reason });
      byVendor[vendor] = { auditable: false, reason, scim_configured: inv.scim_configured };
    }

    const under: VendorUnderReview = {
      vendor,
      profile,
      auditable: inv.auditable,
      scimConfigured: inv.scim_configured,
      accounts,
      invitations,
      invitationsListed: inv.invitations !== null,
      adminKnown: inv.admin_known,
      rosterGiven: rosterIndex !== null,
      staleInvitationDays: staleDays,
      now: now.getTime(),
    };
    for (const rule of [...GENERIC_RULES, ...profile.rules]) {
      if (inv.auditable || rule.needsSeats === false) rule.check(under, emitterFor(rule, vendor));
    }
  }

  const { kept, suppressed } = applyExceptions(findings, exceptions, rowOfRef);

  const byRank = (a: { vendor: string }, b: { vendor: string }) => rankOf(a.vendor) - rankOf(b.vendor);
  const byCode = (a: FindingCode, b: FindingCode) => CODE_RANK[a] - CODE_RANK[b];
  kept.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || byRank(a, b) || cmp(firstEmail(a), firstEmail(b)) || byCode(a.code, b.code) || cmp(a.id, b.id));
  suppressed.sort((a, b) => byRank(a, b) || byCode(a.code, b.code) || cmp(a.email, b.email) || cmp(a.finding_id, b.finding_id));
  undetermined.sort((a, b) => byRank(a, b) || byCode(a.code, b.code) || cmp(a.reason, b.reason));
  rows.sort(
    (a, b) =>
      byRank(a, b) ||
      (a.emailLower === null ? 1 : 0) - (b.emailLower === null ? 1 : 0) ||
      cmp(a.emailLower ?? '', b.emailLower ?? '') ||
      cmp(a.kind, b.kind) ||
      cmp(a.id ?? '', b.id ?? ''),
  );
  const accounts: ReviewedAccount[] = rows.map(({ emailLower: _drop, ...rest }) => {
    rest.findings.sort(byCode);
    rest.suppressed.sort(byCode);
    return rest;
  });

  return {
    reviewed_at: now.toISOString(),
    vendor_labels: Object.fromEntries(combined.map((i) => [i.vendor, profileOf(i.vendor)!.label])),
    stale_invitation_days: staleDays,
    roster: { provided: roster !== null, entries: rosterIndex?.states.size ?? 0, terminated: rosterIndex?.terminated ?? 0 },
    exceptions: [...(opts.exceptions ?? [])],
    summary: {
      by_vendor: byVendor,
      by_status: byStatus,
      ...countFindings(kept),
      accounts_total: accountsTotal,
      findings_total: kept.length,
      undetermined_total: undetermined.length,
      suppressed_total: suppressed.length,
      not_auditable_total: notAuditable.length,
    },
    findings: kept,
    undetermined,
    not_auditable: notAuditable,
    suppressed,
    accounts,
    warnings,
  };
}

function firstEmail(f: Finding): string {
  for (const a of f.accounts) {
    const e = lower(a.email);
    if (e !== null) return e;
  }
  return '';
}
