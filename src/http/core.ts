import { performance } from 'node:perf_hooks';
import type { Dispatcher, Pool } from 'undici';
import { systemClock, type Clock } from '../clock.js';
import { noteVendorRequest } from '../jobs/meter.js';
import { silentLogger, type Logger } from '../log.js';
import { notApplied, VendorError } from '../errors.js';
import { getLimiter, LimiterDeadlineError, limitersFor, type Limiter, type Ticket } from './limiter.js';
import { acquirePool, releasePool, resolveTimeouts, type Timeouts } from './pool.js';
import { loadUndici } from './undici.js';
import { headerNumber } from './rate-headers.js';
import {
  backoffDelay,
  classifyNetworkError,
  parseRetryAfter,
  resetWaitFromHeaders,
  resolveRetryPolicy,
  RETRYABLE_STATUSES,
  sleepFor,
  type NetworkFailure,
} from './retry.js';
import type { HttpCoreOptions, RateBudget, RetryPolicy, VendorRequest, VendorResponse } from './types.js';

const REQUEST_ID_HEADERS = ['x-request-id', 'x-amzn-requestid', 'request-id', 'x-correlation-id'];
const DETAIL_MAX = 300;
const USER_AGENT = 'sales-access-mcp';

type Attempt =
  | { kind: 'response'; status: number; headers: Record<string, string>; text: string; ms: number; sentAt: number }
  | { kind: 'network'; failure: NetworkFailure; ms: number };

/** What a failure message may say about the request: no query values, no headers. */
interface Target {
  method: string;
  path: string;
  idempotent: boolean;
  /** Names of the query parameters sent; their values may be secrets or personal data. */
  queryKeys: string[];
  /** Auth header values of this attempt, to cut out of anything the vendor echoes back. */
  secrets: string[];
}

/**
 * The HTTP client every vendor adapter uses: one per (vendor, credential). Owns URL building, auth
 * headers, the limiter, retries, response parsing and turning every failure into a VendorError whose
 * message tells the agent what to do next.
 */
export class HttpCore {
  readonly vendor: string;
  /** How the vendor is named in messages. */
  readonly label: string;
  private readonly opts: HttpCoreOptions;
  private readonly baseUrl: string;
  private readonly origin: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly retry: RetryPolicy;
  private readonly timeouts: Timeouts;
  /** The dispatcher passed in (tests), or this client's use of the origin's shared pool, taken on first use. */
  private dispatcher: Promise<Dispatcher> | undefined;
  private ownPool: Promise<Pool> | undefined;
  private readonly name: string;
  private closed = false;

  constructor(opts: HttpCoreOptions) {
    this.opts = opts;
    this.vendor = opts.vendor;
    this.label = opts.label ?? opts.vendor;
    this.name = this.label;
    const base = new URL(opts.baseUrl);
    this.origin = base.origin;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.retry = resolveRetryPolicy(opts.retry);
    this.timeouts = resolveTimeouts(opts.timeouts);
    if (opts.dispatcher) this.dispatcher = Promise.resolve(opts.dispatcher);
  }

  private dispatch(): Promise<Dispatcher> {
    if (!this.dispatcher) {
      this.ownPool = acquirePool(this.origin, this.timeouts);
      this.dispatcher = this.ownPool;
    }
    return this.dispatcher;
  }

  async request<T = unknown>(req: VendorRequest): Promise<VendorResponse<T>> {
    const attempts = { applied: false };
    try {
      return await this.requestWithRetries<T>(req, attempts);
    } catch (err) {
      // An earlier attempt of this write got a 2xx (unreadable) and was repeated: whatever the repeat met, the
      // change has most likely been made, so the failure must not read (or be audited) as "not applied".
      if (attempts.applied && err instanceof VendorError && !err.ambiguous) throw this.appliedEarlier(err);
      throw err;
    }
  }

