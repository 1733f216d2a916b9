import type { IncomingMessage } from 'node:http';
import { SimError, orFail, parseMediaType, readBody, readJsonBody } from '../http-util.js';
import { isRecord } from '../values.js';

/*
 * JSON:API 1.1 as Outreach serves it, written once for every resource type: error objects, resource objects
 * with sparse fieldsets, and list queries (filter, sort, fields, include, page[size]/page[offset] with links).
 * A resource type is a ResourceDef (outreach/resources.ts): its attributes, relationships, filters and sort keys.
 */

export const JSONAPI_MEDIA_TYPE = 'application/vnd.api+json';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

// ---------------------------------------------------------------------------------------------------------
// Errors

export interface JsonApiError {
  id: string;
  status: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string; header?: string };
}

const TITLES: Record<number, [string, string]> = {
  400: ['badRequest', 'Bad Request'],
  401: ['unauthorizedRequest', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['resourceNotFound', 'Resource Not Found'],
  405: ['methodNotAllowed', 'Method Not Allowed'],
  406: ['notAcceptable', 'Not Acceptable'],
  409: ['conflict', 'Conflict'],
  413: ['payloadTooLarge', 'Payload Too Large'],
  415: ['unsupportedMediaType', 'Unsupported Media Type'],
  422: ['validationError', 'Validation Error'],
  429: ['rateLimitExceeded', 'Rate Limit Exceeded'],
  500: ['internalServerError', 'Internal Server Error'],
  502: ['badGateway', 'Bad Gateway'],
  503: ['serviceUnavailable', 'Service Unavailable'],
  504: ['gatewayTimeout', 'Gateway Timeout'],
};

export function apiError(status: number, detail?: string, source?: JsonApiError['source']): JsonApiError {
  const [id, title] = TITLES[status] ?? ['error', 'Error'];
  return { id, status: String(status), title, ...(detail ? { detail } : {}), ...(source ? { source } : {}) };
}

/** Throws a JSON:API error document with one error. */
export function fail(status: number, detail?: string, source?: JsonApiError['source'], headers?: Record<string, string | number>): never {
  throw new SimError(status, { errors: [apiError(status, detail, source)] }, headers);
}

/** Throws a JSON:API error document with every error a validation collected. */
export function failAll(status: number, errors: JsonApiError[]): never {
  throw new SimError(status, { errors });
}

// ---------------------------------------------------------------------------------------------------------
// Resource types

type Pred<T> = (item: T) => boolean;

/**
 * How `filter[<name>]` applies to a resource type. `text`: comma-separated values, case-insensitive equality;
 * `exact`: the same, case-sensitive (ids as strings); `integer`: comma-separated integers; `boolean`: true or
 * false; `time`: a range `<from>..<to>` or `filter[<name>][gt|gte|lt|lte]`; `relationship`: `filter[<name>][id]`.
 */
export type FilterSpec<T> =
  | { kind: 'text' | 'exact'; get: (item: T) => string }
  | { kind: 'integer'; get: (item: T) => number }
  | { kind: 'boolean'; get: (item: T) => boolean }
  | { kind: 'time'; get: (item: T) => string | null }
  | { kind: 'relationship'; get: (item: T) => string | null };

/** A to-one relationship; `X` is whatever the simulator passes to find the related resource (its request). */
export interface Relationship<T, X> {
  name: string;
  /** The related resource's type, in resource identifiers. */
  type: string;
  id(item: T): string | null;
  /** The related resource object, for `include`. */
  related(x: X, id: string): ResourceObject;
}

export interface ResourceDef<T, X = unknown> {
  type: string;
  /** The collection's path under the API base, e.g. `/users`. */
  path: string;
  id(item: T): string;
  /** Attribute getters, in the order the resource object lists them; also the names sparse fieldsets accept. */
  attributes: Record<string, (item: T) => unknown>;
  relationships?: readonly Relationship<T, X>[];
  filters: Record<string, FilterSpec<T>>;
  sortable: Record<string, (item: T) => string | number>;
}

export interface ResourceObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, unknown>;
  links: { self: string };
}

/** A resource object; with `fields`, only those attributes and relationships (a sparse fieldset). */
export function serialize<T, X>(def: ResourceDef<T, X>, item: T, base: string, fields?: Set<string>): ResourceObject {
  const id = def.id(item);
  const attributes: Record<string, unknown> = {};
  for (const [name, get] of Object.entries(def.attributes)) if (!fields || fields.has(name)) attributes[name] = get(item);
  let relationships: Record<string, unknown> | undefined;
  if (def.relationships) {
    relationships = {};
    for (const r of def.relationships) {
      if (fields && !fields.has(r.name)) continue;
      const rid = r.id(item);
      relationships[r.name] = { data: rid === null ? null : { type: r.type, id: rid } };
    }
  }
  return { type: def.type, id, attributes, ...(relationships ? { relationships } : {}), links: { self: `${base}${def.path}/${id}` } };
}

