import { decodeJwt } from 'jose';
import { systemClock, type Clock } from '../clock.js';
import { VendorError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { SingleFlight, abortable, bearerOf, isTransient, stillFresh } from './token-lifecycle.js';
import type { AuthProvider } from './types.js';

/*
 * ZoomInfo Enterprise API authentication (notes, "Authentication"; collection, POST /authenticate):
 * username + password are exchanged for a JWT that is good for 60 minutes. There is no OAuth and no
 * refresh token: a new login is the only way to a new token. The collection adds "Do not generate a new
 * JWT with every call/request" and "refresh the JWT every 55 minutes", hence the 5-minute margin and the
 * cache. The password only ever leaves this file inside the /authenticate body.
 */

/** The token lifetime ZoomInfo documents; used when the JWT carries no readable `exp`. */
export const ZOOMINFO_JWT_TTL_MS = 60 * 60_000;
/** Log in again this long before expiry (the collection: "refresh the JWT every 55 minutes"). */
const DEFAULT_MARGIN_MS = 5 * 60_000;
/** After ZoomInfo rejected the credentials, logins are refused locally for this long (account lock-out). */
const DEFAULT_REJECTION_HOLD_MS = 5 * 60_000;
/** A lifetime read from the token beyond this is not believed. */
const MAX_BELIEVED_LIFETIME_MS = 24 * 60 * 60_000;

/**
 * Sends `POST /authenticate {username, password}` and resolves with the parsed JSON body; rejects with a
 * VendorError for a non-2xx answer. In production this is the ZoomInfo HttpCore with `noAuth` (see
 * vendors/zoominfo/connect.ts), so the login shares the core's timeouts, limiter, error handling and
 * secret scrubbing (the core cuts the `password` field's value out of anything derived from the answer).
 * It is sent `idempotent`, so the core repeats it after a reset, a timeout or a 502/503/504: a login
 * spends nothing (no refresh token, no rotation), and a repeat at worst mints a second JWT.
 */
export type ZoomInfoLogin = (credentials: { username: string; password: string }, signal?: AbortSignal) => Promise<unknown>;

export interface ZoomInfoJwtOptions {
  username: string;
  password: string;
  login: ZoomInfoLogin;
  clock?: Clock;
  log?: Logger;
  /** Log in again this long before the token expires. Default 5 minutes; capped at half the lifetime. */
  expiryMarginMs?: number;
  /** How long a credentials rejection is remembered before ZoomInfo is asked again. Default 5 minutes. */
  rejectionHoldMs?: number;
}

/**
 * Reads `exp` and `iat` (seconds) from a JWT payload; undefined when the token is not a readable JWT.
 * Not verified, and need not be: the times only schedule our next login, ZoomInfo checks the token.
 */
export function jwtTimes(token: string): { exp?: number; iat?: number } | undefined {
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(token);
  } catch {
    return undefined;
  }
  // decodeJwt does not check claim types; a string or negative exp is as good as none.
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
  return { exp: num(payload.exp), iat: num(payload.iat) };
}

/**
 * JWT login provider for the ZoomInfo Enterprise API. The token is cached with its expiry (from the JWT's
 * `exp`, else 60 minutes), replaced before it expires and once after a 401, and every concurrent caller
 * shares a single login (single-flight), so a burst of requests at expiry costs one /authenticate.
 */
export class ZoomInfoJwtProvider implements AuthProvider {
  readonly kind = 'jwt_login' as const;
  /** The username is an account name, not a secret; the password never appears anywhere but the login body. */
  readonly identity: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly margin: number;
  private readonly rejectionHold: number;
  private jwt: string | undefined;
  private expiresAt = 0;
  private lifetimeMs = ZOOMINFO_JWT_TTL_MS;
  private readonly login = new SingleFlight<void>();
  private rejected: { error: VendorError; until: number } | undefined;
  private loginCount = 0;

  constructor(private readonly opts: ZoomInfoJwtOptions) {
    if (!opts.username) throw new Error('ZoomInfo username is empty');
    if (!opts.password) throw new Error('ZoomInfo password is empty');
    this.identity = `zoominfo:${opts.username}`;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.margin = opts.expiryMarginMs ?? DEFAULT_MARGIN_MS;
    this.rejectionHold = opts.rejectionHoldMs ?? DEFAULT_REJECTION_HOLD_MS;
  }

  /** Logins this provider has completed (for tests and diagnostics). */
  get logins(): number {
    return this.loginCount;
  }

  async headers(signal?: AbortSignal): Promise<Record<string, string>> {
    signal?.throwIfAborted();
    if (!this.isFresh()) {
      try {
        await abortable(this.loginOnce(), signal);
      } catch (err) {
        if (!isTransient(err) || !this.jwt || this.clock.now() >= this.expiresAt) throw err;
        this.log.warn({ vendor: 'zoominfo', err_code: err.code }, 'early ZoomInfo re-login failed; using the current token until it expires');
      }
    }
    if (!this.jwt) throw new VendorError({ vendor: 'zoominfo', code: 'unauthorized', message: 'No ZoomInfo token is available; check ZOOMINFO_USERNAME and ZOOMINFO_PASSWORD.' });
    return { Authorization: `Bearer ${this.jwt}` };
  }

