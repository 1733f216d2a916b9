import type { Account, AccountStatus, Invitation, VendorAccount } from './account.js';

/**
 * Types of the cross-vendor access review. The engine (workflows/review/engine.ts) is pure: vendor adapters
 * turn what they listed into `VendorInventory` values, the engine returns a `ReviewResult`, report.ts writes
 * the evidence. Nothing here calls a vendor.
 *
 * Vendors are plain strings here, not the `Vendor` union: what the review knows of a vendor comes from its
 * VendorReviewProfile (below; each adapter carries its own), so a vendor added to the registry flows through
 * unchanged. Vendor adapters build the inventories and their own rules against these types.
 */

export type AccountSource = Account['source'];

/** One account record as one API of one vendor returned it (see VendorAccount). */
export type ReviewAccount = VendorAccount;

export type { Invitation };

/** Everything one vendor's listing produced, complete (all pages, deactivated users included). */
export interface VendorInventory {
  vendor: string;
  /** False when the seats cannot be listed with what is configured; the vendor is then NOT_AUDITABLE. */
  auditable: boolean;
  /** Why the vendor cannot be audited, e.g. "ZoomInfo's REST API has no seat list; configure SCIM". */
  not_auditable_reason?: string;
  /** Which APIs were listed (both when REST and SCIM are configured). */
  sources: AccountSource[];
  /** A SCIM connection is configured, so deprovisioning can be automated from the identity provider. */
  scim_configured: boolean;
  /** Every record of every listed source; REST and SCIM records of the same person are merged by the engine. */
  accounts: ReviewAccount[];
  /** Invitations listed apart from users; null when the vendor does not expose them (STALE_INVITATION undetermined). */
  invitations: Invitation[] | null;
  /** False when the listing cannot tell admins apart (SOLE_ADMIN undetermined). */
  admin_known: boolean;
  /** Non-fatal problems while listing (a page that failed, a partial SCIM listing…); shown in the result. */
  errors?: string[];
}

/** One person on the HR roster. */
export interface RosterEntry {
  /** Lower-cased, trimmed. */
  email: string;
  status: 'active' | 'terminated' | 'unknown';
  /** ISO date (YYYY-MM-DD), when known. */
  terminated_on: string | null;
}

