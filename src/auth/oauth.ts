/*
 * OAuth token endpoint calls are a small form POST through the HTTP core rather than oauth4webapi's
 * refreshTokenGrantRequest/processRefreshTokenResponse (which would also bypass the core's timeouts,
 * redaction and error mapping with a fetch of their own). The deciding rule is "persist a rotated refresh
 * token before anything else": oauth4webapi validates the whole response (token_type, content-type,
 * expires_in, ...) before returning it, so a vendor quirk in an unrelated field would throw after the
 * vendor had already spent our old refresh token, and the new one would only survive inside the error's
 * `cause` (which also carries every token to whatever logs the error). Parsing leniently here lets the
 * provider save the new refresh token first and validate the rest afterwards. oauth4webapi is still used
 * for PKCE and state in authorize.ts, where its helpers are exactly what is needed.
 */
import type { Dispatcher } from 'undici';
import { systemClock, type Clock } from '../clock.js';
import { formatDelay, HttpCore } from '../http/core.js';
import { notApplied, VendorError, type VendorErrorCode } from '../errors.js';
import type { RateLimitPolicy, VendorResponse } from '../http/types.js';
import { silentLogger, type Logger } from '../log.js';
import { SingleFlight, abortable, bearerOf, isTransient, stillFresh } from './token-lifecycle.js';
import type { AuthProvider } from './types.js';
import type { TokenRecord, TokenStorage } from './token-store.js';

/** How the client proves itself at the token endpoint. Outreach documents client_secret_post. */
export type ClientAuthMethod = 'client_secret_post' | 'client_secret_basic';

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

/** How token requests reach the network: what a vendor's HttpCore is built from (ConnectOptions). */
export interface TokenHttpOptions {
  /** Tests: an undici MockAgent. Default: the process-wide keep-alive pool of the token endpoint's origin. */
  dispatcher?: Dispatcher;
  clock?: Clock;
  log?: Logger;
  /** Base delay of retry backoff; tests set a few ms. */
  retryBaseDelayMs?: number;
}

export interface TokenRequestOptions extends TokenHttpOptions, TokenOwner {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  clientAuth?: ClientAuthMethod;
  /** Form parameters including grant_type. */
  params: Record<string, string> & { grant_type: Grant };
}

/** Whose token this is: the vendor id (token store key, `auth <vendor>`) and how messages name it. */
export interface TokenOwner {
  vendor: string;
  /** e.g. "SalesLoft"; default the vendor id. */
  label?: string;
}

const vendorName = (who: TokenOwner) => who.label ?? who.vendor;
const authCommand = (who: TokenOwner) => `\`sales-access-mcp auth ${who.vendor}\``;

/*
 * Token requests go through an HttpCore of their own, so they get what every vendor request gets: the
 * origin's keep-alive pool (or the test dispatcher), connect/headers/body timeouts, 429 handling, secret
 * scrubbing and VendorError mapping. Its own because a token endpoint is often on another origin than
 * the API (accounts.salesloft.com, app.apollo.io) and has no share in the API's rate budget: its limiter
 * is keyed by the OAuth client (`oauth-client:<id>`). The vendors publish no token endpoint limits and
 * the providers send one request per token lifetime (single-flight), so the limiter has no window; it is
 * there to hold everyone after a 429. One core per request, closed after it: a provider then owns no
 * pool that would need releasing, and a refresh every hour or month does not need a warm connection.
 */
const TOKEN_LIMITS: RateLimitPolicy = { windows: [], maxConcurrent: 2 };
/** Tighter than the API's: a token request sits in front of the tool call that needed the token. */
const TOKEN_TIMEOUTS = { connectMs: 10_000, headersMs: 20_000, bodyMs: 10_000 };
const TOKEN_DEADLINE_MS = 30_000;

/**
 * Whether a grant may be sent again after its answer was lost. client_credentials spends nothing (the
 * vendor just mints another token), so the core's retries of idempotent requests apply: connection
 * resets, timeouts, 502/503/504. A refresh token may have been rotated by the request whose answer was
 * lost, and an authorization code is single use (RFC 6749 4.1.2: a reused code SHOULD revoke the tokens
 * issued for it): those are sent once, and only a 429, refused before processing, is repeated. What a
 * lost refresh leads to instead is OAuthRefreshProvider.afterUnknownOutcome.
 */
const REPEATABLE: Record<Grant, boolean> = { client_credentials: true, refresh_token: false, authorization_code: false };

