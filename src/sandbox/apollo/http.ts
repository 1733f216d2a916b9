import type { Clock } from '../../clock.js';
import { SimError, logged, parseMediaType, readBody, sendJson, type Exchange } from '../http-util.js';
import type { OAuthServer } from '../oauth-server.js';
import type { RouteSpec } from '../router.js';
import type { EndpointLimits } from './limits.js';
import type { SimTeammate } from './seed.js';
import type { ApolloStore } from './store.js';

export interface ApolloRequestLogEntry {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** Apollo's name of the endpoint (`api/v1/users/search`), or null when no route matched. */
  endpoint: string | null;
  /** 0 when the connection was dropped by failNext. */
  status: number;
  credential: 'master' | 'scoped' | 'oauth' | 'none' | 'invalid';
  /** An `api_key` in the query string or body (Apollo refuses those; the client must never send one). */
  keyInQueryOrBody: boolean;
  /** Credits this request spent. */
  credits: number;
}

/** An Apollo endpoint: its route, and what the key scopes, the limits and the usage statistics know of it. */
export interface ApolloEndpoint extends RouteSpec {
  /** Apollo's name, as in the usage statistics and key scopes. */
  name: string;
  /** OAuth scope (spec). */
  scope: string;
  /** auth/health: bearer tokens only. */
  bearerOnly?: boolean;
  /** Bulk enrichment: a tenth of the limits. */
  bulk?: boolean;
  /** The 200 answer's body; the dispatcher adds the usage headers. */
  handler: (c: ApolloCall) => unknown;
}

/** Who a request authenticated as. */
export interface Credential {
  kind: 'master' | 'scoped' | 'oauth';
  owner: SimTeammate;
  scopes?: Set<string>;
}

/** The simulator's state, as its handlers see it. */
export interface ApolloEnv {
  clock: Clock;
  store: ApolloStore;
  oauth: OAuthServer;
  limits: EndpointLimits;
  /** Every endpoint, in table order (the usage statistics list them all). */
  endpoints: readonly ApolloEndpoint[];
  masterKey: string;
  scopedKey: string;
  /** Apollo names of the endpoints the scoped key may call. */
  scopedAllowed: ReadonlySet<string>;
  requests: ApolloRequestLogEntry[];
}

export interface ApolloCall extends Exchange {
  env: ApolloEnv;
  /** The parsed body (JSON or form); empty for GET. */
  body: Record<string, unknown>;
  /** The endpoint the method and path name, if any. */
  endpoint: ApolloEndpoint | undefined;
  /** What the request log says of the credential (set as authentication learns it). */
  credential: ApolloRequestLogEntry['credential'];
  keyInQueryOrBody: boolean;
  /** Credits spent so far. */
  credits: number;
  /** Set once authenticated. */
  cred?: Credential;
}

/** Apollo's error answer: JSON, or plain text where Apollo answers in text (its key errors). */
export function fail(status: number, body: unknown, headers: Record<string, string | number> = {}, contentType?: 'text/plain'): never {
  throw new SimError(status, body, headers, contentType);
}

/** Records the request in the log (status 0: the connection was dropped). */
export function log(c: ApolloCall, status: number): void {
  const { method, path } = logged(c, status);
  c.env.requests.push({
    method,
    path,
    endpoint: c.endpoint?.name ?? null,
    status,
    credential: c.credential,
    keyInQueryOrBody: c.keyInQueryOrBody,
    credits: c.credits,
  });
}

export function reply(c: ApolloCall, status: number, body: unknown, headers: Record<string, string | number> = {}, contentType = 'application/json'): void {
  log(c, status);
  if (contentType === 'text/plain') {
    const text = String(body);
    c.res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    c.res.end(text);
    return;
  }
  sendJson(c.res, status, body, headers, contentType);
}

export function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1';
}

/** A parameter from the JSON body (Apollo's documented form) or the query (`name` or `name[]`). */
export function param(c: ApolloCall, name: string): unknown {
  if (c.body[name] !== undefined) return c.body[name];
  const q = c.url.searchParams;
  if (q.has(`${name}[]`)) return q.getAll(`${name}[]`);
  return q.get(name) ?? undefined;
}

export function listParam(c: ApolloCall, name: string): string[] {
  const v = param(c, name);
  if (v === undefined || v === null || v === '') return [];
  const arr = Array.isArray(v) ? v : [v];
  return arr.map((x) => String(x).trim().toLowerCase()).filter(Boolean);
}

export function strParam(c: ApolloCall, name: string): string | undefined {
  const v = param(c, name);
  return v === undefined || v === null || String(v).trim() === '' ? undefined : String(v).trim();
}

export function intParam(c: ApolloCall, name: string, dflt: number): number {
  const v = param(c, name);
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) fail(422, { error: `Invalid parameters: ${name} must be a positive integer` });
  return n;
}

/** The body of a POST, PATCH or PUT: a form, or else JSON (whatever the Content-Type says); others are drained. */
export async function readParams(c: ApolloCall): Promise<Record<string, unknown>> {
  const { req } = c;
  if (req.method !== 'POST' && req.method !== 'PATCH' && req.method !== 'PUT') {
    await readBody(req).catch(() => undefined);
    return {};
  }
  const buf = await readBody(req);
  if (buf.length === 0) return {};
  const ct = parseMediaType(req.headers['content-type']);
  const text = buf.toString('utf8');
  if (ct?.type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail(400, { error: 'request body is not valid JSON' });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(422, { error: 'Invalid parameters: the body must be a JSON object' });
  return v as Record<string, unknown>;
}

const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;
/** Apollo's display limit: nothing past page 500 (50,000 records at 100 per page), whatever the total. */
export const MAX_PAGES = 500;

/** `page` (from 1) and `per_page` (default 25, capped at 100 rather than refused). */
export function paging(c: ApolloCall): { page: number; perPage: number } {
  const page = intParam(c, 'page', 1);
  const perPage = Math.min(intParam(c, 'per_page', DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  return { page, perPage };
}
