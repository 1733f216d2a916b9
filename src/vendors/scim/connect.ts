import { bearerAuth } from '../../auth/static.js';
import { ConfigError } from '../../env.js';
import { defaultErrorDetail, HttpCore } from '../../http/core.js';
import { xRateLimitHeaders } from '../../http/rate-headers.js';
import type { ConnectOptions } from '../connect-options.js';
import { ScimClient } from './client.js';
import { normaliseKeys, ScimError } from './wire.js';

export interface ScimConnectionConfig {
  /** SCIM base URL, e.g. https://api.salesloft.com/scim/v2 (without /Users). */
  url: string;
  /** The long-lived SCIM bearer token (separate from the vendor's REST/OAuth credentials). */
  token: string;
  /** Override of the default local budget (requests per minute). */
  ratePerMinute?: number;
  maxConcurrent?: number;
}

/**
 * No vendor publishes a SCIM rate limit (shared/vendor-docs): SalesLoft documents 600 requests per minute for
 * its API, Outreach 10,000 per hour, Apollo and ZoomInfo nothing. SCIM traffic here is a human's admin work
 * (a few reads and one write per tool call, or a paged listing), so 600 per minute never slows a real use,
 * and 4 concurrent requests keep a listing from bursting into a tenant's IdP-facing endpoint. `X-RateLimit-*`
 * headers, where a vendor sends them, and 429 + Retry-After still take precedence (core limiter).
 */
export const SCIM_DEFAULT_RATE_PER_MINUTE = 600;
export const SCIM_DEFAULT_MAX_CONCURRENT = 4;

/**
 * The vendor's words from a SCIM error body (RFC 7644 §3.12: `{schemas:[…Error], status, scimType, detail}`,
 * attribute names in any case) as "scimType: detail"; other shapes go to the core's default reader.
 */
export function scimErrorDetail(status: number, body: unknown): string | undefined {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const parsed = ScimError.safeParse(normaliseKeys(body));
    if (parsed.success) {
      const { scimType, detail } = parsed.data;
      if (scimType && detail) return `${scimType}: ${detail}`;
      if (detail) return detail;
      if (scimType) return `scimType ${scimType}`;
    }
  }
  return defaultErrorDetail(status, body);
}

/** Who the SCIM connection belongs to, for its limiter key and messages. */
export interface ScimOwner {
  vendor: string;
  /** The vendor's name, e.g. "SalesLoft". */
  label: string;
  /** The variable holding the token, named when it is malformed. */
  tokenVariable: string;
  /** What to tell the agent after a final 401. */
  hint: string;
}

/** The SCIM client of one vendor connection: bearer token, `application/scim+json`, its own limiter bucket. */
export function createScimClient(owner: ScimOwner, cfg: ScimConnectionConfig, opts: ConnectOptions): ScimClient {
  let auth;
  try {
    auth = bearerAuth(cfg.token);
  } catch (err) {
    throw new ConfigError(`${owner.tokenVariable}: ${(err as Error).message}.`);
  }
  const core = new HttpCore({
    vendor: owner.vendor,
    label: owner.label,
    baseUrl: cfg.url,
    auth,
    limits: {
      windows: [{ name: 'minute', intervalMs: 60_000, limit: cfg.ratePerMinute ?? SCIM_DEFAULT_RATE_PER_MINUTE }],
      maxConcurrent: cfg.maxConcurrent ?? SCIM_DEFAULT_MAX_CONCURRENT,
      headers: xRateLimitHeaders('minute'),
    },
    retry: opts.retryBaseDelayMs === undefined ? undefined : { baseDelayMs: opts.retryBaseDelayMs },
    timeouts: opts.timeouts,
    dispatcher: opts.dispatcher,
    clock: opts.clock,
    log: opts.log,
    errorDetail: scimErrorDetail,
    authHint: owner.hint,
  });
  return new ScimClient(core, { now: () => opts.clock.now(), cache: opts.scimCapabilities?.(owner.vendor, cfg.url) });
}