/**
 * POSTs one grant to the token endpoint through an HttpCore (see above). Throws OAuthTokenError for a
 * refusal and VendorError for everything else; a grant that is not REPEATABLE and may have been acted
 * on without a usable answer fails with `ambiguous: true` and code `unauthorized`. Never puts a token,
 * the client secret or a response body into a message or a log line.
 */
export async function requestToken(o: TokenRequestOptions): Promise<TokenEndpointResult> {
  const url = checkTokenUrl(o, o.tokenUrl);
  const grant = o.params.grant_type;
  const form = new URLSearchParams(o.params);
  const basic = (o.clientAuth ?? 'client_secret_post') === 'client_secret_basic';
  if (!basic) {
    form.set('client_id', o.clientId);
    form.set('client_secret', o.clientSecret);
  }
  const core = new HttpCore({
    vendor: o.vendor,
    baseUrl: url.origin,
    auth: clientAuthentication(o.clientId, basic ? o.clientSecret : undefined),
    limits: TOKEN_LIMITS,
    retry: { baseDelayMs: o.retryBaseDelayMs, deadlineMs: TOKEN_DEADLINE_MS },
    timeouts: TOKEN_TIMEOUTS,
    dispatcher: o.dispatcher,
    clock: o.clock,
    log: o.log,
    // No vendor text in messages: an error_description may quote the code or refresh token just sent.
    errorDetail: () => undefined,
  });
  let res: VendorResponse;
  try {
    res = await core.request({
      method: 'POST',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: form,
      idempotent: REPEATABLE[grant],
      // RFC 6749 5.2: refusals come as 400 (401 for client authentication) with an `error` code.
      acceptStatus: (status) => status >= 400 && status < 500,
    });
  } catch (err) {
    throw tokenTransportError(o, grant, err);
  } finally {
    await core.close();
  }

  const body = jsonObject(res.body);
  const oauthError = typeof body?.error === 'string' ? body.error : undefined;
  if (res.status > 299 || oauthError !== undefined) {
    throw tokenRefusal(o, grant, res.status, oauthError, res.requestId);
  }
  if (!body) {
    throw tokenTransportError(
      o,
      grant,
      new VendorError({
        vendor: o.vendor,
        code: 'invalid_response',
        status: res.status,
        requestId: res.requestId,
        message: `The ${vendorName(o)} token endpoint answered something that is not a JSON object.`,
        detail: `POST ${url.pathname} -> ${res.status}: not a JSON object`,
      }),
    );
  }
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const expires = typeof body.expires_in === 'string' ? Number(body.expires_in) : body.expires_in;
  return {
    access_token: str(body.access_token),
    refresh_token: str(body.refresh_token),
    expires_in: typeof expires === 'number' && Number.isFinite(expires) && expires > 0 ? expires : undefined,
    scope: str(body.scope),
    token_type: str(body.token_type),
    requestId: res.requestId,
  };
}

/**
 * The OAuth client's own credential at the token endpoint, as an AuthProvider, so the core treats it as
 * any credential: a Basic header is cut out of everything derived from the exchange, and the identity
 * keys the token endpoint's limiter. With client_secret_post it sends no header (the secret is a form
 * field, which the core scrubs by name).
 */
function clientAuthentication(clientId: string, basicSecret: string | undefined): AuthProvider {
  // RFC 6749 2.3.1: both parts are form-encoded before base64.
  const enc = (s: string) => new URLSearchParams({ s }).toString().slice(2);
  const headers: Record<string, string> =
    basicSecret === undefined ? {} : { Authorization: `Basic ${Buffer.from(`${enc(clientId)}:${enc(basicSecret)}`).toString('base64')}` };
  return {
    kind: 'oauth_client',
    identity: `oauth-client:${clientId}`,
    headers: async () => ({ ...headers }),
    // A 401 here is invalid_client: there is nothing to renew, and the answer is read by requestToken.
    onUnauthorized: async () => false,
  };
}

/** The body as a JSON object: parsed by the core for a JSON content type, else tried leniently. */
function jsonObject(body: unknown): Record<string, unknown> | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * A failure on the way to or from the token endpoint, in the words of a token request. The core's own
 * messages speak of writes ("may have applied it"); here the question is whether the grant was spent.
 */