  private async requestWithRetries<T>(req: VendorRequest, attempts: { applied: boolean }): Promise<VendorResponse<T>> {
    if (this.closed) throw this.configError('this client was closed; create a new one');
    if (!req.path.startsWith('/')) throw this.configError(`vendor path must start with '/' (got ${scrubSecrets(req.path)})`);
    const idempotent = req.idempotent ?? req.method === 'GET';
    const url = this.buildUrl(req);
    const limiter = this.limiterFor(req.bucket);
    const deadlineAt = this.clock.now() + this.retry.deadlineMs;
    let retries = 0;
    let reauthenticated = false;

    for (let attempt = 1; ; attempt++) {
      const authHeaders = req.noAuth ? {} : await this.authHeaders(req.signal);
      const target: Target = {
        method: req.method,
        path: req.path,
        idempotent,
        queryKeys: Object.keys(req.query ?? {}).filter((k) => req.query?.[k] !== undefined),
        secrets: [...secretValues(authHeaders), ...bodySecrets(req.body)],
      };
      let outcome: Attempt;
      try {
        outcome = await limiter.schedule((ticket) => this.send(req, url, authHeaders, target, limiter, ticket), {
          weight: req.weight ?? 1,
          signal: req.signal,
          deadlineAt,
        });
      } catch (err) {
        if (err instanceof LimiterDeadlineError) throw this.limiterError(err, target);
        throw err;
      }

      if (outcome.kind === 'network') {
        const f = outcome.failure;
        this.log.debug({ vendor: this.vendor, method: req.method, path: req.path, error: f.code, ms: outcome.ms, attempt }, 'vendor request failed');
        if (f.transient && idempotent && retries < this.retry.maxRetries) {
          const wait = backoffDelay(retries, this.retry);
          if (this.clock.now() + wait <= deadlineAt) {
            this.warnRetry(req, attempt, f.code, wait);
            await sleepFor(this.clock, wait, req.signal);
            retries++;
            continue;
          }
        }
        throw this.networkError(f, target);
      }

      const { status, headers } = outcome;
      this.log.debug({ vendor: this.vendor, method: req.method, path: req.path, status, ms: outcome.ms, attempt }, 'vendor request');
      if (status >= 200 && status < 300) {
        try {
          return this.success<T>(outcome, target);
        } catch (err) {
          // A body cut short on its way (a proxy, a dropped stream) reads whole the next time. Only a request safe
          // to repeat is asked again: a non-idempotent write answered this way stays ambiguous (see success()).
          if (!(err instanceof VendorError) || err.code !== 'invalid_response' || !idempotent || retries >= this.retry.maxRetries) throw err;
          if (err.ambiguous) attempts.applied = true;
          const wait = backoffDelay(retries, this.retry);
          if (this.clock.now() + wait > deadlineAt) throw err;
          this.warnRetry(req, attempt, 'invalid_response', wait);
          await sleepFor(this.clock, wait, req.signal);
          retries++;
          continue;
        }
      }

      const body = parseQuietly(status, headers, outcome.text);

      if (status === 401 && !req.noAuth && !reauthenticated) {
        reauthenticated = true;
        if (await this.refreshAfter401(authHeaders)) {
          this.log.warn({ vendor: this.vendor, method: req.method, path: req.path, status, attempt }, 'credential refreshed after 401; repeating once');
          continue;
        }
      }

      // A 429 is refused before the vendor processes anything, so repeating it is safe for every method,
      // writes included. 502/503/504 may come after the vendor acted, so only idempotent requests repeat.
      if (status === 429 || (RETRYABLE_STATUSES.has(status) && idempotent)) {
        const now = this.clock.now();
        const wait = this.retryWait(status, headers, retries, now, outcome.sentAt);
        if (status === 429) {
          // Every request of this bucket waits with us, instead of each earning its own 429.
          limiter.noteRateLimited(now);
          limiter.holdUntil(now + wait);
        }
        if (retries < this.retry.maxRetries && now + wait <= deadlineAt) {
          this.warnRetry(req, attempt, status, wait);
          await sleepFor(this.clock, wait, req.signal);
          retries++;
          continue;
        }
        if (status === 429) {
          this.log.warn({ vendor: this.vendor, method: req.method, path: req.path, status, attempt, wait_ms: wait }, 'vendor rate limit; not retrying');
        }
        throw this.statusError(status, headers, body, target, wait);
      }
      if (req.acceptStatus?.(status)) return this.success<T>(outcome, target);
      throw this.statusError(status, headers, body, target, parseRetryAfter(headers['retry-after'], this.clock.now()));
    }
  }

