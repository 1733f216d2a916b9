import type { Clock } from '../../clock.js';
import { SimError, logged, orFail, parseMediaType, readJsonBody, sendJson, type Exchange, type FixedWindow } from '../http-util.js';
import { isRecord } from '../values.js';
import type { JwtIssuer } from './auth.js';
import type { ZoomInfoStore } from './store.js';

/** One request to the simulator, as the log and `tap()` see it. */
export interface ZiSimRequest {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** 0 when the connection was dropped by failNext. */
  status: number;
  /** Parsed JSON body of a POST (for /authenticate only the username). */
  body?: unknown;
  /** Credits this request spent. */
  credits: number;
}

/** The simulator's state, as its handlers see it. */
export interface ZoomInfoEnv {
  clock: Clock;
  store: ZoomInfoStore;
  jwt: JwtIssuer;
  username: string;
  password: string;
  rate: FixedWindow;
  /** Paths that answer 404 (disableRoute). */
  disabled: Set<string>;
  requests: ZiSimRequest[];
  taps: Set<(entry: ZiSimRequest) => void>;
  /** Successful /authenticate calls. */
  logins: number;
}

export interface ZiCall extends Exchange {
  env: ZoomInfoEnv;
}

/** ZoomInfo's error answer: `{responseCode, message}` plus any detail fields. */
export function fail(status: number, message: string, extra: Record<string, unknown> = {}): never {
  throw new SimError(status, { responseCode: status, message, ...extra });
}

/** Logs the answer (with the request body when given, and the credits it spent), tells the taps, sends it. */
export function reply(c: ZiCall, status: number, body: unknown, logBody?: unknown, credits = 0): void {
  const entry: ZiSimRequest = { ...logged(c, status), credits, ...(logBody !== undefined ? { body: logBody } : {}) };
  c.env.requests.push(entry);
  for (const fn of c.env.taps) fn(entry);
  sendJson(c.res, status, body, {}, 'application/json;charset=utf-8');
}

/** The JSON object body every POST takes: 415 for another media type, 400 for anything but an object. */
export async function readBody(c: ZiCall): Promise<Record<string, unknown>> {
  const ct = parseMediaType(c.req.headers['content-type']);
  if (ct?.type !== 'application/json') {
    try {
      await readJsonBody(c.req);
    } catch {
      // the content type is the problem worth reporting
    }
    fail(415, 'Content-Type must be application/json');
  }
  const body = await orFail(readJsonBody(c.req), fail);
  if (!isRecord(body)) fail(400, 'Request body must be a JSON object');
  return body;
}
