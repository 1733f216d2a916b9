import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../clock.js';
import { deriveSeed, mulberry32 } from './prng.js';

/**
 * Plumbing shared by the vendor simulators (node:http, no framework). Nothing here writes to stdout:
 * under `--sandbox` the simulators run inside the MCP server, whose stdio transport owns stdout.
 */

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * A vendor's error answer, thrown from wherever a handler finds the problem and sent by the simulator's
 * dispatcher: the status, the body in the vendor's error format, and headers. Each simulator builds these
 * with its own `fail` (JSON:API errors, Rails errors, SCIM Error messages...).
 */
export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string | number> = {},
    /** When not the simulator's usual content type (Apollo answers some errors in text/plain). */
    readonly contentType?: string,
  ) {
    super(typeof body === 'string' ? body : `HTTP ${status}`);
    this.name = 'SimError';
  }

  /** The same answer with `headers` under its own: the rate-limit headers every counted answer carries. */
  withHeaders(headers: Record<string, string | number>): SimError {
    return new SimError(this.status, this.body, { ...headers, ...this.headers }, this.contentType);
  }
}

/** A request the simulator rejects before routing; `status` is the HTTP status to answer with. */
export class HttpInputError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpInputError';
  }
}

/**
 * Each request's body, read once: the handler that reads it and the request log that records it (see
 * `recorded`) share one read. `bodyText` holds the text once the read finished.
 */
const bodyReads = new WeakMap<IncomingMessage, Promise<Buffer>>();
const bodyTexts = new WeakMap<IncomingMessage, Buffer>();

/**
 * Whole body as a Buffer; 413 past `limit` bytes (stops reading, so a huge upload cannot eat memory). Read
 * once per request: a second call (a handler after the dispatcher, the log) gets the same answer.
 */
export function readBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  let read = bodyReads.get(req);
  if (!read) {
    read = readStream(req, limit);
    bodyReads.set(req, read);
    read.then(
      (buf) => bodyTexts.set(req, buf),
      () => undefined,
    );
  }
  return read.then((buf) => {
    if (buf.length > limit) throw new HttpInputError(413, `request body exceeds ${limit} bytes`);
    return buf;
  });
}

function readStream(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new HttpInputError(413, `request body exceeds ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new HttpInputError(413, `request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

/** Parsed JSON body; `undefined` for an empty body; 400 for malformed JSON. */
export async function readJsonBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  const buf = await readBody(req, limit);
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch {
    throw new HttpInputError(400, 'request body is not valid JSON');
  }
}

/** Awaits a body read, turning its HttpInputError (too large, malformed JSON) into the vendor's error with `fail`. */
export async function orFail<T>(read: Promise<T>, fail: (status: number, message: string) => never): Promise<T> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof HttpInputError) fail(err.status, err.message);
    throw err;
  }
}

/** `application/x-www-form-urlencoded` body as a flat record (last value wins). */
export async function readFormBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<Record<string, string>> {
  const buf = await readBody(req, limit);
  return Object.fromEntries(new URLSearchParams(buf.toString('utf8')));
}

export interface MediaType {
  /** Lower-cased `type/subtype`. */
  type: string;
  /** Lower-cased parameter names; values unquoted. */
  params: Record<string, string>;
}

/** Parses one media type (`application/json; charset=utf-8`); undefined when absent or malformed. */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (!value) return undefined;
  const [head, ...rest] = value.split(';');
  const type = head!.trim().toLowerCase();
  if (!/^[^\s/]+\/[^\s/]+$/.test(type)) return undefined;
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type, params };
}

/** Parses an Accept header into its media ranges, dropping those with q=0. */
export function parseAccept(value: string | undefined): MediaType[] {
  if (!value) return [];
  const out: MediaType[] = [];
  for (const part of value.split(',')) {
    const mt = parseMediaType(part);
    if (!mt) continue;
    if (mt.params.q !== undefined && Number(mt.params.q) === 0) continue;
    out.push(mt);
  }
  return out;
}