  /** Budget of this credential as the limiters see it: every window of every bucket used so far. */
  budget(): RateBudget {
    const identity = this.opts.auth.identity;
    const limiters = limitersFor(this.vendor, identity);
    const windows =
      limiters.length > 0
        ? limiters.flatMap((l) => l.snapshot())
        : this.opts.limits.windows.map((w) => ({ name: w.name, limit: w.limit, remaining: null, resets_at: null, bucket: 'default' }));
    const last = limiters.reduce<number | undefined>(
      (acc, l) => (l.last429At === undefined ? acc : Math.max(acc ?? 0, l.last429At)),
      undefined,
    );
    return { identity, windows, last_429_at: last === undefined ? null : new Date(last).toISOString() };
  }

  /** Releases this client's use of the shared origin pool. A dispatcher passed in is never closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownPool) await releasePool(this.origin, await this.ownPool);
  }

  private limiterFor(bucket: string | undefined): Limiter {
    return getLimiter({
      vendor: this.vendor,
      identity: this.opts.auth.identity,
      bucket: bucket ?? 'default',
      policy: this.opts.limits,
      clock: this.clock,
    });
  }

  private buildUrl(req: VendorRequest): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) params.append(k, String(item));
      else params.append(k, String(v));
    }
    const qs = params.toString();
    return `${this.baseUrl}${req.path}${qs ? `?${qs}` : ''}`;
  }

  /** One HTTP exchange inside a limiter slot. Connection failures come back as values, not throws. */
  private async send(
    req: VendorRequest,
    url: string,
    authHeaders: Record<string, string>,
    target: Target,
    limiter: Limiter,
    ticket: Ticket,
  ): Promise<Attempt> {
    // Counted for the job this request belongs to (its progress and expected finish), once per request sent.
    noteVendorRequest(limiter);
    const mediaType = req.mediaType ?? 'application/json';
    const headers: Record<string, string> = { accept: mediaType, 'user-agent': USER_AGENT };
    const { body, contentType } = encodeBody(req.body, mediaType);
    if (body !== undefined) headers['content-type'] = contentType;
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    // Auth last, so a stray extra header cannot replace the credential.
    for (const [k, v] of Object.entries(authHeaders)) headers[k.toLowerCase()] = v;

    // undici hands a keep-alive socket back one event-loop turn after its response completed
    // (client-h1.js: setImmediate(client[kResume])). Yielding that turn lets a back-to-back request (the
    // next page) reuse the socket instead of opening, and against a vendor TLS-handshaking, a new one.
    await new Promise((resolve) => setImmediate(resolve));
    const [{ request }, dispatcher] = await Promise.all([loadUndici(), this.dispatch()]);
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    limiter.sent?.(ticket);
    try {
      const res = await request(url, {
        method: req.method,
        headers,
        body,
        signal: req.signal,
        dispatcher,
        headersTimeout: this.timeouts.headersMs,
        bodyTimeout: this.timeouts.bodyMs,
      });
      const resHeaders = lowerCaseHeaders(res.headers);
      let text: string;
      try {
        text = await res.body.text();
      } catch (err) {
        if (req.signal?.aborted) throw this.abortError(req.signal, target);
        // The vendor answered, so the request was processed, whatever the code says.
        return { kind: 'network', failure: { ...classifyNetworkError(err), maybeSent: true }, ms: ms() };
      }
      limiter.observe(resHeaders, ticket);
      return { kind: 'response', status: res.statusCode, headers: resHeaders, text, ms: ms(), sentAt: ticket.admittedAt };
    } catch (err) {
      if (err instanceof VendorError) throw err;
      if (req.signal?.aborted) throw this.abortError(req.signal, target);
      return { kind: 'network', failure: classifyNetworkError(err), ms: ms() };
    }
  }

