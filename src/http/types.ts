import type { Dispatcher } from 'undici';
import type { AuthProvider } from '../auth/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface VendorRequest {
  method: HttpMethod;
  /** Path relative to the client's base URL, e.g. `/users/123`. Must start with '/'. */
  path: string;
  /**
   * Query parameters; undefined values are dropped; keys like `page[size]` are sent as-is (encoded). An
   * array repeats the key once per value (`contact_ids[]=a&contact_ids[]=b`; OpenAPI form style, explode).
   */
  query?: Record<string, string | number | boolean | undefined | readonly (string | number | boolean)[]>;
  /**
   * The body. A URLSearchParams is sent form-encoded (`application/x-www-form-urlencoded`, e.g. an OAuth
   * token request) while `mediaType` stays the Accept; a string is sent as-is with `mediaType` as its
   * Content-Type; anything else is serialised as JSON. The values of credential-named fields of a form
   * or a JSON object (`password`, `client_secret`, `refresh_token`, ...) are treated as secrets of the
   * exchange, like the auth headers: cut out of every message and log detail derived from it.
   */
  body?: unknown;
  /** Content-Type of the body (unless it is a form) and the Accept header; default application/json. */
  mediaType?: string;
  /** Extra non-secret headers (e.g. If-Match). */
  headers?: Record<string, string>;
  /**
   * Safe to send twice. Defaults to true for GET, false otherwise. Only idempotent requests are retried
   * after 502/503/504/connection reset; a 429 is retried for every method (the vendor refused it before
   * processing). A non-idempotent request that may have been sent fails with `ambiguous: true`.
   */
  idempotent?: boolean;
  /** Cost of this request against the limiter (SalesLoft deep pages cost 3..30). Default 1. */
  weight?: number;
  /** Limiter bucket within the credential (Apollo limits per endpoint). Default: one bucket. */
  bucket?: string;
  /** Skip the auth provider (token endpoints, public endpoints). */
  noAuth?: boolean;
  /**
   * Error statuses the caller reads itself (an OAuth token endpoint's 400/401 answers carry an RFC 6749
   * error code): such a response is returned like a success instead of becoming a VendorError. It is
   * checked last, so a 401 still goes through the auth provider once, and 429 (and 502/503/504 of an
   * idempotent request) are retried as usual and end in the core's own VendorError.
   */
  acceptStatus?: (status: number) => boolean;
  signal?: AbortSignal;
}

export interface VendorResponse<T = unknown> {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: T;
  requestId: string | undefined;
  /** Limiter weight the vendor says this request cost, when it says so (x-ratelimit-endpoint-cost). */
  cost: number | undefined;
}

/** One fixed or rolling window of a rate limit. */
export interface RateWindow {
  /** Name shown in list_connections: 'hour', 'minute', 'day'. */
  name: string;
  /** Window length in ms. */
  intervalMs: number;
  /** Requests (or cost units) allowed per window. */
  limit: number;
}

/** How a vendor publishes its remaining budget in response headers. */
export interface RateHeaderSpec {
  /**
   * Reads the headers of a response (lower-cased names) and returns what they say about each window,
   * by window name. `resetAtMs` is absolute epoch ms when known. `sentAt` is when the request left (its
   * limiter admission), when known: a count cannot belong to a window that ended before the request left.
   */
  parse(
    headers: Record<string, string>,
    now: number,
    sentAt?: number,
  ): Record<string, { limit?: number; remaining?: number; resetAtMs?: number }>;
}

export interface RateLimitPolicy {
  windows: RateWindow[];
  /** Keep this fraction of each window for other integrations sharing the budget (SalesLoft). 0..0.5 */
  reserveFraction?: number;
  maxConcurrent?: number;
  headers?: RateHeaderSpec;
}

export interface RetryPolicy {
  /** Retries after the first attempt. Default 4. */
  maxRetries: number;
  /** Base of exponential backoff in ms (tests set it to a few ms). Default 500. */
  baseDelayMs: number;
  /** Cap on one backoff wait. Default 30_000. */
  maxDelayMs: number;
  /** Give up when the whole call (all attempts and waits) would exceed this. Default 120_000. */
  deadlineMs: number;
}

export interface HttpCoreOptions {
  /** Vendor id: keys the limiter and tags errors. */
  vendor: string;
  /** How the vendor is named in messages, e.g. "Apollo.io" or "SalesLoft SCIM"; default the vendor id. */
  label?: string;
  baseUrl: string;
  auth: AuthProvider;
  limits: RateLimitPolicy;
  retry?: Partial<RetryPolicy>;
  /** For tests: an undici MockAgent. Default: a Pool per origin with keep-alive. */
  dispatcher?: Dispatcher;
  clock?: Clock;
  log?: Logger;
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  /**
   * What to tell the agent after a final 401, e.g. "Run `sales-access-mcp auth outreach` or check
   * OUTREACH_ACCESS_TOKEN". Never a secret. Default: a generic "check the <Vendor> credential".
   */
  authHint?: string;
  /**
   * Extracts the vendor's own error text from a failed response's parsed body, for the public message.
   * The core scrubs secrets from it and truncates it to 300 characters. Default: `defaultErrorDetail`
   * (JSON:API errors[].title/detail, SCIM detail/scimType, OAuth error/error_description, message).
   */
  errorDetail?: (status: number, body: unknown) => string | undefined;
}

/** Snapshot of the budget for list_connections. */
export interface RateBudget {
  identity: string;
  windows: { name: string; limit: number; remaining: number | null; resets_at: string | null; bucket: string }[];
  last_429_at: string | null;
}