/** `body` as JSON; with no body (a redirect, a 204 or 304) only the status and `headers`. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | number> = {},
  contentType = 'application/json',
): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

/** Binds to 127.0.0.1 on a free port; returns the origin, e.g. `http://127.0.0.1:53211`. */
export function listenLoopback(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', onError);
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

/** Options every simulator's HTTP server takes. */
export interface ServeOptions {
  /**
   * Wall-clock delay before each request is handled, in ms (default 0): a fixed delay, or one drawn
   * uniformly from [min, max] per request (seeded, different for each server). Real vendor APIs answer in
   * tens to hundreds of ms, never all in step; a benchmark sets this to model that round trip, so it
   * measures how well the server overlaps waiting rather than how fast one machine's CPU serialises JSON.
   * Real time, not the injected clock: it models the network, not the vendor's windows.
   */
  latencyMs?: number | { min: number; max: number };
}

/** Seeds each server's latency draws differently (in start order), so parallel listings do not move in step. */
let latencyStreams = 0;

function latencyOf(spec: ServeOptions['latencyMs']): (() => number) | undefined {
  if (spec === undefined || spec === 0) return undefined;
  const { min, max } = typeof spec === 'number' ? { min: spec, max: spec } : spec;
  if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0 && max >= min)) {
    throw new RangeError(`latencyMs must be a finite number >= 0, or { min, max } with 0 <= min <= max; got ${JSON.stringify(spec)}`);
  }
  if (max === 0) return undefined;
  const random = mulberry32(deriveSeed(42, `latency-${latencyStreams++}`));
  return () => min + (max - min) * random();
}

/**
 * Serves `handle` on a free loopback port. A handler that throws after it started answering (or whose error
 * handling throws) loses the connection, as a crashed vendor backend would.
 */
export async function serveLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  opts: ServeOptions = {},
): Promise<{ server: Server; origin: string }> {
  const latency = latencyOf(opts.latencyMs);
  const server = createServer((req, res) => {
    const run = latency ? new Promise((r) => setTimeout(r, latency())).then(() => handle(req, res)) : handle(req, res);
    run.catch(() => res.destroy());
  });
  return { server, origin: await listenLoopback(server) };
}

// ---------------------------------------------------------------------------------------------------------
// One request's exchange, and the shell every simulator's handler runs in

/** What a simulator's code gets for one request; each simulator extends it with its own state and findings. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Path and query of the request (the host is a placeholder: simulators route on the path alone). */
  readonly url: URL;
  readonly method: string;
  /** Path parameters of the matched route; empty until routed. */
  params: Record<string, string>;
}

export function exchange(req: IncomingMessage, res: ServerResponse): Exchange {
  return { req, res, url: new URL(req.url ?? '/', 'http://sandbox.invalid'), method: req.method ?? 'GET', params: {} };
}

/** The request-log fields every simulator records: method, path with query as sent, status (0: dropped). */
export function logged(x: Exchange, status: number): { method: string; path: string; status: number } {
  return { method: x.req.method ?? '', path: x.req.url ?? '', status };
}

/**
 * A request as the Outreach, SalesLoft, Apollo and SCIM simulators log it, so a test can hold every request
 * against the vendor's published spec: `logged`'s fields, plus what was sent. Fields a request did not have
 * are absent (not empty), so an entry of a plain GET is still `{ method, path, status }`.
 */
export interface RequestRecord {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** 0 when failNext dropped or held the connection (the status of a proxy's page when it sent one). */
  status: number;
  /** The query's parameters in order, decoded, repeats kept (`contact_ids[]` twice is two pairs). */
  query?: [string, string][];
  /** The Content-Type header, as sent. */
  contentType?: string;
  /** The body as text (UTF-8), credential values masked (see SECRET_FIELDS); absent when empty or unread. */
  body?: string;
}

/** Form and JSON fields whose values the request log masks: the log is for checking shapes, not keeping secrets. */
const SECRET_FIELDS = new Set(['client_secret', 'refresh_token', 'access_token', 'code', 'code_verifier', 'password', 'api_key', 'assertion']);

function maskSecrets(text: string, contentType: string | undefined): string {
  const type = parseMediaType(contentType)?.type;
  if (type === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(text);
    if (![...form.keys()].some((k) => SECRET_FIELDS.has(k))) return text;
    for (const k of new Set(form.keys())) if (SECRET_FIELDS.has(k)) form.set(k, '***');
    return form.toString();
  }
  if (type === 'application/json' || type?.endsWith('+json')) {
    try {
      const v = JSON.parse(text) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.keys(v).some((k) => SECRET_FIELDS.has(k))) return text;
      return JSON.stringify(Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_FIELDS.has(k) ? '***' : x])));
    } catch {
      return text;
    }
  }
  return text;
}