  /** `err`, for a write an earlier attempt of which the vendor answered 2xx: reported as possibly applied. */
  private appliedEarlier(err: VendorError): VendorError {
    const { code, status, retryAfterMs, requestId, detail } = err;
    return new VendorError({
      vendor: this.vendor,
      code,
      status,
      retryAfterMs,
      requestId,
      detail,
      ambiguous: true,
      message: `${this.name} accepted this change once already (its answer could not be read), so it has most likely been made; repeating it then failed: ${err.message} Check the current state before retrying.`,
    });
  }

  private success<T>(outcome: Extract<Attempt, { kind: 'response' }>, target: Target): VendorResponse<T> {
    const { status, headers, text } = outcome;
    const requestId = findRequestId(headers);
    let body: unknown;
    try {
      body = parseBody(status, headers, text);
    } catch {
      // A 2xx to a write says the vendor processed it: the change has most likely been made, even though the
      // answer cannot be read, so the write must be reported (and audited) as possibly applied.
      // Only a 2xx says so: a 4xx the caller reads itself (acceptStatus, e.g. a token endpoint's refusal) was refused.
      const applied = target.method !== 'GET' && status >= 200 && status < 300;
      throw new VendorError({
        vendor: this.vendor,
        code: 'invalid_response',
        status,
        requestId,
        ambiguous: applied,
        message: applied
          ? `${this.name} accepted the request (${status}) but its answer is not valid JSON: it has most likely been processed, so the change may already be made; check the current state before retrying, and report it if it persists.`
          : `${this.name} answered ${status} with a body that is not valid JSON; retry later, and report it if it persists.`,
        detail: `${describeTarget(target)} -> ${status}: unparseable ${headers['content-type'] ?? 'body'} (${text.length} bytes)`,
      });
    }
    return { status, headers, body: body as T, requestId, cost: headerNumber(headers, 'x-ratelimit-endpoint-cost') };
  }

  /** Order: Retry-After, then the reset of the window that ran out (429 only), then backoff with jitter. */
  private retryWait(status: number, headers: Record<string, string>, retries: number, now: number, sentAt: number): number {
    const retryAfter = parseRetryAfter(headers['retry-after'], now);
    if (retryAfter !== undefined) return retryAfter;
    if (status === 429) {
      // A reset already past (a window that ended while the 429 was on its way) says nothing about the
      // current window: back off rather than repeat at once.
      const reset = resetWaitFromHeaders(this.opts.limits.headers, headers, now, sentAt);
      if (reset !== undefined && reset > 0) return reset;
    }
    return backoffDelay(retries, this.retry);
  }

  private async authHeaders(signal: AbortSignal | undefined): Promise<Record<string, string>> {
    try {
      return await this.opts.auth.headers(signal);
    } catch (err) {
      // This request was not sent, whatever became of the token request that failed (a token POST whose
      // answer was lost is ambiguous to the provider): it must not be reported or audited as a write that
      // may have been applied.
      if (err instanceof VendorError) throw notApplied(err);
      if (signal?.aborted) throw err;
      throw new VendorError({
        vendor: this.vendor,
        code: 'unauthorized',
        message: `Could not obtain a ${this.name} credential. ${this.authHint()}`,
        detail: `auth provider ${this.opts.auth.kind} failed: ${scrubSecrets(String((err as Error)?.message ?? err)).slice(0, DETAIL_MAX)}`,
      });
    }
  }

  /** The rejected headers let the provider tell "already replaced by a concurrent refresh" from "refresh now". */
  private async refreshAfter401(rejected: Record<string, string>): Promise<boolean> {
    try {
      return await this.opts.auth.onUnauthorized(rejected);
    } catch (err) {
      // The vendor answered 401, so it applied nothing; see authHeaders.
      if (err instanceof VendorError) throw notApplied(err);
      this.log.warn({ vendor: this.vendor, error: scrubSecrets(String((err as Error)?.message ?? err)).slice(0, DETAIL_MAX) }, 'credential refresh after 401 failed');
      return false;
    }
  }

  private authHint(): string {
    return this.opts.authHint ?? `Check the ${this.name} credential in the configuration.`;
  }

