/*
 * OAuth token endpoint calls are a small hand-written form POST rather than oauth4webapi's
 * refreshTokenGrantRequest/processRefreshTokenResponse. The deciding rule is "persist a rotated refresh
 * token before anything else": oauth4webapi validates the whole response (token_type, content-type,
 * expires_in, ...) before returning it, so a vendor quirk in an unrelated field would throw after the
 * vendor had already spent our old refresh token, and the new one would only survive inside the error's
 * `cause` (which also carries every token to whatever logs the error). Parsing leniently here lets the
 * provider save the new refresh token first and validate the rest afterwards. oauth4webapi is still used
 * for PKCE and state in authorize.ts, where its helpers are exactly what is needed.
 */
import { fetch as undiciFetch } from 'undici';
import { systemClock, type Clock } from '../clock.js';
import { VENDOR_NAMES, type VendorId as Vendor } from '../domain/account.js';
import { VendorError, type VendorErrorCode } from '../http/errors.js';
import { silentLogger, type Logger } from '../log.js';
import { SingleFlight, abortable, bearerOf, isTransient, stillFresh } from './token-lifecycle.js';
import type { AuthProvider } from './types.js';
import type { TokenRecord, TokenStore } from './token-store.js';

/** How the client proves itself at the token endpoint. Outreach documents client_secret_post. */
export type ClientAuthMethod = 'client_secret_post' | 'client_secret_basic';

/** The subset of fetch used here, so tests and the sandbox can pass global fetch, undici's, or a stub. */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

/** A token endpoint answer, parsed leniently: each field is present only when it had the right type. */
export interface TokenEndpointResult {
  access_token?: string;
  refresh_token?: string;
  /** Seconds. */
  expires_in?: number;
  scope?: string;
  token_type?: string;
  requestId?: string;
}

/** A refusal from the token endpoint; `oauthError` is the RFC 6749 `error` code when the vendor sent one. */
export class OAuthTokenError extends VendorError {
  readonly oauthError: string | undefined;
  constructor(opts: ConstructorParameters<typeof VendorError>[0] & { oauthError?: string }) {
    super(opts);
    this.oauthError = opts.oauthError;
  }
}

type Grant = 'refresh_token' | 'authorization_code' | 'client_credentials';

