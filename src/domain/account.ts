import * as z from 'zod';

export const VENDORS = ['outreach', 'salesloft', 'apollo', 'zoominfo'] as const;
export type Vendor = (typeof VENDORS)[number];

/** How each vendor is named in messages to admins and agents. */
export const VENDOR_NAMES: Readonly<Record<Vendor, string>> = { outreach: 'Outreach', salesloft: 'SalesLoft', apollo: 'Apollo.io', zoominfo: 'ZoomInfo' };

export const ACCOUNT_STATUSES = ['active', 'locked', 'deactivated', 'pending', 'unknown'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/**
 * One seat-holder in one vendor, whatever the vendor calls it. Every adapter maps to this shape; the
 * mapping of each vendor's fields to `status` is documented in README.md ("Canonical account").
 */
export const AccountSchema = z.object({
  vendor: z.enum(VENDORS).describe('Vendor the account lives in'),
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