/** The `included` resources of `items` for the relationships named in `include` (each once, in definition order). */
export function included<T, X>(x: X, def: ResourceDef<T, X>, items: readonly T[], include: readonly string[]): ResourceObject[] {
  const out: ResourceObject[] = [];
  for (const r of def.relationships ?? []) {
    if (!include.includes(r.name)) continue;
    const ids = new Set(items.map((i) => r.id(i)).filter((id): id is string => id !== null));
    for (const id of ids) out.push(r.related(x, id));
  }
  return out;
}

/** Names a resource type's `fields[type]` may list. */
function fieldNames<T, X>(def: ResourceDef<T, X>): string[] {
  return [...Object.keys(def.attributes), ...(def.relationships ?? []).map((r) => r.name)];
}

/** The relationships `include` may name. */
export function includable<T, X>(def: ResourceDef<T, X>): string[] {
  return (def.relationships ?? []).map((r) => r.name);
}

// ---------------------------------------------------------------------------------------------------------
// List queries

export function listOf(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Parses a bracketed key like `filter[role][id]` into ['filter', 'role', 'id']. */
function splitKey(key: string): string[] | undefined {
  const m = /^([A-Za-z]+)((?:\[[^\[\]]*\])*)$/.exec(key);
  if (!m) return undefined;
  const rest = [...m[2]!.matchAll(/\[([^\[\]]*)\]/g)].map((x) => x[1]!);
  return [m[1]!, ...rest];
}

function parseIntParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null) return dflt;
  if (!/^\d+$/.test(raw)) fail(400, `${name} must be a non-negative integer`, { parameter: name });
  const n = Number(raw);
  if (n < min || n > max) fail(400, `${name} must be between ${min} and ${max}`, { parameter: name });
  return n;
}

function parseTime(raw: string, param: string, edge: 'from' | 'to'): number {
  if (raw === '' || raw === (edge === 'from' ? 'neginf' : 'inf')) return edge === 'from' ? -Infinity : Infinity;
  const t = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(t)) fail(400, `${param}: '${raw}' is not an ISO 8601 time`, { parameter: param });
  return t;
}

/**
 * `filter[x]=a..b` (inclusive, `neginf`/`inf` open ends) and `filter[x][gt|gte|lt|lte]=t`. The notes suggest
 * `filter[updatedAt][gt]=`; Outreach's range syntax is `filter[updatedAt]=<from>..<to>`. Both are accepted.
 */
function timeFilter<T>(key: string, field: string, op: string | undefined, value: string, get: (i: T) => string | null): Pred<T> {
  if (op === undefined) {
    const parts = value.split('..');
    if (parts.length !== 2) fail(400, `${key} must be a range '<from>..<to>'`, { parameter: key });
    const from = parseTime(parts[0]!, key, 'from');
    const to = parseTime(parts[1]!, key, 'to');
    return (i) => {
      const v = get(i);
      if (v === null) return false;
      const t = Date.parse(v);
      return t >= from && t <= to;
    };
  }
  const t = parseTime(value, key, 'from');
  const cmp: Record<string, (a: number) => boolean> = {
    gt: (a) => a > t,
    gte: (a) => a >= t,
    lt: (a) => a < t,
    lte: (a) => a <= t,
  };
  const f = cmp[op];
  if (!f) fail(400, `unsupported filter operator '${op}' on ${field}`, { parameter: key });
  return (i) => {
    const v = get(i);
    return v !== null && f(Date.parse(v));
  };
}

/** The predicate of `filter[...]` (`path` is what follows `filter`); an unsupported filter is a 400. */
function filterOf<T, X>(def: ResourceDef<T, X>, key: string, path: string[], value: string): Pred<T> {
  const [field, sub] = path;
  const spec = field !== undefined && Object.hasOwn(def.filters, field) ? def.filters[field] : undefined;
  if (spec && path.length === 1) {
    switch (spec.kind) {
      case 'text': {
        // Case-insensitive exact match: the seed has addresses differing only in case, and both come back.
        const wanted = new Set(listOf(value).map((s) => s.toLowerCase()));
        return (i) => wanted.has(spec.get(i).toLowerCase());
      }
      case 'exact': {
        const wanted = new Set(listOf(value));
        return (i) => wanted.has(spec.get(i));
      }
      case 'integer': {
        const ids = listOf(value);
        if (ids.some((s) => !/^\d+$/.test(s))) fail(400, `${key} must be a comma-separated list of integers`, { parameter: key });
        const wanted = new Set(ids.map(Number));
        return (i) => wanted.has(spec.get(i));
      }
      case 'boolean': {
        if (value !== 'true' && value !== 'false') fail(400, `${key} must be true or false`, { parameter: key });
        const want = value === 'true';
        return (i) => spec.get(i) === want;
      }
      case 'time':
        return timeFilter<T>(key, field!, undefined, value, spec.get);
    }
  } else if (spec && path.length === 2) {
    if (spec.kind === 'time' && sub) return timeFilter<T>(key, field!, sub, value, spec.get);
    if (spec.kind === 'relationship' && sub === 'id') {
      const wanted = new Set(listOf(value));
      return (i) => wanted.has(spec.get(i) ?? '');
    }
  }
  // A choice: the notes allow "unfiltered results or errors"; an error cannot be mistaken for a match.
  fail(400, `unsupported filter '${key}' on ${def.type}s`, { parameter: key });
}