export interface TokenRequestOptions {
  vendor: Vendor;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  clientAuth?: ClientAuthMethod;
  /** Form parameters including grant_type. */
  params: Record<string, string> & { grant_type: Grant };
  fetchImpl?: FetchLike;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const vendorName = (v: Vendor) => (VENDOR_NAMES as Record<string, string>)[v] ?? v;
const authCommand = (v: Vendor) => `\`sales-access-mcp auth ${v}\``;

/**
 * POSTs one grant to the token endpoint. Throws OAuthTokenError for a refusal, VendorError for transport
 * problems. Never puts a token or a response body into a message.
 */
export async function requestToken(o: TokenRequestOptions): Promise<TokenEndpointResult> {
  const url = checkTokenUrl(o.vendor, o.tokenUrl);
  const form = new URLSearchParams(o.params);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if ((o.clientAuth ?? 'client_secret_post') === 'client_secret_basic') {
    // RFC 6749 §2.3.1: both parts are form-encoded before base64.
    const enc = (s: string) => new URLSearchParams({ s }).toString().slice(2);
    headers.authorization = `Basic ${Buffer.from(`${enc(o.clientId)}:${enc(o.clientSecret)}`).toString('base64')}`;
  } else {
    form.set('client_id', o.clientId);
    form.set('client_secret', o.clientSecret);
  }

  const fetchImpl: FetchLike = o.fetchImpl ?? (undiciFetch as unknown as FetchLike);
  let status: number;
  let text: string;
  let requestId: string | undefined;
  try {
    const res = await fetchImpl(url, {
      method: 'POST',
      headers,
      body: form.toString(),
      signal: AbortSignal.timeout(o.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    status = res.status;
    requestId = res.headers.get('x-request-id') ?? undefined;
    text = await res.text();
  } catch (err) {
    // A lost answer to a refresh may mean the vendor already rotated the token; the next attempt then gets
    // invalid_grant, whose message tells the admin what to do. Retrying here would only hide that.
    const timedOut = (err as Error)?.name === 'TimeoutError';
    throw new VendorError({
      vendor: o.vendor,
      code: 'network',
      message: `Could not reach the ${vendorName(o.vendor)} token endpoint (${timedOut ? 'timed out' : 'connection failed'}); try again shortly.`,
      detail: `token endpoint ${url}: ${(err as Error)?.name ?? 'error'}`,
    });
  }

  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  const oauthError = typeof body?.error === 'string' ? body.error : undefined;
  if (status < 200 || status > 299 || oauthError !== undefined) {
    throw tokenRefusal(o.vendor, o.params.grant_type, status, oauthError, requestId);
  }
  if (!body) {
    throw new VendorError({
      vendor: o.vendor,
      code: 'invalid_response',
      status,
      requestId,
      message: `The ${vendorName(o.vendor)} token endpoint answered something that is not a JSON object.`,
    });
  }
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const expires = typeof body.expires_in === 'string' ? Number(body.expires_in) : body.expires_in;
  return {
    access_token: str(body.access_token),
    refresh_token: str(body.refresh_token),
    expires_in: typeof expires === 'number' && Number.isFinite(expires) && expires > 0 ? expires : undefined,
    scope: str(body.scope),
    token_type: str(body.token_type),
    requestId,
  };
}

/** The access token of a result, or a VendorError when it is missing or not a Bearer token we can send. */
export function usableAccessToken(vendor: Vendor, r: TokenEndpointResult): string {
  const bad = (why: string) =>
    new VendorError({
      vendor,
      code: 'invalid_response',
      requestId: r.requestId,
      message: `The ${vendorName(vendor)} token endpoint answered without a usable access token (${why}).`,
    });
  if (!r.access_token) throw bad('access_token missing');
  // A token that is not header-safe would be rejected by the HTTP stack with the token in the error text.
  if (!/^[\x21-\x7e]+$/.test(r.access_token)) throw bad('access_token has characters not allowed in a header');
  if (r.token_type !== undefined && r.token_type.toLowerCase() !== 'bearer') {
    throw bad(`token_type is not Bearer`);
  }
  return r.access_token;
}

function checkTokenUrl(vendor: Vendor, raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new VendorError({ vendor, code: 'config', message: `The ${vendorName(vendor)} token URL is not a valid URL.` });
  }
  // Plain http is allowed only to a loopback sandbox: the form carries the client secret and refresh token.
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) {
    throw new VendorError({
      vendor,
      code: 'config',
      message: `The ${vendorName(vendor)} token URL must use https (plain http is accepted only for 127.0.0.1/localhost).`,
    });
  }
  return u.toString();
}

function tokenRefusal(
  vendor: Vendor,
  grant: Grant,
  status: number,
  rawError: string | undefined,
  requestId: string | undefined,
): OAuthTokenError {
  // The error code is vendor text that ends up in a tool result; keep it only when it looks like a code.
  const oauthError = rawError && /^[\w.-]{1,64}$/.test(rawError) ? rawError : rawError ? 'unrecognised_error' : undefined;
  const name = vendorName(vendor);
  let code: VendorErrorCode;
  let message: string;
  if (oauthError === 'invalid_grant') {
    code = 'unauthorized';
    message =
      grant === 'refresh_token'
        ? `${name} rejected the stored refresh token (invalid_grant): it has expired, was revoked, or was already used. Run ${authCommand(vendor)} again to re-authorise the server.`
        : grant === 'authorization_code'
          ? `${name} rejected the authorization code (invalid_grant): it expired or was already used. Run ${authCommand(vendor)} again.`
          : `${name} rejected the client credentials grant (invalid_grant); check the OAuth app configuration.`;
  } else if (oauthError === 'invalid_client' || oauthError === 'unauthorized_client') {
    code = 'config';
    message = `${name} rejected the OAuth client (${oauthError}): check the configured client id and client secret, and that the app may use this grant.`;
  } else if (oauthError === 'invalid_scope') {
    code = 'forbidden';
    message = `${name} refused the requested scopes (invalid_scope): check the scopes enabled for the OAuth app.`;
  } else if (status === 429) {
    code = 'rate_limited';
    message = `The ${name} token endpoint is rate limiting this app; try again in a minute.`;
  } else if (status >= 500) {
    code = 'unavailable';
    message = `The ${name} token endpoint is unavailable (HTTP ${status}); try again shortly.`;
  } else if (oauthError) {
    code = 'bad_request';
    message = `The ${name} token endpoint refused the request (${oauthError}, HTTP ${status}).`;
  } else {
    code = 'invalid_response';
    message = `The ${name} token endpoint answered HTTP ${status} without an OAuth error code.`;
  }
  return new OAuthTokenError({
    vendor,
    code,
    status,
    requestId,
    message,
    oauthError,
    detail: `grant=${grant} status=${status} error=${oauthError ?? '-'}`,
  });
}

const DEFAULT_MARGIN_MS = 2 * 60_000;

export interface OAuthRefreshOptions {
  vendor: Vendor;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Default client_secret_post (Outreach's documented style). */
  clientAuth?: ClientAuthMethod;
  /** From `<VENDOR>_REFRESH_TOKEN`: used only while the store holds no refresh token. */
  seedRefreshToken?: string;
  /** From the environment: used only while the store holds no token at all. Expiry unknown: kept until a 401. */
  seedAccessToken?: string;
  store: TokenStore;
  clock?: Clock;
  /** Refresh this long before the access token expires. Default 2 minutes. */
  expiryMarginMs?: number;
  log?: Logger;
  fetchImpl?: FetchLike;
  /** Per token request. Default 30 s. */
  requestTimeoutMs?: number;
}

/**
 * Authorization-code tokens with refresh-token rotation (Outreach). The token store is the source of
 * truth: a rotated refresh token is saved atomically before the new access token is used, and a spent
 * refresh token is never sent again.
 */
export class OAuthRefreshProvider implements AuthProvider {
  readonly kind = 'oauth_refresh' as const;
  readonly identity: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly margin: number;
  private access: string | undefined;
  private accessExpiresAt: number | undefined;
  /** Known only for tokens this process obtained; caps the margin so short-lived tokens do not refresh on every call. */
  private accessLifetimeMs: number | undefined;
  private refreshToken: string | undefined;
  private scope: string | undefined;
  private loading: Promise<void> | undefined;
  private readonly refreshing = new SingleFlight<boolean>();
  /** Refresh tokens the vendor answered invalid_grant to: a store record still holding one is stale. */
  private readonly rejected = new Set<string>();
  /** Set when a rotated refresh token could not be saved: the process must not carry on with it. */
  private stopped: VendorError | undefined;

  constructor(private readonly opts: OAuthRefreshOptions) {
    this.identity = `oauth:${opts.clientId}`;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.margin = opts.expiryMarginMs ?? DEFAULT_MARGIN_MS;
  }

  async headers(signal?: AbortSignal): Promise<Record<string, string>> {
    signal?.throwIfAborted();
    if (this.stopped) throw this.stopped;
    await abortable(this.load(), signal);
    if (!this.isFresh()) {
      try {
        await abortable(this.refreshOnce(), signal);
      } catch (err) {
        const stillValid = this.access !== undefined && this.accessExpiresAt !== undefined && this.clock.now() < this.accessExpiresAt;
        if (!isTransient(err) || !stillValid || this.stopped) throw err;
      }
    }
    if (this.stopped) throw this.stopped;
    if (!this.access) throw this.noToken();
    return { Authorization: `Bearer ${this.access}` };
  }

  /**
   * Forces one refresh (shared with concurrent callers). Resolves true when a new access token is ready.
   * Rejects with the refresh's VendorError (e.g. invalid_grant, naming `sales-access-mcp auth <vendor>`)
   * rather than resolving false, so that actionable message reaches the agent instead of a bare 401.
   */
  async onUnauthorized(rejected?: Record<string, string>): Promise<boolean> {
    if (this.stopped) throw this.stopped;
    await this.load();
    if (this.refreshing.current) return this.refreshing.current;
    // Requests that failed with a token we have already replaced share that refresh; one that failed with
    // the current token means the vendor no longer accepts it (expired early, revoked), so refresh.
    if (rejected !== undefined && this.access !== undefined && bearerOf(rejected) !== this.access) return true;
    return this.refreshOnce();
  }

  private isFresh(): boolean {
    return Boolean(this.access) && stillFresh(this.clock.now(), this.accessExpiresAt, this.margin, this.accessLifetimeMs);
  }

  private load(): Promise<void> {
    // A failed load (e.g. a 0644 token file) is retried on the next call, once the admin has fixed it.
    this.loading ??= this.doLoad().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  private async doLoad(): Promise<void> {
    const stored = await this.readStore();
    if (stored?.refresh_token) {
      this.adopt(stored);
      if (this.opts.seedRefreshToken && this.opts.seedRefreshToken !== stored.refresh_token) {
        // Expected after the first rotation: the environment still holds the token that was spent then.
        this.log.info(
          { vendor: this.opts.vendor, file: this.opts.store.filePath(this.opts.vendor) },
          'refresh token from the environment ignored: the token store holds a newer one',
        );
      }
      return;
    }
    this.refreshToken = this.opts.seedRefreshToken || undefined;
    if (stored?.access_token) this.adopt(stored);
    else this.access = this.opts.seedAccessToken || undefined;
  }

  private adopt(r: TokenRecord): void {
    if (r.refresh_token) this.refreshToken = r.refresh_token;
    this.access = r.access_token;
    this.accessExpiresAt = r.access_expires_at ? Date.parse(r.access_expires_at) : undefined;
    this.accessLifetimeMs = undefined;
    this.scope = r.scope;
  }

  private refreshOnce(): Promise<boolean> {
    return this.refreshing.run(() => this.doRefresh());
  }

  private async doRefresh(): Promise<boolean> {
    const { vendor, store } = this.opts;
    if (this.stopped) throw this.stopped;
    const previousAccess = this.access;

    // Another process may have written newer tokens: an admin re-running `auth` after an invalid_grant, or
    // a second server on the same store that already rotated. Those win over what this process holds.
    const stored = await this.readStore();
    if (
      stored &&
      !(stored.refresh_token !== undefined && this.rejected.has(stored.refresh_token)) &&
      ((stored.refresh_token !== undefined && stored.refresh_token !== this.refreshToken) ||
        (stored.access_token !== undefined && stored.access_token !== this.access))
    ) {
      this.adopt(stored);
      if (this.access !== previousAccess && this.isFresh()) return true;
    }

    const spent = this.refreshToken;
    if (!spent) throw this.noToken();
    let res: TokenEndpointResult;
    try {
      res = await requestToken({
        vendor,
        tokenUrl: this.opts.tokenUrl,
        clientId: this.opts.clientId,
        clientSecret: this.opts.clientSecret,
        clientAuth: this.opts.clientAuth,
        params: { grant_type: 'refresh_token', refresh_token: spent },
        fetchImpl: this.opts.fetchImpl,
        timeoutMs: this.opts.requestTimeoutMs,
      });
    } catch (err) {
      if (err instanceof OAuthTokenError && err.oauthError === 'invalid_grant') {
        // Dead for good: forget it so it is never resent; the next call re-reads the store, which is
        // where a fresh `sales-access-mcp auth` run leaves the new one.
        this.rejected.add(spent);
        if (this.refreshToken === spent) this.refreshToken = undefined;
        this.access = undefined;
      }
      this.log.warn({ vendor, err_code: (err as VendorError).code, detail: (err as VendorError).detail }, 'oauth refresh failed');
      throw err;
    }

    const rotated = res.refresh_token !== undefined && res.refresh_token !== spent;
    // From here the old token is spent whatever happens next.
    if (rotated) this.refreshToken = undefined;
    const nextRefresh = rotated ? res.refresh_token : spent;
    const expiresAt = res.expires_in !== undefined ? this.clock.now() + res.expires_in * 1000 : undefined;
    try {
      await store.write(vendor, {
        refresh_token: nextRefresh,
        access_token: res.access_token,
        access_expires_at: expiresAt !== undefined ? new Date(expiresAt).toISOString() : undefined,
        scope: res.scope ?? this.scope,
      });
    } catch (err) {
      const file = store.filePath(vendor);
      const why = (err as NodeJS.ErrnoException).code ?? 'write failed';
      if (rotated) {
        this.access = undefined;
        this.stopped = new VendorError({
          vendor,
          code: 'config',
          message:
            `${vendorName(vendor)} issued a new refresh token but it could not be saved to ${file} (${why}); ` +
            `the old one is already spent, so ${vendorName(vendor)} access is stopped. Fix the file or disk ` +
            `problem, then run ${authCommand(vendor)} and restart the server.`,
          detail: `token store write failed: ${why}`,
        });
        this.log.error({ vendor, file, err_code: why }, 'rotated refresh token could not be saved; provider stopped');
        throw this.stopped;
      }
      // Without rotation the refresh token on disk is still valid, so a restart loses nothing.
      this.log.warn({ vendor, file, err_code: why }, 'token store write failed; continuing with the token in memory');
    }

    this.refreshToken = nextRefresh;
    this.scope = res.scope ?? this.scope;
    // Cleared first: if the answer has no usable access token, the old one (spent or near expiry) must not linger.
    this.access = undefined;
    this.access = usableAccessToken(vendor, res);
    this.accessExpiresAt = expiresAt;
    this.accessLifetimeMs = res.expires_in !== undefined ? res.expires_in * 1000 : undefined;
    this.log.info({ vendor, rotated, expires_in_s: res.expires_in }, 'oauth access token refreshed');
    return true;
  }

  private async readStore(): Promise<TokenRecord | undefined> {
    try {
      return await this.opts.store.read(this.opts.vendor);
    } catch (err) {
      throw new VendorError({
        vendor: this.opts.vendor,
        code: 'config',
        message: (err as Error).message,
        detail: 'token store read failed',
      });
    }
  }

  private noToken(): VendorError {
    const v = this.opts.vendor;
    return new VendorError({
      vendor: v,
      code: 'unauthorized',
      message:
        `No usable ${vendorName(v)} OAuth token: run ${authCommand(v)} to authorise the server ` +
        `(or set ${v.toUpperCase()}_REFRESH_TOKEN for a first start with an empty token store).`,
    });
  }
}

export interface ClientCredentialsOptions {
  vendor: Vendor;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Default client_secret_post. */
  clientAuth?: ClientAuthMethod;
  scopes?: string[];
  clock?: Clock;
  expiryMarginMs?: number;
  log?: Logger;
  fetchImpl?: FetchLike;
  requestTimeoutMs?: number;
}

/**
 * grant_type=client_credentials: nothing to persist (a new token is one request away), so the token is
 * cached in memory until the expiry margin. The identity matches OAuthRefreshProvider's because vendors
 * (Outreach) rate-limit per OAuth application, whichever grant obtained the token.
 */
export class ClientCredentialsProvider implements AuthProvider {
  readonly kind = 'oauth_client_credentials' as const;
  readonly identity: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly margin: number;
  private access: string | undefined;
  private accessExpiresAt: number | undefined;
  private accessLifetimeMs: number | undefined;
  private readonly fetching = new SingleFlight<boolean>();

  constructor(private readonly opts: ClientCredentialsOptions) {
    this.identity = `oauth:${opts.clientId}`;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.margin = opts.expiryMarginMs ?? DEFAULT_MARGIN_MS;
  }

  async headers(signal?: AbortSignal): Promise<Record<string, string>> {
    signal?.throwIfAborted();
    if (!this.isFresh()) await abortable(this.fetchOnce(), signal);
    if (!this.access) throw new VendorError({ vendor: this.opts.vendor, code: 'unauthorized', message: 'No access token.' });
    return { Authorization: `Bearer ${this.access}` };
  }

  /** Fetches a new token (shared with concurrent callers); rejects with the token endpoint's VendorError. */
  async onUnauthorized(rejected?: Record<string, string>): Promise<boolean> {
    if (this.fetching.current) return this.fetching.current;
    if (rejected !== undefined && this.access !== undefined && bearerOf(rejected) !== this.access) return true;
    this.access = undefined;
    return this.fetchOnce();
  }

  private isFresh(): boolean {
    return Boolean(this.access) && stillFresh(this.clock.now(), this.accessExpiresAt, this.margin, this.accessLifetimeMs);
  }

  private fetchOnce(): Promise<boolean> {
    return this.fetching.run(() => this.doFetch());
  }

  private async doFetch(): Promise<boolean> {
    const params: TokenRequestOptions['params'] = { grant_type: 'client_credentials' };
    if (this.opts.scopes?.length) params.scope = this.opts.scopes.join(' ');
    let res: TokenEndpointResult;
    try {
      res = await requestToken({
        vendor: this.opts.vendor,
        tokenUrl: this.opts.tokenUrl,
        clientId: this.opts.clientId,
        clientSecret: this.opts.clientSecret,
        clientAuth: this.opts.clientAuth,
        params,
        fetchImpl: this.opts.fetchImpl,
        timeoutMs: this.opts.requestTimeoutMs,
      });
    } catch (err) {
      this.log.warn(
        { vendor: this.opts.vendor, err_code: (err as VendorError).code, detail: (err as VendorError).detail },
        'client credentials token request failed',
      );
      throw err;
    }
    this.access = usableAccessToken(this.opts.vendor, res);
    this.accessLifetimeMs = res.expires_in !== undefined ? res.expires_in * 1000 : undefined;
    this.accessExpiresAt = res.expires_in !== undefined ? this.clock.now() + res.expires_in * 1000 : undefined;
    this.log.info({ vendor: this.opts.vendor, expires_in_s: res.expires_in }, 'oauth client credentials token obtained');
    return true;
  }
}
