import type { FindingCode, Severity } from '../types.js';
import type { ReviewRow } from './merge.js';
import type { VendorReviewProfile } from './profile.js';

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
