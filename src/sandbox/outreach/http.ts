import type { Clock } from '../../clock.js';
import { logged, sendJson, type Exchange, type FixedWindow } from '../http-util.js';
import type { AccessGrant, OAuthServer } from '../oauth-server.js';
import { JSONAPI_MEDIA_TYPE, fail } from './jsonapi.js';
import type { OutreachStore } from './store.js';

export interface SimRequestLogEntry {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** 0 when the connection was dropped by failNext. */
  status: number;
}

/** The simulator's state, as its handlers see it. */
export interface OutreachEnv {
  clock: Clock;
  store: OutreachStore;
  oauth: OAuthServer;
  /** Per OAuth application, so only requests with a valid token count. */
  rate: FixedWindow;
  requests: SimRequestLogEntry[];
  /** origin + '/api/v2', set once the server listens: links point here. */
  base: string;
}

export interface OutreachCall extends Exchange {
  env: OutreachEnv;
  /** The access token's grant, once checked. */
  grant?: AccessGrant;
  /** The rate-limit headers every counted answer carries. */
  rateHeaders: Record<string, string | number>;
}

export function reply(
  c: OutreachCall,
  status: number,
  body: unknown,
  headers: Record<string, string | number> = {},
  contentType = JSONAPI_MEDIA_TYPE,
): void {
  c.env.requests.push(logged(c, status));
  sendJson(c.res, status, body, headers, contentType);
}

/** A 2xx API answer, with the rate-limit headers. */
export function respond(c: OutreachCall, status: number, doc: unknown, headers: Record<string, string | number> = {}): void {
  reply(c, status, doc, { ...c.rateHeaders, ...headers });
}

export function requireScope(c: OutreachCall, scope: string): void {
  if (!c.grant!.scopes.has(scope)) fail(403, `the access token lacks the ${scope} scope`);
}

/** The notes: "id is an integer in the path but returned as a string". */
export function pathId(c: OutreachCall): number {
  const raw = c.params.id!;
  if (!/^[1-9]\d*$/.test(raw)) fail(400, `'${raw}' is not an integer id`, { parameter: 'id' });
  return Number(raw);
}
