import { selectAuth } from '../../auth/select.js';
import type { AuthProvider } from '../../auth/types.js';
import { HttpCore } from '../../http/core.js';
import type { RateLimitPolicy } from '../../http/types.js';
import type { ConnectOptions } from '../connect-options.js';
import { SalesloftClient } from './client.js';
import type { SalesloftConfig } from './config.js';
import { SalesloftRateHeaders } from './rate-headers.js';
import { SALESLOFT } from './identity.js';

export type { ConnectOptions };

/**
 * The limiter policy for SalesLoft (rate-limits.md): one window of `rateLimitCostPerMinute` cost (600 by
 * default) shared by every integration of the team, so `rateLimitReserve` of it is left unused for them;
 * requests are weighted by their documented cost (deep pages 3..30); the remaining budget is learned from
 * `x-ratelimit-remaining-minute` (see SalesloftRateHeaders for how the window's end is inferred).
 */
export function salesloftRateLimitPolicy(cfg: Pick<SalesloftConfig, 'rateLimitCostPerMinute' | 'rateLimitReserve' | 'rateLimitWindowMs'>): RateLimitPolicy {
  return {
    windows: [{ name: 'minute', intervalMs: cfg.rateLimitWindowMs, limit: cfg.rateLimitCostPerMinute }],
    reserveFraction: cfg.rateLimitReserve,
    maxConcurrent: 4,
    headers: new SalesloftRateHeaders({ windowMs: cfg.rateLimitWindowMs, limit: cfg.rateLimitCostPerMinute }),
  };
}

/**
 * Builds the SalesLoft client from configuration, or returns undefined when no credentials are set (its
 * tools are then not registered). Throws ConfigError when the configuration cannot work.
 */
export async function createSalesloftClient(cfg: SalesloftConfig, opts: ConnectOptions): Promise<SalesloftClient | undefined> {
  const auth = await salesloftAuth(cfg, opts);
  if (!auth) return undefined;
  const core = new HttpCore({
    vendor: SALESLOFT.id,
    label: SALESLOFT.label,
    baseUrl: cfg.baseUrl,
    auth,
    limits: salesloftRateLimitPolicy(cfg),
    retry: opts.retryBaseDelayMs === undefined ? undefined : { baseDelayMs: opts.retryBaseDelayMs },
    timeouts: opts.timeouts,
    dispatcher: opts.dispatcher,
    clock: opts.clock,
    log: opts.log,
    authHint: 'Check SALESLOFT_API_KEY, or SALESLOFT_CLIENT_ID, SALESLOFT_CLIENT_SECRET and SALESLOFT_REFRESH_TOKEN (a refresh token SalesLoft already rotated is no longer valid).',
  });
  return new SalesloftClient(core, auth.kind, () => opts.clock.now());
}

function salesloftAuth(cfg: SalesloftConfig, opts: ConnectOptions): Promise<AuthProvider | undefined> {
  // The personal API key is sent as a Bearer token. OAuth refresh tokens rotate: the token store persists each
  // new one before the access token is used (as for Outreach).
  const a = cfg.auth;
  return selectAuth(a?.kind === 'bearer' ? { kind: 'bearer', token: a.apiKey } : a, {
    vendor: SALESLOFT.id,
    label: SALESLOFT.label,
    tokenUrl: cfg.tokenUrl,
    noRefreshToken: 'SALESLOFT_REFRESH_TOKEN is not set and no SalesLoft token is stored: set SALESLOFT_REFRESH_TOKEN (from your OAuth authorization), or use SALESLOFT_API_KEY.',
    ...opts,
  });
}
