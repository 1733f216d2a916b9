import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/**
 * Checks requests a vendor client sends against the vendor's published OpenAPI document (3.0 or 3.1, JSON or
 * YAML): the operation exists; every query parameter sent is one the operation declares (by its exact name,
 * brackets included), with a value of the declared type; required parameters are there; a body is sent only
 * where the operation defines one, with one of its media types, carrying its required properties and no
 * property the schema does not declare (a query parameter sent in the body shows up here).
 *
 * Deliberately small: it reads what vendor specs actually use (path templates, $ref to components, object
 * schemas with allOf, arrays) and does not try to be a full JSON Schema validator. Use it from any vendor's
 * test: capture the requests (undici MockAgent), then `expect(checkRequest(spec, r).problems).toEqual([])`.
 */

/** Where copies of the published specs live for tests (see the README there for where each came from). */
export const VENDOR_SPECS_DIR = fileURLToPath(new URL('../fixtures/vendor-specs/', import.meta.url));

// The documents are untyped JSON; this module walks them carefully.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface OpenApiSpec {
  doc: Json;
  /** The path part of the first server URL, e.g. `/api/v1`; stripped from request paths before matching. */
  basePath: string;
}

const cache = new Map<string, OpenApiSpec>();

/** Loads (once per process) a spec by file name under VENDOR_SPECS_DIR, or by absolute path. */
export function loadOpenApi(file: string): OpenApiSpec {
  const path = file.startsWith('/') ? file : `${VENDOR_SPECS_DIR}${file}`;
  let spec = cache.get(path);
  if (!spec) {
    const text = readFileSync(path, 'utf8');
    const doc = /\.ya?ml$/i.test(path) ? parseYaml(text, { maxAliasCount: -1 }) : JSON.parse(text);
    spec = { doc, basePath: basePathOf(doc) };
    cache.set(path, spec);
  }
  return spec;
}

/** An OpenAPI document given inline (a test of this helper, or a hand-written excerpt). */
export function openApiFrom(doc: Json): OpenApiSpec {
  return { doc, basePath: basePathOf(doc) };
}

function basePathOf(doc: Json): string {
  const url = doc?.servers?.[0]?.url;
  if (typeof url !== 'string') return '';
  try {
    return new URL(url).pathname.replace(/\/+$/, '');
  } catch {
    return url.startsWith('/') ? url.replace(/\/+$/, '') : '';
  }
}

export interface SentRequest {
  method: string;
  /** The path with its query string as sent, e.g. `/api/v1/users/search?page=1` (an absolute URL also works). */
  path: string;
  headers?: Record<string, string>;
  /** The raw body, '' or undefined when none was sent. */
  body?: string;
}

export interface CheckResult {
  /** `POST /mixed_people/api_search`, or undefined when the spec has no such operation. */
  operation: string | undefined;
  problems: string[];
}

export interface CheckOptions {
  /**
   * Query parameters a spec leaves undeclared on purpose, accepted without a problem. Outreach's spec declares
   * no query parameters on its JSON:API collections: filtering, paging and sorting are the JSON:API families
   * (`filter[…]`, `page[…]`, `sort`, `include`, `fields[…]`) that its media type defines.
   */
  undeclaredQuery?: RegExp;
}

/** The JSON:API query families (for CheckOptions.undeclaredQuery). */
export const JSON_API_QUERY = /^(filter|page|fields)\[[^\]]+\](\[[^\]]+\])*$|^(sort|include)$/;

/**
 * SalesLoft's notes' (and cursor-poller guide's) dialect, sent beside the spec's own parameters where the two
 * disagree (src/vendors/salesloft/client.ts explains each): `include_deactivated` beside `visible_only=false`,
 * `sort` beside `sort_by`, and the `updated_at[…]` range the cursor walk needs.
 */
export const SALESLOFT_NOTES_QUERY = /^(include_deactivated|sort|updated_at\[(gt|gte|lt|lte)\])$/;

