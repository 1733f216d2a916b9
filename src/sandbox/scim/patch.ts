import { evalFilter, FilterSyntaxError, parseFilter, subResolver, type FilterNode } from './filter.js';
import { SCIM_SCHEMA, fail, type Doc } from './protocol.js';
import { isRecord } from '../values.js';
import { canonValue, coreAttr, findCi, requireSchema, splitUrn, type AttrDef, type ResourceCtx, type SchemaDef } from './schema.js';

/*
 * PATCH (RFC 7644 3.5.2), written once for every resource type (users and groups alike) and every vendor
 * profile. Accepts what Okta and Entra ID actually send: op names in any case, `replace` without a path,
 * `remove` with a value, `members[value eq "..."]`, single objects where an array belongs. readOnly attributes
 * are ignored in path-less values (Okta sends `id` in group PATCHes) but an explicit path to one is 400
 * mutability; an unknown path is 400 invalidPath. Callers apply the operations to a copy of the stored
 * document, so a failing operation leaves nothing half done (PATCH is atomic).
 */

interface PatchPath {
  schema: SchemaDef;
  attr: AttrDef;
  filter?: FilterNode;
  sub?: AttrDef;
}

function parsePatchPath(path: string, ctx: ResourceCtx): PatchPath {
  const bad = (why: string): never => fail(400, `invalid PATCH path '${path}': ${why}`, 'invalidPath');
  const split = splitUrn(ctx, path.trim());
  if (!split) bad('unknown schema URN');
  let rest = split!.rest;
  const m = /^[A-Za-z$][\w$-]*/.exec(rest);
  if (!m) bad('expected an attribute name');
  const name = m![0];
  rest = rest.slice(name.length);
  const schema = split!.schema;
  const a = schema === ctx.core ? coreAttr(ctx, name) : findCi(schema.attributes, name);
  if (!a) bad(`unknown attribute '${name}'`);
  const out: PatchPath = { schema, attr: a! };
  if (rest.startsWith('[')) {
    if (!(a!.type === 'complex' && a!.multiValued)) bad(`'${a!.name}' is not multi-valued, so it cannot take a [filter]`);
    let j = 1;
    let inStr = false;
    for (; j < rest.length; j++) {
      const c = rest[j];
      if (inStr) {
        if (c === '\\') j++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === ']') break;
    }
    if (j >= rest.length) bad("missing ']'");
    try {
      out.filter = parseFilter(rest.slice(1, j), subResolver(a!), () => (a!.subAttributes ?? []).map((s) => s.name).join(', '));
    } catch (err) {
      if (err instanceof FilterSyntaxError) bad(err.message);
      throw err;
    }
    rest = rest.slice(j + 1);
  }
  if (rest.startsWith('.')) {
    const subName = rest.slice(1);
    const sub = findCi(a!.subAttributes, subName);
    if (!sub) bad(`'${a!.name}' has no sub-attribute '${subName}'`);
    out.sub = sub;
    rest = '';
  }
  if (rest !== '') bad(`unexpected '${rest}'`);
  return out;
}

function containerFor(doc: Doc, p: PatchPath, create: boolean): Doc | undefined {
  if (p.schema.id === SCIM_SCHEMA.user || p.schema.id === SCIM_SCHEMA.group) return doc;
  if (!isRecord(doc[p.schema.id])) {
    if (!create) return undefined;
    doc[p.schema.id] = {};
  }
  return doc[p.schema.id] as Doc;
}

/** The attribute/value pairs an `eq` filter pins down, to create the element `add` targets (Entra ID style). */
function elementFromFilter(f: FilterNode): Doc | undefined {
  if (f.kind === 'cmp' && f.op === 'eq' && f.value !== null) return { [f.attr.def.name]: f.value };
  if (f.kind === 'and') {
    const l = elementFromFilter(f.left);
    const r = elementFromFilter(f.right);
    return l && r ? { ...l, ...r } : undefined;
  }
  return undefined;
}