export const FINDING_CODES = [
  'ORPHANED_ACCOUNT',
  'LOCKED_STILL_BILLED',
  'DEACTIVATED_SEAT_NOT_FREED',
  'STALE_INVITATION',
  'SOLE_ADMIN',
  'DUPLICATE_IDENTITY',
  'NO_AUTOMATED_OFFBOARDING',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

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

/** high: someone who should not have access may have it; medium: governance risk; low: cost or hygiene; info: context. */
export const SEVERITIES = ['high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One account or invitation a finding concerns, trimmed to what an auditor reads. */
export interface AccountRef {
  kind: 'account' | 'invitation';
  /** Vendor id (of the REST record when both sources have one); null for an invitation without an id. */
  id: string | null;
  /** As the vendor stores it (case preserved). */
  email: string | null;
  name: string | null;
  status: AccountStatus;
  sources: AccountSource[];
  role: string | null;
  /** The roster's view of this email: absent, or the entry's status. Null when no roster was given. */
  roster: 'absent' | 'active' | 'terminated' | 'unknown' | null;
  /** One short fact specific to the finding, e.g. "invited 45 days ago" or "case variant". */
  detail?: string;
}

export interface Finding {
  /** Stable across runs on the same data, e.g. `ORPHANED_ACCOUNT:outreach:123`. */
  id: string;
  code: FindingCode;
  severity: Severity;
  vendor: string;
  accounts: AccountRef[];
  message: string;
  recommended_action: string;
}

export interface Undetermined {
  code: FindingCode;
  vendor: string;
  reason: string;
}

export interface NotAuditable {
  vendor: string;
  reason: string;
}

export interface Suppressed {
  code: FindingCode;
  vendor: string;
  email: string;
  /** The exception (exact email or pattern) as given. */
  matched_exception: string;
  finding_id: string;
}

/**
 * One account after REST and SCIM records of the same vendor were merged, with the codes of the findings
 * that concern it. This is the evidence row (CSV) and is dropped from the compact tool result.
 */
export interface ReviewedAccount {
  vendor: string;
  kind: 'account' | 'invitation';
  /** REST id when present, else the SCIM id (or the invitation id). */
  id: string | null;
  /** Ids per source, e.g. { rest: '123', scim: '9f1c…' }. */
  ids: Partial<Record<AccountSource, string>>;
  email: string | null;
  name: string | null;
  status: AccountStatus;
  /** Each source's own status when both listed the account. */
  status_by_source: Partial<Record<AccountSource, AccountStatus>>;
  sources: AccountSource[];
  role: string | null;
  is_admin: boolean | null;
  locked: boolean | null;
  active: boolean | null;
  seat_held: boolean | null;
  created_at: string | null;
  invited_at: string | null;
  roster: AccountRef['roster'];
  findings: FindingCode[];
  suppressed: FindingCode[];
  /** e.g. "REST says locked, SCIM says deactivated; reviewed as locked". */
  notes: string[];
}

export type StatusCounts = Record<AccountStatus, number>;

export type VendorSummary =
  | {
      auditable: true;
      /** Accounts after REST+SCIM merge (invitations not included). */
      accounts: number;
      by_status: StatusCounts;
      /** Merged accounts seen only by REST, only by SCIM, or by both. */
      by_source: { rest: number; scim: number; both: number };
      /** Invitations listed apart from users; null when the vendor does not expose them. */
      invitations: number | null;
      /** Active accounts with the admin flag; null when admins cannot be told apart. */
      active_admins: number | null;
      /** Records whose REST and SCIM statuses disagreed. */
      status_conflicts: number;
      scim_configured: boolean;
      errors: string[];
    }
  | { auditable: false; reason: string; scim_configured: boolean };

export interface ReviewSummary {
  /** Keyed by vendor, in the review's vendor order (ReviewOptions.vendorOrder); only the vendors reviewed. */
  by_vendor: Partial<Record<string, VendorSummary>>;
  /** Merged accounts across auditable vendors by status. */
  by_status: StatusCounts;
  /** Findings per code (after exceptions). */
  by_finding: Record<FindingCode, number>;
  /** Findings per severity (after exceptions). */
  by_severity: Record<Severity, number>;
  accounts_total: number;
  findings_total: number;
  undetermined_total: number;
  suppressed_total: number;
  not_auditable_total: number;
}

export interface ReviewResult {
  /** ISO 8601 review time (`opts.now`). */
  reviewed_at: string;
  /** How each reviewed vendor is named (its profile's label), for reports. */
  vendor_labels: Record<string, string>;
  stale_invitation_days: number;
  roster: { provided: boolean; entries: number; terminated: number };
  /** The exceptions as given. */
  exceptions: string[];
  summary: ReviewSummary;
  /** Sorted by severity, vendor, first account email, code, id. */
  findings: Finding[];
  undetermined: Undetermined[];
  not_auditable: NotAuditable[];
  suppressed: Suppressed[];
  /** Merged accounts and unmatched invitations, sorted by vendor then email; the evidence rows. */
  accounts: ReviewedAccount[];
  /** Vendor listing errors, prefixed by vendor. */
  warnings: string[];
}

/** The small view of a result that goes back to the model (at most `maxBytes` of JSON). */
export interface CompactReviewResult {
  reviewed_at: string;
  roster: ReviewResult['roster'];
  summary: ReviewSummary;
  not_auditable: NotAuditable[];
  undetermined: Undetermined[];
  /** The first findings in the result's order, each with at most a few accounts. */
  top_findings: (Omit<Finding, 'accounts'> & { accounts: AccountRef[]; accounts_total: number })[];
  findings_omitted: number;
  suppressed_total: number;
  warnings: string[];
  truncated: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// The review's side of the vendor adapter contract: the rules and the profile a vendor supplies.

/** A merged account (REST and SCIM records of one person in one vendor) as the rules see it. */
export interface ReviewRow extends ReviewedAccount {
  emailLower: string | null;
}

/**
 * The one contract every finding rule implements, the generic ones (review/rules/) and a vendor's own (in
 * its profile) alike. A rule looks at one vendor at a time and reports findings and checks it could not
 * answer; the engine gives findings their id, code and vendor, links them to the evidence rows, applies
 * exceptions and sorts. Rules are pure: the same vendor in, the same findings out.
 */
export interface FindingRule {
  code: FindingCode;
  /**
   * False for a rule that needs only the vendor's configuration, not its seats: it then also runs for a
   * vendor that is NOT_AUDITABLE (with no accounts). Default true.
   */
  needsSeats?: boolean;
  check(vendor: VendorUnderReview, emit: RuleEmitter): void;
}

/** One vendor as the rules see it: its rows after the REST+SCIM merge and the roster join, and its listing's facts. */
export interface VendorUnderReview {
  vendor: string;
  profile: VendorReviewProfile;
  /** The seats were listed; when false, `accounts` and `invitations` are empty. */
  auditable: boolean;
  scimConfigured: boolean;
  /** Merged accounts, each with its roster state set (null when no roster was given). */
  accounts: readonly ReviewRow[];
  /** Invitations listed apart from users that did not fold into a pending account. */
  invitations: readonly ReviewRow[];
  /** The vendor lists invitations apart from users (false: only pending accounts can be checked). */
  invitationsListed: boolean;
  /** The listing tells admins apart. */
  adminKnown: boolean;
  rosterGiven: boolean;
  staleInvitationDays: number;
  /** The review time, in ms. */
  now: number;
}

/** A finding as a rule reports it. */
export interface FindingDraft {
  /** Unique within the rule's code and vendor, stable across runs: the finding id is `<code>:<vendor>:<key>`. */
  key: string;
  severity: Severity;
  /** The rows concerned, each with one short fact specific to the finding ("invited 45 days ago"). */
  accounts: { row: ReviewRow; detail?: string }[];
  message: string;
  recommended_action: string;
}

export interface RuleEmitter {
  finding(draft: FindingDraft): void;
  /** The rule's question cannot be answered (fully) for this vendor, and why. */
  undetermined(reason: string): void;
}

/** A row's finding key: the REST id, else `scim:<id>`, else `invitation:<id or email>`; unique within a vendor. */
export function accountKey(a: ReviewRow): string {
  if (a.kind === 'invitation') return `invitation:${a.id ?? a.emailLower ?? ''}`;
  return a.ids.rest ?? `scim:${a.ids.scim ?? ''}`;
}

/**
 * What the access review needs to know about one vendor: the review's side of the vendor adapter contract.
 * The engine and the generic rules read vendor facts only through this, so a new vendor needs a profile,
 * not an edit of the engine. The built-in vendors' profiles live in src/vendors/<vendor>/review.ts, and each
 * adapter carries its own (VendorAdapter.review).
 */
export interface VendorReviewProfile {
  /** How messages name the vendor, e.g. "Outreach". */
  label: string;
  /** Rules only this vendor has (e.g. Outreach's LOCKED_STILL_BILLED); they run after the generic ones. */
  rules: readonly FindingRule[];
  /**
   * How a leaver's active account is removed, for ORPHANED_ACCOUNT's recommended action, e.g.
   * "REST active: false"; `scimConfigured` says whether a SCIM connection can do it.
   */
  offboardingPath(scimConfigured: boolean): string;
  /** The NO_AUTOMATED_OFFBOARDING finding when no SCIM connection is configured: how manual offboarding is then. */
  noAutomatedOffboarding: { severity: Severity; message: string; recommended_action: string };
  /** SOLE_ADMIN's text when this vendor's case differs from the generic one (e.g. recovery through vendor support). */
  soleAdmin?: { message: string; recommended_action: string };
  /** A pending invitation also reserves a paid seat (STALE_INVITATION says so). Default false. */
  invitationHoldsSeat?: boolean;
}

/** The profile of a vendor, or undefined for a vendor the review does not know (its inventory is refused). */
export type ProfileOf = (vendor: string) => VendorReviewProfile | undefined;
