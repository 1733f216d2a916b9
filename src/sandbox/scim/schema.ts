import { SCIM_SCHEMA, fail, type Doc } from './protocol.js';
import { isRecord } from '../values.js';

/*
 * The SCIM schemas (RFC 7643 section 7 format), served by /Schemas and driving input canonicalisation, filters
 * and PATCH paths: attribute names are case-insensitive on input (RFC 7643 2.1), stored and served in schema
 * case; readOnly and unknown attributes in POST/PUT bodies are dropped (IdPs send app-specific extras such as
 * Okta's `password` and `groups: []`).
 */

export type AttrType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex';

export interface AttrDef {
  name: string;
  type: AttrType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  subAttributes?: AttrDef[];
  canonicalValues?: string[];
  referenceTypes?: string[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttrDef[];
}

function attr(name: string, description: string, extra: Partial<AttrDef> = {}): AttrDef {
  return {
    name,
    type: 'string',
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...extra,
  };
}

const multiComplex = (name: string, description: string, types: string[], extra: AttrDef[] = []): AttrDef =>
  attr(name, description, {
    type: 'complex',
    multiValued: true,
    subAttributes: [
      attr('value', `The ${name} value.`),
      attr('display', 'A human-readable name, primarily used for display purposes.'),
      attr('type', 'A label indicating the function of the value.', { canonicalValues: types }),
      attr('primary', "Whether this is the primary value; 'true' at most once.", { type: 'boolean' }),
      ...extra,
    ],
  });

export const USER_SCHEMA: SchemaDef = {
  id: SCIM_SCHEMA.user,
  name: 'User',
  description: 'User Account',
  attributes: [
    attr('userName', 'Unique identifier for the User, here the login email. Case-insensitive.', { required: true, uniqueness: 'server' }),
    attr('name', "The components of the user's real name.", {
      type: 'complex',
      subAttributes: [
        attr('formatted', 'The full name, formatted for display.'),
        attr('familyName', 'The family name (last name).'),
        attr('givenName', 'The given name (first name).'),
        attr('middleName', 'The middle name(s).'),
        attr('honorificPrefix', 'The honorific prefix(es).'),
        attr('honorificSuffix', 'The honorific suffix(es).'),
      ],
    }),
    attr('displayName', 'The name of the User, suitable for display.'),
    attr('nickName', 'The casual way to address the user.'),
    attr('profileUrl', "A URI of the user's online profile.", { type: 'reference', referenceTypes: ['external'] }),
    attr('title', "The user's title, such as 'Account Executive'."),
    attr('userType', 'The relationship between the organization and the user.'),
    attr('preferredLanguage', 'Preferred written or spoken language.'),
    attr('locale', 'Default location, e.g. en-US.'),
    attr('timezone', "The User's time zone in IANA format, e.g. America/New_York."),
    attr('active', "The User's administrative status.", { type: 'boolean' }),
    attr('password', 'Accepted and discarded: these vendors log in through SSO.', { mutability: 'writeOnly', returned: 'never' }),
    multiComplex('emails', 'Email addresses for the user.', ['work', 'home', 'other']),
    multiComplex('phoneNumbers', 'Phone numbers for the User.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    attr('addresses', 'A physical mailing address for this User.', {
      type: 'complex',
      multiValued: true,
      subAttributes: [
        attr('formatted', 'The full mailing address.'),
        attr('streetAddress', 'The full street address component.'),
        attr('locality', 'The city or locality component.'),
        attr('region', 'The state or region component.'),
        attr('postalCode', 'The zip code or postal code component.'),
        attr('country', 'The country name component.'),
        attr('type', 'A label indicating the function.', { canonicalValues: ['work', 'home', 'other'] }),
        attr('primary', 'Whether this is the primary address.', { type: 'boolean' }),
      ],
    }),
    attr('groups', 'A list of groups to which the user belongs (read-only: change membership through /Groups).', {
      type: 'complex',
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        attr('value', "The identifier of the User's group.", { mutability: 'readOnly', caseExact: true }),
        attr('$ref', "The URI of the corresponding 'Group' resource.", { type: 'reference', referenceTypes: ['Group'], mutability: 'readOnly', caseExact: true }),
        attr('display', 'A human-readable name.', { mutability: 'readOnly' }),
        attr('type', "'direct' or 'indirect'.", { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] }),
      ],
    }),
    multiComplex('roles', 'A list of roles for the User.', []),
  ],
};

