import type { Clock } from '../../clock.js';
import { logged, orFail, parseMediaType, readBody, readJsonBody, sendJson, type Exchange } from '../http-util.js';
import { evalFilter, FilterSyntaxError, parseFilter, resourceResolver, type AttrResolver, type FilterNode } from './filter.js';
import { applyPatch, readPatchBody } from './patch.js';
import type { ScimVendor, ScimVendorBehaviour } from './profiles.js';
import { SCIM_MEDIA_TYPE, SCIM_SCHEMA, clone, fail, type Doc } from './protocol.js';
import { isRecord, iso } from '../values.js';
import { canonResource, coreAttr, describeAttributes, findCi, requireSchema, splitUrn, type ResourceCtx } from './schema.js';
import type { ScimRecord, ScimStore } from './store.js';

/*
 * The protocol every SCIM resource type shares (RFC 7644 3.3-3.9), written once: list with filter and paging,
 * read with attributes/excludedAttributes and If-None-Match, POST, PUT, PATCH and DELETE with If-Match. A
 * resource type (handlers/users.ts, handlers/groups.ts) supplies only what differs: its schemas, how a record
 * serializes, and how a new document is validated and stored.
 *
 * - ETags (opt-in, `etag: true`): weak `W/"<n>"`, `meta.version`, If-Match on PUT/PATCH/DELETE (412 on a
 *   mismatch), If-None-Match on GET (304). With ETags off, If-Match is ignored as RFC 7644 3.14 allows.
 * - PATCH answers 200 with the resource by default (`patchStatus: 204` for the bodiless variant RFC 7644
 *   3.5.2 also allows); every vendor here defaults to 200 because none documents otherwise.
 * - `sortBy` is ignored (ServiceProviderConfig says sort unsupported); results come in creation order, the
 *   same order for any startIndex/count, as Okta requires.
 */

export type PatchMode = 'ok' | 'unsupported' | 'notAllowed';

export interface ScimRequestLogEntry {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** 0 when the connection was dropped by failNext. */
  status: number;
}

/** The simulator's state, as its handlers see it. */
export interface ScimEnv {
  vendor: ScimVendor;
  behaviour: ScimVendorBehaviour;
  clock: Clock;
  store: ScimStore;
  token: string;
  /** Serve meta.version and ETag, honour If-Match / If-None-Match. */
  etag: boolean;
  patchMode: PatchMode;
  patchStatus: 200 | 204;
  /** Page size cap (ServiceProviderConfig filter.maxResults) and default `count`. */
  maxResults: number;
  requests: ScimRequestLogEntry[];
  /** The SCIM base URL (origin + the vendor's base path), set once the server listens. */
  base: string;
  /** The resource types this tenant serves, for discovery (/ResourceTypes, /Schemas). */
  types: readonly Pick<ResourceType<never>, 'name' | 'endpoint' | 'description' | 'ctx'>[];
}

export interface ScimCall extends Exchange {
  env: ScimEnv;
}

export function reply(c: ScimCall, status: number, body: unknown, headers: Record<string, string | number> = {}): void {
  c.env.requests.push(logged(c, status));
  sendJson(c.res, status, body, headers, SCIM_MEDIA_TYPE);
}

export function methodNotAllowed(method: string, allow: string): never {
  fail(405, `${method} is not supported here; allowed: ${allow}`, undefined, { Allow: allow });
}

// ---------------------------------------------------------------------------------------------------------
// Resource types

