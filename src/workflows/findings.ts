import { ToolInputError } from '../http/errors.js';
import { ACCOUNT_STATUSES, VENDORS, type AccountStatus, type Vendor } from '../domain/account.js';
import { BUILTIN_ADAPTERS } from '../vendors/registry.js';

// TRANSITIONAL until the review engine takes vendor profiles from the registry.
const CAPABILITIES = Object.fromEntries(BUILTIN_ADAPTERS.map((a) => [a.id, a.capabilities])) as unknown as Record<Vendor, { scim_plan: string }>;
import { isTerminated } from './roster.js';
import {
  FINDING_CODES,
  SEVERITIES,
  type AccountRef,
  type AccountSource,
  type CompactReviewResult,
  type Finding,
  type FindingCode,
  type Invitation,
  type NotAuditable,
  type ReviewAccount,
  type ReviewedAccount,
  type ReviewResult,
  type ReviewSummary,
  type RosterEntry,
  type Severity,
  type StatusCounts,
  type Suppressed,
  type Undetermined,
  type VendorInventory,
  type VendorSummary,
} from './types.js';

/**
 * The pure core of the cross-vendor access review (issue 5): inventories and a roster in, findings out.
 * Linear in the number of accounts (maps keyed by lower-cased email; one sort at the end).
 *
 * Semantics (also in the README of the tool, and each one stated in the findings' messages):
 *
 * Merge. REST and SCIM records of one vendor are merged first, one-to-one: a SCIM record joins the REST record
 *   with the same id (when their emails agree or one is missing), else an unpaired REST record with the same
 *   lower-cased email (the exact-case one first). Two records of the same source are never merged: they are
 *   two accounts. Fields: REST values win, SCIM fills the gaps; `is_admin` is true when either says so.
 *   Status: equal or one `unknown` → the known one; REST `locked` + SCIM `active` → `locked` (SCIM has no lock
 *   flag, so this is no conflict); any other disagreement keeps the more alive status (active > pending >
 *   locked > deactivated: an account active in either source is active) and notes the conflict.
 *
 * Roster join. Lower-cased email; when absent, the same address without a `+tag` (jane+x@ → jane@). A roster
 *   entry counts as terminated when its termination date is on or before the review day, or, without a
 *   date, when its status is terminated; `unknown` entries count as present.
 */

const DAY_MS = 86_400_000;
const SEVERITY_RANK: Record<Severity, number> = { high: 0, medium: 1, low: 2, info: 3 };
const VENDOR_RANK = Object.fromEntries(VENDORS.map((v, i) => [v, i])) as Record<Vendor, number>;
const CODE_RANK = Object.fromEntries(FINDING_CODES.map((c, i) => [c, i])) as Record<FindingCode, number>;
const ALIVE_RANK: Record<AccountStatus, number> = { active: 4, pending: 3, locked: 2, deactivated: 1, unknown: 0 };
const MAX_EXCEPTIONS = 1000;
const MAX_PATTERN_LENGTH = 320;

export const VENDOR_LABEL: Record<Vendor, string> = { outreach: 'Outreach', salesloft: 'SalesLoft', apollo: 'Apollo', zoominfo: 'ZoomInfo' };

/** One line per code: what it means. Used by the report and the tool description. */
export const FINDING_DESCRIPTIONS: Record<FindingCode, string> = {
  ORPHANED_ACCOUNT: 'Active account (or pending invitation) of someone absent from the roster or terminated in it.',
  LOCKED_STILL_BILLED: 'Outreach user locked through REST: login is blocked but the licensed seat is still held.',
  DEACTIVATED_SEAT_NOT_FREED: 'Apollo user deactivated: deactivation does not reduce the billed seat count.',
  STALE_INVITATION: 'Invitation still pending after the stale-invitation threshold.',
  SOLE_ADMIN: 'Vendor with exactly one active admin: losing that person locks the org out of its admin settings.',
  DUPLICATE_IDENTITY: 'One person holding two or more live accounts in the same vendor (case variants, same email, +tag sub-addresses).',
  NO_AUTOMATED_OFFBOARDING: 'No SCIM connection: deprovisioning is manual (fully, or partly through REST).',
};

export class ReviewInputError extends ToolInputError {
  override readonly name: string = 'ReviewInputError';
}

