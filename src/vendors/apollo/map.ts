import * as z from 'zod';
import { AccountSchema, type AccountStatus } from '../../domain/account.js';
import type { Contact, EnrichedPerson, Prospect, Teammate } from './wire.js';

/** The canonical account plus what an Apollo admin needs to see in an access review. */
export const ApolloAccountSchema = AccountSchema.extend({
  deactivated: z
    .boolean()
    .nullable()
    .describe('Apollo `deleted` flag: true for a deactivated teammate. Deactivation does NOT free the paid seat; reduce seats in Settings > Plan Overview'),
  permission_set_id: z.string().nullable().describe('Id of the Apollo permission profile (Apollo has no API to resolve it to a name)'),
  team_id: z.string().nullable().describe('Apollo team id'),
  title: z.string().nullable().describe('Job title'),
  is_admin: z.boolean().describe('True when the permission profile is Admin (full access, user management, billing)'),
  seat: z
    .enum(['paid', 'billing_and_seat_manager', 'call_assistant', 'unknown'])
    .describe('Seat type from the profile name: Billing and Seat Manager seats are free (up to 5); Call Assistant seats are separate'),
});
export type ApolloAccount = z.infer<typeof ApolloAccountSchema>;

/**
 * Apollo teammate → canonical status (README, "Canonical account"):
 *   deleted === true  → deactivated (admin UI or SCIM deactivation; the paid seat is STILL BILLED until seats
 *                       are reduced in the subscription, which annual plans do not allow mid-contract)
 *   deleted === false → active
 *   field absent      → unknown
 * Apollo's REST API cannot change this: deactivating needs SCIM (Organization plan) or Settings > Users and
 * Teams. Invitations not yet accepted do not appear in the list at all (the admin guide), so there is no
 * `pending` here.
 */
export function apolloStatus(t: { deleted?: boolean | null }): AccountStatus {
  if (t.deleted === true) return 'deactivated';
  if (t.deleted === false) return 'active';
  return 'unknown';
}

function blankToNull(s: string | null | undefined): string | null {
  return typeof s === 'string' && s.trim() !== '' ? s.trim() : null;
}

function fullName(first: string | null | undefined, last: string | null | undefined, name: string | null | undefined): string | null {
  return blankToNull(name) ?? blankToNull([first, last].filter((p) => blankToNull(p)).join(' '));
}

function seatOf(role: string | null): ApolloAccount['seat'] {
  if (role === null) return 'unknown';
  if (/billing and seat manager/i.test(role)) return 'billing_and_seat_manager';
  if (/call assistant/i.test(role)) return 'call_assistant';
  return 'paid';
}

export function toApolloAccount(t: Teammate): ApolloAccount {
  const role = blankToNull(t.role);
  return {
    vendor: 'apollo',
    id: t.id,
    email: blankToNull(t.email),
    name: fullName(t.first_name, t.last_name, t.name),
    status: apolloStatus(t),
    // The notes' `role` (profile name) when present, else the spec's permission_set_id.
    role: role ?? blankToNull(t.permission_set_id),
    created_at: blankToNull(t.created_at),
    updated_at: null,
    source: 'rest',
    deactivated: typeof t.deleted === 'boolean' ? t.deleted : null,
    permission_set_id: blankToNull(t.permission_set_id),
    team_id: blankToNull(t.team_id),
    title: blankToNull(t.title),
    is_admin: role !== null && /^admin(istrator)?$/i.test(role),
    seat: seatOf(role),
  };
}

export const ProspectSchema = z.object({
  id: z.string().describe('Apollo person id; pass it to apollo_enrich_person as `id`'),
  first_name: z.string().nullable().describe('First name'),
  last_name_obfuscated: z.string().nullable().describe('Last name with the middle hidden, as Apollo shows it before enrichment (e.g. "Do***e")'),
  title: z.string().nullable().describe('Current job title'),
  organization_name: z.string().nullable().describe('Current employer'),
  has_email: z.boolean().nullable().describe('Apollo holds an email (revealing it through enrichment costs credits)'),
  has_direct_phone: z.string().nullable().describe('Apollo holds a direct phone ("Yes", "Maybe", …); phone reveals are asynchronous and refused by this server'),
  last_refreshed_at: z.string().nullable().describe('When Apollo last refreshed the record'),
});
export type ProspectOut = z.infer<typeof ProspectSchema>;

export function toProspect(p: Prospect): ProspectOut {
  return {
    id: p.id,
    first_name: blankToNull(p.first_name),
    last_name_obfuscated: blankToNull(p.last_name_obfuscated),
    title: blankToNull(p.title),
    organization_name: blankToNull(p.organization?.name),
    has_email: typeof p.has_email === 'boolean' ? p.has_email : null,
    has_direct_phone: p.has_direct_phone === undefined || p.has_direct_phone === null ? null : String(p.has_direct_phone),
    last_refreshed_at: blankToNull(p.last_refreshed_at),
  };
}

export const ContactSchema = z.object({
  id: z.string().describe('Apollo contact id'),
  name: z.string().nullable().describe('Full name'),
  email: z.string().nullable().describe('Email as stored on the contact'),
  title: z.string().nullable().describe('Job title'),
  organization_name: z.string().nullable().describe('Employer'),
  owner_id: z.string().nullable().describe('Teammate (Apollo user id) who owns the contact'),
  source: z.string().nullable().describe('Where the contact came from (api, crm, csv, …)'),
  created_at: z.string().nullable().describe('ISO 8601 creation time'),
  updated_at: z.string().nullable().describe('ISO 8601 last update time'),
});
export type ContactOut = z.infer<typeof ContactSchema>;

export function toContact(c: Contact): ContactOut {
  return {
    id: c.id,
    name: fullName(c.first_name, c.last_name, c.name),
    email: blankToNull(c.email),
    title: blankToNull(c.title),
    organization_name: blankToNull(c.organization_name),
    owner_id: blankToNull(c.owner_id),
    source: blankToNull(c.source),
    created_at: blankToNull(c.created_at),
    updated_at: blankToNull(c.updated_at),
  };
}

export const EnrichedPersonSchema = z.object({
  id: z.string().describe('Apollo person id'),
  name: z.string().nullable().describe('Full name'),
  title: z.string().nullable().describe('Current job title'),
  email: z.string().nullable().describe('Work email Apollo revealed (null when none)'),
  email_status: z.string().nullable().describe('Apollo email status, e.g. verified'),
  personal_emails: z.array(z.string().describe('A personal email address')).describe('Personal emails; only with reveal_personal_emails'),
  organization_name: z.string().nullable().describe('Current employer'),
  linkedin_url: z.string().nullable().describe('LinkedIn profile URL'),
  location: z.string().nullable().describe('City, state, country'),
});
export type EnrichedPersonOut = z.infer<typeof EnrichedPersonSchema>;

export function toEnrichedPerson(p: EnrichedPerson): EnrichedPersonOut {
  const location = [p.city, p.state, p.country].map(blankToNull).filter((s) => s !== null).join(', ');
  return {
    id: p.id,
    name: fullName(p.first_name, p.last_name, p.name),
    title: blankToNull(p.title),
    email: blankToNull(p.email),
    email_status: blankToNull(p.email_status),
    personal_emails: (p.personal_emails ?? []).filter((e) => typeof e === 'string' && e !== ''),
    organization_name: blankToNull(p.organization?.name),
    linkedin_url: blankToNull(p.linkedin_url),
    location: location === '' ? null : location,
  };
}
