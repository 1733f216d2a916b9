import * as z from 'zod';

/**
 * SCIM 2.0 payloads (RFC 7643 resources, RFC 7644 messages), read leniently: unknown attributes pass through,
 * almost everything may be absent, and attribute names are matched case-insensitively (RFC 7643 §2.1:
 * "Attribute names are case insensitive"), so `UserName`, `USERNAME` and `userName` all parse. Incoming
 * documents go through `normaliseKeys` first, which rewrites every known attribute name to its canonical
 * spelling at any depth and leaves unknown names (and schema URNs used as extension keys) as they are.
 */

export const SCHEMA = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
} as const;

/** Canonical spellings of the attribute names this server reads or writes (RFC 7643 §§3–5, RFC 7644 §3). */
const CANONICAL = [
  // common and meta
  'schemas', 'id', 'externalId', 'meta', 'resourceType', 'created', 'lastModified', 'location', 'version',
  // User
  'userName', 'name', 'formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix',
  'displayName', 'nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone', 'active',
  'password', 'emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'groups', 'entitlements', 'roles', 'x509Certificates',
  // multi-valued sub-attributes
  'value', 'display', 'type', 'primary', '$ref',
  // Group
  'members',
  // ListResponse, PatchOp, Error
  'totalResults', 'startIndex', 'itemsPerPage', 'Resources', 'Operations', 'op', 'path', 'status', 'scimType', 'detail',
  // ServiceProviderConfig
  'documentationUri', 'patch', 'bulk', 'filter', 'changePassword', 'sort', 'etag', 'authenticationSchemes', 'supported',
  'maxResults', 'maxOperations', 'maxPayloadSize',
  // SalesLoft extension marker exposed by the SCIM simulator (see map.ts)
  'invitationStatus',
];
const EXACT = new Set(CANONICAL);
const BY_LOWER = new Map(CANONICAL.map((n) => [n.toLowerCase(), n]));
const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * A deep copy of `value` with every known attribute name in canonical case. When a document carries the same
 * attribute twice in different cases, the canonically spelled one wins. Runs on every SCIM resource listed, so
 * canonical names (nearly all of them) skip the lower-casing.
 */
export function normaliseKeys(value: unknown, depth = 0): unknown {
  if (depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => normaliseKeys(v, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) {
    // Extension schema URNs stay as written (lookups compare them case-insensitively); their contents are normalised.
    const canonical = EXACT.has(k) || k.includes(':') ? k : (BY_LOWER.get(k.toLowerCase()) ?? k);
    // Another spelling of a name the document also carries canonically: the canonical one wins.
    if (canonical !== k && hasOwn(obj, canonical)) continue;
    out[canonical] = normaliseKeys(obj[k], depth + 1);
  }
  return out;
}

/** The value of an extension (keyed by schema URN) whatever case the server wrote the URN in. */
export function extension(resource: Record<string, unknown>, urn: string): Record<string, unknown> | undefined {
  const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  const exact = hasOwn(resource, urn) ? resource[urn] : undefined;
  if (isObject(exact)) return exact;
  const wanted = urn.toLowerCase();
  for (const [k, v] of Object.entries(resource)) {
    if (k.length === urn.length && k.toLowerCase() === wanted && isObject(v)) return v;
  }
  return undefined;
}

/** true/false, also from the strings "true"/"false" in any case (Entra ID style); anything else → undefined. */
const lenientBool = z.preprocess((v) => {
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  return v;
}, z.boolean().nullish().catch(undefined));

const lenientInt = z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v), z.number().int().nonnegative().nullish().catch(undefined));

const idString = z.union([z.string().min(1), z.number().transform(String)]);
const optString = z.string().nullish().catch(undefined);

const MultiValued = z.looseObject({
  value: z.union([z.string(), z.number().transform(String)]).nullish().catch(undefined),
  display: optString,
  type: optString,
  primary: lenientBool,
  $ref: optString,
});
export type MultiValued = z.infer<typeof MultiValued>;

const multi = z.array(MultiValued).nullish().catch(undefined);

export const Meta = z
  .looseObject({
    resourceType: optString,
    created: optString,
    lastModified: optString,
    location: optString,
    version: optString,
  })
  .nullish()
  .catch(undefined);

export const ScimUser = z.looseObject({
  schemas: z.array(z.string()).nullish().catch(undefined),
  id: idString,
  externalId: optString,
  userName: optString,
  name: z
    .looseObject({ formatted: optString, familyName: optString, givenName: optString, middleName: optString })
    .nullish()
    .catch(undefined),
  displayName: optString,
  title: optString,
  userType: optString,
  active: lenientBool,
  emails: multi,
  groups: multi,
  roles: multi,
  meta: Meta,
});
export type ScimUser = z.infer<typeof ScimUser>;

export const ScimGroup = z.looseObject({
  schemas: z.array(z.string()).nullish().catch(undefined),
  id: idString,
  externalId: optString,
  displayName: optString,
  members: multi,
  meta: Meta,
});
export type ScimGroup = z.infer<typeof ScimGroup>;

/** ListResponse (RFC 7644 §3.4.2). `Resources` may be omitted when there are no results. */
export function listResponse<T extends z.ZodType>(item: T) {
  return z.looseObject({
    totalResults: lenientInt,
    startIndex: lenientInt,
    itemsPerPage: lenientInt,
    Resources: z.array(item).nullish(),
  });
}
export const UserList = listResponse(ScimUser);
export const GroupList = listResponse(ScimGroup);

const supportedFlag = z.looseObject({ supported: lenientBool }).nullish().catch(undefined);

/** ServiceProviderConfig (RFC 7643 §5): only what changes how this client talks to the server. */
export const ServiceProviderConfig = z.looseObject({
  patch: supportedFlag,
  etag: supportedFlag,
  sort: supportedFlag,
  changePassword: supportedFlag,
  filter: z.looseObject({ supported: lenientBool, maxResults: lenientInt }).nullish().catch(undefined),
  bulk: z.looseObject({ supported: lenientBool }).nullish().catch(undefined),
});
export type ServiceProviderConfig = z.infer<typeof ServiceProviderConfig>;

/** Error response (RFC 7644 §3.12). `status` is a string in the RFC and a number on many servers. */
export const ScimError = z.looseObject({
  schemas: z.array(z.string()).nullish().catch(undefined),
  status: z.union([z.string(), z.number().transform(String)]).nullish().catch(undefined),
  scimType: optString,
  detail: optString,
});
export type ScimError = z.infer<typeof ScimError>;

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path?: string;
  value?: unknown;
}