  private warnRetry(req: VendorRequest, attempt: number, cause: number | string, waitMs: number): void {
    this.log.warn(
      { vendor: this.vendor, method: req.method, path: req.path, ...(typeof cause === 'number' ? { status: cause } : { error: cause }), attempt, wait_ms: waitMs },
      'vendor request will be retried',
    );
  }

  /** The vendor's own words about the failure, without secrets, at most 300 characters. */
  private vendorDetail(status: number, body: unknown, target: Target): string | undefined {
    let text: string | undefined;
    try {
      text = (this.opts.errorDetail ?? defaultErrorDetail)(status, body);
    } catch {
      text = undefined;
    }
    if (!text) return undefined;
    return truncate(scrubSecrets(text.replace(/\s+/g, ' ').trim(), target.secrets), DETAIL_MAX) || undefined;
  }

  private statusError(
    status: number,
    headers: Record<string, string>,
    body: unknown,
    target: Target,
    retryAfterMs: number | undefined,
  ): VendorError {
    const name = this.name;
    const vendorText = this.vendorDetail(status, body, target);
    const said = vendorText ? `: ${vendorText}` : '';
    const requestId = findRequestId(headers);
    const detail = `${describeTarget(target)} -> ${status}${vendorText ? ` (${vendorText})` : ''}`;
    const base = { vendor: this.vendor, status, requestId, detail };

    if (status === 401) {
      return new VendorError({ ...base, code: 'unauthorized', message: `${name} rejected the credentials (401)${said}. ${this.authHint()}` });
    }
    if (status === 403) {
      return new VendorError({
        ...base,
        code: 'forbidden',
        message: `${name} refused this operation (403): the credential lacks permission/scope for this operation${said}. Use a credential with the needed role, scope or plan; retrying will not help.`,
      });
    }
    if (status === 404 || status === 410) {
      return new VendorError({
        ...base,
        code: 'not_found',
        message: `${name} found no such resource (${status} for ${target.method} ${scrubSecrets(target.path, target.secrets)})${said}. Check the id, or look the record up again.`,
      });
    }
    if (status === 409 || status === 412) {
      return new VendorError({
        ...base,
        code: 'conflict',
        message: `${name} reported a conflict (${status})${said}. Read the current state again before retrying.`,
      });
    }
    if (status === 429) {
      const wait = retryAfterMs ?? 0;
      return new VendorError({ ...base, code: 'rate_limited', retryAfterMs: wait, message: this.rateLimitMessage(wait) });
    }
    if (status >= 500) {
      // A gateway error on a write may come after the vendor acted on it.
      // A gateway error after a write may come after the vendor applied it, idempotent or not: say so.
      const ambiguous = target.method !== 'GET' && (status === 502 || status === 504);
      const when = retryAfterMs !== undefined ? `retry after ${formatDelay(retryAfterMs)}` : 'retry later';
      return new VendorError({
        ...base,
        code: 'unavailable',
        retryAfterMs,
        ambiguous,
        message: ambiguous
          ? `${name} is unavailable (${status}) and may have applied the change anyway; check the current state before you ${when}.`
          : `${name} is unavailable (${status}); ${when}.`,
      });
    }
    if (status >= 400) {
      return new VendorError({
        ...base,
        code: 'bad_request',
        message: `${name} rejected the request (${status})${said}. Fix the input; sending it unchanged will fail again.`,
      });
    }
    return new VendorError({
      ...base,
      code: 'invalid_response',
      message: `${name} answered with an unexpected status ${status}; report it if it persists.`,
    });
  }

  private rateLimitMessage(waitMs: number, why = ''): string {
    const at = this.clock.now() + waitMs;
    return `${this.name} rate limit reached${why}; retry after ${formatDelay(waitMs)} (about ${formatClock(at, this.clock.now())}).`;
  }

  private limiterError(err: LimiterDeadlineError, target: Target): VendorError {
    const wait = Math.max(0, err.retryAtMs - this.clock.now());
    const bucket = err.bucket === 'default' ? '' : ` of ${err.bucket}`;
    const why =
      err.window === 'hold'
        ? ` (holding${bucket} after a 429)`
        : err.window === 'queue'
          ? ` (too many requests queued${bucket})`
          : ` (${err.window} window${bucket}, counted ${err.shared ? 'across replicas' : 'locally'})`;
    return new VendorError({
      vendor: this.vendor,
      code: 'rate_limited',
      retryAfterMs: wait,
      message: this.rateLimitMessage(wait, why),
      detail: `${describeTarget(target)}: limiter ${err.bucket}/${err.window} has no room within the deadline`,
    });
  }