/** `logged`'s fields plus the query, Content-Type and body of the request (see RequestRecord). */
export function recorded(x: Exchange, status: number): RequestRecord {
  const entry: RequestRecord = logged(x, status);
  const query = [...x.url.searchParams];
  if (query.length) entry.query = query;
  const contentType = x.req.headers['content-type'];
  if (contentType) entry.contentType = contentType;
  const buf = bodyTexts.get(x.req);
  if (buf && buf.length) entry.body = maskSecrets(buf.toString('utf8'), contentType);
  return entry;
}

export interface SimulatorHooks<C extends Exchange, O extends FaultOptions> {
  /** The request's context, made first for every request. */
  begin(req: IncomingMessage, res: ServerResponse): C;
  /**
   * Records a request the simulator proper never answered: its connection was dropped or held (status 0 in
   * the request log), or a proxy's page answered it (`status`).
   */
  dropped(c: C, status?: number): void;
  /** Answers a fault failNext queued: an edge or load balancer answering, so nothing is counted or charged. */
  fault(c: C, fault: Fault<O>): unknown;
  /** The simulator proper. */
  serve(c: C): unknown;
  /** Answers what `serve` threw. Not called once an answer has started: the connection is dropped instead. */
  error(c: C, err: unknown): unknown;
}

/** The steps every simulator takes around its own: fault injection first, then serve, then error answers. */
export function simulatorHandler<C extends Exchange, O extends FaultOptions>(
  faults: FaultQueue<O>,
  hooks: SimulatorHooks<C, O>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const c = hooks.begin(req, res);
    const fault = faults.take(req);
    if (fault?.opts.dropConnection) {
      hooks.dropped(c);
      req.socket.destroy();
      return;
    }
    // Read the body now, so the request log has it whatever answers (a 401, a fault, a 404 before any
    // handler reads it); a handler's own read gets this one, 413 included, when it asks.
    await readBody(req).catch(() => undefined);
    if (fault?.opts.holdHeaders) {
      // The edge holds the request and never answers; the client's headers timeout has to end it.
      hooks.dropped(c);
      await untilClosed(res);
      return;
    }
    if (fault?.opts.html) {
      hooks.dropped(c, fault.status);
      sendHtmlErrorPage(res, fault.status, retryAfterOf(fault));
      return;
    }
    if (fault && !fault.opts.afterServe) {
      await hooks.fault(c, fault);
      return;
    }
    // An afterServe fault: the vendor handles the request (a write is applied) and only its answer goes wrong.
    const answer = fault?.opts.afterServe ? captureAnswer(res) : undefined;
    try {
      await hooks.serve(c);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      await hooks.error(c, err);
    }
    if (answer && fault?.opts.afterServe) await answer.spoil(fault.opts.afterServe);
  };
}

/** Resolves when the response's connection closes (the client gave up, or the server is closing). */
function untilClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || res.socket?.destroyed !== false) return resolve();
    res.once('close', () => resolve());
  });
}

/** What a proxy or load balancer in front of the vendor answers: its own HTML page, not the vendor's format. */
function sendHtmlErrorPage(res: ServerResponse, status: number, headers: Record<string, string | number>): void {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  const page = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
  res.writeHead(status, { ...headers, 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(page) });
  res.end(page);
}

/**
 * Holds back what the handler answers (status, headers, body) instead of sending it, so an afterServe fault
 * can send it spoiled. Works on the one response object: writeHead, write and end are replaced until spoil().
 * Hand-written: fault-injection libraries (e.g. toxiproxy) sit outside the process; this must see the vendor's answer.
 */
