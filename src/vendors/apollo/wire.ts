import * as z from 'zod';

/**
 * Apollo.io payloads as the published OpenAPI document (shared/vendor-specs/apollo-openapi.json, a
 * docs.apollo.io export) and the notes (shared/vendor-docs/apollo-api.txt) show them, read leniently:
 * unknown fields pass through, and almost every field may be absent or null (the spec's own examples have
 * `first_name: null`, `name: ""`). Ids are Mongo-style hex strings; numbers are coerced where the spec's
 * examples send them as strings (`pagination.page: "1"`).
 */

const str = z.string().nullish();
const num = z.coerce.number().nullish();

/** A teammate (seat user) from GET /users/search (spec) or GET /users (notes). */
export const Teammate = z
  .object({
    id: z.coerce.string(),
    team_id: str,
    first_name: str,
    last_name: str,
    name: str,
    title: str,
    email: str,
    created_at: str,
    /** Spec: boolean. Apollo has no hard delete in its admin UI, so true is read as "deactivated". */
    deleted: z.boolean().nullish(),
    /** Spec: the permission profile's id (no endpoint resolves it to a name). */
    permission_set_id: str,
    /** Notes' data model: the permission profile's name, e.g. "Admin", "Billing and Seat Manager". */
    role: str,
  })
  .passthrough();
export type Teammate = z.infer<typeof Teammate>;

export const Pagination = z
  .object({
    page: num,
    per_page: num,
    total_entries: num,
    total_pages: num,
  })
  .passthrough();

export const UsersPage = z.object({ users: z.array(Teammate), pagination: Pagination.nullish() }).passthrough();

/** One counter of Apollo's usage reports: a rate window's requests or a credit type's credits. */
const Counter = z.object({ limit: z.coerce.number(), consumed: z.coerce.number(), left_over: z.coerce.number() }).passthrough();
/** View API Usage Stats: keys are JSON arrays as strings, `["api/v1/contacts", "search"]`. */
export const ApiUsageStats = z.record(
  z.string(),
  z.object({ minute: Counter.optional(), hour: Counter.optional(), day: Counter.optional() }).passthrough(),
);

export const CreditUsageStats = z
  .object({
    credit_usage_stats: z.record(z.string(), Counter),
    current_credit_cycle: z.object({ start_date: str, end_date: str }).passthrough().nullish(),
  })
  .passthrough();
export type CreditUsageStats = z.infer<typeof CreditUsageStats>;

/** GET /users/api_profile (spec): the key's owner; credit fields only with include_credit_usage=true. */
export const ApiProfile = z
  .object({
    id: z.coerce.string(),
    team_id: str,
    first_name: str,
    last_name: str,
    name: str,
    title: str,
    email: str,
    num_lead_credits_used: num,
    effective_num_lead_credits: num,
    num_credits_remaining: num,
    num_direct_dial_credits_used: num,
    effective_num_direct_dial_credits: num,
  })
  .passthrough();
export type ApiProfile = z.infer<typeof ApiProfile>;

/** GET /auth/health (notes): bearer tokens only. */
export const AuthHealth = z
  .object({
    is_logged_in: z.boolean().nullish(),
    user: z.object({ id: z.coerce.string(), email: str, name: str, team_id: str }).passthrough().nullish(),
  })
  .passthrough();

/** A prospect from People API Search: no email, no phone, last name obfuscated. */
export const Prospect = z
  .object({
    id: z.coerce.string(),
    first_name: str,
    last_name_obfuscated: str,
    title: str,
    last_refreshed_at: str,
    has_email: z.boolean().nullish(),
    has_direct_phone: z.union([z.string(), z.boolean()]).nullish(),
    organization: z.object({ name: str }).passthrough().nullish(),
  })
  .passthrough();
export type Prospect = z.infer<typeof Prospect>;

export const PeopleSearchResponse = z
  .object({ total_entries: num, people: z.array(Prospect).default([]), pagination: Pagination.nullish() })
  .passthrough();

export const Contact = z
  .object({
    id: z.coerce.string(),
    first_name: str,
    last_name: str,
    name: str,
    title: str,
    email: str,
    organization_name: str,
    owner_id: str,
    person_id: str,
    source: str,
    created_at: str,
    updated_at: str,
    email_status: str,
  })
  .passthrough();
export type Contact = z.infer<typeof Contact>;

export const ContactsSearchResponse = z.object({ contacts: z.array(Contact).default([]), pagination: Pagination.nullish() }).passthrough();
export const ContactDocument = z.object({ contact: Contact }).passthrough();

/** An enriched person (People Enrichment / Bulk People Enrichment). */
export const EnrichedPerson = z
  .object({
    id: z.coerce.string(),
    first_name: str,
    last_name: str,
    name: str,
    title: str,
    email: str,
    email_status: str,
    personal_emails: z.array(z.string()).nullish(),
    linkedin_url: str,
    city: str,
    state: str,
    country: str,
    organization_id: str,
    organization: z.object({ name: str, primary_domain: str }).passthrough().nullish(),
    revealed_for_current_team: z.boolean().nullish(),
  })
  .passthrough();
export type EnrichedPerson = z.infer<typeof EnrichedPerson>;

export const MatchResponse = z.object({ person: EnrichedPerson.nullish(), request_id: z.union([z.number(), z.string()]).nullish() }).passthrough();
export const BulkMatchResponse = z
  .object({
    status: str,
    matches: z.array(EnrichedPerson.nullable()).default([]),
    credits_consumed: num,
    unique_enriched_records: num,
    missing_records: num,
    total_requested_enrichments: num,
  })
  .passthrough();
