import type { Clock } from '../../clock.js';
import { pageOf } from '../collection.js';
import { SimError, logged, orFail, parseMediaType, readBody, sendJson, type Exchange, type FixedWindow } from '../http-util.js';
import type { AccessGrant, OAuthServer } from '../oauth-server.js';
import type { SalesloftStore } from './store.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const DEFAULT_PER_PAGE = 25;
const MAX_PER_PAGE = 100;

export interface SimRequestLogEntry {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** 0 when the connection was dropped by failNext. */
  status: number;
  /** Cost charged to the team's budget (0 for 429s, faults and unauthenticated requests). */
  cost: number;
}

/** The simulator's state, as its handlers see it. */
export interface SalesloftEnv {
  clock: Clock;
  store: SalesloftStore;
  oauth: OAuthServer;
  /** The team's budget: cost per window. */
  rate: FixedWindow;
  /** Which parameter reveals deactivated users: the notes' or the spec's `visible_only=false`. */
  deactivatedParam: 'include_deactivated' | 'visible_only';
  /** Which spelling of the sort parameter is honoured; the others are ignored like any unknown parameter. */
  sortParam: 'both' | 'sort' | 'sort_by' | 'none';
  requests: SimRequestLogEntry[];
  /** Total cost charged by requests. */
  charged: number;
  origin: string;
}

export interface SalesloftCall extends Exchange {
  env: SalesloftEnv;
  /** Set once the token checks out. */
  token?: AccessGrant;
  /** What this request was charged (the rate-limit headers say it on every counted answer). */
  cost: number;
}

/** Rails-style errors: `{error}` for 4xx without a field, `{errors: {field: [messages]}}` for validation. */
export function fail(status: number, error: string, headers?: Record<string, string | number>): never {
  throw new SimError(status, { error }, headers);
}

export function invalid(field: string, message: string): never {
  throw new SimError(422, { errors: { [field]: [message] } });
}

export function reply(c: SalesloftCall, status: number, body: unknown, headers: Record<string, string | number> = {}, cost = 0): void {
  c.env.requests.push({ ...logged(c, status), cost });
  sendJson(c.res, status, body, headers, JSON_TYPE);
}

/** `/v2/...` of this simulator, for `_href`s. */
export function href(c: SalesloftCall, path: string): string {
  return `${c.env.origin}/v2/${path}`;
}

/** SalesLoft's cost of a request by its `page` parameter (rate-limits.md). */
export function salesloftPageCost(page: number): number {
  if (page <= 100) return 1;
  if (page <= 150) return 3;
  if (page <= 250) return 8;
  if (page <= 500) return 10;
  return 30;
}

/** The headers of every counted answer, errors included. */
export function rateHeaders(rate: FixedWindow, cost: number): Record<string, string | number> {
  return { 'x-ratelimit-endpoint-cost': cost, 'x-ratelimit-remaining-minute': rate.remaining() };
}

/** GETs need the read scope. */
export function requireRead(c: SalesloftCall): void {
  if (!c.token!.scopes.has('read')) fail(403, 'the token lacks the read scope');
}

// --- parameters -------------------------------------------------------------------------------------------

export function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) invalid(name, 'must be an integer');
  const n = Number(raw);
  if (n < min || n > max) invalid(name, `must be in the range [${min}, ${max}]`);
  return n;
}

export function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw !== 'true' && raw !== 'false') invalid(name, 'must be true or false');
  return raw === 'true';
}

/** `name=a,b`, `name[]=a&name[]=b` or both. */
export function listParam(q: URLSearchParams, name: string): string[] | undefined {
  const values = [...q.getAll(name), ...q.getAll(`${name}[]`)];
  if (values.length === 0) return undefined;
  return values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

/**
 * `page` (from 1) and `per_page`: "[1, 100]" (spec), max 100 (notes). Outside the range: 422, not a silent
 * clamp, so a client that would compute pages with the wrong size fails loudly here. Default 25 (notes; the
 * spec's "returns all users without page" is not modelled: page defaults to 1). Counts on request.
 */
export function paginate<T>(q: URLSearchParams, items: readonly T[]): { page: T[]; paging: Record<string, number | null> } {
  const page = intParam(q, 'page', 1, 1, Number.MAX_SAFE_INTEGER);
  const perPage = intParam(q, 'per_page', DEFAULT_PER_PAGE, 1, MAX_PER_PAGE);
  const totalPages = Math.ceil(items.length / perPage);
  const paging: Record<string, number | null> = {
    per_page: perPage,
    current_page: page,
    next_page: page < totalPages ? page + 1 : null,
    prev_page: page > 1 ? page - 1 : null,
  };
  if (boolParam(q, 'include_paging_counts')) {
    paging.total_pages = totalPages;
    paging.total_count = items.length;
  }
  return { page: pageOf(items, page, perPage), paging };
}

/** A PUT/PATCH or token body: the spec's form, or JSON; an empty body is no parameters. */
export async function readParams(c: SalesloftCall): Promise<Record<string, unknown>> {
  const ct = parseMediaType(c.req.headers['content-type']);
  const text = (await orFail(readBody(c.req), fail)).toString('utf8');
  if (text.trim() === '') return {};
  if (ct?.type === 'application/json') {
    try {
      const v = JSON.parse(text) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) fail(400, 'body must be a JSON object');
      return v as Record<string, unknown>;
    } catch (err) {
      if (err instanceof SimError) throw err;
      fail(400, 'body is not valid JSON');
    }
  }
  if (ct?.type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
  fail(415, 'use application/x-www-form-urlencoded or application/json');
}