export const ENTERPRISE_USER_SCHEMA: SchemaDef = {
  id: SCIM_SCHEMA.enterpriseUser,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person by the organization.'),
    attr('costCenter', 'Identifies the name of a cost center.'),
    attr('organization', 'Identifies the name of an organization.'),
    attr('division', 'Identifies the name of a division.'),
    attr('department', 'Identifies the name of a department.'),
    attr('manager', "The User's manager.", {
      type: 'complex',
      subAttributes: [
        attr('value', 'The id of the SCIM resource representing the manager.', { caseExact: true }),
        attr('$ref', 'The URI of the manager resource.', { type: 'reference', referenceTypes: ['User'], caseExact: true }),
        attr('displayName', "The displayName of the User's manager.", { mutability: 'readOnly' }),
      ],
    }),
  ],
};

export const SALESLOFT_USER_SCHEMA: SchemaDef = {
  id: SCIM_SCHEMA.salesloftUser,
  name: 'SalesLoftUser',
  description: 'SalesLoft user invitation state',
  attributes: [
    attr('invitationStatus', "'pending' until the user accepts the invitation email SalesLoft sends on SCIM create, then 'accepted'.", {
      mutability: 'readOnly',
      canonicalValues: ['pending', 'accepted'],
    }),
  ],
};

export const GROUP_SCHEMA: SchemaDef = {
  id: SCIM_SCHEMA.group,
  name: 'Group',
  description: 'Group',
  attributes: [
    attr('displayName', 'A human-readable name for the Group.', { required: true }),
    attr('members', 'A list of members of the Group.', {
      type: 'complex',
      multiValued: true,
      subAttributes: [
        attr('value', 'Identifier of the member of this Group.', { mutability: 'immutable', caseExact: true }),
        attr('$ref', 'The URI of the member resource.', { type: 'reference', referenceTypes: ['User'], mutability: 'immutable', caseExact: true }),
        attr('display', 'A human-readable name of the member (served, ignored on input).', { mutability: 'readOnly' }),
        attr('type', "The type of member: only 'User' here.", { mutability: 'immutable', canonicalValues: ['User', 'Group'] }),
      ],
    }),
  ],
};