function tokenTransportError(who: TokenOwner, grant: Grant, err: unknown): unknown {
  if (!(err instanceof VendorError)) return err;
  const name = vendorName(who);
  const answered = err.status !== undefined && err.status < 300;
  // Sent, and either no answer came back (reset or timeout after sending, a 502/504 from a gateway) or the
  // success answer could not be read: the vendor may have spent the grant.
  const unknown = !REPEATABLE[grant] && (err.ambiguous || (err.code === 'invalid_response' && answered));
  let code: VendorErrorCode = err.code;
  let message: string;
  if (unknown) {
    code = 'unauthorized';
    const why =
      err.code === 'network'
        ? 'the connection failed or timed out after it was sent'
        : answered
          ? 'its answer could not be read'
          : `HTTP ${err.status ?? '?'} from a gateway`;
    message =
      grant === 'refresh_token'
        ? `The ${name} token refresh got no usable answer (${why}), so ${name} may already have replaced the refresh token with one that never arrived. ` +
          `The old refresh token is not sent again: ${name} would refuse a replaced one, and may then revoke the tokens issued for it. ` +
          `Run ${authCommand(who)} to re-authorise the server.`
        : `The ${name} authorization-code exchange got no usable answer (${why}); the code is single use, so it is not sent again. Run ${authCommand(who)} again.`;
  } else if (err.code === 'network') {
    message = `The ${name} token endpoint did not answer (the connection failed or timed out); try again shortly.`;
  } else if (err.code === 'rate_limited') {
    message = `The ${name} token endpoint is rate limiting this app; retry after ${formatDelay(err.retryAfterMs ?? 0)}.`;
  } else if (err.code === 'unavailable') {
    message = `The ${name} token endpoint is unavailable (HTTP ${err.status ?? '?'}); try again shortly.`;
  } else if (err.code === 'invalid_response') {
    message = `The ${name} token endpoint answered something that is not a JSON object.`;
  } else {
    message = err.message;
  }
  return new VendorError({
    vendor: who.vendor,
    code,
    message,
    status: err.status,
    retryAfterMs: err.retryAfterMs,
    requestId: err.requestId,
    ambiguous: unknown,
    detail: `grant=${grant}: ${err.detail ?? err.code}`,
  });
}

/** The access token of a result, or a VendorError when it is missing or not a Bearer token we can send. */
export function usableAccessToken(who: TokenOwner, r: TokenEndpointResult): string {
  const bad = (why: string) =>
    new VendorError({
      vendor: who.vendor,
      code: 'invalid_response',
      requestId: r.requestId,
      message: `The ${vendorName(who)} token endpoint answered without a usable access token (${why}).`,
    });
  if (!r.access_token) throw bad('access_token missing');
  // A token that is not header-safe would be rejected by the HTTP stack with the token in the error text.
  if (!/^[\x21-\x7e]+$/.test(r.access_token)) throw bad('access_token has characters not allowed in a header');
  if (r.token_type !== undefined && r.token_type.toLowerCase() !== 'bearer') {
    throw bad(`token_type is not Bearer`);
  }
  return r.access_token;
}

function checkTokenUrl(who: TokenOwner, raw: string): URL {
  const { vendor } = who;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new VendorError({ vendor, code: 'config', message: `The ${vendorName(who)} token URL is not a valid URL.` });
  }
  // Plain http is allowed only to a loopback sandbox: the form carries the client secret and refresh token.
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) {
    throw new VendorError({
      vendor,
      code: 'config',
      message: `The ${vendorName(who)} token URL must use https (plain http is accepted only for 127.0.0.1/localhost).`,
    });
  }
  return u;
}