  /**
   * After a 401: a request rejected with a token that has already been replaced just retries with the new
   * one; a rejection of the current token (expired early, revoked) forces one login, shared with every
   * concurrent caller. Rejects with the login's VendorError (e.g. bad credentials) so its message reaches
   * the agent instead of a bare 401.
   */
  async onUnauthorized(rejected?: Record<string, string>): Promise<boolean> {
    if (this.login.current) {
      await this.login.current;
      return true;
    }
    const sent = bearerOf(rejected);
    if (sent !== undefined && this.jwt !== undefined && sent !== this.jwt) return true;
    this.jwt = undefined;
    this.expiresAt = 0;
    await this.loginOnce();
    return true;
  }

  private isFresh(): boolean {
    return Boolean(this.jwt) && stillFresh(this.clock.now(), this.expiresAt, this.margin, this.lifetimeMs);
  }

  private loginOnce(): Promise<void> {
    return this.login.run(() => this.doLogin());
  }

  private async doLogin(): Promise<void> {
    const { username, password } = this.opts;
    const now = this.clock.now();
    if (this.rejected && now < this.rejected.until) throw this.rejected.error;
    const startedAt = now;
    let body: unknown;
    try {
      body = await this.opts.login({ username, password });
    } catch (err) {
      throw this.loginError(err);
    }
    const jwt = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).jwt : undefined;
    if (typeof jwt !== 'string' || jwt.length === 0) {
      throw new VendorError({
        vendor: 'zoominfo',
        code: 'invalid_response',
        message: 'ZoomInfo answered POST /authenticate without a `jwt`; retry later, and report it if it persists.',
      });
    }
    // A token that is not header-safe would be rejected by the HTTP stack with the token in the error text.
    if (!/^[\x21-\x7e]+$/.test(jwt)) {
      throw new VendorError({ vendor: 'zoominfo', code: 'invalid_response', message: 'ZoomInfo issued a token with characters not allowed in a header.' });
    }
    this.rejected = undefined;
    this.jwt = jwt;
    const { expiresAt, lifetimeMs } = this.expiryOf(jwt, startedAt);
    this.expiresAt = expiresAt;
    this.lifetimeMs = lifetimeMs;
    this.loginCount++;
    this.log.info({ vendor: 'zoominfo', identity: this.identity, expires_in_s: Math.round((expiresAt - this.clock.now()) / 1000) }, 'zoominfo jwt obtained');
  }

  /**
   * Expiry from the token: `exp - iat` measured from when the login was sent (immune to clock skew between
   * us and ZoomInfo), else `exp` itself when it is plausible, else the documented 60 minutes.
   */
  private expiryOf(jwt: string, startedAt: number): { expiresAt: number; lifetimeMs: number } {
    const t = jwtTimes(jwt);
    if (t?.exp !== undefined && t.iat !== undefined) {
      const lifetime = (t.exp - t.iat) * 1000;
      if (lifetime > 0 && lifetime <= MAX_BELIEVED_LIFETIME_MS) return { expiresAt: startedAt + lifetime, lifetimeMs: lifetime };
    }
    if (t?.exp !== undefined) {
      const lifetime = t.exp * 1000 - startedAt;
      if (lifetime > 0 && lifetime <= MAX_BELIEVED_LIFETIME_MS) return { expiresAt: t.exp * 1000, lifetimeMs: lifetime };
    }
    return { expiresAt: startedAt + ZOOMINFO_JWT_TTL_MS, lifetimeMs: ZOOMINFO_JWT_TTL_MS };
  }

  /** Every failure of the login call, with the password cut out of anything that might carry it. */
  private loginError(err: unknown): unknown {
    const password = this.opts.password;
    const clean = (s: string | undefined) => (s === undefined ? undefined : s.split(password).join('[redacted]'));
    if (!(err instanceof VendorError)) {
      if ((err as Error)?.name === 'AbortError') return err;
      return new VendorError({
        vendor: 'zoominfo',
        code: 'network',
        message: `Could not log in to ZoomInfo: ${clean(String((err as Error)?.message ?? err))}`.slice(0, 300),
      });
    }
    if (err.status === 401 || err.status === 403 || (err.status === 400 && err.code === 'bad_request')) {
      const error = new VendorError({
        vendor: 'zoominfo',
        code: 'unauthorized',
        status: err.status,
        requestId: err.requestId,
        message:
          `ZoomInfo rejected the API login for user "${this.opts.username}" (POST /authenticate answered ${err.status}). ` +
          'Check ZOOMINFO_USERNAME and ZOOMINFO_PASSWORD (the API credentials from your ZoomInfo account team, not an SSO login) and restart the server. ' +
          `Further logins are paused for ${Math.round(this.rejectionHold / 60_000)} min so repeated failures do not lock the account.`,
        detail: clean(err.detail),
      });
      this.rejected = { error, until: this.clock.now() + this.rejectionHold };
      this.log.warn({ vendor: 'zoominfo', identity: this.identity, status: err.status }, 'zoominfo login rejected');
      return error;
    }
    // The core reports a POST without an answer as a write ZoomInfo "may have applied"; a login applies
    // nothing, and the request that needed the token was never sent, so neither that wording nor the
    // ambiguous flag (which would make a failed read look possibly charged) is passed on.
    const why = err.code === 'network' ? 'the connection failed or timed out' : `HTTP ${err.status ?? '?'} from a gateway`;
    return new VendorError({
      vendor: err.vendor,
      code: err.code,
      status: err.status,
      requestId: err.requestId,
      retryAfterMs: err.retryAfterMs,
      message: err.ambiguous
        ? `ZoomInfo did not answer the API login (POST /authenticate: ${why}); the request that needed it was not sent. Try again shortly.`
        : clean(err.message)!,
      detail: clean(err.detail),
    });
  }
}
