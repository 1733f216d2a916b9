import * as z from 'zod';

/**
 * A vendor's id as the registry knows it (src/vendors/registry.ts): "outreach", "salesloft", "apollo",
 * "zoominfo", or another adapter's. Code outside a vendor's folder never assumes the set is closed.
 */
export type VendorId = string;


export const ACCOUNT_STATUSES = ['active', 'locked', 'deactivated', 'pending', 'unknown'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/**
 * One seat-holder in one vendor, whatever the vendor calls it. Every adapter maps to this shape; the
 * mapping of each vendor's fields to `status` is documented in README.md ("Canonical account").
 */
export const AccountSchema = z.object({
  vendor: z.string().describe('Vendor id the account lives in, e.g. "outreach" (list_connections lists them)'),
  id: z.string().describe('Vendor id of the account, as a string (Outreach ids are integers on the wire)'),
  email: z.string().nullable().describe('Login email as the vendor stores it (case preserved)'),
  name: z.string().nullable().describe('Display name'),
  status: z.enum(ACCOUNT_STATUSES).describe('Canonical status: active | locked | deactivated | pending | unknown'),
  role: z.string().nullable().describe('Role or profile name (or id when the name is not known)'),
  created_at: z.string().nullable().describe('ISO 8601 creation time'),
  updated_at: z.string().nullable().describe('ISO 8601 last update time'),
  source: z.enum(['rest', 'scim']).describe('Which API the record came from'),
});
export type Account = z.infer<typeof AccountSchema>;

/**
 * One account record as one API (REST or SCIM) of one vendor returned it, plus the few vendor facts the
 * access review and offboarding need. Every extra is `null` when the source does not expose it, so "not
 * exposed" is never confused with `false`.
 *
 * - `is_admin`: the account has the vendor's admin role or profile.
 * - `locked`: Outreach `locked` (REST "deactivation": login blocked, seat still held). LOCKED_STILL_BILLED
 *   needs "locked: true and active not false", which `status` alone cannot say.
 * - `active`: Outreach / SCIM `active`.
 * - `seat_held`: `false` only when the vendor says the account holds no paid seat (an Apollo Billing and Seat
 *   Manager seat is free); null or absent is unknown, treated as held.
 * - `invited_at`: when the invitation behind a `pending` account was sent; falls back to `created_at`.
 */
export type VendorAccount = Account & {
  is_admin: boolean | null;
  locked?: boolean | null;
  active?: boolean | null;
  seat_held?: boolean | null;
  invited_at?: string | null;
};

/** An invitation listed by a vendor apart from its users (e.g. SalesLoft `pending_email_accounts`). */
export interface Invitation {
  email: string;
  /** ISO 8601; null when the vendor does not say (the invitation is then undetermined for STALE_INVITATION). */
  invited_at: string | null;
  /** Vendor id of the invitation, when it has one. */
  id?: string | null;
}
