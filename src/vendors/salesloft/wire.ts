import * as z from 'zod';

/**
 * SalesLoft REST v2 payloads, read leniently: unknown fields pass through and nearly every field may be
 * absent. Sources: the notes (shared/vendor-docs/salesloft-api.txt) and the published OpenAPI document
 * (shared/vendor-specs/salesloft-v2-openapi.yaml, older). Where they differ both shapes are accepted:
 *
 * - `role`: the notes show `{id, name}` with numeric ids; the spec shows an EmbeddedResource `{id, _href}` and
 *   says role ids are "Admin", "User" or a custom role id. Ids are read as strings either way.
 * - `group`: the notes `{id, name}`; the spec `{id, _href}`. The name is looked up when missing.
 * - `team_id` (notes) or `team: {id}` (spec).
 * - `title` (notes) or `job_role` (spec).
 * - list responses carry `metadata.paging` (`per_page, current_page, next_page, prev_page`, plus
 *   `total_pages, total_count` with include_paging_counts=true); `metadata.sorting` / `filtering` when sent.
 */

const id = z.union([z.number(), z.string().min(1)]).transform((v) => String(v));
const optId = z.union([z.number(), z.string()]).nullish().transform((v) => (v === null || v === undefined || v === '' ? null : String(v)));
const optString = z.string().nullish().catch(undefined);
const optBool = z.boolean().nullish().catch(undefined);

/** `{id, name?, _href?}`: the notes' role/group object and the spec's EmbeddedResource. */
export const Embedded = z
  .looseObject({ id: optId, name: optString, _href: optString })
  .nullish()
  .catch(undefined);
export type Embedded = z.infer<typeof Embedded>;

export const SalesloftUser = z.looseObject({
  id,
  guid: optString,
  name: optString,
  first_name: optString,
  last_name: optString,
  email: optString,
  title: optString,
  job_role: optString,
  active: optBool,
  role: Embedded,
  group: Embedded,
  team: Embedded,
  team_id: optId,
  team_admin: optBool,
  time_zone: optString,
  slug: optString,
  crm_id: optString,
  work_country: optString,
  created_at: optString,
  updated_at: optString,
});
export type SalesloftUser = z.infer<typeof SalesloftUser>;

const count = z.number().int().nonnegative().nullish().catch(undefined);

export const Paging = z
  .looseObject({
    per_page: count,
    current_page: count,
    next_page: count,
    prev_page: count,
    total_pages: count,
    total_count: count,
  })
  .nullish()
  .catch(undefined);
export type Paging = z.infer<typeof Paging>;

export const Metadata = z
  .looseObject({
    paging: Paging,
    sorting: z.looseObject({ sort_by: optString, sort_direction: optString }).nullish().catch(undefined),
    filtering: z.record(z.string(), z.unknown()).nullish().catch(undefined),
  })
  .nullish()
  .catch(undefined);

export function listDocument<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), metadata: Metadata });
}

export const UserListDocument = listDocument(SalesloftUser);
export const UserDocument = z.object({ data: SalesloftUser });

/** team_members: in the notes only ("a separate resource from users ... may include additional hierarchy fields"). */
export const TeamMember = z.looseObject({
  id,
  user: Embedded,
  group: Embedded,
  manager: Embedded,
  role: Embedded,
  created_at: optString,
  updated_at: optString,
});
export type TeamMember = z.infer<typeof TeamMember>;
export const TeamMemberListDocument = listDocument(TeamMember);

/** Groups are hierarchical: `parent_id` references the parent group (notes and spec). */
export const Group = z.looseObject({
  id,
  name: optString,
  parent_id: optId,
  accessible_groups: z.array(Embedded).nullish().catch(undefined),
});
export type Group = z.infer<typeof Group>;
export const GroupListDocument = listDocument(Group);

/** Roles (notes `/v2/roles`) and custom roles (spec `/v2/custom_roles`): `{id, name}`. */
export const Role = z.looseObject({ id, name: optString });
export type Role = z.infer<typeof Role>;
export const RoleListDocument = listDocument(Role);

/** pending_email_accounts (notes, "List Pending Invitations"): `{id, email, created_at}`. */
export const PendingEmailAccount = z.looseObject({
  id,
  email: optString,
  created_at: optString,
  updated_at: optString,
  user: Embedded,
});
export type PendingEmailAccount = z.infer<typeof PendingEmailAccount>;
export const PendingEmailAccountListDocument = listDocument(PendingEmailAccount);

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * An ISO 8601 time as microseconds since the epoch (a safe integer until the year 2255), keeping the
 * microseconds SalesLoft returns ("2023-01-01T00:00:00.123456-05:00"), which Date.parse would drop. A time
 * without a zone is read as UTC. Undefined when unreadable.
 */
export function parseMicros(s: string | null | undefined): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = ISO.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (Number.isNaN(ms)) return undefined;
  let offsetMin = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMin = (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  const micros = frac ? Number(frac.padEnd(6, '0').slice(0, 6)) : 0;
  return (ms - offsetMin * 60_000) * 1000 + micros;
}
