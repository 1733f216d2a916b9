import * as z from 'zod';
import { AccountSchema, type AccountStatus } from '../../domain/account.js';
import type { UserResource } from './wire.js';

/** The canonical account plus what an Outreach admin needs to see. */
export const OutreachAccountSchema = AccountSchema.extend({
  locked: z.boolean().nullable().describe('Outreach `locked`: true blocks login but the user still holds a licensed seat'),
  active: z.boolean().nullable().describe('Outreach `active`: false after SCIM deprovisioning'),
  profile: z.string().nullable().describe('Profile (permission set) name, or null when the user has none'),
  title: z.string().nullable().describe('Job title'),
  is_admin: z.boolean().describe('True when the profile or role is an admin one'),
});
export type OutreachAccount = z.infer<typeof OutreachAccountSchema>;

/**
 * Outreach → canonical status (README, "Canonical account"):
 *   active === false → deactivated (SCIM deprovisioning sets it; whether the seat is freed the notes do not say)
 *   locked === true  → locked      (REST deactivation; the user still holds a seat and keeps sequences)
 *   otherwise        → active
 * A partial record with neither field known maps to unknown rather than guessing.
 */
export function outreachStatus(attrs: { locked?: boolean | null; active?: boolean | null }): AccountStatus {
  if (attrs.active === false) return 'deactivated';
  if (attrs.locked === true) return 'locked';
  if (attrs.locked === false || attrs.active === true) return 'active';
  return 'unknown';
}

export interface NameLookup {
  roles: Map<string, string>;
  profiles: Map<string, string>;
}

export function toOutreachAccount(user: UserResource, names: NameLookup): OutreachAccount {
  const a = user.attributes;
  const roleId = user.relationships?.role?.data?.id ?? null;
  const profileId = user.relationships?.profile?.data?.id ?? null;
  const role = roleId === null ? null : (names.roles.get(roleId) ?? roleId);
  const profile = profileId === null ? null : (names.profiles.get(profileId) ?? profileId);
  const fullName = [a.firstName, a.lastName].filter((s) => s).join(' ');
  return {
    vendor: 'outreach',
    id: user.id,
    email: a.email ?? null,
    name: fullName === '' ? null : fullName,
    status: outreachStatus(a),
    role,
    created_at: a.createdAt ?? null,
    updated_at: a.updatedAt ?? null,
    source: 'rest',
    locked: a.locked ?? null,
    active: a.active ?? null,
    profile,
    title: a.title ?? null,
    is_admin: /admin/i.test(profile ?? '') || /admin/i.test(role ?? ''),
  };
}
