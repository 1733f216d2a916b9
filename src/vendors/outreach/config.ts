import { ConfigError, positiveInt, secret, url, type Env } from '../../env.js';

/**
 * Outreach configuration from the environment. A missing or malformed variable stops start-up with a
 * ConfigError naming it, never its value.
 */

export type OutreachAuthConfig =
  | { kind: 'bearer'; accessToken: string }
  | { kind: 'oauth_refresh'; clientId: string; clientSecret: string; refreshToken: string | undefined }
  | { kind: 'oauth_client_credentials'; clientId: string; clientSecret: string };

export interface OutreachConfig {
  baseUrl: string;
  tokenUrl: string;
  authorizeUrl: string;
  redirectUri: string;
  auth: OutreachAuthConfig | undefined;
  /** Requests per hour per OAuth app per org (documented default 10,000). */
  rateLimitPerHour: number;
  /**
   * Length of that window: 3,600,000 (an hour) unless OUTREACH_RATE_LIMIT_WINDOW_MS says otherwise, which only a
   * time-scaled test or benchmark does, to match a simulator started with `rateLimit.windowMs`.
   */
  rateLimitWindowMs: number;
}

export function outreachConfig(env: Env): OutreachConfig {
  const accessToken = secret(env, 'OUTREACH_ACCESS_TOKEN');
  const clientId = env.OUTREACH_CLIENT_ID || undefined;
  const clientSecret = secret(env, 'OUTREACH_CLIENT_SECRET');
  const refreshToken = secret(env, 'OUTREACH_REFRESH_TOKEN');
  const grant = env.OUTREACH_GRANT_TYPE || undefined;
  if (grant !== undefined && grant !== 'refresh_token' && grant !== 'client_credentials') {
    throw new ConfigError('OUTREACH_GRANT_TYPE must be "refresh_token" (default) or "client_credentials".');
  }
  let auth: OutreachAuthConfig | undefined;
  if (clientId || clientSecret || refreshToken) {
    if (!clientId) throw new ConfigError('OUTREACH_CLIENT_ID is required with OUTREACH_CLIENT_SECRET / OUTREACH_REFRESH_TOKEN.');
    if (!clientSecret) throw new ConfigError('OUTREACH_CLIENT_SECRET is required with OUTREACH_CLIENT_ID.');
    auth =
      grant === 'client_credentials'
        ? { kind: 'oauth_client_credentials', clientId, clientSecret }
        : // Without a refresh token the token store must already hold one from `sales-access-mcp auth outreach`;
          // the auth factory checks that and says so.
          { kind: 'oauth_refresh', clientId, clientSecret, refreshToken };
  } else if (accessToken) {
    auth = { kind: 'bearer', accessToken };
  }
  return {
    baseUrl: url(env, 'OUTREACH_BASE_URL', 'https://api.outreach.io/api/v2'),
    tokenUrl: url(env, 'OUTREACH_TOKEN_URL', 'https://api.outreach.io/oauth/token'),
    authorizeUrl: url(env, 'OUTREACH_AUTHORIZE_URL', 'https://api.outreach.io/oauth/authorize'),
    redirectUri: url(env, 'OUTREACH_REDIRECT_URI', 'http://127.0.0.1:8765/callback'),
    auth,
    rateLimitPerHour: positiveInt(env, 'OUTREACH_RATE_LIMIT_PER_HOUR', 10_000),
    rateLimitWindowMs: positiveInt(env, 'OUTREACH_RATE_LIMIT_WINDOW_MS', 3_600_000),
  };
}

