import { ConfigError, nonNegativeInt, positiveInt, url, type Env } from '../../env.js';

/**
 * ZoomInfo Enterprise API configuration (JWT login with username + password). The GTM v1 APIs use a
 * different auth and are out of scope.
 */
export interface ZoomInfoConfig {
  /** Default https://api.zoominfo.com (notes and collection `servers`). */
  baseUrl: string;
  /** Not a secret: it names the API account and keys the rate limiter (`zoominfo:<username>`). */
  username: string | undefined;
  password: string | undefined;
  /**
   * Starting and highest request rate per minute. ZoomInfo's limits are contractual and unpublished, and its
   * responses carry no rate-limit headers, so the client starts here, halves on a 429 and climbs back by
   * one at a time (see AdaptiveRate in client.ts). Default 25: a few requests every few seconds is far
   * below any documented tier and is plenty for access-review lookups; raise it to your contract's figure.
   */
  rateLimitPerMinute: number;
  /** Credits one returned record costs (notes: "consumes credits per result row returned"). Default 1. */
  creditsPerRecord: number;
  /**
   * Extra credits a contact record costs when it carries contact data (email, direct or mobile phone), or
   * all fields because no outputFields were given. Default 0 (the notes bill per record); set it when your
   * contract prices contact reveals higher, so the worst-case estimate stays a true upper bound.
   */
  creditsPerContactReveal: number;
}

export function zoominfoConfig(env: Env): ZoomInfoConfig {
  const username = env.ZOOMINFO_USERNAME?.trim() || undefined;
  const rawPassword = env.ZOOMINFO_PASSWORD;
  // Passwords may contain spaces, so config.ts's secret() (which refuses any whitespace) is not used; only
  // a line break or NUL is refused, since those come from pasting and would break the login body.
  const password = rawPassword === undefined || rawPassword === '' ? undefined : rawPassword;
  if (password !== undefined && /[\r\n\0]/.test(password)) {
    throw new ConfigError('ZOOMINFO_PASSWORD contains a line break or NUL; paste the value again without it.');
  }
  if (username !== undefined && /\s/.test(username)) throw new ConfigError('ZOOMINFO_USERNAME contains whitespace.');
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError(
      username === undefined
        ? 'ZOOMINFO_USERNAME is required with ZOOMINFO_PASSWORD (the ZoomInfo API user name from your account team).'
        : 'ZOOMINFO_PASSWORD is required with ZOOMINFO_USERNAME.',
    );
  }
  return {
    baseUrl: url(env, 'ZOOMINFO_BASE_URL', 'https://api.zoominfo.com'),
    username,
    password,
    rateLimitPerMinute: positiveInt(env, 'ZOOMINFO_RATE_LIMIT_PER_MINUTE', 25),
    creditsPerRecord: positiveInt(env, 'ZOOMINFO_CREDITS_PER_RECORD', 1),
    creditsPerContactReveal: nonNegativeInt(env, 'ZOOMINFO_CREDITS_PER_CONTACT_REVEAL', 0),
  };
}
