import * as z from 'zod';
import { AccountSchema, type AccountStatus, type VendorId } from '../../domain/account.js';
import { extension, type ScimGroup, type ScimUser } from './wire.js';

/**
 * SCIM User → canonical account (README, "Canonical account"), source `scim`:
 *   active === false                         → deactivated
 *   a vendor "pending" marker (below)        → pending (provisioned, invitation not yet accepted)
 *   active === true                          → active
 *   active absent                            → unknown
 *
 * Pending marker. SalesLoft documents that a SCIM-provisioned user "must accept [the invitation] to activate
 * their account" but not how its SCIM API shows that state. The SCIM simulator (src/sandbox/scim.ts) exposes it
 * as the extension `urn:ietf:params:scim:schemas:extension:salesloft:2.0:User` with
 * `invitationStatus: 'pending' | 'accepted'`; this module reads that (URN and attribute name compared
 * case-insensitively) for every vendor, so a real server that adopts the same marker works unchanged.
 */

export const SALESLOFT_EXTENSION = 'urn:ietf:params:scim:schemas:extension:salesloft:2.0:User';

export const ScimAccountSchema = AccountSchema.extend({
  user_name: z.string().nullable().describe('SCIM userName (usually the login email), e.g. "jane.doe@acme.example"'),
  external_id: z.string().nullable().describe('SCIM externalId set by the identity provider, e.g. "00u1abcd"; null when unset'),
  active: z.boolean().nullable().describe('SCIM `active`: false once deprovisioned; null when the server does not say'),
  invitation_pending: z.boolean().describe('True when the vendor reports the invitation as not yet accepted (SalesLoft)'),
});
export type ScimAccount = z.infer<typeof ScimAccountSchema>;

export const ScimGroupSchema = z.object({
  id: z.string().describe('SCIM group id, e.g. "7d4c1a2e"'),
  display_name: z.string().nullable().describe('Group name, e.g. "Sales EMEA" (in Outreach a group is a Team)'),
  member_count: z.number().int().nullable().describe('Members listed by the server; null when members were not requested'),
  member_ids: z.array(z.string()).nullable().describe('SCIM user ids of the members; null when members were not requested'),
});
export type ScimGroupSummary = z.infer<typeof ScimGroupSchema>;

function isPending(user: ScimUser): boolean {
  const ext = extension(user as Record<string, unknown>, SALESLOFT_EXTENSION);
  if (!ext) return false;
  const key = Object.keys(ext).find((k) => k.toLowerCase() === 'invitationstatus');
  const v = key === undefined ? undefined : ext[key];
  return typeof v === 'string' && v.toLowerCase() === 'pending';
}

export function scimStatus(user: ScimUser): AccountStatus {
  if (user.active === false) return 'deactivated';
  if (isPending(user)) return 'pending';
  if (user.active === true) return 'active';
  return 'unknown';
}

/** The primary email, else the first one, else null. */
export function primaryEmail(user: ScimUser): string | null {
  const emails = (user.emails ?? []).filter((e) => typeof e.value === 'string' && e.value !== '');
  return (emails.find((e) => e.primary === true) ?? emails[0])?.value ?? null;
}

function displayName(user: ScimUser): string | null {
  if (user.displayName) return user.displayName;
  if (user.name?.formatted) return user.name.formatted;
  const parts = [user.name?.givenName, user.name?.familyName].filter((s): s is string => !!s);
  return parts.length > 0 ? parts.join(' ') : null;
}

function role(user: ScimUser): string | null {
  const roles = user.roles ?? [];
  const r = roles.find((x) => x.primary === true) ?? roles[0];
  return r?.display ?? r?.value ?? null;
}

export function scimToAccount(vendor: VendorId, user: ScimUser): ScimAccount {
  return {
    vendor,
    id: user.id,
    email: primaryEmail(user) ?? user.userName ?? null,
    name: displayName(user),
    status: scimStatus(user),
    role: role(user),
    created_at: user.meta?.created ?? null,
    updated_at: user.meta?.lastModified ?? null,
    source: 'scim',
    user_name: user.userName ?? null,
    external_id: user.externalId ?? null,
    active: user.active ?? null,
    invitation_pending: isPending(user),
  };
}

export function scimGroupSummary(group: ScimGroup, withMembers: boolean): ScimGroupSummary {
  const ids = (group.members ?? []).map((m) => m.value).filter((v): v is string => typeof v === 'string');
  return {
    id: group.id,
    display_name: group.displayName ?? null,
    member_count: withMembers ? ids.length : null,
    member_ids: withMembers ? ids : null,
  };
}