function sameElement(a: unknown, b: unknown, def: AttrDef): boolean {
  if (isRecord(a) && isRecord(b) && a.value !== undefined) {
    const valueDef = findCi(def.subAttributes, 'value');
    if (typeof a.value === 'string' && typeof b.value === 'string' && !valueDef?.caseExact) {
      return a.value.toLowerCase() === b.value.toLowerCase() && (a.type ?? null) === (b.type ?? null);
    }
    return a.value === b.value && (def.name === 'members' || (a.type ?? null) === (b.type ?? null));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** RFC 7644 3.5.2: a value newly set primary makes every other value of the attribute non-primary. */
function demoteOtherPrimaries(list: unknown[], keep: Set<unknown>): void {
  if (![...keep].some((e) => isRecord(e) && e.primary === true)) return;
  for (const e of list) if (isRecord(e) && !keep.has(e) && e.primary === true) e.primary = false;
}

function applyPatchOp(doc: Doc, opName: 'add' | 'remove' | 'replace', p: PatchPath, value: unknown, hasValue: boolean): void {
  const { attr: a, sub } = p;
  const isExt = p.schema.id !== SCIM_SCHEMA.user && p.schema.id !== SCIM_SCHEMA.group;
  const where = `${isExt ? p.schema.id + ':' : ''}${a.name}${sub ? '.' + sub.name : ''}`;
  if (a.mutability === 'readOnly' || sub?.mutability === 'readOnly') {
    fail(400, `${where} is read-only and cannot be modified`, 'mutability');
  }
  if (opName !== 'remove' && !hasValue) fail(400, `'${opName}' needs a value`, 'invalidSyntax');
  const c = containerFor(doc, p, opName !== 'remove');
  if (!c) return;

  if (p.filter) {
    const list = Array.isArray(c[a.name]) ? (c[a.name] as unknown[]) : [];
    const matches = list.filter((e): e is Doc => isRecord(e) && evalFilter(p.filter!, e));
    if (opName === 'remove') {
      if (sub) for (const m of matches) delete m[sub.name];
      else c[a.name] = list.filter((e) => !matches.includes(e as Doc));
      if ((c[a.name] as unknown[]).length === 0) delete c[a.name];
      return;
    }
    if (matches.length === 0) {
      // RFC 7644 3.5.2.3: replace with an unmatched value filter is noTarget. `add` creates the element the
      // filter describes, which is what Entra ID expects of `add emails[type eq "work"].value`.
      const seed = opName === 'add' ? elementFromFilter(p.filter) : undefined;
      if (!seed) fail(400, `no ${a.name} value matches the filter in the path`, 'noTarget');
      const el: Doc = sub ? { ...seed, [sub.name]: canonValue(sub, value, where) } : { ...seed, ...(canonValue(a, value, where, true) as Doc) };
      list.push(el);
      c[a.name] = list;
      demoteOtherPrimaries(list, new Set([el]));
      return;
    }
    for (const m of matches) {
      if (sub) {
        const v = canonValue(sub, value, where);
        if (v === undefined) delete m[sub.name];
        else m[sub.name] = v;
      } else Object.assign(m, canonValue(a, value, where, true) as Doc);
    }
    demoteOtherPrimaries(list, new Set(matches));
    return;
  }

  if (sub) {
    if (a.multiValued) {
      // No filter: the sub-attribute of every value (RFC 7644 3.5.2 leaves this to the provider).
      const list = Array.isArray(c[a.name]) ? (c[a.name] as unknown[]) : [];
      for (const e of list) {
        if (!isRecord(e)) continue;
        if (opName === 'remove') delete e[sub.name];
        else e[sub.name] = canonValue(sub, value, where);
      }
      return;
    }
    const cur = isRecord(c[a.name]) ? (c[a.name] as Doc) : {};
    if (opName === 'remove') delete cur[sub.name];
    else {
      const v = canonValue(sub, value, where);
      if (v === undefined) delete cur[sub.name];
      else cur[sub.name] = v;
    }
    if (Object.keys(cur).length) c[a.name] = cur;
    else delete c[a.name];
    return;
  }

  if (opName === 'remove') {
    if (a.multiValued && hasValue && value !== null) {
      // Not RFC 7644 (which wants members[value eq "..."]), but Entra ID and Salesforce send
      // {op: remove, path: members, value: [{value: id}]}; remove exactly those values.
      const drop = (Array.isArray(value) ? value : [value]).map((v, i) => canonValue(a, v, `${where}[${i}]`, true));
      const list = Array.isArray(c[a.name]) ? (c[a.name] as unknown[]) : [];
      c[a.name] = list.filter((e) => !drop.some((d) => sameElement(e, d, a)));
      if ((c[a.name] as unknown[]).length === 0) delete c[a.name];
      return;
    }
    delete c[a.name];
    return;
  }

  if (a.multiValued) {
    // An object where an array belongs: wrap it (Entra ID sends single member objects).
    const items = (Array.isArray(value) ? value : value === null ? [] : [value]).map((v, i) => canonValue(a, v, `${where}[${i}]`, true));
    if (opName === 'replace') {
      c[a.name] = items;
      if (items.length === 0) delete c[a.name];
      return;
    }
    const list = Array.isArray(c[a.name]) ? (c[a.name] as unknown[]) : [];
    const added = new Set<unknown>();
    for (const item of items) {
      const existing = list.find((e) => sameElement(e, item, a));
      if (existing && isRecord(existing) && isRecord(item)) {
        Object.assign(existing, item);
        added.add(existing);
      } else if (!existing) {
        list.push(item);
        added.add(item);
      }
    }
    if (list.length) c[a.name] = list;
    demoteOtherPrimaries(list, added);
    return;
  }

  if (a.type === 'complex') {
    // RFC 7644 3.5.2.1/3: sub-attributes not in the value stay as they are.
    const v = canonValue(a, value, where);
    if (v === undefined) delete c[a.name];
    else c[a.name] = { ...(isRecord(c[a.name]) ? (c[a.name] as Doc) : {}), ...(v as Doc) };
    return;
  }
  const v = canonValue(a, value, where);
  if (v === undefined) delete c[a.name];
  else c[a.name] = v;
}

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path?: string;
  value?: unknown;
  hasValue: boolean;
}

export function readPatchBody(body: Doc): PatchOperation[] {
  requireSchema(body, SCIM_SCHEMA.patchOp);
  const ops = Object.entries(body).find(([k]) => k.toLowerCase() === 'operations')?.[1];
  if (!Array.isArray(ops) || ops.length === 0) fail(400, 'Operations must be a non-empty array', 'invalidSyntax');
  return ops.map((raw, i) => {
    if (!isRecord(raw)) fail(400, `Operations[${i}] must be an object`, 'invalidSyntax');
    const get = (name: string) => Object.entries(raw).find(([k]) => k.toLowerCase() === name);
    const op = get('op')?.[1];
    // Entra ID sends "Replace" / "Add" / "Remove": op names are case-insensitive.
    const opName = typeof op === 'string' ? op.toLowerCase() : '';
    if (opName !== 'add' && opName !== 'remove' && opName !== 'replace') {
      fail(400, `Operations[${i}].op must be add, remove or replace (got ${JSON.stringify(op)})`, 'invalidSyntax');
    }
    const path = get('path')?.[1];
    if (path !== undefined && path !== null && typeof path !== 'string') fail(400, `Operations[${i}].path must be a string`, 'invalidPath');
    const value = get('value');
    return { op: opName, path: typeof path === 'string' && path.trim() ? path : undefined, value: value?.[1], hasValue: value !== undefined };
  });
}

export function applyPatch(doc: Doc, ops: PatchOperation[], ctx: ResourceCtx): void {
  for (const o of ops) {
    if (o.path !== undefined) {
      applyPatchOp(doc, o.op, parsePatchPath(o.path, ctx), o.value, o.hasValue);
      continue;
    }
    // No path: the target is the resource itself; the value is an object of attribute paths and values
    // (Okta and Entra ID: {op: replace, value: {active: false}}, also "name.givenName" or URN-qualified keys).
    if (o.op === 'remove') fail(400, "'remove' needs a path", 'noTarget');
    if (!isRecord(o.value)) fail(400, `'${o.op}' without a path needs an object value`, 'invalidValue');
    for (const [key, v] of Object.entries(o.value)) {
      const lower = key.toLowerCase();
      if (lower === 'schemas' || lower === 'id' || lower === 'meta') continue; // Okta sends the id along
      const ext = ctx.extensions.find((e) => e.id.toLowerCase() === lower);
      if (ext) {
        if (!isRecord(v)) fail(400, `${ext.id} must be an object`, 'invalidValue');
        for (const [k2, v2] of Object.entries(v)) {
          const a = findCi(ext.attributes, k2);
          if (!a || a.mutability === 'readOnly') continue;
          applyPatchOp(doc, o.op, { schema: ext, attr: a }, v2, true);
        }
        continue;
      }
      let p: PatchPath;
      try {
        p = parsePatchPath(key, ctx);
      } catch {
        continue; // unknown attributes in a value object are ignored, as in POST/PUT bodies
      }
      if (p.attr.mutability === 'readOnly' || p.sub?.mutability === 'readOnly' || p.attr.mutability === 'writeOnly') continue;
      applyPatchOp(doc, o.op, p, v, true);
    }
  }
}