/** Checks one request; `problems` is empty when it is where and how the spec says. */
export function checkRequest(spec: OpenApiSpec, req: SentRequest, opts: CheckOptions = {}): CheckResult {
  const url = new URL(req.path, 'http://request.invalid');
  let path = decodeURIComponent(url.pathname);
  if (spec.basePath && path.startsWith(spec.basePath)) path = path.slice(spec.basePath.length) || '/';
  const method = req.method.toLowerCase();
  const found = findOperation(spec.doc, path, method);
  if (!found) return { operation: undefined, problems: [`${req.method} ${path}: no such operation in the spec`] };
  const { template, pathItem, op } = found;
  const name = `${req.method.toUpperCase()} ${template}`;
  const problems: string[] = [];
  const params = [...(pathItem.parameters ?? []), ...(op.parameters ?? [])].map((p: Json) => resolve(spec.doc, p));

  // Query parameters: declared, typed, required ones present.
  const declared = new Map<string, Json>();
  for (const p of params) if (p.in === 'query') declared.set(p.name, p);
  const sent = new Map<string, string[]>();
  for (const [k, v] of url.searchParams) sent.set(k, [...(sent.get(k) ?? []), v]);
  for (const [k, values] of sent) {
    const deep = /^([^[\]]+)\[([^\]]+)\]$/.exec(k);
    const group = deep ? declared.get(deep[1]!) : undefined;
    if (deep && group?.style === 'deepObject') {
      // `actionParams[ownerId]`: one property of a deepObject parameter.
      const shape = objectShape(spec.doc, group.schema ?? {});
      const prop = shape.properties[deep[2]!];
      if (!prop && !shape.open) problems.push(`${name}: query parameter \`${k}\`: \`${deep[2]}\` is not a property of \`${deep[1]}\``);
      for (const v of values) {
        const bad = prop ? scalarProblem(resolve(spec.doc, prop), v) : undefined;
        if (bad) problems.push(`${name}: query parameter \`${k}\`=${JSON.stringify(v)} ${bad}`);
      }
      continue;
    }
    const p = declared.get(k);
    if (!p) {
      if (opts.undeclaredQuery?.test(k)) continue;
      problems.push(`${name}: query parameter \`${k}\` is not declared by the spec${bodyHas(spec.doc, op, k) ? ' (the spec puts it in the JSON body)' : ''}`);
      continue;
    }
    const schema = resolve(spec.doc, p.schema ?? {});
    const itemSchema = schema.type === 'array' ? resolve(spec.doc, schema.items ?? {}) : schema;
    if (schema.type !== 'array' && values.length > 1) problems.push(`${name}: query parameter \`${k}\` is sent ${values.length} times but is not an array`);
    if (schema.type === 'array' && p.explode === false && values.length > 1) problems.push(`${name}: query parameter \`${k}\` is an array sent comma-separated (explode: false), not repeated`);
    // An array with explode: false travels as one comma-separated value.
    const items = schema.type === 'array' && p.explode === false ? values.flatMap((v) => v.split(',')) : values;
    for (const v of items) {
      const bad = scalarProblem(itemSchema, v);
      if (bad) problems.push(`${name}: query parameter \`${k}\`=${JSON.stringify(v)} ${bad}`);
    }
  }
  for (const p of params) {
    if (p.in === 'query' && p.style === 'deepObject' && p.required) {
      const sentProps = new Set([...sent.keys()].filter((k) => k.startsWith(`${p.name}[`)).map((k) => k.slice(p.name.length + 1, -1)));
      for (const r of objectShape(spec.doc, p.schema ?? {}).required) if (!sentProps.has(r)) problems.push(`${name}: required query parameter \`${p.name}[${r}]\` is missing`);
    }
  }
  for (const p of params) {
    if (p.in === 'query' && p.required && p.style !== 'deepObject' && !sent.has(p.name)) problems.push(`${name}: required query parameter \`${p.name}\` is missing`);
    if (p.in === 'header' && p.required && req.headers && !(p.name.toLowerCase() in lower(req.headers))) problems.push(`${name}: required header \`${p.name}\` is missing`);
  }

  // Body: only where the spec has one, in one of its media types, with its required properties.
  const body = req.body ?? '';
  const rb = op.requestBody ? resolve(spec.doc, op.requestBody) : undefined;
  if (!rb) {
    if (body.length > 0) problems.push(`${name}: sends a body, but the spec defines no request body (its parameters are ${describeParams(params)})`);
    return { operation: name, problems };
  }
  if (body.length === 0) {
    if (rb.required) problems.push(`${name}: the spec requires a request body; none was sent`);
    return { operation: name, problems };
  }
  const contentType = (lower(req.headers ?? {})['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const media = Object.keys(rb.content ?? {});
  const match = media.find((m) => mediaMatches(m, contentType));
  if (!match) {
    problems.push(`${name}: body sent as ${contentType || '(no content-type)'}, the spec accepts ${media.join(', ') || 'nothing'}`);
    return { operation: name, problems };
  }
  if (match === 'application/x-www-form-urlencoded') {
    // A form: every field a string; the schema's required fields there, undeclared ones named.
    const form: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(body)) form[k] = k in form ? [...[form[k]!].flat(), v] : v;
    const shape = objectShape(spec.doc, rb.content[match].schema ?? {});
    for (const r of shape.required) if (!(r in form) || form[r] === '') problems.push(`${name}: body: required field \`${r}\` is ${r in form ? 'empty' : 'missing'}`);
    for (const [k, v] of Object.entries(form)) {
      const prop = shape.properties[k];
      if (!prop) {
        if (!shape.open) problems.push(`${name}: body: field \`${k}\` is not declared by the spec`);
        continue;
      }
      const ps = resolve(spec.doc, prop);
      for (const one of [v].flat()) {
        const bad = scalarProblem(ps.type === 'array' ? resolve(spec.doc, ps.items ?? {}) : ps, one);
        if (bad) problems.push(`${name}: body: field \`${k}\`=${JSON.stringify(one)} ${bad}`);
      }
    }
  } else if (/json/.test(match)) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      problems.push(`${name}: body is not valid JSON`);
      return { operation: name, problems };
    }
    problems.push(...schemaProblems(spec.doc, rb.content[match].schema ?? {}, value, `${name}: body`, 0));
  }
  return { operation: name, problems };
}