function captureAnswer(res: ServerResponse): { spoil(how: AfterServeFault): Promise<void> } {
  const original = { writeHead: res.writeHead, write: res.write, end: res.end };
  let status = 200;
  let headerArg: Record<string, string | number | string[]> = {};
  const chunks: Buffer[] = [];
  const take = (chunk: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  };
  res.writeHead = ((code: number, ...rest: unknown[]) => {
    status = code;
    const h = rest.find((r) => r && typeof r === 'object');
    if (h) headerArg = h as Record<string, string | number | string[]>;
    return res;
  }) as typeof res.writeHead;
  res.write = ((chunk: unknown) => {
    take(chunk);
    return true;
  }) as typeof res.write;
  res.end = ((chunk?: unknown) => {
    take(chunk);
    return res;
  }) as typeof res.end;
  return {
    async spoil(how) {
      Object.assign(res, original);
      if (how === 'drop') {
        // Applied, and the answer never leaves: the client sees a reset and cannot know what happened.
        res.socket?.destroy();
        return;
      }
      if (how === 'late') {
        // Applied, and the answer would come after the client stopped waiting for it.
        await untilClosed(res);
        return;
      }
      const headers: Record<string, string | number | string[]> = {};
      for (const [k, v] of Object.entries({ ...res.getHeaders(), ...headerArg })) if (v !== undefined) headers[k.toLowerCase()] = v as string | number | string[];
      const body = Buffer.concat(chunks);
      const half = body.subarray(0, Math.floor(body.length / 2));
      if (how === 'malformed-json') {
        // The vendor's status with a JSON content type, and a body cut short: what a truncating proxy sends.
        headers['content-type'] = typeof headers['content-type'] === 'string' && /json/i.test(headers['content-type']) ? headers['content-type'] : 'application/json';
        headers['content-length'] = half.length + 1;
        res.writeHead(status, headers);
        res.end(Buffer.concat([half, Buffer.from('<')]));
        return;
      }
      // stall-body: the headers and the first half of the body, then nothing until the client gives up.
      headers['content-length'] = body.length;
      res.writeHead(status, headers);
      res.write(half);
      await untilClosed(res);
    },
  };
}

/** `WWW-Authenticate: Bearer` (RFC 6750 3) for a request without a usable token. */
export function bearerChallenge(realm: string, error?: string, description?: string): string {
  return `Bearer realm="${realm}"${error ? `, error="${error}"` : ''}${description ? `, error_description="${description}"` : ''}`;
}

/** Stops accepting and drops keep-alive connections, so a test's close() does not wait for idle timeouts. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

/** `Authorization: Basic` credentials, or undefined when the header is absent or not Basic. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 2.3.1: client id and secret are form-urlencoded before Basic encoding.
  const unform = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { user: unform(decoded.slice(0, colon)), password: unform(decoded.slice(colon + 1)) };
}

/** `Authorization: Bearer` token, or undefined. */
export function parseBearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1] : undefined;
}

