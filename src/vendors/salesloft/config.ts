import { ConfigError, fraction, identifier, positiveInt, secret, url, type Env } from '../../env.js';

/**
 * SalesLoft configuration from the environment. Same rules as outreachConfig (vendors/outreach/config.ts): a missing
 * or malformed variable stops start-up with a ConfigError naming it, never its value.
 *
 * | variable | meaning |
 * |---|---|
 * | `SALESLOFT_API_KEY` | personal API key, sent as `Authorization: Bearer` (never expires) |
 * | `SALESLOFT_CLIENT_ID`, `SALESLOFT_CLIENT_SECRET` | OAuth application (wins over the API key when both are set, as for Outreach) |
 * | `SALESLOFT_REFRESH_TOKEN` | seeds an empty token store only; rotated tokens are persisted and win afterwards |
 * | `SALESLOFT_TOKEN_URL` | default `https://accounts.salesloft.com/oauth/token` |
 * | `SALESLOFT_BASE_URL` | default `https://api.salesloft.com/v2` |
 * | `SALESLOFT_AUTHORIZE_URL`, `SALESLOFT_REDIRECT_URI` | for `sales-access-mcp auth salesloft`; defaults `https://accounts.salesloft.com/oauth/authorize`, `http://127.0.0.1:8765/callback` |
 * (`SALESLOFT_SCIM_URL` / `SALESLOFT_SCIM_TOKEN` are read with every vendor's SCIM connection in vendors/connection.ts.)
 * | `SALESLOFT_RATE_LIMIT_COST_PER_MINUTE` | the team's budget, default 600 cost per minute (rate-limits.md) |
 * | `SALESLOFT_RATE_LIMIT_RESERVE` | fraction of each minute left to the team's other integrations, 0 to 0.5, default 0.2 |
 */

export type SalesloftAuthConfig =
  | { kind: 'bearer'; apiKey: string }
  | { kind: 'oauth_refresh'; clientId: string; clientSecret: string; refreshToken: string | undefined };

export interface SalesloftConfig {
  baseUrl: string;
  tokenUrl: string;
  /** Where `sales-access-mcp auth salesloft` sends the browser, and the fixed loopback redirect it listens on. */
  authorizeUrl: string;
  redirectUri: string;
  /** Undefined when no SalesLoft credential is set: the vendor's tools are then not registered. */
  auth: SalesloftAuthConfig | undefined;
  /** The team's cost budget per window (documented: 600 cost per minute, shared by every integration of the team). */
  rateLimitCostPerMinute: number;
  /** Fraction of each window this server leaves unused for the team's other integrations (0..0.5). */
  rateLimitReserve: number;
  /**
   * Length of SalesLoft's rate-limit window. 60,000 in production and not read from the environment; a
   * time-scaled benchmark or test sets it to match a simulator started with `rateLimit.windowMs`.
   */
  rateLimitWindowMs: number;
}

export const SALESLOFT_DEFAULTS = {
  baseUrl: 'https://api.salesloft.com/v2',
  tokenUrl: 'https://accounts.salesloft.com/oauth/token',
  authorizeUrl: 'https://accounts.salesloft.com/oauth/authorize',
  redirectUri: 'http://127.0.0.1:8765/callback',
  costPerMinute: 600,
  reserve: 0.2,
  windowMs: 60_000,
} as const;

export function salesloftConfig(env: Env): SalesloftConfig {
  const apiKey = secret(env, 'SALESLOFT_API_KEY');
  const clientId = identifier(env, 'SALESLOFT_CLIENT_ID');
  const clientSecret = secret(env, 'SALESLOFT_CLIENT_SECRET');
  const refreshToken = secret(env, 'SALESLOFT_REFRESH_TOKEN');
  let auth: SalesloftAuthConfig | undefined;
  if (clientId || clientSecret || refreshToken) {
    if (!clientId) throw new ConfigError('SALESLOFT_CLIENT_ID is required with SALESLOFT_CLIENT_SECRET / SALESLOFT_REFRESH_TOKEN.');
    if (!clientSecret) throw new ConfigError('SALESLOFT_CLIENT_SECRET is required with SALESLOFT_CLIENT_ID.');
    // Without a refresh token the token store must already hold one; connect.ts checks that and says so.
    auth = { kind: 'oauth_refresh', clientId, clientSecret, refreshToken };
  } else if (apiKey) {
    auth = { kind: 'bearer', apiKey };
  }
  return {
    baseUrl: url(env, 'SALESLOFT_BASE_URL', SALESLOFT_DEFAULTS.baseUrl),
    tokenUrl: url(env, 'SALESLOFT_TOKEN_URL', SALESLOFT_DEFAULTS.tokenUrl),
    authorizeUrl: url(env, 'SALESLOFT_AUTHORIZE_URL', SALESLOFT_DEFAULTS.authorizeUrl),
    redirectUri: url(env, 'SALESLOFT_REDIRECT_URI', SALESLOFT_DEFAULTS.redirectUri),
    auth,
    rateLimitCostPerMinute: positiveInt(env, 'SALESLOFT_RATE_LIMIT_COST_PER_MINUTE', SALESLOFT_DEFAULTS.costPerMinute),
    rateLimitReserve: fraction(env, 'SALESLOFT_RATE_LIMIT_RESERVE', SALESLOFT_DEFAULTS.reserve, 0.5),
    rateLimitWindowMs: SALESLOFT_DEFAULTS.windowMs,
  };
}
