import { PEOPLE_EMAIL_DOMAIN } from '../people.js';
import { type Doc } from './protocol.js';
import { isRecord } from '../values.js';
import { coreAttr, findCi, splitUrn, type AttrDef, type ResourceCtx } from './schema.js';

/*
 * Filters (RFC 7644 3.4.2.2): the whole grammar (eq ne co sw ew gt ge lt le pr, and/or/not, parentheses,
 * `emails[type eq "work"]` value paths) over every schema attribute, case-insensitive unless the schema says
 * caseExact (id, externalId, member values). Used by list endpoints and by PATCH value-path filters.
 */

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
type CompValue = string | number | boolean | null;

export interface FilterAttr {
  text: string;
  def: AttrDef;
  /** All values of the attribute in `obj`, multi-valued attributes flattened. */
  get: (obj: Doc) => unknown[];
}

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; expr: FilterNode }
  | { kind: 'pr'; attr: FilterAttr }
  | { kind: 'cmp'; attr: FilterAttr; op: CompareOp; value: CompValue }
  | { kind: 'valuePath'; attr: FilterAttr; filter: FilterNode };

type Tok =
  | { t: 'str'; v: string; pos: number }
  | { t: 'word'; v: string; pos: number }
  | { t: '(' | ')' | '[' | ']'; pos: number };

export class FilterSyntaxError extends Error {}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === '[' || c === ']') {
      toks.push({ t: c, pos: i });
      i++;
      continue;
    }
    if (c === '"') {
      // JSON string rules (RFC 7644 3.4.2.2: compValue strings are JSON strings): \" and \\ escape.
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new FilterSyntaxError(`unterminated string starting at position ${i}`);
      let v: string;
      try {
        v = JSON.parse(src.slice(i, j + 1)) as string;
      } catch {
        throw new FilterSyntaxError(`invalid escape in the string starting at position ${i} (use \\" for a quote and \\\\ for a backslash)`);
      }
      toks.push({ t: 'str', v, pos: i });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < src.length && !' \t\n\r()[]"'.includes(src[j]!)) j++;
    toks.push({ t: 'word', v: src.slice(i, j), pos: i });
    i = j;
  }
  return toks;
}

export type AttrResolver = (text: string) => FilterAttr | undefined;