function findOperation(doc: Json, path: string, method: string): { template: string; pathItem: Json; op: Json } | undefined {
  const candidates: { template: string; pathItem: Json; op: Json; params: number }[] = [];
  const segs = path.split('/').filter(Boolean);
  for (const [template, item] of Object.entries<Json>(doc.paths ?? {})) {
    const op = item?.[method];
    if (!op) continue;
    const tsegs = template.split('/').filter(Boolean);
    if (tsegs.length !== segs.length) continue;
    let params = 0;
    const ok = tsegs.every((t, i) => {
      if (!t.includes('{')) return t === segs[i];
      // `{id}` or `{id}.json`: each template a non-empty run of characters, the literal parts as they are.
      params += 1;
      const re = new RegExp(`^${t.split(/\{[^}]+\}/).map((lit) => lit.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}$`);
      return re.test(segs[i]!);
    });
    if (ok) candidates.push({ template, pathItem: item, op, params });
  }
  // A literal segment beats a template (`/contacts/search` over `/contacts/{contact_id}`).
  candidates.sort((a, b) => a.params - b.params);
  return candidates[0];
}

function resolve(doc: Json, node: Json, depth = 0): Json {
  if (!node || typeof node !== 'object' || typeof node.$ref !== 'string' || depth > 20) return node;
  const ref: string = node.$ref;
  if (!ref.startsWith('#/')) return node;
  const target = ref
    .slice(2)
    .split('/')
    .reduce((o: Json, k: string) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  return resolve(doc, target, depth + 1);
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

function mediaMatches(declared: string, sent: string): boolean {
  const d = declared.toLowerCase();
  if (d === '*/*' || d === sent) return true;
  if (d.endsWith('/*')) return sent.startsWith(d.slice(0, -1));
  return false;
}

function typesOf(schema: Json): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  return schema.type ? [schema.type] : [];
}

function scalarProblem(schema: Json, v: string): string | undefined {
  const types = typesOf(schema);
  if (types.length === 0) return undefined;
  const fits = types.some((t) => {
    if (t === 'integer') return /^-?\d+$/.test(v);
    if (t === 'number') return v.trim() !== '' && Number.isFinite(Number(v));
    if (t === 'boolean') return v === 'true' || v === 'false';
    if (t === 'string') return true;
    return false;
  });
  if (!fits) return `is not of type ${types.join(' | ')}`;
  if (Array.isArray(schema.enum) && !schema.enum.map(String).includes(v)) return `is not one of ${schema.enum.join(', ')}`;
  return undefined;
}

/** Properties an object schema declares (allOf merged); undefined when it cannot tell (oneOf, free-form). */
function objectShape(doc: Json, schema: Json): { properties: Record<string, Json>; required: string[]; open: boolean } {
  const s = resolve(doc, schema);
  const out = { properties: {} as Record<string, Json>, required: [] as string[], open: false };
  for (const part of [s, ...(s.allOf ?? []).map((p: Json) => resolve(doc, p))]) {
    Object.assign(out.properties, part.properties ?? {});
    out.required.push(...(part.required ?? []));
    if (part.oneOf || part.anyOf || part.additionalProperties === true || (typeof part.additionalProperties === 'object' && part.additionalProperties !== null)) out.open = true;
  }
  if (Object.keys(out.properties).length === 0) out.open = true;
  return out;
}

function schemaProblems(doc: Json, schema: Json, value: unknown, where: string, depth: number): string[] {
  if (depth > 6) return [];
  const s = resolve(doc, schema);
  const types = typesOf(s);
  const problems: string[] = [];
  if (types.includes('array') || (s.items && !types.length)) {
    if (!Array.isArray(value)) return types.includes('array') ? [`${where} should be an array`] : [];
    value.forEach((item, i) => problems.push(...schemaProblems(doc, s.items ?? {}, item, `${where}[${i}]`, depth + 1)));
    return problems;
  }
  if (types.includes('object') || s.properties || s.allOf) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${where} should be an object`];
    const shape = objectShape(doc, s);
    for (const r of shape.required) if (!(r in (value as object))) problems.push(`${where}: required property \`${r}\` is missing`);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const prop = shape.properties[k];
      if (!prop) {
        if (!shape.open) problems.push(`${where}: property \`${k}\` is not declared by the spec`);
        continue;
      }
      problems.push(...schemaProblems(doc, prop, v, `${where}.${k}`, depth + 1));
    }
    return problems;
  }
  return problems;
}

function bodyHas(doc: Json, op: Json, key: string): boolean {
  const rb = op.requestBody ? resolve(doc, op.requestBody) : undefined;
  const media = rb?.content ? Object.values<Json>(rb.content)[0] : undefined;
  if (!media?.schema) return false;
  return key.replace(/\[\]$/, '') in objectShape(doc, media.schema).properties;
}

function describeParams(params: Json[]): string {
  const where = new Map<string, string[]>();
  for (const p of params) where.set(p.in, [...(where.get(p.in) ?? []), p.name]);
  return [...where].map(([k, names]) => `${k}: ${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}`).join('; ') || 'none';
}

/** A simulator's request-log entry as checkRequest reads it. */
export function asSent(r: { method: string; path: string; query?: [string, string][]; contentType?: string; body?: string }): SentRequest {
  // Some simulators log the path with its query string, others the query apart.
  const q = r.query?.length && !r.path.includes('?') ? `?${new URLSearchParams(r.query).toString()}` : '';
  return { method: r.method, path: `${r.path}${q}`, headers: r.contentType ? { 'content-type': r.contentType } : {}, body: r.body };
}
