import * as z from 'zod';
import { AccountSchema, type AccountStatus } from '../../domain/account.js';
import type { SalesloftUser } from './wire.js';

/** The canonical account plus what a SalesLoft admin needs to see. */
export const SalesloftAccountSchema = AccountSchema.extend({
  active: z.boolean().nullable().describe('SalesLoft `active`, e.g. false once deactivated (login revoked; the user record and owned cadences remain)'),
  guid: z.string().nullable().describe('SalesLoft global user id (UUID), stable across environments, e.g. "9cc6da15-d403-4f5b-aeed-c4b8463cf9ae"'),
  team_id: z.string().nullable().describe('Id of the SalesLoft team the user belongs to, e.g. "99" (API tokens are team-scoped)'),
  role_id: z.string().nullable().describe('SalesLoft role id: "Admin", "User" or a custom role id, e.g. "Admin"'),
  group: z.string().nullable().describe('Name of the user\'s group (or its id when the name is unknown), e.g. "NA West"; null when in no group'),
  group_id: z.string().nullable().describe('Id of the user\'s group, e.g. "12"; null when in no group'),
  title: z.string().nullable().describe('Job title (notes `title`, spec `job_role`), e.g. "Account Executive"'),
  is_admin: z.boolean().describe('True when the role is Admin or SalesLoft flags the user as team admin, e.g. false'),
});
export type SalesloftAccount = z.infer<typeof SalesloftAccountSchema>;

/**
 * SalesLoft → canonical status (README, "Canonical account"):
 *   active === true  → active
 *   active === false → deactivated (login revoked; SCIM deprovisioning and REST `active: false` both set it;
 *                      the record stays and owned cadences and tasks are not reassigned)
 *   active absent    → unknown (never guessed)
 * SalesLoft's REST API does not show whether an invitation is still pending, so REST accounts are never
 * `pending`; pending invitations are a separate resource (pending_email_accounts).
 */
export function salesloftStatus(user: { active?: boolean | null }): AccountStatus {
  if (user.active === true) return 'active';
  if (user.active === false) return 'deactivated';
  return 'unknown';
}

export interface NameLookup {
  /** Role id → name. */
  roles: Map<string, string>;
  /** Group id → name. */
  groups: Map<string, string>;
}

export const EMPTY_LOOKUP: NameLookup = { roles: new Map(), groups: new Map() };

export function roleName(user: SalesloftUser, names: NameLookup): string | null {
  const r = user.role;
  if (!r) return null;
  if (r.name) return r.name;
  if (r.id === null || r.id === undefined) return null;
  return names.roles.get(r.id) ?? r.id;
}

export function toSalesloftAccount(user: SalesloftUser, names: NameLookup = EMPTY_LOOKUP): SalesloftAccount {
  const role = roleName(user, names);
  const groupId = user.group?.id ?? null;
  const group = user.group?.name ?? (groupId === null ? null : (names.groups.get(groupId) ?? groupId));
  const fullName = user.name ?? ([user.first_name, user.last_name].filter((s) => s).join(' ') || null);
  return {
    vendor: 'salesloft',
    id: user.id,
    email: user.email ?? null,
    name: fullName,
    status: salesloftStatus(user),
    role,
    created_at: user.created_at ?? null,
    updated_at: user.updated_at ?? null,
    source: 'rest',
    active: user.active ?? null,
    guid: user.guid ?? null,
    team_id: user.team_id ?? user.team?.id ?? null,
    role_id: user.role?.id ?? null,
    group,
    group_id: groupId,
    title: user.title ?? user.job_role ?? null,
    is_admin: user.team_admin === true || /^admin$/i.test(role ?? '') || /^admin$/i.test(user.role?.id ?? ''),
  };
}