export function parseFilter(src: string, resolve: AttrResolver, describe: () => string): FilterNode {
  if (!src.trim()) throw new FilterSyntaxError('the filter is empty');
  const toks = tokenize(src);
  let k = 0;
  const peek = () => toks[k];
  const isWord = (tok: Tok | undefined, w: string): boolean => tok?.t === 'word' && tok.v.toLowerCase() === w;
  const where = (tok: Tok | undefined) => (tok ? `at position ${tok.pos}` : 'at the end');
  const show = (tok: Tok | undefined) => (!tok ? 'the end of the filter' : tok.t === 'str' ? `"${tok.v}"` : tok.t === 'word' ? `'${tok.v}'` : `'${tok.t}'`);
  const expect = (t: ')' | ']') => {
    const tok = toks[k];
    if (tok?.t !== t) throw new FilterSyntaxError(`expected '${t}' ${where(tok)}, found ${show(tok)}`);
    k++;
  };

  let resolver = resolve;
  let inValuePath = false;

  const parseOr = (): FilterNode => {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      k++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): FilterNode => {
    let left = parseUnary();
    while (isWord(peek(), 'and')) {
      k++;
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): FilterNode => {
    const tok = peek();
    if (isWord(tok, 'not')) {
      k++;
      if (peek()?.t !== '(') throw new FilterSyntaxError(`'not' must be followed by '(' ${where(peek())}`);
      k++;
      const expr = parseOr();
      expect(')');
      return { kind: 'not', expr };
    }
    if (tok?.t === '(') {
      k++;
      const e = parseOr();
      expect(')');
      return e;
    }
    if (tok?.t !== 'word') throw new FilterSyntaxError(`expected an attribute name ${where(tok)}, found ${show(tok)}`);
    k++;
    const a = resolver(tok.v);
    if (!a) throw new FilterSyntaxError(`unknown attribute '${tok.v}' ${where(tok)}; filterable attributes: ${describe()}`);
    if (peek()?.t === '[') {
      if (inValuePath) throw new FilterSyntaxError(`nested value filters are not supported ${where(peek())}`);
      if (!(a.def.type === 'complex' && a.def.multiValued)) {
        throw new FilterSyntaxError(`'${tok.v}' is not a multi-valued complex attribute, so it cannot take [filter] ${where(peek())}`);
      }
      k++;
      const outer = resolver;
      resolver = subResolver(a.def);
      inValuePath = true;
      const inner = parseOr();
      resolver = outer;
      inValuePath = false;
      expect(']');
      return { kind: 'valuePath', attr: a, filter: inner };
    }
    const opTok = peek();
    if (opTok?.t !== 'word') throw new FilterSyntaxError(`expected an operator after '${tok.v}' ${where(opTok)}, found ${show(opTok)}`);
    const op = opTok.v.toLowerCase();
    k++;
    let target = a;
    if (target.def.type === 'complex') {
      // RFC 7644 3.4.2.2: a complex multi-valued attribute without a sub-attribute compares its `value`.
      const valueSub = findCi(target.def.subAttributes, 'value');
      if (!target.def.multiValued || !valueSub) {
        throw new FilterSyntaxError(`'${tok.v}' is complex; name a sub-attribute (e.g. '${tok.v}.${target.def.subAttributes?.[0]?.name ?? 'value'}')`);
      }
      const get = target.get;
      target = { text: `${tok.v}.value`, def: valueSub, get: (o) => get(o).flatMap((e) => (isRecord(e) && e.value !== undefined ? [e.value] : [])) };
    }
    if (op === 'pr') return { kind: 'pr', attr: target };
    if (!COMPARE_OPS.has(op)) {
      throw new FilterSyntaxError(`unknown operator '${opTok.v}' at position ${opTok.pos}; use eq, ne, co, sw, ew, gt, ge, lt, le or pr`);
    }
    const vTok = peek();
    let value: CompValue;
    if (vTok?.t === 'str') value = vTok.v;
    else if (vTok?.t === 'word' && /^(true|false|null)$/.test(vTok.v)) value = vTok.v === 'null' ? null : vTok.v === 'true';
    else if (vTok?.t === 'word' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(vTok.v)) value = Number(vTok.v);
    else {
      throw new FilterSyntaxError(
        `expected a value after '${tok.v} ${opTok.v}' ${where(vTok)}, found ${show(vTok)}; strings must be in double quotes (e.g. ${tok.v} ${op} "dana.lee@${PEOPLE_EMAIL_DOMAIN}")`,
      );
    }
    k++;
    checkComparison(target, op as CompareOp, value);
    return { kind: 'cmp', attr: target, op: op as CompareOp, value };
  };

  const node = parseOr();
  if (k < toks.length) throw new FilterSyntaxError(`unexpected ${show(toks[k])} ${where(toks[k])}; combine expressions with 'and' or 'or'`);
  return node;
}

function checkComparison(a: FilterAttr, op: CompareOp, value: CompValue): void {
  const t = a.def.type;
  if (value === null) {
    if (op !== 'eq' && op !== 'ne') throw new FilterSyntaxError(`'${op} null' is meaningless; use '${a.text} pr' or 'not (${a.text} pr)'`);
    return;
  }
  if (t === 'boolean') {
    if (typeof value !== 'boolean') throw new FilterSyntaxError(`${a.text} is boolean: compare it with true or false, unquoted`);
    if (op !== 'eq' && op !== 'ne') throw new FilterSyntaxError(`${a.text} is boolean: only eq and ne apply`);
    return;
  }
  if (t === 'integer' || t === 'decimal') {
    if (typeof value !== 'number') throw new FilterSyntaxError(`${a.text} is a number: compare it with an unquoted number`);
    if (op === 'co' || op === 'sw' || op === 'ew') throw new FilterSyntaxError(`${op} does not apply to the number ${a.text}`);
    return;
  }
  if (typeof value !== 'string') throw new FilterSyntaxError(`${a.text} is a ${t}: compare it with a quoted string`);
  if (t === 'dateTime' && Number.isNaN(Date.parse(value))) throw new FilterSyntaxError(`"${value}" is not an xsd:dateTime for ${a.text}`);
}

export function subResolver(parent: AttrDef): AttrResolver {
  return (text) => {
    const sub = findCi(parent.subAttributes, text);
    if (!sub) return undefined;
    return { text, def: sub, get: (el) => (el[sub.name] === undefined || el[sub.name] === null ? [] : [el[sub.name]]) };
  };
}

export function resourceResolver(ctx: ResourceCtx): AttrResolver {
  return (text) => {
    const split = splitUrn(ctx, text);
    if (!split) return undefined;
    const [name, sub, ...extra] = split.rest.split('.');
    if (extra.length || !name) return undefined;
    const top = split.schema === ctx.core ? coreAttr(ctx, name) : findCi(split.schema.attributes, name);
    if (!top) return undefined;
    const container = (o: Doc): Doc | undefined => (split.schema === ctx.core ? o : isRecord(o[split.schema.id]) ? (o[split.schema.id] as Doc) : undefined);
    const flat = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
    if (sub === undefined) return { text, def: top, get: (o) => flat(container(o)?.[top.name]) };
    const subDef = findCi(top.subAttributes, sub);
    if (!subDef) return undefined;
    return {
      text,
      def: subDef,
      get: (o) => flat(container(o)?.[top.name]).flatMap((e) => (isRecord(e) ? flat(e[subDef.name]) : [])),
    };
  };
}

export function evalFilter(node: FilterNode, obj: Doc): boolean {
  switch (node.kind) {
    case 'and':
      return evalFilter(node.left, obj) && evalFilter(node.right, obj);
    case 'or':
      return evalFilter(node.left, obj) || evalFilter(node.right, obj);
    case 'not':
      return !evalFilter(node.expr, obj);
    case 'pr':
      return node.attr.get(obj).some((v) => v !== '' && !(Array.isArray(v) && v.length === 0) && !(isRecord(v) && Object.keys(v).length === 0));
    case 'valuePath':
      return node.attr.get(obj).some((el) => isRecord(el) && evalFilter(node.filter, el));
    case 'cmp': {
      const values = node.attr.get(obj);
      if (node.value === null) return node.op === 'eq' ? values.length === 0 : values.length > 0;
      const hit = (op: CompareOp) => values.some((v) => compare(node.attr.def, v, op, node.value as string | number | boolean));
      // `ne` on a multi-valued or absent attribute: true when no value equals.
      return node.op === 'ne' ? !hit('eq') : hit(node.op);
    }
  }
}

function compare(def: AttrDef, actual: unknown, op: CompareOp, wanted: string | number | boolean): boolean {
  if (typeof wanted === 'boolean') return op === 'eq' ? actual === wanted : actual !== wanted;
  if (typeof wanted === 'number') {
    if (typeof actual !== 'number') return false;
    return ord(actual, wanted, op);
  }
  if (typeof actual !== 'string') return false;
  if (def.type === 'dateTime') return ord(Date.parse(actual), Date.parse(wanted), op);
  const a = def.caseExact ? actual : actual.toLowerCase();
  const w = def.caseExact ? wanted : wanted.toLowerCase();
  switch (op) {
    case 'co':
      return a.includes(w);
    case 'sw':
      return a.startsWith(w);
    case 'ew':
      return a.endsWith(w);
    default:
      return ord(a, w, op);
  }
}

function ord<T extends string | number>(a: T, b: T, op: CompareOp): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    default:
      return false;
  }
}
