import type { Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import { ConfigError } from '../env.js';
import type { VendorId as Vendor } from '../domain/account.js';
import type { Logger } from '../log.js';
import { ClientCredentialsProvider, OAuthRefreshProvider, type ClientAuthMethod } from './oauth.js';
import { apiKeyAuth, bearerAuth } from './static.js';
import type { TokenStorage } from './token-store.js';
import type { AuthProvider } from './types.js';

/** A vendor's configured credential, in the vendor-neutral terms of the providers. */
export type AuthSetting =
  | { kind: 'bearer'; token: string }
  /** A key sent in a vendor-specific header (Apollo's `X-Api-Key`). */
  | { kind: 'api_key'; header: string; key: string }
  | { kind: 'oauth_client_credentials'; clientId: string; clientSecret: string }
  | {
      kind: 'oauth_refresh';
      clientId: string;
      clientSecret: string;
      /** From the environment; the token store's own wins once it has one. */
      refreshToken: string | undefined;
      /** From the environment; used only while the store holds no token at all. */
      accessToken?: string;
      clientAuth?: ClientAuthMethod;
    };

export interface AuthSelection {
  vendor: Vendor;
  /** How messages name the vendor, e.g. "SalesLoft". */
  label?: string;
  tokenUrl: string;
  /**
   * The ConfigError message when OAuth refresh is configured but neither the environment nor the token store
   * holds a refresh token: it tells the admin how this vendor's token is obtained.
   */
  noRefreshToken: string;
  /**
   * Whether a stored or configured access token alone is enough to start (Apollo: its 30-day tokens can be
   * handed over without a refresh token). Otherwise the server refuses to start without a refresh token,
   * since it could not renew what it has.
   */
  accessTokenSuffices?: boolean;
  tokens: TokenStorage;
  clock: Clock;
  log: Logger;
  /**
   * For the token endpoint's HttpCore, as for the vendor's (the connect factories spread their
   * ConnectOptions in here): tests pass an undici MockAgent.
   */
  dispatcher?: Dispatcher;
  /** Base delay of the token requests' retry backoff; tests set a few ms. */
  retryBaseDelayMs?: number;
}

/**
 * The auth provider for a vendor's configured credential, or undefined when none is configured (its tools are
 * then not registered). Throws ConfigError when OAuth refresh cannot work.
 */
export async function selectAuth(setting: AuthSetting | undefined, o: AuthSelection): Promise<AuthProvider | undefined> {
  if (!setting) return undefined;
  const common = { vendor: o.vendor, label: o.label, tokenUrl: o.tokenUrl, clock: o.clock, log: o.log, dispatcher: o.dispatcher, retryBaseDelayMs: o.retryBaseDelayMs };
  switch (setting.kind) {
    case 'bearer':
      return bearerAuth(setting.token);
    case 'api_key':
      return apiKeyAuth(setting.header, setting.key);
    case 'oauth_client_credentials':
      return new ClientCredentialsProvider({ ...common, clientId: setting.clientId, clientSecret: setting.clientSecret });
    case 'oauth_refresh': {
      const stored = await o.tokens.read(o.vendor, setting.clientId);
      const hasAccess = o.accessTokenSuffices === true && Boolean(stored?.access_token || setting.accessToken);
      if (!stored?.refresh_token && !setting.refreshToken && !hasAccess) throw new ConfigError(o.noRefreshToken);
      return new OAuthRefreshProvider({
        ...common,
        clientId: setting.clientId,
        clientSecret: setting.clientSecret,
        clientAuth: setting.clientAuth,
        seedRefreshToken: setting.refreshToken,
        seedAccessToken: setting.accessToken,
        store: o.tokens,
      });
    }
  }
}
