import { ConfigError, identifier, secret, url, type Env } from '../../env.js';

/**
 * Apollo.io configuration from the environment. Three ways to authenticate (exactly one may be chosen):
 *
 * - `APOLLO_API_KEY`: an API key, sent only as the `X-Api-Key` header (Apollo stopped accepting keys in
 *   the query or body in September 2024, and a key in a URL ends up in logs). Listing teammates and the
 *   usage statistics need a master key ("Set as master key" under Settings > Integrations > API).
 * - `APOLLO_ACCESS_TOKEN` alone: a static OAuth access token (Apollo's last 30 days), used until a 401.
 * - `APOLLO_CLIENT_ID` + `APOLLO_CLIENT_SECRET` (+ `APOLLO_REFRESH_TOKEN` for the first start): an
 *   approved partner OAuth app; tokens are refreshed at `APOLLO_TOKEN_URL` and stored in the token store.
 *   `APOLLO_ACCESS_TOKEN`, when also set, seeds an empty store.
 */

export type ApolloAuthConfig =
  | { kind: 'api_key'; apiKey: string }
  | { kind: 'bearer'; accessToken: string }
  | { kind: 'oauth_refresh'; clientId: string; clientSecret: string; refreshToken: string | undefined; accessToken: string | undefined };

export interface ApolloConfig {
  /** Default https://api.apollo.io/api/v1 */
  baseUrl: string;
  /** Default https://app.apollo.io/api/v1/oauth/token (the notes' token exchange URL). */
  tokenUrl: string;
  auth: ApolloAuthConfig | undefined;
  /**
   * Multiplies the length of the minute, hour and day windows. Always 1 against Apollo; the sandbox sets
   * its simulator's `windowScale` so that scaled-down windows line up with the client's.
   */
  rateWindowScale: number;
}

export const APOLLO_DEFAULT_BASE_URL = 'https://api.apollo.io/api/v1';
export const APOLLO_DEFAULT_TOKEN_URL = 'https://app.apollo.io/api/v1/oauth/token';

export function apolloConfig(env: Env): ApolloConfig {
  const apiKey = secret(env, 'APOLLO_API_KEY');
  const accessToken = secret(env, 'APOLLO_ACCESS_TOKEN');
  const clientId = identifier(env, 'APOLLO_CLIENT_ID');
  const clientSecret = secret(env, 'APOLLO_CLIENT_SECRET');
  const refreshToken = secret(env, 'APOLLO_REFRESH_TOKEN');

  let auth: ApolloAuthConfig | undefined;
  const oauth = clientId !== undefined || clientSecret !== undefined || refreshToken !== undefined;
  if (apiKey !== undefined && (oauth || accessToken !== undefined)) {
    throw new ConfigError(
      'Set either APOLLO_API_KEY or the OAuth variables (APOLLO_ACCESS_TOKEN, or APOLLO_CLIENT_ID + APOLLO_CLIENT_SECRET + APOLLO_REFRESH_TOKEN), not both.',
    );
  }
  if (apiKey !== undefined) {
    auth = { kind: 'api_key', apiKey };
  } else if (oauth) {
    if (!clientId) throw new ConfigError('APOLLO_CLIENT_ID is required with APOLLO_CLIENT_SECRET / APOLLO_REFRESH_TOKEN.');
    if (!clientSecret) throw new ConfigError('APOLLO_CLIENT_SECRET is required with APOLLO_CLIENT_ID.');
    auth = { kind: 'oauth_refresh', clientId, clientSecret, refreshToken, accessToken };
  } else if (accessToken !== undefined) {
    auth = { kind: 'bearer', accessToken };
  }
  return {
    baseUrl: url(env, 'APOLLO_BASE_URL', APOLLO_DEFAULT_BASE_URL),
    tokenUrl: url(env, 'APOLLO_TOKEN_URL', APOLLO_DEFAULT_TOKEN_URL),
    auth,
    rateWindowScale: 1,
  };
}
