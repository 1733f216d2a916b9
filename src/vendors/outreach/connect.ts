import { selectAuth } from '../../auth/select.js';
import type { AuthProvider } from '../../auth/types.js';
import type { OutreachConfig } from './config.js';
import { HttpCore } from '../../http/core.js';
import { xRateLimitHeaders } from '../../http/rate-headers.js';
import type { ConnectOptions } from '../connect-options.js';
import { OutreachClient } from './client.js';
import { OUTREACH } from './identity.js';

export type { ConnectOptions };

/**
 * Builds the Outreach client from configuration, or returns undefined when no credentials are set (its
 * tools are then not registered). Throws ConfigError when the configuration cannot work.
 */
export async function createOutreachClient(cfg: OutreachConfig, opts: ConnectOptions): Promise<OutreachClient | undefined> {
  const auth = await outreachAuth(cfg, opts);
  if (!auth) return undefined;
  const core = new HttpCore({
    vendor: OUTREACH.id,
    label: OUTREACH.label,
    baseUrl: cfg.baseUrl,
    auth,
    // Notes, "Rate limits": 10,000 requests per hour per OAuth application per org, reported in X-RateLimit-*.
    limits: { windows: [{ name: 'hour', intervalMs: cfg.rateLimitWindowMs, limit: cfg.rateLimitPerHour }], maxConcurrent: 4, headers: xRateLimitHeaders('hour') },
    retry: opts.retryBaseDelayMs === undefined ? undefined : { baseDelayMs: opts.retryBaseDelayMs },
    timeouts: opts.timeouts,
    dispatcher: opts.dispatcher,
    clock: opts.clock,
    log: opts.log,
    authHint: 'Run `sales-access-mcp auth outreach` again, or check OUTREACH_ACCESS_TOKEN / OUTREACH_CLIENT_ID and OUTREACH_CLIENT_SECRET.',
  });
  return new OutreachClient(core, auth.kind, () => opts.clock.now());
}

function outreachAuth(cfg: OutreachConfig, opts: ConnectOptions): Promise<AuthProvider | undefined> {
  // Without any setting there is nothing to do: tokens stored by `sales-access-mcp auth outreach` still need
  // the client id and secret to refresh.
  const a = cfg.auth;
  return selectAuth(a?.kind === 'bearer' ? { kind: 'bearer', token: a.accessToken } : a, {
    vendor: OUTREACH.id,
    label: OUTREACH.label,
    tokenUrl: cfg.tokenUrl,
    noRefreshToken: 'OUTREACH_REFRESH_TOKEN is not set and no Outreach token is stored: run `sales-access-mcp auth outreach` once, or set OUTREACH_REFRESH_TOKEN.',
    ...opts,
  });
}