/** One SCIM resource type: what the shared protocol code needs to serve it. */
export interface ResourceType<R extends ScimRecord> {
  /** `meta.resourceType`, e.g. 'User'. */
  name: string;
  /** The path segment, e.g. 'Users'. */
  endpoint: string;
  /** In PATCH-unsupported errors: "replace the <noun> with PUT". */
  noun: string;
  /** Its /ResourceTypes description. */
  description: string;
  ctx: ResourceCtx;
  resolver: AttrResolver;
  /** The records a list covers, and how one becomes a document (built per request: it may index). */
  listing(env: ScimEnv): { records: readonly R[]; toDoc: (r: R) => Doc };
  /** A record SCIM serves, or undefined (then 404). */
  find(env: ScimEnv, id: string): R | undefined;
  serialize(env: ScimEnv, r: R): Doc;
  /** POST: validates the canonical document and creates the record. */
  create(env: ScimEnv, doc: Doc): R;
  /** PATCH's working copy of the stored state (a copy: PATCH is atomic, RFC 7644 3.5.2). */
  patchable(r: R): Doc;
  /** PUT and PATCH: validates the new document and stores it when it differs (then it is touched). */
  commit(env: ScimEnv, r: R, doc: Doc, via: 'put' | 'patch'): void;
  remove(env: ScimEnv, r: R): void;
  /**
   * Whether a 200 PATCH answer honours `attributes`/`excludedAttributes`. Groups' does and users' does not:
   * both as they always have (the PUT answer honours neither).
   */
  projectPatchAnswer: boolean;
}

/** The schemas and filter resolver of a resource type, from its core schema and this tenant's extensions. */
export function typeSchemas(ctx: ResourceCtx): { ctx: ResourceCtx; resolver: AttrResolver } {
  return { ctx, resolver: resourceResolver(ctx) };
}