export interface ReviewOptions {
  /** Exact emails (case-insensitive) or glob patterns (`*` any run, `?` one character), e.g. `svc-*@*`. */
  exceptions?: string[];
  /** Pending invitations older than this many days are stale; default 30. */
  staleInvitationDays?: number;
  now: Date;
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

function lower(email: string | null | undefined): string | null {
  if (typeof email !== 'string') return null;
  const e = email.trim().toLowerCase();
  return e === '' ? null : e;
}

/** The mailbox an address delivers to: `jane+crm@x` → `jane@x`. */
export function identityKey(emailLower: string): string {
  const at = emailLower.lastIndexOf('@');
  if (at <= 0) return emailLower;
  const local = emailLower.slice(0, at);
  const plus = local.indexOf('+');
  return plus > 0 ? `${local.slice(0, plus)}${emailLower.slice(at)}` : emailLower;
}

function emptyStatusCounts(): StatusCounts {
  return Object.fromEntries(ACCOUNT_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseTime(s: string | null | undefined): number | null {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

// ---------------------------------------------------------------------------------------------------------
// Exceptions: exact emails or globs, matched without building a regular expression from user input.

export interface ExceptionMatcher {
  /** The exception (as given) that matches `email`, or null. */
  match(email: string | null): string | null;
}

/** Glob match with `*` and `?`, iterative with one backtrack point: O(|text|·|pattern|) at worst, never exponential. */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p += 1;
      t += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p;
      mark = t;
      p += 1;
    } else if (star >= 0) {
      p = star + 1;
      mark += 1;
      t = mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}

export function compileExceptions(exceptions: readonly string[] | undefined): ExceptionMatcher {
  const list = exceptions ?? [];
  if (list.length > MAX_EXCEPTIONS) throw new ReviewInputError(`at most ${MAX_EXCEPTIONS} exceptions are accepted, got ${list.length}`);
  const exact = new Map<string, string>();
  const globs: { pattern: string; original: string }[] = [];
  list.forEach((raw, i) => {
    if (typeof raw !== 'string') throw new ReviewInputError(`exception ${i + 1} is not a string`);
    const trimmed = raw.trim();
    if (trimmed === '') return;
    if (trimmed.length > MAX_PATTERN_LENGTH) throw new ReviewInputError(`exception ${i + 1} is longer than ${MAX_PATTERN_LENGTH} characters`);
    const norm = trimmed.toLowerCase().replace(/\*{2,}/g, '*');
    if (/[*?]/.test(norm)) globs.push({ pattern: norm, original: trimmed });
    else if (!exact.has(norm)) exact.set(norm, trimmed);
  });
  const cache = new Map<string, string | null>();
  return {
    match(email) {
      const e = lower(email);
      if (e === null) return null;
      const hit = exact.get(e);
      if (hit !== undefined) return hit;
      if (globs.length === 0) return null;
      const cached = cache.get(e);
      if (cached !== undefined) return cached;
      const g = globs.find((x) => globMatch(x.pattern, e));
      const out = g ? g.original : null;
      cache.set(e, out);
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Merge of REST and SCIM records

interface Merged extends ReviewedAccount {
  emailLower: string | null;
}

function mergeStatus(rest: AccountStatus | undefined, scim: AccountStatus | undefined): { status: AccountStatus; conflict: boolean } {
  if (rest === undefined) return { status: scim ?? 'unknown', conflict: false };
  if (scim === undefined || rest === scim || scim === 'unknown') return { status: rest, conflict: false };
  if (rest === 'unknown') return { status: scim, conflict: false };
  if (rest === 'locked' && scim === 'active') return { status: 'locked', conflict: false };
  return { status: ALIVE_RANK[rest] >= ALIVE_RANK[scim] ? rest : scim, conflict: true };
}

function earliest(a: string | null | undefined, b: string | null | undefined): string | null {
  const ta = parseTime(a);
  const tb = parseTime(b);
  if (ta === null && tb === null) return a ?? b ?? null;
  if (ta === null) return b as string;
  if (tb === null) return a as string;
  return ta <= tb ? (a as string) : (b as string);
}

function toMerged(vendor: Vendor, rest: ReviewAccount | undefined, scim: ReviewAccount | undefined): Merged {
  const primary = (rest ?? scim) as ReviewAccount;
  const pick = <K extends keyof ReviewAccount>(k: K): ReviewAccount[K] | null => {
    const r = rest?.[k];
    if (r !== undefined && r !== null) return r;
    const s = scim?.[k];
    return s !== undefined && s !== null ? s : null;
  };
  const { status, conflict } = mergeStatus(rest?.status, scim?.status);
  const ids: Partial<Record<AccountSource, string>> = {};
  const statusBySource: Partial<Record<AccountSource, AccountStatus>> = {};
  const sources: AccountSource[] = [];
  if (rest) {
    ids.rest = rest.id;
    statusBySource.rest = rest.status;
    sources.push('rest');
  }
  if (scim) {
    ids.scim = scim.id;
    statusBySource.scim = scim.status;
    sources.push('scim');
  }
  const notes: string[] = [];
  if (conflict) notes.push(`status conflict: REST says ${rest!.status}, SCIM says ${scim!.status}; reviewed as ${status}`);
  const adminFlags = [rest?.is_admin, scim?.is_admin];
  const isAdmin = adminFlags.includes(true) ? true : adminFlags.includes(false) ? false : null;
  const email = pick('email') as string | null;
  return {
    vendor,
    kind: 'account',
    id: primary.id,
    ids,
    email,
    emailLower: lower(email),
    name: pick('name') as string | null,
    status,
    status_by_source: statusBySource,
    sources,
    role: pick('role') as string | null,
    is_admin: isAdmin,
    locked: pick('locked') as boolean | null,
    active: pick('active') as boolean | null,
    seat_held: pick('seat_held') as boolean | null,
    created_at: earliest(rest?.created_at, scim?.created_at),
    invited_at: pick('invited_at') as string | null,
    roster: null,
    findings: [],
    suppressed: [],
    notes,
  };
}

/** Merges a vendor's REST and SCIM records (see the module comment); returns one entry per account. */
export function mergeSources(vendor: Vendor, records: readonly ReviewAccount[]): { accounts: ReviewedAccount[]; conflicts: number } {
  const out = mergeInternal(vendor, records);
  return { accounts: out.accounts, conflicts: out.conflicts };
}

function mergeInternal(vendor: Vendor, records: readonly ReviewAccount[]): { accounts: Merged[]; conflicts: number } {
  const rest: ReviewAccount[] = [];
  const scim: ReviewAccount[] = [];
  for (const r of records) (r.source === 'scim' ? scim : rest).push(r);
  const pairedScim: (ReviewAccount | undefined)[] = new Array(rest.length);
  const unpairedScim: ReviewAccount[] = [];

  if (rest.length > 0 && scim.length > 0) {
    const byId = new Map<string, number>();
    const byEmail = new Map<string, number[]>();
    rest.forEach((r, i) => {
      if (!byId.has(r.id)) byId.set(r.id, i);
      const e = lower(r.email);
      if (e !== null) {
        const list = byEmail.get(e);
        if (list) list.push(i);
        else byEmail.set(e, [i]);
      }
    });
    for (const s of scim) {
      const se = lower(s.email);
      let target = -1;
      const idHit = byId.get(s.id);
      if (idHit !== undefined && pairedScim[idHit] === undefined) {
        const re = lower(rest[idHit].email);
        if (re === null || se === null || re === se) target = idHit;
      }
      if (target < 0 && se !== null) {
        const candidates = (byEmail.get(se) ?? []).filter((i) => pairedScim[i] === undefined);
        target = candidates.find((i) => rest[i].email === s.email) ?? candidates[0] ?? -1;
      }
      if (target >= 0) pairedScim[target] = s;
      else unpairedScim.push(s);
    }
  } else {
    unpairedScim.push(...scim);
  }

  const accounts: Merged[] = [];
  let conflicts = 0;
  rest.forEach((r, i) => {
    const m = toMerged(vendor, r, pairedScim[i]);
    if (m.notes.length > 0) conflicts += 1;
    accounts.push(m);
  });
  for (const s of unpairedScim) accounts.push(toMerged(vendor, undefined, s));
  return { accounts, conflicts };
}

// ---------------------------------------------------------------------------------------------------------
// The review

type RosterState = 'absent' | 'active' | 'terminated' | 'unknown';

interface VendorWork {
  inv: VendorInventory;
  accounts: Merged[];
  /** Invitations that did not fold into a pending account. */
  invitationRows: Merged[];
  conflicts: number;
}

/** Combines inventories given twice for one vendor (e.g. REST and SCIM listed separately). */
function combineInventories(inventories: readonly VendorInventory[]): VendorInventory[] {
  const byVendor = new Map<Vendor, VendorInventory>();
  for (const inv of inventories) {
    if (!VENDORS.includes(inv.vendor)) throw new ReviewInputError(`unknown vendor in inventory: ${String(inv.vendor).slice(0, 40)}`);
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
  return [...byVendor.values()].sort((a, b) => VENDOR_RANK[a.vendor] - VENDOR_RANK[b.vendor]);
}

function invitationRow(vendor: Vendor, inv: Invitation): Merged {
  return {
    vendor,
    kind: 'invitation',
    id: inv.id ?? null,
    ids: {},
    email: inv.email,
    emailLower: lower(inv.email),
    name: null,
    status: 'pending',
    status_by_source: {},
    sources: ['rest'],
    role: null,
    is_admin: null,
    locked: null,
    active: null,
    seat_held: null,
    created_at: null,
    invited_at: inv.invited_at,
    roster: null,
    findings: [],
    suppressed: [],
    notes: [],
  };
}

/** Which evidence row each finding's account reference stands for (so codes can be attached in O(1)). */
const ROW_OF_REF = new WeakMap<AccountRef, Merged>();

function refOf(a: Merged, detail?: string): AccountRef {
  const ref: AccountRef = {
    kind: a.kind,
    id: a.id,
    email: a.email,
    name: a.name,
    status: a.status,
    sources: a.sources,
    role: a.role,
    roster: a.roster,
  };
  if (detail !== undefined) ref.detail = detail;
  ROW_OF_REF.set(ref, a);
  return ref;
}

/** Unique within a vendor: the REST id, else `scim:<id>`, else `invitation:<id or email>`. */
function accountKey(a: Merged): string {
  if (a.kind === 'invitation') return `invitation:${a.id ?? a.emailLower ?? ''}`;
  return a.ids.rest ?? `scim:${a.ids.scim ?? ''}`;
}

/**
 * Runs the review. Findings (after exceptions) are sorted by severity, vendor, first account email, code
 * and id, so the same inputs always give the same output. See FINDING_DESCRIPTIONS and the module comment;
 * the exact rule of each code is documented where it is computed below.
 */
export function reviewAccess(inventories: readonly VendorInventory[], roster: readonly RosterEntry[] | null, opts: ReviewOptions): ReviewResult {
  const now = opts.now;
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new ReviewInputError('opts.now must be a valid Date');
  const staleDays = opts.staleInvitationDays ?? 30;
  if (!Number.isFinite(staleDays) || staleDays < 0) throw new ReviewInputError('stale_invitation_days must be a non-negative number');
  const exceptions = compileExceptions(opts.exceptions);
  const nowMs = now.getTime();

  // Roster index.
  const rosterMap = new Map<string, RosterState>();
  let rosterTerminated = 0;
  if (roster) {
    for (const entry of roster) {
      const e = lower(entry.email);
      if (e === null) continue;
      const state: RosterState = isTerminated(entry, now) ? 'terminated' : entry.status === 'unknown' ? 'unknown' : 'active';
      const prev = rosterMap.get(e);
      if (prev === undefined) {
        rosterMap.set(e, state);
        if (state === 'terminated') rosterTerminated += 1;
      } else if (state === 'terminated' && prev !== 'terminated') {
        rosterMap.set(e, state);
        rosterTerminated += 1;
      }
    }
  }
  const rosterOf = (emailLower: string | null): RosterState | null => {
    if (!roster) return null;
    if (emailLower === null) return 'absent';
    return rosterMap.get(emailLower) ?? rosterMap.get(identityKey(emailLower)) ?? 'absent';
  };

  const findings: Finding[] = [];
  const undetermined: Undetermined[] = [];
  const notAuditable: NotAuditable[] = [];
  const warnings: string[] = [];
  const byVendor: Partial<Record<Vendor, VendorSummary>> = {};
  const byStatus = emptyStatusCounts();
  const work: VendorWork[] = [];

  for (const inv of combineInventories(inventories)) {
    const vendor = inv.vendor;
    const label = VENDOR_LABEL[vendor];
    for (const e of inv.errors ?? []) warnings.push(`${vendor}: ${e}`);

    // NO_AUTOMATED_OFFBOARDING: every vendor reviewed without SCIM, auditable or not (it only needs to know
    // whether SCIM is configured). Outreach and SalesLoft: partly manual (REST can lock / deactivate);
    // Apollo and ZoomInfo: fully manual (their REST APIs cannot deactivate a seat).
    if (!inv.scim_configured) findings.push(noOffboardingFinding(vendor));

    if (!inv.auditable) {
      const reason = inv.not_auditable_reason?.trim() || `${label}'s seats cannot be listed with what is configured`;
      notAuditable.push({ vendor, reason });
      byVendor[vendor] = { auditable: false, reason, scim_configured: inv.scim_configured };
      continue;
    }

    const { accounts, conflicts } = mergeInternal(vendor, inv.accounts);
    for (const a of accounts) a.roster = rosterOf(a.emailLower);

    // Invitations listed apart from users fold into the pending account with the same email, if any.
    const pendingByEmail = new Map<string, Merged>();
    const byEmailAny = new Set<string>();
    for (const a of accounts) {
      if (a.emailLower === null) continue;
      byEmailAny.add(a.emailLower);
      if (a.status === 'pending' && !pendingByEmail.has(a.emailLower)) pendingByEmail.set(a.emailLower, a);
    }
    const invitationRows: Merged[] = [];
    const seenInvitation = new Set<string>();
    for (const i of inv.invitations ?? []) {
      const e = lower(i.email);
      const pendingAccount = e === null ? undefined : pendingByEmail.get(e);
      if (pendingAccount) {
        if (pendingAccount.invited_at === null) pendingAccount.invited_at = i.invited_at;
        else if (i.invited_at !== null) pendingAccount.invited_at = earliest(pendingAccount.invited_at, i.invited_at);
        continue;
      }
      const key = e ?? `#${invitationRows.length}`;
      if (seenInvitation.has(key)) continue;
      seenInvitation.add(key);
      const row = invitationRow(vendor, i);
      row.roster = rosterOf(row.emailLower);
      if (e !== null && byEmailAny.has(e)) row.notes.push('an account with this email also exists');
      invitationRows.push(row);
    }

    const counts = emptyStatusCounts();
    const bySource = { rest: 0, scim: 0, both: 0 };
    let activeAdmins = 0;
    for (const a of accounts) {
      counts[a.status] += 1;
      byStatus[a.status] += 1;
      if (a.sources.length === 2) bySource.both += 1;
      else bySource[a.sources[0]] += 1;
      if (a.status === 'active' && a.is_admin === true) activeAdmins += 1;
    }
    byVendor[vendor] = {
      auditable: true,
      accounts: accounts.length,
      by_status: counts,
      by_source: bySource,
      invitations: inv.invitations === null ? null : inv.invitations.length,
      active_admins: inv.admin_known ? activeAdmins : null,
      status_conflicts: conflicts,
      scim_configured: inv.scim_configured,
      errors: [...(inv.errors ?? [])],
    };
    work.push({ inv, accounts, invitationRows, conflicts });

    orphaned(work[work.length - 1], roster !== null, findings, undetermined);
    if (vendor === 'outreach') lockedStillBilled(accounts, inv.scim_configured, findings);
    if (vendor === 'apollo') deactivatedSeatNotFreed(accounts, findings);
    staleInvitations(work[work.length - 1], staleDays, nowMs, findings, undetermined);
    soleAdmin(work[work.length - 1], findings, undetermined);
    duplicateIdentity(vendor, accounts, findings);
  }

  // Exceptions: a finding is suppressed when every account it concerns matches one; vendor-level findings
  // (no accounts) are never suppressed by an email exception.
  const kept: Finding[] = [];
  const suppressed: Suppressed[] = [];
  for (const f of findings) {
    if (f.accounts.length > 0) {
      const matched = f.accounts.map((a) => exceptions.match(a.email));
      if (matched.every((m) => m !== null)) {
        f.accounts.forEach((a, i) => {
          suppressed.push({ code: f.code, vendor: f.vendor, email: lower(a.email) as string, matched_exception: matched[i] as string, finding_id: f.id });
          const row = ROW_OF_REF.get(a);
          if (row && !row.suppressed.includes(f.code)) row.suppressed.push(f.code);
        });
        continue;
      }
    }
    kept.push(f);
    for (const a of f.accounts) {
      const row = ROW_OF_REF.get(a);
      if (row && !row.findings.includes(f.code)) row.findings.push(f.code);
    }
  }

  kept.sort(compareFindings);
  suppressed.sort((a, b) => VENDOR_RANK[a.vendor] - VENDOR_RANK[b.vendor] || CODE_RANK[a.code] - CODE_RANK[b.code] || cmp(a.email, b.email) || cmp(a.finding_id, b.finding_id));
  undetermined.sort((a, b) => VENDOR_RANK[a.vendor] - VENDOR_RANK[b.vendor] || CODE_RANK[a.code] - CODE_RANK[b.code] || cmp(a.reason, b.reason));

  const rows: Merged[] = [];
  for (const w of work) {
    for (const a of w.accounts) rows.push(a);
    for (const a of w.invitationRows) rows.push(a);
  }
  rows.sort(
    (a, b) =>
      VENDOR_RANK[a.vendor] - VENDOR_RANK[b.vendor] ||
      (a.emailLower === null ? 1 : 0) - (b.emailLower === null ? 1 : 0) ||
      cmp(a.emailLower ?? '', b.emailLower ?? '') ||
      cmp(a.kind, b.kind) ||
      cmp(a.id ?? '', b.id ?? ''),
  );
  const byCode = (a: FindingCode, b: FindingCode) => CODE_RANK[a] - CODE_RANK[b];
  const accounts: ReviewedAccount[] = rows.map(({ emailLower: _drop, ...rest }) => {
    rest.findings.sort(byCode);
    rest.suppressed.sort(byCode);
    return rest;
  });

  const byFinding = Object.fromEntries(FINDING_CODES.map((c) => [c, 0])) as Record<FindingCode, number>;
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of kept) {
    byFinding[f.code] += 1;
    bySeverity[f.severity] += 1;
  }
  let accountsTotal = 0;
  for (const w of work) accountsTotal += w.accounts.length;

  return {
    reviewed_at: now.toISOString(),
    stale_invitation_days: staleDays,
    roster: { provided: roster !== null, entries: rosterMap.size, terminated: rosterTerminated },
    exceptions: [...(opts.exceptions ?? [])],
    summary: {
      by_vendor: byVendor,
      by_status: byStatus,
      by_finding: byFinding,
      by_severity: bySeverity,
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

export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    VENDOR_RANK[a.vendor] - VENDOR_RANK[b.vendor] ||
    cmp(firstEmail(a), firstEmail(b)) ||
    CODE_RANK[a.code] - CODE_RANK[b.code] ||
    cmp(a.id, b.id)
  );
}

// ---------------------------------------------------------------------------------------------------------
// The rules

/**
 * ORPHANED_ACCOUNT: an account whose status is `active` (can sign in) or `pending` (an invitation that turns
 * into access when accepted), or an invitation listed apart, whose email is absent from the roster (also
 * without a +tag) or terminated in it. Severity high for active, medium for pending. `locked` and
 * `deactivated` accounts cannot sign in and are not orphans (their seats are LOCKED_STILL_BILLED /
 * DEACTIVATED_SEAT_NOT_FREED). Accounts in status `unknown`, and live accounts without an email, cannot be
 * judged: they are counted as undetermined. Without a roster the whole code is undetermined.
 */
function orphaned(w: VendorWork, haveRoster: boolean, findings: Finding[], undetermined: Undetermined[]): void {
  const vendor = w.inv.vendor;
  const label = VENDOR_LABEL[vendor];
  if (!haveRoster) {
    undetermined.push({ code: 'ORPHANED_ACCOUNT', vendor, reason: 'no roster given: pass `roster` (emails) or `roster_path` (CSV) to find accounts of people who left' });
    return;
  }
  let unknownStatus = 0;
  let noEmail = 0;
  let unreadableRoster = 0;
  for (const a of [...w.accounts, ...w.invitationRows]) {
    const live = a.status === 'active' || a.status === 'pending';
    if (a.emailLower === null) {
      if (live || a.status === 'unknown') noEmail += 1;
      continue;
    }
    // A roster status the review cannot read ("Terminated - Voluntary", "Retired"…) must not hide a leaver.
    if (a.roster === 'unknown' && live) unreadableRoster += 1;
    if (a.roster !== 'absent' && a.roster !== 'terminated') continue;
    if (a.status === 'unknown') {
      unknownStatus += 1;
      continue;
    }
    if (!live) continue;
    const why = a.roster === 'absent' ? 'absent from the roster' : 'terminated in the roster';
    const what = a.kind === 'invitation' ? 'pending invitation' : a.status === 'pending' ? 'pending (invited, not yet accepted) account' : 'active account';
    findings.push({
      id: `ORPHANED_ACCOUNT:${vendor}:${accountKey(a)}`,
      code: 'ORPHANED_ACCOUNT',
      severity: a.status === 'active' && a.kind === 'account' ? 'high' : 'medium',
      vendor,
      accounts: [refOf(a, why)],
      message: `${label} ${what} of someone ${why}.`,
      recommended_action:
        a.status === 'active' && a.kind === 'account'
          ? `Confirm with HR, then deactivate the ${label} user (${offboardingPath(vendor, w.inv.scim_configured)}) and reassign what they own; or add the address to exceptions if it is a service account.`
          : `Revoke the ${label} invitation (or deactivate the pending user) unless the person is a new hire not yet on the roster.`,
    });
  }
  if (unknownStatus > 0) {
    undetermined.push({ code: 'ORPHANED_ACCOUNT', vendor, reason: `${plural(unknownStatus, 'account')} absent from or terminated in the roster ${unknownStatus === 1 ? 'has' : 'have'} status unknown (the listing did not say whether ${unknownStatus === 1 ? 'it is' : 'they are'} active)` });
  }
  if (noEmail > 0) {
    undetermined.push({ code: 'ORPHANED_ACCOUNT', vendor, reason: `${plural(noEmail, 'account')} without an email cannot be joined to the roster` });
  }
  if (unreadableRoster > 0) {
    undetermined.push({
      code: 'ORPHANED_ACCOUNT',
      vendor,
      reason: `${plural(unreadableRoster, 'live account')} belong${unreadableRoster === 1 ? 's' : ''} to people whose roster status this review cannot read (see the roster warnings); check them by hand or use statuses such as active / terminated`,
    });
  }
}

function offboardingPath(vendor: Vendor, scim: boolean): string {
  switch (vendor) {
    case 'outreach':
      return scim ? 'REST locked: true keeps the seat; the notes name SCIM DELETE or Outreach support as freeing it' : 'REST locked: true blocks login but keeps the seat';
    case 'salesloft':
      return scim ? 'SCIM or REST active: false' : 'REST active: false';
    case 'apollo':
      return scim ? 'SCIM active=false, then reduce seats in Settings > Plan Overview' : 'Settings > Users and Teams > … > Deactivate, then reduce seats in Settings > Plan Overview';
    case 'zoominfo':
      return scim ? 'SCIM active=false, or unassign the user in the identity provider' : 'the ZoomInfo admin portal';
  }
}

/**
 * LOCKED_STILL_BILLED: an Outreach account with `locked: true` and `active` not false (so not deprovisioned
 * through SCIM), unless the listing says it holds no seat (`seat_held: false`). Severity low (cost).
 */
function lockedStillBilled(accounts: Merged[], scim: boolean, findings: Finding[]): void {
  for (const a of accounts) {
    if (a.locked !== true || a.active === false || a.seat_held === false) continue;
    findings.push({
      id: `LOCKED_STILL_BILLED:outreach:${accountKey(a)}`,
      code: 'LOCKED_STILL_BILLED',
      severity: 'low',
      vendor: 'outreach',
      accounts: [refOf(a, 'locked; seat still held')],
      message: 'Outreach user is locked: login is blocked but the licensed seat is still held (sequences, prospects and tasks are kept).',
      recommended_action: scim
        ? 'Reassign their sequences and prospects, then remove the user through SCIM DELETE (scim_delete_user) or ask Outreach support, which the notes name as freeing the seat.'
        : 'Reassign their sequences and prospects, then ask Outreach support to remove the user (or SCIM DELETE on Enterprise) to free the seat.',
    });
  }
}

/**
 * DEACTIVATED_SEAT_NOT_FREED: an Apollo account in status `deactivated`, unless it holds no paid seat
 * (`seat_held: false`, e.g. a free Billing and Seat Manager seat). Apollo keeps billing the seat until the
 * seat count is reduced. Severity low (cost).
 */
function deactivatedSeatNotFreed(accounts: Merged[], findings: Finding[]): void {
  for (const a of accounts) {
    if (a.status !== 'deactivated' || a.seat_held === false) continue;
    findings.push({
      id: `DEACTIVATED_SEAT_NOT_FREED:apollo:${accountKey(a)}`,
      code: 'DEACTIVATED_SEAT_NOT_FREED',
      severity: 'low',
      vendor: 'apollo',
      accounts: [refOf(a, 'deactivated; seat still billed until the seat count is reduced')],
      message: 'Apollo user is deactivated, but deactivation does not reduce the billed seat count.',
      recommended_action:
        'Reduce seats in Settings > Plan Overview (Manage Subscription); annual plans do not allow reductions mid-contract, so plan it for the renewal. Unlink the mailbox and reassign their records.',
    });
  }
}

/**
 * STALE_INVITATION: a `pending` account (invited_at, else created_at) or an invitation listed apart
 * (invited_at) sent more than N days before the review (age > N days). Severity low. Invitations or pending
 * accounts without a date are undetermined; so is the whole code when the vendor does not expose
 * invitations (`invitations: null`; pending accounts are still checked).
 */
function staleInvitations(w: VendorWork, staleDays: number, nowMs: number, findings: Finding[], undetermined: Undetermined[]): void {
  const vendor = w.inv.vendor;
  const label = VENDOR_LABEL[vendor];
  if (w.inv.invitations === null) {
    undetermined.push({ code: 'STALE_INVITATION', vendor, reason: `${label} does not expose pending invitations to this connection; only accounts in status pending were checked` });
  }
  let undated = 0;
  for (const a of [...w.accounts, ...w.invitationRows]) {
    if (a.status !== 'pending') continue;
    const sent = parseTime(a.invited_at) ?? (a.kind === 'account' ? parseTime(a.created_at) : null);
    if (sent === null) {
      undated += 1;
      continue;
    }
    const ageDays = Math.floor((nowMs - sent) / DAY_MS);
    if (nowMs - sent <= staleDays * DAY_MS) continue;
    findings.push({
      id: `STALE_INVITATION:${vendor}:${accountKey(a)}`,
      code: 'STALE_INVITATION',
      severity: 'low',
      vendor,
      accounts: [refOf(a, `invited ${ageDays} days ago`)],
      message: `${label} invitation pending for ${ageDays} days (threshold ${staleDays}).`,
      recommended_action: `Revoke the invitation in ${label} if it is no longer wanted (it still reserves access${vendor === 'apollo' ? ' and a paid seat' : ''}), or resend it.`,
    });
  }
  if (undated > 0) {
    undetermined.push({ code: 'STALE_INVITATION', vendor, reason: `${plural(undated, 'pending invitation')} without a date` });
  }
}

/**
 * SOLE_ADMIN: an auditable vendor whose admins are known where exactly one `active` account has the admin
 * flag and every other active account says whether it is admin. Severity medium, high when that admin is
 * absent from or terminated in the roster. Undetermined when admins cannot be told apart (admin_known
 * false), when some active accounts do not say, or when no active admin is found at all.
 */
function soleAdmin(w: VendorWork, findings: Finding[], undetermined: Undetermined[]): void {
  const vendor = w.inv.vendor;
  const label = VENDOR_LABEL[vendor];
  if (!w.inv.admin_known) {
    undetermined.push({ code: 'SOLE_ADMIN', vendor, reason: `the ${label} listing does not say which users are admins` });
    return;
  }
  const admins: Merged[] = [];
  let unsaid = 0;
  for (const a of w.accounts) {
    if (a.status !== 'active') continue;
    if (a.is_admin === true) admins.push(a);
    else if (a.is_admin === null) unsaid += 1;
  }
  if (admins.length >= 2) return;
  if (admins.length === 0) {
    undetermined.push({ code: 'SOLE_ADMIN', vendor, reason: `no active ${label} account is marked admin; the listing may not show admin roles` });
    return;
  }
  if (unsaid > 0) {
    undetermined.push({ code: 'SOLE_ADMIN', vendor, reason: `one active admin found, but ${plural(unsaid, 'active account')} do not say whether they are admins` });
    return;
  }
  const admin = admins[0];
  const leaving = admin.roster === 'absent' || admin.roster === 'terminated';
  const apollo = vendor === 'apollo';
  findings.push({
    id: `SOLE_ADMIN:${vendor}:${accountKey(admin)}`,
    code: 'SOLE_ADMIN',
    severity: leaving ? 'high' : 'medium',
    vendor,
    accounts: [refOf(admin, leaving ? `the only admin is ${admin.roster === 'absent' ? 'absent from' : 'terminated in'} the roster` : 'the only active admin')],
    message: apollo
      ? 'Apollo has a single active admin: if that admin leaves or is deactivated, regaining admin access needs Apollo support.'
      : `${label} has a single active admin: losing that person leaves nobody able to manage users and settings.`,
    recommended_action: apollo
      ? 'Give a second trusted user the Admin profile in Settings > Users and Teams (Apollo recommends at least 2 admins) before any offboarding.'
      : `Give a second trusted user the admin role in ${label} before offboarding anyone with admin rights.`,
  });
}

/**
 * DUPLICATE_IDENTITY: within one vendor, after the REST+SCIM merge, two or more accounts that are not
 * `deactivated` and belong to one person. "One person" = the same mailbox: the same email compared
 * case-insensitively once a `+tag` is removed. That covers emails differing only in case, the same email on
 * two account ids, and jane@ next to jane+x@. Names are not used (real companies have namesakes). Severity
 * medium.
 */
function duplicateIdentity(vendor: Vendor, accounts: Merged[], findings: Finding[]): void {
  const label = VENDOR_LABEL[vendor];
  const groups = new Map<string, Merged[]>();
  for (const a of accounts) {
    if (a.emailLower === null || a.status === 'deactivated') continue;
    const key = identityKey(a.emailLower);
    const g = groups.get(key);
    if (g) g.push(a);
    else groups.set(key, [a]);
  }
  for (const [key, group] of groups) {
    if (group.length < 2) continue;
    group.sort((a, b) => cmp(a.emailLower ?? '', b.emailLower ?? '') || cmp(a.email ?? '', b.email ?? '') || cmp(a.id ?? '', b.id ?? ''));
    const lowers = new Set(group.map((a) => a.emailLower));
    const raws = new Set(group.map((a) => a.email));
    const kinds: string[] = [];
    if (lowers.size > 1) kinds.push('+tag sub-addresses of one mailbox');
    if (raws.size > lowers.size) kinds.push('emails differing only in case');
    if (raws.size < group.length) kinds.push('the same email on several accounts');
    const detailOf = (a: Merged): string => {
      if (a.emailLower !== key) return 'sub-address';
      const sameRaw = group.filter((b) => b.email === a.email).length;
      const sameLower = group.filter((b) => b.emailLower === a.emailLower).length;
      return sameRaw > 1 ? 'same email' : sameLower > 1 ? 'case variant' : 'base address';
    };
    findings.push({
      id: `DUPLICATE_IDENTITY:${vendor}:${key}`,
      code: 'DUPLICATE_IDENTITY',
      severity: 'medium',
      vendor,
      accounts: group.map((a) => refOf(a, detailOf(a))),
      message: `${group.length} live ${label} accounts for one mailbox (${kinds.join('; ')}).`,
      recommended_action: `Keep one ${label} account per person: move what the extra account owns, then deactivate it (an offboarding that finds only one of them leaves the other active).`,
    });
  }
}

/** NO_AUTOMATED_OFFBOARDING for a vendor reviewed without SCIM. */
function noOffboardingFinding(vendor: Vendor): Finding {
  const plan = CAPABILITIES[vendor].scim_plan;
  const base = { id: `NO_AUTOMATED_OFFBOARDING:${vendor}:`, code: 'NO_AUTOMATED_OFFBOARDING' as const, vendor, accounts: [] };
  switch (vendor) {
    case 'outreach':
      return {
        ...base,
        severity: 'low',
        message: 'Outreach offboarding is partially manual: without SCIM, REST can only lock users (locked: true), which blocks login but keeps the licensed seat until Outreach support removes the user.',
        recommended_action: `Configure Outreach SCIM so the identity provider deprovisions leavers (plan requirement: ${plan}). Until then lock through REST and ask Outreach support to free the seats.`,
      };
    case 'salesloft':
      return {
        ...base,
        severity: 'low',
        message: 'SalesLoft offboarding is partially manual: without SCIM, REST can deactivate users (active: false) but nothing is triggered by the identity provider, and users cannot be invited through REST.',
        recommended_action: `Configure SalesLoft SCIM, token in Settings > SCIM (plan requirement: ${plan}). Until then deactivate leavers through REST and reassign cadences in the UI.`,
      };
    case 'apollo':
      return {
        ...base,
        severity: 'medium',
        message: 'Apollo offboarding is fully manual: its REST API cannot deactivate a user; an admin must use Settings > Users and Teams, then reduce seats in Settings > Plan Overview.',
        recommended_action: `Configure Apollo SCIM (plan requirement: ${plan.replace(/\((.*)\)/, '– $1')}). Until then deactivate leavers in Settings > Users and Teams (… > Deactivate), unlink their mailbox and reassign their records.`,
      };
    case 'zoominfo':
      return {
        ...base,
        severity: 'medium',
        message: "ZoomInfo offboarding is fully manual: its REST API has no user management; without SCIM an admin must remove users in the ZoomInfo admin portal, and seats cannot even be listed.",
        recommended_action: `Ask the ZoomInfo account team for the SCIM URL and token (plan requirement: Enterprise, with SSO active). Until then remove leavers in the ZoomInfo admin portal.`,
      };
  }
}

// ---------------------------------------------------------------------------------------------------------
// The small view for the tool result

export interface CompactOptions {
  /** Upper bound of the JSON text; default 24,000 (under the 25 KB tool-result cap, leaving room for links). */
  maxBytes?: number;
  /** Findings shown at most; default 25. */
  topFindings?: number;
  /** Accounts shown per finding at most; default 5. */
  accountsPerFinding?: number;
}

/**
 * Summary, not-auditable vendors, undetermined entries and the first findings, shrunk until the JSON fits
 * `maxBytes` whatever the size of the org. The complete result belongs in the evidence files.
 */
export function compactReview(result: ReviewResult, opts: CompactOptions = {}): CompactReviewResult {
  const maxBytes = opts.maxBytes ?? 24_000;
  let top = Math.min(opts.topFindings ?? 25, result.findings.length);
  let perFinding = opts.accountsPerFinding ?? 5;
  let warnings = result.warnings.slice(0, 20);
  const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const clipRef = (r: AccountRef): AccountRef => ({ ...r, email: r.email && clip(r.email, 120), name: r.name && clip(r.name, 80), role: r.role && clip(r.role, 60) });
  // Listing errors come from vendors and can be long or many: a few per vendor, clipped.
  const byVendor: ReviewSummary['by_vendor'] = {};
  for (const [v, vs] of Object.entries(result.summary.by_vendor) as [Vendor, VendorSummary][]) {
    byVendor[v] = vs.auditable ? { ...vs, errors: vs.errors.slice(0, 3).map((e) => clip(e, 200)) } : { ...vs, reason: clip(vs.reason, 300) };
  }
  const summary: ReviewSummary = { ...result.summary, by_vendor: byVendor };
  for (;;) {
    const out: CompactReviewResult = {
      reviewed_at: result.reviewed_at,
      roster: result.roster,
      summary,
      not_auditable: result.not_auditable.map((n) => ({ vendor: n.vendor, reason: clip(n.reason, 300) })),
      undetermined: result.undetermined.map((u) => ({ ...u, reason: clip(u.reason, 300) })),
      top_findings: result.findings.slice(0, top).map((f) => ({ ...f, accounts: f.accounts.slice(0, perFinding).map(clipRef), accounts_total: f.accounts.length })),
      findings_omitted: result.findings.length - top,
      suppressed_total: result.suppressed.length,
      warnings: warnings.map((w) => clip(w, 300)),
      truncated: top < result.findings.length || result.findings.slice(0, top).some((f) => f.accounts.length > perFinding) || warnings.length < result.warnings.length,
    };
    const bytes = Buffer.byteLength(JSON.stringify(out));
    if (bytes <= maxBytes) return out;
    if (top > 5) top = Math.max(5, Math.floor(top * 0.6));
    else if (perFinding > 1) perFinding -= 1;
    else if (warnings.length > 3) warnings = warnings.slice(0, 3);
    else if (top > 0) top -= 1;
    else {
      // Only the summary is left; it is bounded (4 vendors × 7 codes), so this always fits in practice.
      return { ...out, undetermined: out.undetermined.slice(0, 10), warnings: [], truncated: true };
    }
  }
}
