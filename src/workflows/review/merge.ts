import type { AccountStatus } from '../../domain/account.js';
import type { AccountSource, Invitation, ReviewAccount, ReviewedAccount, ReviewRow } from '../../domain/review.js';
import { lower, parseTime } from './common.js';

/**
 * Merge of one vendor's REST and SCIM records into one row per account, before any rule looks at them.
 *
 * Pairing is one-to-one: a SCIM record joins the REST record with the same id (when their emails agree or
 * one is missing), else an unpaired REST record with the same lower-cased email (the exact-case one first).
 * Two records of the same source are never merged: they are two accounts. Fields: REST values win, SCIM
 * fills the gaps; `is_admin` is true when either says so.
 *
 * Status: equal or one `unknown` → the known one; REST `locked` + SCIM `active` → `locked` (SCIM has no lock
 * flag, so this is no conflict); any other disagreement keeps the more alive status (active > pending >
 * locked > deactivated: an account active in either source is active) and notes the conflict.
 */

/** An evidence row while the review runs: the merged account plus its lower-cased email, the join key. */
const ALIVE_RANK: Record<AccountStatus, number> = { active: 4, pending: 3, locked: 2, deactivated: 1, unknown: 0 };

function mergeStatus(rest: AccountStatus | undefined, scim: AccountStatus | undefined): { status: AccountStatus; conflict: boolean } {
  if (rest === undefined) return { status: scim ?? 'unknown', conflict: false };
  if (scim === undefined || rest === scim || scim === 'unknown') return { status: rest, conflict: false };
  if (rest === 'unknown') return { status: scim, conflict: false };
  if (rest === 'locked' && scim === 'active') return { status: 'locked', conflict: false };
  return { status: ALIVE_RANK[rest] >= ALIVE_RANK[scim] ? rest : scim, conflict: true };
}

/** The earlier of two ISO times; an unreadable one loses to a readable one. */
function earliest(a: string | null | undefined, b: string | null | undefined): string | null {
  const ta = parseTime(a);
  const tb = parseTime(b);
  if (ta === null && tb === null) return a ?? b ?? null;
  if (ta === null) return b as string;
  if (tb === null) return a as string;
  return ta <= tb ? (a as string) : (b as string);
}

function toRow(vendor: string, rest: ReviewAccount | undefined, scim: ReviewAccount | undefined): ReviewRow {
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

/** The rows of one vendor's records (see the module comment), and how many had a status conflict. */
export function mergeRecords(vendor: string, records: readonly ReviewAccount[]): { rows: ReviewRow[]; conflicts: number } {
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

  const rows: ReviewRow[] = [];
  let conflicts = 0;
  rest.forEach((r, i) => {
    const row = toRow(vendor, r, pairedScim[i]);
    if (row.notes.length > 0) conflicts += 1;
    rows.push(row);
  });
  for (const s of unpairedScim) rows.push(toRow(vendor, undefined, s));
  return { rows, conflicts };
}

/** Merges a vendor's REST and SCIM records (see the module comment); returns one entry per account. */
export function mergeSources(vendor: string, records: readonly ReviewAccount[]): { accounts: ReviewedAccount[]; conflicts: number } {
  const { rows, conflicts } = mergeRecords(vendor, records);
  return { accounts: rows, conflicts };
}

function invitationRow(vendor: string, inv: Invitation): ReviewRow {
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

/**
 * Invitations listed apart from users fold into the pending account with the same email (which keeps the
 * earliest date); the rest become rows of their own, one per email. Returns those rows.
 */
export function foldInvitations(vendor: string, accounts: readonly ReviewRow[], invitations: readonly Invitation[]): ReviewRow[] {
  const pendingByEmail = new Map<string, ReviewRow>();
  const byEmailAny = new Set<string>();
  for (const a of accounts) {
    if (a.emailLower === null) continue;
    byEmailAny.add(a.emailLower);
    if (a.status === 'pending' && !pendingByEmail.has(a.emailLower)) pendingByEmail.set(a.emailLower, a);
  }
  const rows: ReviewRow[] = [];
  const seen = new Set<string>();
  for (const i of invitations) {
    const e = lower(i.email);
    const pendingAccount = e === null ? undefined : pendingByEmail.get(e);
    if (pendingAccount) {
      if (pendingAccount.invited_at === null) pendingAccount.invited_at = i.invited_at;
      else if (i.invited_at !== null) pendingAccount.invited_at = earliest(pendingAccount.invited_at, i.invited_at);
      continue;
    }
    const key = e ?? `#${rows.length}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const row = invitationRow(vendor, i);
    if (e !== null && byEmailAny.has(e)) row.notes.push('an account with this email also exists');
    rows.push(row);
  }
  return rows;
}
