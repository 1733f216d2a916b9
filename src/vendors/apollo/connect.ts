import { selectAuth, type AuthSetting } from '../../auth/select.js';
import type { AuthProvider } from '../../auth/types.js';
import { HttpCore } from '../../http/core.js';
import type { HttpCoreOptions } from '../../http/types.js';
import type { ConnectOptions } from '../connect-options.js';
import { ApolloClient, apolloErrorDetail } from './client.js';
import type { ApolloAuthConfig, ApolloConfig } from './config.js';
import { apolloPolicy } from './limits.js';
import { APOLLO } from './identity.js';

export type { ConnectOptions };

const AUTH_HINT =
  'Check APOLLO_API_KEY (sent only in the X-Api-Key header), or APOLLO_ACCESS_TOKEN / APOLLO_CLIENT_ID + APOLLO_CLIENT_SECRET + APOLLO_REFRESH_TOKEN for an OAuth app (access tokens expire after 30 days).';

/**
 * Builds the Apollo client from configuration, or returns undefined when no credential is set (its tools
 * are then not registered). Throws ConfigError when the configuration cannot work.
 *
 * Two HttpCores share the one credential: the second serves the bulk enrichment endpoints, whose limiter
 * defaults are a tenth of the others (rate-limits.md), since a policy's defaults are per core. Both see every
 * bucket of the credential in budget(), because limiters are keyed by vendor and credential identity.
 */
export async function createApolloClient(cfg: ApolloConfig, opts: ConnectOptions): Promise<ApolloClient | undefined> {
  const auth = await apolloAuth(cfg, opts);
  if (!auth) return undefined;
  const scale = cfg.rateWindowScale;
  const policy = apolloPolicy({ bulk: false, scale });
  const bulkPolicy = apolloPolicy({ bulk: true, scale });
  const common: Omit<HttpCoreOptions, 'limits'> = {
    vendor: APOLLO.id,
    label: APOLLO.label,
    baseUrl: cfg.baseUrl,
    auth,
    retry: opts.retryBaseDelayMs === undefined ? undefined : { baseDelayMs: opts.retryBaseDelayMs },
    timeouts: opts.timeouts,
    dispatcher: opts.dispatcher,
    clock: opts.clock,
    log: opts.log,
    authHint: AUTH_HINT,
    errorDetail: apolloErrorDetail,
  };
  const core = new HttpCore({ ...common, limits: policy });
  const bulkCore = new HttpCore({ ...common, limits: bulkPolicy });
  return new ApolloClient({ core, bulkCore, authKind: auth.kind, identity: auth.identity, clock: opts.clock, scale, policy, bulkPolicy });
}

function apolloAuth(cfg: ApolloConfig, opts: ConnectOptions): Promise<AuthProvider | undefined> {
  return selectAuth(authSetting(cfg.auth), {
    vendor: APOLLO.id,
    label: APOLLO.label,
    tokenUrl: cfg.tokenUrl,
    noRefreshToken:
      'APOLLO_REFRESH_TOKEN is not set and no Apollo token is stored: set APOLLO_REFRESH_TOKEN (and APOLLO_ACCESS_TOKEN if you have one) from the OAuth authorization of your Apollo partner app.',
    // Access tokens last 30 days (notes), so one handed over without a refresh token is still useful.
    accessTokenSuffices: true,
    ...opts,
  });
}

function authSetting(a: ApolloAuthConfig | undefined): AuthSetting | undefined {
  // Watch out for (Authentication): the key goes in the X-Api-Key header only; query/body keys are rejected.
  if (a?.kind === 'api_key') return { kind: 'api_key', header: 'X-Api-Key', key: a.apiKey };
  if (a?.kind === 'bearer') return { kind: 'bearer', token: a.accessToken };
  // The notes' token exchange sends client_id and client_secret in the form.
  return a && { ...a, clientAuth: 'client_secret_post' };
}
