import { ZoomInfoJwtProvider } from '../../auth/zoominfo-jwt.js';
import { ConfigError } from '../../env.js';
import { defaultErrorDetail, HttpCore } from '../../http/core.js';
import { getLimiter } from '../../http/limiter.js';
import type { RateLimitPolicy } from '../../http/types.js';
import type { ConnectOptions } from '../connect-options.js';
import { AdaptiveRate, ZoomInfoClient } from './client.js';
import type { ZoomInfoConfig } from './config.js';
import { zoominfoErrorDetail } from './wire.js';
import { ZOOMINFO } from './identity.js';

export type { ConnectOptions };

const AUTH_HINT = 'Check ZOOMINFO_USERNAME and ZOOMINFO_PASSWORD (ZoomInfo API credentials from your account team).';

/**
 * Builds the ZoomInfo client from configuration, or returns undefined when no credentials are set (its
 * tools are then not registered). Throws ConfigError when the configuration cannot work.
 */
export async function createZoomInfoClient(cfg: ZoomInfoConfig, opts: ConnectOptions): Promise<ZoomInfoClient | undefined> {
  if (!cfg.username || !cfg.password) return undefined;

  // No published limits and no rate-limit headers: one conservative per-minute window that AdaptiveRate
  // lowers on a 429 and raises slowly again. Two at a time at most (the notes' plan table lists no
  // concurrency allowance at all).
  const limits: RateLimitPolicy = { windows: [{ name: 'minute', intervalMs: 60_000, limit: cfg.rateLimitPerMinute }], maxConcurrent: 2 };
  const errorDetail = (status: number, body: unknown) => zoominfoErrorDetail(body) ?? defaultErrorDetail(status, body);
  const retry = opts.retryBaseDelayMs === undefined ? undefined : { baseDelayMs: opts.retryBaseDelayMs };

  // /authenticate goes through the same core (same pool, retries and error handling) without auth and in
  // its own limiter bucket, so a login never waits behind the data requests it is needed for.
  let core: HttpCore | undefined;
  const auth = new ZoomInfoJwtProvider({
    username: cfg.username,
    password: cfg.password,
    clock: opts.clock,
    log: opts.log,
    login: async (credentials, signal) => {
      const res = await core!.request({ method: 'POST', path: '/authenticate', body: credentials, noAuth: true, idempotent: true, bucket: 'authenticate', signal });
      return res.body;
    },
  });
  core = new HttpCore({
    vendor: ZOOMINFO.id,
    label: ZOOMINFO.label,
    baseUrl: cfg.baseUrl,
    auth,
    limits,
    retry,
    timeouts: opts.timeouts,
    dispatcher: opts.dispatcher,
    clock: opts.clock,
    log: opts.log,
    authHint: AUTH_HINT,
    errorDetail,
  });
  const rate = new AdaptiveRate({
    limiter: () => getLimiter({ vendor: 'zoominfo', identity: auth.identity, bucket: 'default', policy: limits, clock: opts.clock }),
    window: 'minute',
    ceiling: cfg.rateLimitPerMinute,
    clock: opts.clock,
    log: opts.log,
  });
  return new ZoomInfoClient(core, auth.kind, { perRecord: cfg.creditsPerRecord, perContactReveal: cfg.creditsPerContactReveal }, { clock: opts.clock, log: opts.log, rate });
}