/** A random secret with the vendor's recognisable prefix, e.g. `oat_…`. */
export function newSecret(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/** Compares a presented secret without leaking, through timing, how much of it was right. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

// ---------------------------------------------------------------------------------------------------------
// Fault injection (each simulator's failNext)

/** What every simulator's failNext options have in common; some add `retryAfterSec`. */
export interface FaultOptions {
  /** Only requests whose path (with query) matches count towards and receive the fault. */
  path?: RegExp;
  /** Only requests with this method (e.g. 'GET') count towards and receive the fault. */
  method?: string;
  /** Destroy the socket instead of answering (the client sees a connection reset). */
  dropConnection?: boolean;
  /** The edge holds the request and never answers (the client's headers timeout ends it); nothing is served. */
  holdHeaders?: boolean;
  /** A proxy in front of the vendor answers `status` with its own HTML error page; nothing is served. */
  html?: boolean;
  /**
   * The vendor serves the request (a write is applied, a page counted) and only its answer goes wrong; the
   * `status` given to failNext is ignored, the vendor's own is kept. 'drop': the connection is reset before
   * any byte of the answer (a write whose response is lost); 'late': the answer is held until the client
   * gives up (a vendor slower than the client's headers timeout, which applied the write meanwhile);
   * 'stall-body': the headers and half the body are sent, then nothing until the client's body timeout;
   * 'malformed-json': a JSON content type with the body cut short. The request log records the vendor's own
   * status: the request was served.
   */
  afterServe?: AfterServeFault;
  /**
   * Let this many matching requests through before the fault starts (e.g. `skip: 1` with a batch-action path:
   * a 5xx on the second batch). Default 0.
   */
  skip?: number;
}

export type AfterServeFault = 'drop' | 'late' | 'stall-body' | 'malformed-json';

export interface Fault<O extends FaultOptions> {
  status: number;
  opts: O;
}

/** The Retry-After header of a fault queued with `retryAfterSec` (none otherwise). */
export function retryAfterOf(fault: Fault<FaultOptions & { retryAfterSec?: number }>): Record<string, number> {
  return fault.opts.retryAfterSec !== undefined ? { 'Retry-After': fault.opts.retryAfterSec } : {};
}

/** The faults queued by failNext(), handed out in the order they were queued. */
export class FaultQueue<O extends FaultOptions> {
  private readonly rules: (Fault<O> & { remaining: number; skip: number })[] = [];

  /** The next `count` requests (matching opts.path, if given; after opts.skip of them) get `status` or a dropped connection. */
  add(count: number, status: number, opts: O): void {
    if (count > 0) this.rules.push({ remaining: count, skip: Math.max(0, opts.skip ?? 0), status, opts });
  }

  /**
   * Forgets every queued fault (a test's storm longer than the client's patience must not reach the next test);
   * returns how many had not been served.
   */
  clear(): number {
    const left = this.rules.reduce((n, r) => n + r.remaining, 0);
    this.rules.length = 0;
    return left;
  }

  /**
   * The fault this request receives, if any; it counts as one of that fault's `count`. A rule still skipping
   * lets the request through (counting it as one skipped) and the next rule is asked.
   */
  take(req: IncomingMessage): Fault<O> | undefined {
    const path = req.url ?? '';
    for (const rule of this.rules) {
      if (rule.remaining <= 0 || (rule.opts.path && !rule.opts.path.test(path)) || (rule.opts.method && rule.opts.method !== req.method)) continue;
      if (rule.skip > 0) {
        rule.skip--;
        continue;
      }
      rule.remaining--;
      if (rule.remaining === 0) this.rules.splice(this.rules.indexOf(rule), 1);
      return rule;
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Rate-limit windows

/**
 * A budget of `limit` per fixed window of `windowMs`, windows aligned to multiples of windowMs on the clock:
 * that is how the vendors count, it makes ManualClock tests exact, and a time-scaled bench can shrink the
 * window.
 */
export class FixedWindow {
  /** Start of the current window; -1 before the first request. */
  start = -1;
  used = 0;

  constructor(
    private readonly clock: Clock,
    public limit: number,
    public windowMs: number,
  ) {}

  /** Moves to the window `now` is in (spent budget resets there); returns when it ends. */
  roll(now = this.clock.now()): number {
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    if (start !== this.start) {
      this.start = start;
      this.used = 0;
    }
    return start + this.windowMs;
  }

  remaining(): number {
    return Math.max(0, this.limit - this.used);
  }

  /** When the current window ends. */
  get end(): number {
    return this.start + this.windowMs;
  }

  /** Spends `cost` of the window `now` is in if it fits; false, with nothing spent, when it would overdraw. */
  take(cost = 1, now = this.clock.now()): boolean {
    this.roll(now);
    if (this.used + cost > this.limit) return false;
    this.used += cost;
    return true;
  }

  /** A new budget, starting with a fresh window. */
  reset(limit: number, windowMs: number): void {
    this.limit = limit;
    this.windowMs = windowMs;
    this.start = -1;
    this.used = 0;
  }
}