function tokenRefusal(
  who: TokenOwner,
  grant: Grant,
  status: number,
  rawError: string | undefined,
  requestId: string | undefined,
): OAuthTokenError {
  // The error code is vendor text that ends up in a tool result; keep it only when it looks like a code.
  const oauthError = rawError && /^[\w.-]{1,64}$/.test(rawError) ? rawError : rawError ? 'unrecognised_error' : undefined;
  const name = vendorName(who);
  const { vendor } = who;
  let code: VendorErrorCode;
  let message: string;
  if (oauthError === 'invalid_grant') {
    code = 'unauthorized';
    message =
      grant === 'refresh_token'
        ? `${name} rejected the stored refresh token (invalid_grant): it has expired, was revoked, or was already used. Run ${authCommand(who)} again to re-authorise the server.`
        : grant === 'authorization_code'
          ? `${name} rejected the authorization code (invalid_grant): it expired or was already used. Run ${authCommand(who)} again.`
          : `${name} rejected the client credentials grant (invalid_grant); check the OAuth app configuration.`;
  } else if (oauthError === 'invalid_client' || oauthError === 'unauthorized_client') {
    code = 'config';
    message = `${name} rejected the OAuth client (${oauthError}): check the configured client id and client secret, and that the app may use this grant.`;
  } else if (oauthError === 'invalid_scope') {
    code = 'forbidden';
    message = `${name} refused the requested scopes (invalid_scope): check the scopes enabled for the OAuth app.`;
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

export interface OAuthRefreshOptions extends TokenHttpOptions, TokenOwner {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Default client_secret_post (Outreach's documented style). */
  clientAuth?: ClientAuthMethod;
  /** From `<VENDOR>_REFRESH_TOKEN`: used only while the store holds no refresh token. */
  seedRefreshToken?: string;
  /** From the environment: used only while the store holds no token at all. Expiry unknown: kept until a 401. */
  seedAccessToken?: string;
  store: TokenStorage;
  /** Refresh this long before the access token expires. Default 2 minutes. */
  expiryMarginMs?: number;
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
  /**
   * Refresh tokens this process never sends again: the vendor answered invalid_grant to them, or a
   * refresh with them got no usable answer. A store record still holding one is stale.
   */
  private readonly retired = new Set<string>();
  /** Why there is no refresh token after a refresh whose outcome is unknown; cleared by newer stored tokens. */
  private lostRefresh: VendorError | undefined;
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
        // Refreshing early is a courtesy: an access token that has not expired yet is still sent after a
        // passing outage of the token endpoint, or after a lost refresh (which needs the admin anyway).
        const stillValid = this.access !== undefined && this.accessExpiresAt !== undefined && this.clock.now() < this.accessExpiresAt;
        const bearable = isTransient(err) || (this.lostRefresh !== undefined && err === this.lostRefresh);
        if (!bearable || !stillValid || this.stopped) throw err;
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
          { vendor: this.opts.vendor, file: this.opts.store.where(this.opts.vendor) },
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
    if (r.refresh_token) {
      this.refreshToken = r.refresh_token;
      this.lostRefresh = undefined;
    }
    this.access = r.access_token;
    this.accessExpiresAt = r.access_expires_at ? Date.parse(r.access_expires_at) : undefined;
    this.accessLifetimeMs = undefined;
    this.scope = r.scope;
  }

  private refreshOnce(): Promise<boolean> {
    return this.refreshing.run(() => this.doRefresh());
  }

  private async doRefresh(): Promise<boolean> {
    const { vendor, clientId, store } = this.opts;
    if (this.stopped) throw this.stopped;
    if (await this.adoptNewerStored()) return true;
    const coord = store.coordination;
    if (!coord) return this.sendRefresh();

    // Shared store (Redis): exactly one replica spends the refresh token; the others wait for the record it
    // saves (before it uses the new access token) and adopt it. The lock expires if its holder dies.
    const deadline = this.clock.now() + coord.lockTtlMs + 5_000;
    for (;;) {
      const release = await coord.tryLock(vendor, clientId);
      if (release) {
        try {
          // Another replica may have finished between the read above and taking the lock.
          if (await this.adoptNewerStored()) return true;
          return await this.sendRefresh();
        } finally {
          await release().catch((err: unknown) =>
            this.log.warn({ vendor, err_code: (err as VendorError).code }, 'refresh lock not released; it expires by itself'),
          );
        }
      }
      const waitStart = this.clock.now();
      const freed = await coord.waitUnlocked(vendor, clientId, deadline);
      this.log.debug({ vendor, waited_ms: this.clock.now() - waitStart }, 'waited for another replica to refresh the token');
      if (await this.adoptNewerStored()) return true;
      if (!freed) {
        throw new VendorError({
          vendor,
          code: 'unavailable',
          message:
            `Another replica has been refreshing the ${vendorName(this.opts)} token for over ${Math.round(coord.lockTtlMs / 1000)} s without saving new tokens; ` +
            `try again shortly (its lock expires by itself).`,
          detail: 'refresh lock wait timed out',
        });
      }
      // Released without newer tokens: that replica's refresh failed. Take the lock and decide here (the
      // retired-token check below keeps a token it may have spent from being sent again).
    }
  }

  /** Sends the held refresh token (the caller holds the refresh lock when the store is shared). */
  private async sendRefresh(): Promise<boolean> {
    const { vendor, clientId, store } = this.opts;
    const spent = this.refreshToken;
    if (!spent) throw this.lostRefresh ?? this.noToken();
    if (store.coordination && (await store.coordination.isRetired(vendor, clientId, spent))) {
      // Another replica got invalid_grant for it, or no usable answer: sending it again could revoke everything.
      this.retired.add(spent);
      if (this.refreshToken === spent) this.refreshToken = undefined;
      this.access = undefined;
      this.lostRefresh = new VendorError({
        vendor,
        code: 'unauthorized',
        message:
          `Another replica's refresh with the stored ${vendorName(this.opts)} refresh token was refused or got no usable answer, so that token is not sent again ` +
          `(${vendorName(this.opts)} may already have replaced it). Run ${authCommand(this.opts)} to re-authorise the server.`,
        detail: 'refresh token retired in the shared store',
      });
      throw this.lostRefresh;
    }
    let res: TokenEndpointResult;
    try {
      res = await requestToken({
        vendor,
        tokenUrl: this.opts.tokenUrl,
        clientId: this.opts.clientId,
        clientSecret: this.opts.clientSecret,
        clientAuth: this.opts.clientAuth,
        params: { grant_type: 'refresh_token', refresh_token: spent },
        dispatcher: this.opts.dispatcher,
        clock: this.clock,
        log: this.log,
        retryBaseDelayMs: this.opts.retryBaseDelayMs,
      });
    } catch (err) {
      if (err instanceof VendorError && err.ambiguous) return this.afterUnknownOutcome(spent, err);
      if (err instanceof OAuthTokenError && err.oauthError === 'invalid_grant') {
        // Dead for good: forget it so it is never resent; the next call re-reads the store, which is
        // where a fresh `sales-access-mcp auth` run leaves the new one.
        this.retired.add(spent);
        if (this.refreshToken === spent) this.refreshToken = undefined;
        this.access = undefined;
        await this.retireShared(spent);
      }
      // Anything else (429 after the core's retries, 500/503, a refused connection) was refused before the
      // vendor acted: the refresh token is unspent and the next call may use it.
      this.log.warn({ vendor, err_code: (err as VendorError).code, detail: (err as VendorError).detail }, 'oauth refresh failed');
      throw err;
    }

    const rotated = res.refresh_token !== undefined && res.refresh_token !== spent;
    // From here the old token is spent whatever happens next.
    if (rotated) this.refreshToken = undefined;
    const nextRefresh = rotated ? res.refresh_token : spent;
    const expiresAt = res.expires_in !== undefined ? this.clock.now() + res.expires_in * 1000 : undefined;
    try {
      await store.write(
        vendor,
        {
          refresh_token: nextRefresh,
          access_token: res.access_token,
          access_expires_at: expiresAt !== undefined ? new Date(expiresAt).toISOString() : undefined,
          scope: res.scope ?? this.scope,
        },
        clientId,
      );
    } catch (err) {
      const file = store.where(vendor);
      const why = (err as NodeJS.ErrnoException).code ?? (err instanceof VendorError ? err.message : 'write failed');
      if (rotated) {
        this.access = undefined;
        // Best effort (the store that failed may be the one that would record it): no replica sends it again.
        await this.retireShared(spent);
        this.stopped = new VendorError({
          vendor,
          code: 'config',
          message:
            `${vendorName(this.opts)} issued a new refresh token but it could not be saved to ${file} (${why}); ` +
            `the old one is already spent, so ${vendorName(this.opts)} access is stopped. Fix the storage ` +
            `problem, then run ${authCommand(this.opts)} and restart the server.`,
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
    this.access = usableAccessToken(this.opts, res);
    this.accessExpiresAt = expiresAt;
    this.accessLifetimeMs = res.expires_in !== undefined ? res.expires_in * 1000 : undefined;
    this.log.info({ vendor, rotated, expires_in_s: res.expires_in }, 'oauth access token refreshed');
    return true;
  }

  /**
   * Another process may have written newer tokens: an admin re-running `auth` after an invalid_grant, or a
   * second server on the same store that already rotated. Those win over what this process holds; a
   * record still holding a retired refresh token is stale. True when a new, fresh access token is held.
   */
  private async adoptNewerStored(): Promise<boolean> {
    const previousAccess = this.access;
    const stored = await this.readStore();
    if (
      stored &&
      !(stored.refresh_token !== undefined && this.retired.has(stored.refresh_token)) &&
      ((stored.refresh_token !== undefined && stored.refresh_token !== this.refreshToken) ||
        (stored.access_token !== undefined && stored.access_token !== this.access))
    ) {
      this.adopt(stored);
      if (this.access !== previousAccess && this.isFresh()) return true;
    }
    return false;
  }

  /**
   * A refresh that was sent but got no usable answer: the connection failed or timed out after sending, a
   * gateway answered 502/504, or the success answer could not be read. The vendor may have rotated `spent`,
   * and the successor is lost with the answer. `spent` is not sent again, neither now nor by later calls:
   * if it was rotated the vendor refuses it, and re-use of a rotated refresh token is what refresh-token
   * theft detection looks for (OAuth 2.0 Security BCP 4.14.2), so the vendor may revoke every token issued
   * from it, including a successor that another server on the same token store did receive. Instead:
   *
   * 1. The token store is read again. A second server sharing it may have completed a refresh, or an admin
   *    may have run `sales-access-mcp auth`; newer tokens there are used (a newer refresh token was never
   *    sent by this process, so refreshing with it is no resend).
   * 2. Otherwise this call fails with a VendorError telling the admin to run `sales-access-mcp auth
   *    <vendor>` again, and so does every later call, from memory and without contacting the token
   *    endpoint. Each later call still reads the store first, so tokens that appear there are picked up
   *    without a restart. Meanwhile an access token that has not expired is still used (see headers()).
   *
   * With the file store the retired token lives in memory only: marking it in the record would be a
   * read-modify-write that can overwrite a successor another server has just saved. A restart therefore tries
   * it once more, and gets invalid_grant if it was rotated, whose message says the same. With Redis it is also
   * added to a set of retired fingerprints beside the record, which every replica checks before sending.
   */
  private async afterUnknownOutcome(spent: string, err: VendorError): Promise<boolean> {
    const { vendor } = this.opts;
    this.retired.add(spent);
    if (this.refreshToken === spent) this.refreshToken = undefined;
    this.log.error({ vendor, err_code: err.code, detail: err.detail }, 'oauth refresh outcome unknown; its refresh token is not sent again');
    await this.retireShared(spent);
    if (await this.adoptNewerStored()) return true;
    // Each pass retires one more token, so this ends when the store has nothing newer. sendRefresh, not
    // doRefresh: this process may hold the shared refresh lock already.
    if (this.refreshToken) return this.sendRefresh();
    this.lostRefresh = notApplied(err);
    throw this.lostRefresh;
  }

  /** With a shared store, tells every replica not to send `spent` (a keyed fingerprint, not the token). */
  private async retireShared(spent: string): Promise<void> {
    const coord = this.opts.store.coordination;
    if (!coord) return;
    try {
      await coord.retire(this.opts.vendor, this.opts.clientId, spent);
    } catch (err) {
      this.log.warn({ vendor: this.opts.vendor, err_code: (err as VendorError).code }, 'could not mark the spent refresh token in the shared store');
    }
  }

  private async readStore(): Promise<TokenRecord | undefined> {
    try {
      return await this.opts.store.read(this.opts.vendor, this.opts.clientId);
    } catch (err) {
      // Redis unreachable: already a VendorError that says so (and that there is no per-replica fallback).
      if (err instanceof VendorError) throw err;
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
        `No usable ${vendorName(this.opts)} OAuth token: run ${authCommand(this.opts)} to authorise the server ` +
        `(or set ${v.toUpperCase()}_REFRESH_TOKEN for a first start with an empty token store).`,
    });
  }
}

export interface ClientCredentialsOptions extends TokenHttpOptions, TokenOwner {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Default client_secret_post. */
  clientAuth?: ClientAuthMethod;
  scopes?: string[];
  expiryMarginMs?: number;
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
        dispatcher: this.opts.dispatcher,
        clock: this.clock,
        log: this.log,
        retryBaseDelayMs: this.opts.retryBaseDelayMs,
      });
    } catch (err) {
      this.log.warn(
        { vendor: this.opts.vendor, err_code: (err as VendorError).code, detail: (err as VendorError).detail },
        'client credentials token request failed',
      );
      throw err;
    }
    this.access = usableAccessToken(this.opts, res);
    this.accessLifetimeMs = res.expires_in !== undefined ? res.expires_in * 1000 : undefined;
    this.accessExpiresAt = res.expires_in !== undefined ? this.clock.now() + res.expires_in * 1000 : undefined;
    this.log.info({ vendor: this.opts.vendor, expires_in_s: res.expires_in }, 'oauth client credentials token obtained');
    return true;
  }
}
