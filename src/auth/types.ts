/**
 * How a vendor client authenticates. Implementations never expose the secret except through headers(),
 * and only the HTTP core calls that.
 */
export type AuthKind =
  | 'none'
  | 'api_key'
  | 'bearer'
  | 'oauth_refresh'
  | 'oauth_client_credentials'
  | 'jwt_login'
  /** The OAuth client at its token endpoint (client_secret_basic or _post); never a vendor client's credential. */
  | 'oauth_client';

export interface AuthProvider {
  readonly kind: AuthKind;
  /**
   * A non-secret identity for this credential, stable across token refreshes: used to key rate limiters
   * and in logs. e.g. `oauth:<client_id>` or `key:<first 12 hex of HMAC-SHA256(secret)>`.
   */
  readonly identity: string;
  /** Headers to add to a request (e.g. Authorization). May refresh a token first (single-flight). */
  headers(signal?: AbortSignal): Promise<Record<string, string>>;
  /**
   * Called once after a 401, with the auth headers the rejected request carried. Returns true when a
   * credential different from the rejected one is ready (fetched now, or by a concurrent caller) and the
   * request may be retried once; false when nothing can be done (static key or token).
   */
  onUnauthorized(rejected?: Record<string, string>): Promise<boolean>;
}
