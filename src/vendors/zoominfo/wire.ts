import * as z from 'zod';

/*
 * ZoomInfo Enterprise API payloads, read leniently. Sources: the notes (shared/vendor-docs/zoominfo-api.txt)
 * and the Enterprise collection (shared/vendor-specs/zoominfo-enterprise-openapi.from-postman.yml, converted
 * from a Postman collection, so its schemas are inferred from examples). Where they differ:
 * - ids: integers in the collection's examples, strings in the notes. Both are accepted and kept as strings.
 * - search records: the collection nests the employer as `company: {id, name}`; the notes' data model has
 *   flat `companyId` / `companyName`. Both are read (map.ts).
 * - enrich: the notes' example wraps results as `data.result[].data[]` and tells you to check `matchStatus`;
 *   the collection's result schema has `input` and `data` but no `matchStatus` (the GTM v1 spec carries it
 *   as `meta.matchStatus`). `matchStatus` is read when present; a match without one is treated as unknown
 *   (low confidence), see map.ts.
 * - usage: the notes show `{creditsUsed, creditsAvailable}` at `/usage`; the collection shows
 *   `{usage: [{limitType, limit, currentUsage, usageRemaining}]}` at `/lookup/usage`. Both are read.
 */

const id = z.union([z.string(), z.number()]).transform((v) => String(v));

/** One contact or company record: every field optional, unknown fields kept. */
export const VendorRecord = z.object({ id: id.optional() }).passthrough();
export type VendorRecord = z.infer<typeof VendorRecord>;

export const AuthenticateResponse = z.object({ jwt: z.string().min(1) }).passthrough();

const count = z.union([z.number(), z.string().regex(/^\d+$/)]).transform((v) => Number(v));

export const SearchResponse = z
  .object({
    maxResults: count.optional(),
    totalResults: count.optional(),
    currentPage: count.optional(),
    data: z.array(VendorRecord).default([]),
  })
  .passthrough();
export type SearchResponse = z.infer<typeof SearchResponse>;

export const EnrichResult = z
  .object({
    input: z.record(z.string(), z.unknown()).optional(),
    data: z.array(VendorRecord).nullish().transform((v) => v ?? []),
    matchStatus: z.string().optional(),
    /** GTM-style `meta.matchStatus`, read as a fallback. */
    meta: z.object({ matchStatus: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();
export type EnrichResult = z.infer<typeof EnrichResult>;

export const EnrichResponse = z
  .object({
    success: z.boolean().optional(),
    data: z.object({ outputFields: z.unknown().optional(), result: z.array(EnrichResult).default([]) }).passthrough(),
  })
  .passthrough();
export type EnrichResponse = z.infer<typeof EnrichResponse>;

/** The notes' lookup answers a bare contact; a `{data: {...}}` wrapper is unwrapped too. */
export const LookupResponse = z.union([z.object({ data: VendorRecord.extend({ id }) }).passthrough(), VendorRecord.extend({ id })]);

const usageNumber = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).transform((v) => Number(v));

export const UsageEntry = z
  .object({
    limitType: z.string(),
    description: z.string().optional(),
    limit: usageNumber.optional(),
    currentUsage: usageNumber.optional(),
    usageRemaining: usageNumber.optional(),
  })
  .passthrough();
export type UsageEntry = z.infer<typeof UsageEntry>;

export const UsageResponse = z
  .object({
    /** The notes' shape. */
    creditsUsed: usageNumber.optional(),
    creditsAvailable: usageNumber.optional(),
    /** The collection's shape. */
    usage: z.array(UsageEntry).optional(),
  })
  .passthrough();
export type UsageResponse = z.infer<typeof UsageResponse>;

/** The collection's error body, e.g. `{responseCode: 400, message, invalidOutputFields: [...]}`. */
export function zoominfoErrorDetail(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof b.message === 'string' && b.message.trim()) parts.push(b.message.trim());
  else if (typeof b.error === 'string' && b.error.trim()) parts.push(b.error.trim());
  for (const key of ['invalidOutputFields', 'invalidFields', 'invalidInputFields']) {
    const v = b[key];
    if (Array.isArray(v) && v.length > 0) parts.push(`${key}: ${v.map(String).join(', ')}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}