export function meta(env: ScimEnv, resourceType: string, r: ScimRecord, endpoint: string) {
  return {
    resourceType,
    created: iso(r.created),
    lastModified: iso(r.lastModified),
    location: `${env.base}/${endpoint}/${r.id}`,
    ...(env.etag ? { version: versionTag(r.version) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The handlers every resource type gets (routes.ts puts them in the table)

export function listResources<R extends ScimRecord>(type: ResourceType<R>) {
  return (c: ScimCall) => {
    const q = c.url.searchParams;
    const filter = parseListFilter(q, type.resolver, type.ctx);
    const { records, toDoc } = type.listing(c.env);
    reply(c, 200, listResponse(c.env, records, toDoc, q, type.ctx, filter));
  };
}

export function createResource<R extends ScimRecord>(type: ResourceType<R>) {
  return async (c: ScimCall) => {
    const body = await readScimBody(c);
    requireSchema(body, type.ctx.core.id);
    const r = type.create(c.env, canonResource(body, type.ctx));
    reply(c, 201, type.serialize(c.env, r), { Location: `${c.env.base}/${type.endpoint}/${r.id}`, ...etagHeader(c.env, r) });
  };
}

export function getResource<R extends ScimRecord>(type: ResourceType<R>) {
  return (c: ScimCall) => {
    const r = found(c, type);
    if (notModified(c, r)) return reply(c, 304, undefined, etagHeader(c.env, r));
    return reply(c, 200, project(type.serialize(c.env, r), type.ctx, c.url.searchParams), etagHeader(c.env, r));
  };
}

export function replaceResource<R extends ScimRecord>(type: ResourceType<R>) {
  return async (c: ScimCall) => {
    const r = found(c, type);
    checkIfMatch(c, r);
    const body = await readScimBody(c);
    requireSchema(body, type.ctx.core.id);
    // RFC 7644 3.5.1: id and meta in the body are ignored; readWrite attributes left out are cleared.
    type.commit(c.env, r, canonResource(body, type.ctx), 'put');
    return reply(c, 200, type.serialize(c.env, r), etagHeader(c.env, r));
  };
}

export function patchResource<R extends ScimRecord>(type: ResourceType<R>) {
  return async (c: ScimCall) => {
    const r = found(c, type);
    checkIfMatch(c, r);
    const ops = readPatchBody(await readScimBody(c));
    const doc = type.patchable(r);
    applyPatch(doc, ops, type.ctx);
    // Nothing above touched the stored record (nor, linked, the REST one): a failed operation changes nothing.
    type.commit(c.env, r, doc, 'patch');
    if (c.env.patchStatus === 204) return reply(c, 204, undefined, etagHeader(c.env, r));
    const out = type.serialize(c.env, r);
    return reply(c, 200, type.projectPatchAnswer ? project(out, type.ctx, c.url.searchParams) : out, etagHeader(c.env, r));
  };
}

export function deleteResource<R extends ScimRecord>(type: ResourceType<R>) {
  return (c: ScimCall) => {
    const r = found(c, type);
    checkIfMatch(c, r);
    type.remove(c.env, r);
    return reply(c, 204, undefined);
  };
}

/** Any other method on an existing resource: 405 (an unknown id is still 404 first). */
export function itemMethodNotAllowed<R extends ScimRecord>(type: ResourceType<R>) {
  return (c: ScimCall) => {
    found(c, type);
    return methodNotAllowed(c.method, c.env.patchMode === 'ok' ? 'GET, PUT, PATCH, DELETE' : 'GET, PUT, DELETE');
  };
}

/** PATCH when the tenant does not take it: 501 (patchSupported false) or 405 (patchMethodNotAllowed). */
export function patchRefused<R extends ScimRecord>(type: ResourceType<R>) {
  return (c: ScimCall) => {
    if (c.env.patchMode === 'unsupported') fail(501, `${c.env.behaviour.label} SCIM does not support PATCH; replace the ${type.noun} with PUT`);
    return methodNotAllowed('PATCH', 'GET, PUT, DELETE');
  };
}

function found<R extends ScimRecord>(c: ScimCall, type: ResourceType<R>): R {
  const id = c.params.id!;
  const r = type.find(c.env, id);
  if (!r) fail(404, `Resource ${id} not found`);
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// Request plumbing

/** A JSON object body as application/scim+json or application/json (a body without Content-Type is taken too). */
export async function readScimBody(c: ScimCall): Promise<Doc> {
  const header = c.req.headers['content-type'];
  const ct = parseMediaType(header);
  if (header !== undefined && (!ct || (ct.type !== SCIM_MEDIA_TYPE && ct.type !== 'application/json'))) {
    await readBody(c.req).catch(() => undefined);
    fail(415, `Content-Type must be ${SCIM_MEDIA_TYPE} or application/json`);
  }
  const body = await orFail(readJsonBody(c.req), (status, message) => fail(status, message, status === 400 ? 'invalidSyntax' : undefined));
  if (!isRecord(body)) fail(400, 'the request body must be a JSON object', 'invalidSyntax');
  return body;
}

function intParam(q: URLSearchParams, name: string, dflt: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return dflt;
  if (!/^-?\d+$/.test(raw.trim())) fail(400, `${name} must be an integer, got '${raw}'`, 'invalidValue');
  return Number(raw);
}

function parseListFilter(q: URLSearchParams, resolver: AttrResolver, ctx: ResourceCtx): FilterNode | undefined {
  const raw = q.get('filter');
  if (raw === null) return undefined;
  try {
    return parseFilter(raw, resolver, () => describeAttributes(ctx));
  } catch (err) {
    if (err instanceof FilterSyntaxError) fail(400, `invalid filter ${JSON.stringify(raw)}: ${err.message}`, 'invalidFilter');
    throw err;
  }
}

/**
 * A list response over `records`. Without a filter only the requested page is serialized, so a page costs the
 * same at any directory size; a filter is evaluated on the serialized resources.
 */
function listResponse<R>(env: ScimEnv, records: readonly R[], toDoc: (r: R) => Doc, q: URLSearchParams, ctx: ResourceCtx, filter: FilterNode | undefined) {
  // RFC 7644 3.4.2.4: startIndex < 1 means 1; a negative count means 0; count is capped at maxResults.
  const startIndex = Math.max(1, intParam(q, 'startIndex', 1));
  const count = Math.min(env.maxResults, Math.max(0, intParam(q, 'count', env.maxResults)));
  const from = startIndex - 1;
  let total: number;
  let docs: Doc[];
  if (filter) {
    const matched = records.map(toDoc).filter((r) => evalFilter(filter, r));
    total = matched.length;
    docs = matched.slice(from, from + count);
  } else {
    total = records.length;
    docs = records.slice(from, from + count).map(toDoc);
  }
  const page = docs.map((r) => project(r, ctx, q));
  return {
    schemas: [SCIM_SCHEMA.listResponse],
    totalResults: total,
    startIndex,
    itemsPerPage: page.length,
    Resources: page,
  };
}

/** RFC 7644 3.9 `attributes` / `excludedAttributes` (top-level, sub-attribute and URN-qualified names). */
function project(resource: Doc, ctx: ResourceCtx, q: URLSearchParams): Doc {
  const list = (name: string) =>
    q.get(name)?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
  const include = list('attributes');
  const exclude = list('excludedAttributes');
  if (!include && !exclude) return resource;
  const locate = (text: string) => {
    const split = splitUrn(ctx, text);
    if (!split) return undefined;
    const [name, sub] = split.rest.split('.');
    if (!name) return undefined;
    const a = split.schema === ctx.core ? coreAttr(ctx, name) : findCi(split.schema.attributes, name);
    if (!a) return undefined;
    const s = sub ? findCi(a.subAttributes, sub) : undefined;
    if (sub && !s) return undefined;
    return { ext: split.schema === ctx.core ? null : split.schema.id, a, s };
  };
  if (include) {
    const out: Doc = { schemas: resource.schemas, id: resource.id };
    for (const text of include) {
      const l = locate(text);
      if (!l) continue;
      const src = l.ext ? (resource[l.ext] as Doc | undefined) : resource;
      const v = src?.[l.a.name];
      if (v === undefined) continue;
      const dst = l.ext ? ((out[l.ext] ??= {}) as Doc) : out;
      if (!l.s) dst[l.a.name] = v;
      else if (Array.isArray(v)) dst[l.a.name] = v.map((e) => (isRecord(e) ? { [l.s!.name]: e[l.s!.name] } : e));
      else if (isRecord(v) && v[l.s.name] !== undefined) dst[l.a.name] = { ...((dst[l.a.name] as Doc) ?? {}), [l.s.name]: v[l.s.name] };
    }
    return out;
  }
  const out = clone(resource);
  for (const text of exclude!) {
    const l = locate(text);
    if (!l || l.a.name === 'id') continue;
    const dst = l.ext ? (out[l.ext] as Doc | undefined) : out;
    if (!dst) continue;
    const v = dst[l.a.name];
    if (!l.s) {
      delete dst[l.a.name];
    } else if (Array.isArray(v)) {
      for (const e of v) if (isRecord(e)) delete e[l.s.name];
    } else if (isRecord(v)) {
      delete v[l.s.name];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// ETags

const versionTag = (v: number) => `W/"${v}"`;
const stripWeak = (tag: string) => tag.trim().replace(/^W\//, '');

function checkIfMatch(c: ScimCall, r: { id: string; version: number }): void {
  const header = c.req.headers['if-match'];
  if (!c.env.etag || header === undefined) return;
  const tags = header.split(',').map((t) => t.trim());
  if (tags.includes('*')) return;
  if (!tags.some((t) => stripWeak(t) === stripWeak(versionTag(r.version)))) {
    fail(412, `Failed to update: resource ${r.id} changed on the server (If-Match ${header}, current version ${versionTag(r.version)})`);
  }
}

function notModified(c: ScimCall, r: { version: number }): boolean {
  const header = c.req.headers['if-none-match'];
  if (!c.env.etag || header === undefined) return false;
  const tags = header.split(',').map((t) => t.trim());
  return tags.includes('*') || tags.some((t) => stripWeak(t) === stripWeak(versionTag(r.version)));
}

function etagHeader(env: ScimEnv, r: { version: number }): Record<string, string> {
  return env.etag ? { ETag: versionTag(r.version) } : {};
}