/** RFC 7643 3.1 common attributes: resolvable in filters and paths, not listed in /Schemas. */
export const COMMON_ATTRIBUTES: AttrDef[] = [
  attr('id', 'Unique identifier assigned by the service provider.', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  attr('externalId', "The provisioning client's identifier for the resource.", { caseExact: true }),
  attr('meta', 'Resource metadata.', {
    type: 'complex',
    mutability: 'readOnly',
    subAttributes: [
      attr('resourceType', 'The resource type.', { mutability: 'readOnly', caseExact: true }),
      attr('created', 'When the resource was added.', { type: 'dateTime', mutability: 'readOnly' }),
      attr('lastModified', 'When the resource was last modified.', { type: 'dateTime', mutability: 'readOnly' }),
      attr('location', 'The URI of the resource.', { type: 'reference', mutability: 'readOnly', caseExact: true }),
      attr('version', 'The version (ETag) of the resource.', { mutability: 'readOnly', caseExact: true }),
    ],
  }),
];

/** The schemas of one resource type: its core schema and the extensions this tenant serves. */
export interface ResourceCtx {
  core: SchemaDef;
  extensions: SchemaDef[];
}

export function findCi<T extends { name: string }>(items: readonly T[] | undefined, name: string): T | undefined {
  const lower = name.toLowerCase();
  return items?.find((i) => i.name.toLowerCase() === lower);
}

export function coreAttr(ctx: ResourceCtx, name: string): AttrDef | undefined {
  return findCi(ctx.core.attributes, name) ?? findCi(COMMON_ATTRIBUTES, name);
}

/** Splits a leading schema URN off an attribute path: `urn:...:enterprise:2.0:User:department` -> [ext, 'department']. */
export function splitUrn(ctx: ResourceCtx, text: string): { schema: SchemaDef; rest: string } | undefined {
  const lower = text.toLowerCase();
  if (!lower.startsWith('urn:')) return { schema: ctx.core, rest: text };
  const schemas = [ctx.core, ...ctx.extensions].sort((a, b) => b.id.length - a.id.length);
  for (const s of schemas) {
    const prefix = s.id.toLowerCase() + ':';
    if (lower.startsWith(prefix)) return { schema: s, rest: text.slice(prefix.length) };
  }
  return undefined;
}

/** Every attribute path a filter may name, for the error that lists them. */
export function describeAttributes(ctx: ResourceCtx): string {
  const names: string[] = [];
  const add = (prefix: string, a: AttrDef) => {
    if (a.returned === 'never') return;
    if (a.type === 'complex') for (const s of a.subAttributes ?? []) names.push(`${prefix}${a.name}.${s.name}`);
    else names.push(`${prefix}${a.name}`);
  };
  for (const a of [...COMMON_ATTRIBUTES, ...ctx.core.attributes]) add('', a);
  for (const e of ctx.extensions) for (const a of e.attributes) add(`${e.id}:`, a);
  return names.join(', ');
}

// ---------------------------------------------------------------------------------------------------------
// Input canonicalisation (case-insensitive names, type checks; readOnly and unknown attributes dropped)

export function canonValue(def: AttrDef, v: unknown, where: string, single = false): unknown {
  if (v === null || v === undefined) return undefined;
  if (def.multiValued && !single) {
    if (!Array.isArray(v)) fail(400, `${where} is multi-valued: send an array`, 'invalidValue');
    const out = v.map((x, i) => canonValue(def, x, `${where}[${i}]`, true)).filter((x) => x !== undefined);
    return out;
  }
  switch (def.type) {
    case 'string':
    case 'reference':
      if (typeof v !== 'string') fail(400, `${where} must be a string`, 'invalidValue');
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') fail(400, `${where} must be a JSON boolean (true or false, not a string)`, 'invalidValue');
      return v;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) fail(400, `${where} must be an integer`, 'invalidValue');
      return v;
    case 'decimal':
      if (typeof v !== 'number') fail(400, `${where} must be a number`, 'invalidValue');
      return v;
    case 'dateTime':
      if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) fail(400, `${where} must be an xsd:dateTime string`, 'invalidValue');
      return v;
    case 'complex': {
      if (!isRecord(v)) fail(400, `${where} must be an object with sub-attributes`, 'invalidValue');
      const out: Doc = {};
      for (const [k, x] of Object.entries(v)) {
        const sub = findCi(def.subAttributes, k);
        if (!sub || sub.mutability === 'readOnly') continue;
        const c = canonValue(sub, x, `${where}.${sub.name}`);
        if (c !== undefined) out[sub.name] = c;
      }
      return out;
    }
  }
}

/** POST/PUT body -> stored document (no id/meta/schemas, no readOnly or writeOnly attributes). */
export function canonResource(body: Doc, ctx: ResourceCtx): Doc {
  const out: Doc = {};
  for (const [k, v] of Object.entries(body)) {
    const lower = k.toLowerCase();
    if (lower === 'schemas') continue;
    const ext = ctx.extensions.find((e) => e.id.toLowerCase() === lower);
    if (ext) {
      if (v === null || v === undefined) continue;
      if (!isRecord(v)) fail(400, `${ext.id} must be an object`, 'invalidValue');
      const inner: Doc = {};
      for (const [k2, v2] of Object.entries(v)) {
        const a = findCi(ext.attributes, k2);
        if (!a || a.mutability === 'readOnly' || a.mutability === 'writeOnly') continue;
        const c = canonValue(a, v2, `${ext.id}:${a.name}`);
        if (c !== undefined) inner[a.name] = c;
      }
      if (Object.keys(inner).length) out[ext.id] = inner;
      continue;
    }
    const a = coreAttr(ctx, k);
    if (!a || a.mutability === 'readOnly' || a.mutability === 'writeOnly') continue;
    const c = canonValue(a, v, a.name);
    if (c !== undefined) out[a.name] = c;
  }
  return out;
}

export function requireSchema(body: Doc, urn: string): void {
  const schemas = Object.entries(body).find(([k]) => k.toLowerCase() === 'schemas')?.[1];
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn.toLowerCase())) {
    fail(400, `the body's schemas must include "${urn}"`, 'invalidSyntax');
  }
}

/** The primary email of a user document (or its first one). */
export function primaryEmail(doc: Doc): string | null {
  const emails = Array.isArray(doc.emails) ? (doc.emails as Doc[]) : [];
  const e = emails.find((x) => x.primary === true) ?? emails[0];
  return typeof e?.value === 'string' ? e.value : null;
}