  private networkError(f: NetworkFailure, target: Target): VendorError {
    // Retrying follows `idempotent`; whether a write may have landed does not depend on it.
    const ambiguous = target.method !== 'GET' && f.maybeSent;
    const timeout = /TIMEOUT|ETIMEDOUT/.test(f.code);
    const what = timeout ? `timed out talking to ${this.name} at ${this.origin}` : `could not reach ${this.name} at ${this.origin}`;
    return new VendorError({
      vendor: this.vendor,
      code: 'network',
      ambiguous,
      message: ambiguous
        ? `The connection ${timeout ? 'timed out' : 'failed'} after the request was sent to ${this.name} at ${this.origin} (${f.code}); ${this.name} may have applied it. Check the current state before retrying.`
        : `${capitalise(what)} (${f.code}); check the network and retry later.`,
      detail: `${describeTarget(target)}: ${f.code}`,
    });
  }

  /** A cancelled write that may already be on the wire is reported, not silently dropped. */
  private abortError(signal: AbortSignal, target: Target): unknown {
    if (target.method === 'GET') return signal.reason;
    return new VendorError({
      vendor: this.vendor,
      code: 'network',
      ambiguous: true,
      message: `The request to ${this.name} was cancelled after it was sent; ${this.name} may have applied it. Check the current state before retrying.`,
      detail: `${describeTarget(target)}: aborted in flight`,
    });
  }

  private configError(message: string): VendorError {
    return new VendorError({ vendor: this.vendor, code: 'config', message: `${this.name} client: ${message}` });
  }
}

function lowerCaseHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function findRequestId(headers: Record<string, string>): string | undefined {
  for (const h of REQUEST_ID_HEADERS) if (headers[h]) return headers[h];
  return undefined;
}

function isJson(contentType: string | undefined): boolean {
  return !!contentType && /[/+]json\b/i.test(contentType);
}

/** undefined for no content; parsed JSON for json and +json types; otherwise the text. Throws on bad JSON. */
function parseBody(status: number, headers: Record<string, string>, text: string): unknown {
  if (status === 204 || text.length === 0) return undefined;
  return isJson(headers['content-type']) ? JSON.parse(text) : text;
}

/** For error responses: whatever can be read, never a throw (the status is the real news). */
function parseQuietly(status: number, headers: Record<string, string>, text: string): unknown {
  try {
    return parseBody(status, headers, text);
  } catch {
    return undefined;
  }
}

/** Auth header values and, for "Scheme credential" values, the bare credential. */
function secretValues(headers: Record<string, string>): string[] {
  const out: string[] = [];
  for (const v of Object.values(headers)) {
    out.push(v);
    const m = /^\S+\s+(\S.*)$/.exec(v);
    if (m) out.push(m[1]!);
  }
  return out.filter((s) => s.length >= 6);
}

/**
 * A credential-named field of a request body: a login's password, a token request's client_secret,
 * refresh_token or assertion. Matched on the name, like SECRET_KEYS; a non-secret caught by it only
 * costs some redaction.
 */
const SECRET_FIELD = /pass(?:word|wd)|secret|token|api[_-]?key|assertion/i;

/** Values of the credential-named top-level fields of a form or JSON object body. */
function bodySecrets(body: unknown): string[] {
  const fields =
    body instanceof URLSearchParams ? [...body.entries()] : typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.entries(body) : [];
  return fields.filter(([k, v]) => typeof v === 'string' && v.length >= 6 && SECRET_FIELD.test(k)).map(([, v]) => v as string);
}