export interface ListResult<T> {
  page: T[];
  fields: Set<string> | undefined;
  include: string[];
  count: number;
  links: Record<string, string>;
}

/** Runs a list query over `items` (in id order); every query parameter it does not know is a 400. */
export function listQuery<T, X>(q: URLSearchParams, def: ResourceDef<T, X>, items: readonly T[], base: string): ListResult<T> {
  const preds: Pred<T>[] = [];
  let fields: Set<string> | undefined;
  let include: string[] = [];
  let sortKeys: { get: (i: T) => string | number; desc: boolean }[] = [];
  for (const key of new Set(q.keys())) {
    const value = q.get(key)!;
    const parts = splitKey(key);
    const family = parts?.[0];
    if (family === 'page' && parts!.length === 2 && (parts![1] === 'size' || parts![1] === 'offset')) continue;
    if (family === 'filter' && parts!.length >= 2) {
      preds.push(filterOf(def, key, parts!.slice(1), value));
      continue;
    }
    if (family === 'fields' && parts!.length === 2) {
      if (parts![1] !== def.type) continue; // sparse fieldsets for other types only matter for `included`
      const names = listOf(value);
      const known = fieldNames(def);
      const bad = names.find((n) => !known.includes(n));
      if (bad) fail(400, `unknown field '${bad}' for ${def.type}`, { parameter: key });
      fields = new Set(names);
      continue;
    }
    if (key === 'include') {
      include = listOf(value);
      const bad = include.find((n) => !includable(def).includes(n));
      if (bad) fail(400, `cannot include '${bad}' on ${def.type}`, { parameter: key });
      continue;
    }
    if (key === 'sort') {
      sortKeys = listOf(value).map((s) => {
        const desc = s.startsWith('-');
        const name = desc ? s.slice(1) : s;
        const get = def.sortable[name];
        if (!get) fail(400, `cannot sort ${def.type}s by '${name}'`, { parameter: key });
        return { get, desc };
      });
      continue;
    }
    fail(400, `unsupported query parameter '${key}'`, { parameter: key });
  }
  const size = parseIntParam(q, 'page[size]', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
  const offset = parseIntParam(q, 'page[offset]', 0, 0, Number.MAX_SAFE_INTEGER);

  let matched = preds.length ? items.filter((i) => preds.every((p) => p(i))) : items.slice();
  if (sortKeys.length) {
    // Array.prototype.sort is stable, and items arrive in id order, so ties keep id order.
    matched = matched.sort((a, b) => {
      for (const k of sortKeys) {
        const x = k.get(a);
        const y = k.get(b);
        if (x < y) return k.desc ? 1 : -1;
        if (x > y) return k.desc ? -1 : 1;
      }
      return 0;
    });
  }
  const page = matched.slice(offset, offset + size);
  const link = (off: number) => {
    const u = new URL(`${base}${def.path}`);
    for (const [k, v] of q) if (k !== 'page[size]' && k !== 'page[offset]') u.searchParams.append(k, v);
    u.searchParams.set('page[size]', String(size));
    u.searchParams.set('page[offset]', String(off));
    return u.toString();
  };
  const links: Record<string, string> = { first: link(0) };
  if (offset > 0) links.prev = link(Math.max(0, offset - size));
  if (offset + size < matched.length) links.next = link(offset + size);
  return { page, fields, include, count: matched.length, links };
}

/** A list response document: the page, `meta.count`, paging links, and `included` when asked for. */
export function listDocument<T, X>(x: X, def: ResourceDef<T, X>, items: readonly T[], q: URLSearchParams, base: string): Record<string, unknown> {
  const r = listQuery(q, def, items, base);
  const doc: Record<string, unknown> = { data: r.page.map((i) => serialize(def, i, base, r.fields)), meta: { count: r.count }, links: r.links };
  if (r.include.length) doc.included = included(x, def, r.page, r.include);
  return doc;
}

// ---------------------------------------------------------------------------------------------------------
// Request documents

/** The `data` object of a request document; 415 for any other media type. */
export async function readDocument(req: IncomingMessage): Promise<Record<string, unknown>> {
  const ct = parseMediaType(req.headers['content-type']);
  // JSON:API 1.1: 415 for any media type parameter other than ext/profile (so `charset` is refused too).
  const badParams = ct ? Object.keys(ct.params).filter((p) => p !== 'ext' && p !== 'profile') : [];
  if (!ct || ct.type !== JSONAPI_MEDIA_TYPE || badParams.length) {
    // Drain so the keep-alive connection stays usable.
    await readBody(req).catch(() => undefined);
    fail(415, `Content-Type must be ${JSONAPI_MEDIA_TYPE} without parameters`, { header: 'Content-Type' });
  }
  const body = await orFail(readJsonBody(req), fail);
  if (!isRecord(body) || !isRecord(body.data)) fail(400, 'the document must have a top-level data object', { pointer: '/data' });
  return body.data;
}
