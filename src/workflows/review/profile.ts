import type { Severity } from '../types.js';
import type { FindingRule } from './rule.js';

/**
 * What the access review needs to know about one vendor: the review's side of the vendor adapter contract.
 * The engine and the generic rules read vendor facts only through this, so a new vendor needs a profile,
 * not an edit of the engine. The built-in vendors' profiles live in src/vendors/<vendor>/review.ts.
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