/** The bytes of a request body and their Content-Type (see VendorRequest.body). */
function encodeBody(body: unknown, mediaType: string): { body: string | undefined; contentType: string } {
  if (body === undefined) return { body: undefined, contentType: mediaType };
  // JSON.stringify would turn a URLSearchParams into "{}".
  if (body instanceof URLSearchParams) return { body: body.toString(), contentType: 'application/x-www-form-urlencoded' };
  if (typeof body === 'string') return { body, contentType: mediaType };
  return { body: JSON.stringify(body), contentType: mediaType };
}

/** `GET /users` plus the names (never the values) of the query parameters. */
function describeTarget(t: Target): string {
  const query = t.queryKeys.length > 0 ? ` (query: ${t.queryKeys.join(', ')})` : '';
  return `${t.method} ${scrubSecrets(t.path, t.secrets)}${query}`;
}

const SECRET_KEYS =
  /((?:access|refresh|id)[_-]?token|api[_-]?key|x-api-key|client[_-]?secret|password|passwd|secret|token|authorization|signature)(["']?\s*[:=]\s*["']?)([^\s"'&,;}]+)/gi;

/**
 * Removes anything that looks like a credential from text derived from vendor bodies, URLs or error
 * messages: the exact secrets known to be in use, `Bearer`/`Basic` credentials, JWTs, and `key=value` /
 * `"key": "value"` pairs whose key names a secret. Over-redaction is accepted; a leak is not.
 */
export function scrubSecrets(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const s of [...known].sort((a, b) => b.length - a.length)) {
    if (s.length >= 6) out = out.split(s).join('[redacted]');
  }
  out = out.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]{6,}=*/gi, '$1 [redacted]');
  out = out.replace(/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[redacted]');
  out = out.replace(SECRET_KEYS, (_m, key: string, sep: string, value: string) =>
    value === '[redacted]' ? `${key}${sep}${value}` : `${key}${sep}[redacted]`,
  );
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined;
}

/**
 * The vendor's error text from common shapes: JSON:API `{errors:[{title,detail}]}`, Rails-style
 * `{errors:{field:[msg]}}`, SCIM `{detail, scimType}`, OAuth `{error, error_description}`, `{message}`.
 * Truncated to 300 characters; the core scrubs it again before use.
 */
export function defaultErrorDetail(_status: number, body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const parts: string[] = [];
  if (Array.isArray(b.errors)) {
    for (const e of b.errors) {
      if (typeof e === 'string') {
        parts.push(e);
      } else if (e && typeof e === 'object') {
        const o = e as Record<string, unknown>;
        const title = str(o.title) ?? str(o.code);
        const text = str(o.detail) ?? str(o.message);
        const joined = title && text && title !== text ? `${title}: ${text}` : (text ?? title);
        if (joined) parts.push(joined);
      }
    }
  } else if (b.errors && typeof b.errors === 'object') {
    for (const [field, msgs] of Object.entries(b.errors as Record<string, unknown>)) {
      const m = Array.isArray(msgs) ? msgs.map(String).join(', ') : str(msgs);
      if (m) parts.push(`${field} ${m}`);
    }
  }
  if (parts.length === 0 && str(b.detail)) parts.push(str(b.scimType) ? `${str(b.detail)} (scimType ${str(b.scimType)})` : str(b.detail)!);
  if (parts.length === 0 && str(b.error)) parts.push(str(b.error_description) ? `${str(b.error)}: ${str(b.error_description)}` : str(b.error)!);
  if (parts.length === 0 && str(b.message)) parts.push(str(b.message)!);
  if (parts.length === 0) return undefined;
  // Not truncated here: the caller scrubs secrets from the whole text first, so a cut cannot split one.
  return parts.join('; ');
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "20 s", "14 min", "3 h": rounded up, so retrying at the stated time is never early. */
export function formatDelay(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 120) return `${s} s`;
  const min = Math.ceil(s / 60);
  if (min < 120) return `${min} min`;
  return `${Math.ceil(min / 60)} h`;
}

/** "09:15:20 UTC", with the date when it is not today (UTC). */
function formatClock(at: number, now: number): string {
  const iso = new Date(at).toISOString();
  const time = `${iso.slice(11, 19)} UTC`;
  return iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10) ? time : `${iso.slice(0, 10)} ${time}`;
}
