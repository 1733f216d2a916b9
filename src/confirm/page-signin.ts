import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { AuthorizationServer, ClientAuth } from 'oauth4webapi';
import type { PersonRef } from '../audit/audit-log.js';
import { discoverIssuer, personOf, plainHttpOnLoopback, requireTls } from '../http-auth.js';
import type { Logger } from '../log.js';

/**
 * Sign-in on the approval page (SALES_ACCESS_APPROVAL_CLIENT_ID): a page served beyond loopback can be opened by
 * anyone holding the link, the MCP client included, so it first signs the person in with the organisation's
 * identity provider (OpenID Connect authorization code flow with PKCE, state and nonce, through oauth4webapi)
 * and the broker then accepts only the person who asked for the change (the same `sub` as the access token
 * the request came with). That is the MCP spec's rule for URL-mode elicitation
 * (https://modelcontextprotocol.io/specification/2025-11-25/client/elicitation#phishing): "The MCP Server
 * MUST verify the identity of the user who opens the URL before accepting information", "by comparing the
 * authoritative subject (`sub` claim) from the MCP server's authorization server to the subject from the
 * session cookie".
 *
 * Nothing is stored to start a sign-in, so opening a link however often costs the store nothing and any replica
 * can finish it: the browser gets a random cookie (Path=/approve, one per request) and the state is
 * `<approval id>.<128 random bits>.<MAC>`, the MAC an HMAC of the rest under that cookie; the PKCE verifier and
 * the nonce are HMACs of the state under it too. Only the browser holding the cookie can finish the sign-in.
 *
 * The ID token comes straight from the token endpoint over TLS, so its issuer, audience, expiry and nonce are
 * checked (oauth4webapi) and TLS stands for its signature (OpenID Connect Core 1.0 §3.1.3.7, item 6).
 */

/** What the sign-in needs: the identity provider and the client registered for the approval page. */
export interface PageSignInConfig {
  /** SALES_ACCESS_OAUTH_ISSUER: the issuer whose access tokens name the people who ask. */
  issuer: string;
  clientId: string;
  /** Confidential client; undefined = a public client (PKCE alone). */
  clientSecret: string | undefined;
  /** `<approval origin>/approve/callback`, registered with the identity provider. */
  redirectUri: string;
}

export const CALLBACK_PATH = '/approve/callback';
/** The state: `<approval id>.<128 random bits>.<MAC of both under the browser's cookie, 128 bits>`. */
const STATE_RE = /^(([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/;
/** A sign-in cookie this page issued: 32 random bytes, base64url. */
const COOKIE_RE = /^[A-Za-z0-9_-]{43}$/;
/** OpenID Connect Core §2: `sub` is at most 255 ASCII characters (a longer one would be cut, and could match another). */
const SUB_RE = /^[\x20-\x7e]{1,255}$/;
/** A failed discovery is tried again after this long. */
const DISCOVERY_RETRY_MS = 30_000;

/** A sign-in that did not complete; `message` is for the person on the page (never a code or token). */
export class SignInFailed extends Error {
  override readonly name = 'SignInFailed';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The approval request a callback's state names (before anything is checked), or undefined. */
export function approvalIdOfState(state: string | null): string | undefined {
  return state ? STATE_RE.exec(state)?.[2] : undefined;
}

/** Whether `state` was made by begin() for the browser holding `cookie` (constant-time). */
export function stateMatches(state: string, cookie: string | undefined): boolean {
  const m = STATE_RE.exec(state);
  if (!m || !cookie || !COOKIE_RE.test(cookie)) return false;
  return timingSafeEqual(Buffer.from(stateMac(cookie, m[1]!)), Buffer.from(m[3]!));
}

/** The state's MAC: 128 bits of derived(cookie, 'state', <approval id>.<random>). */
const stateMac = (cookie: string, body: string) => derived(cookie, 'state', body).slice(0, 22);

/** The state's MAC, the PKCE verifier or the nonce of a sign-in: an HMAC under the browser's cookie (43 base64url chars). */
function derived(cookie: string, what: 'state' | 'pkce' | 'nonce', input: string): string {
  return createHmac('sha256', cookie).update(`${what}\0${input}`).digest('base64url');
}

export class PageSignIn {
  private metadata: Promise<AuthorizationServer> | undefined;
  private failedAt = 0;

  constructor(
    private readonly cfg: PageSignInConfig,
    private readonly log: Logger | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Starts a sign-in for approval request `id`: where to send the browser, and the cookie that binds the sign-in
   * to it. `held`: the sign-in cookie the browser already has for this request, kept so that a second tab's
   * sign-in does not void the first's.
   */
  async begin(id: string, held?: string): Promise<{ location: string; cookie: string }> {
    const oauth = await import('oauth4webapi');
    const as = await this.server();
    const cookie = held && COOKIE_RE.test(held) ? held : randomBytes(32).toString('base64url');
    const body = `${id}.${randomBytes(16).toString('base64url')}`;
    const state = `${body}.${stateMac(cookie, body)}`;
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.cfg.clientId);
    url.searchParams.set('redirect_uri', this.cfg.redirectUri);
    url.searchParams.set('scope', 'openid email profile');
    url.searchParams.set('state', state);
    url.searchParams.set('nonce', derived(cookie, 'nonce', state));
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(derived(cookie, 'pkce', state)));
    url.searchParams.set('code_challenge_method', 'S256');
    return { location: url.href, cookie };
  }

  /**
   * Finishes the sign-in the browser returned from (`callback`: the full callback URL; `cookie`: the one `begin`
   * set, its state already checked with stateMatches): exchanges the code and returns who signed in.
   */
  async finish(callback: URL, cookie: string): Promise<PersonRef> {
    const oauth = await import('oauth4webapi');
    const as = await this.server();
    const client = { client_id: this.cfg.clientId };
    const state = callback.searchParams.get('state') ?? '';
    let params: URLSearchParams;
    try {
      // The state is checked by the caller (stateMatches, against this browser's cookie), since no replica keeps
      // it; here only the rest of the response (error, iss, code) is.
      params = oauth.validateAuthResponse(as, client, callback, oauth.skipStateCheck);
    } catch (err) {
      const e = err as { error?: string; error_description?: string; message?: string };
      if (e.error) throw new SignInFailed(`The identity provider did not sign you in (${e.error}${e.error_description ? `: ${e.error_description.slice(0, 200)}` : ''})`, 403);
      throw new SignInFailed('The identity provider\'s answer could not be read', 400);
    }
    let claims: Record<string, unknown> | undefined;
    try {
      const res = await oauth.authorizationCodeGrantRequest(as, client, this.clientAuth(oauth, as), params, this.cfg.redirectUri, derived(cookie, 'pkce', state), {
        signal: AbortSignal.timeout(10_000),
        [oauth.allowInsecureRequests]: plainHttpOnLoopback(as.token_endpoint!),
      });
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: derived(cookie, 'nonce', state), requireIdToken: true });
      claims = oauth.getValidatedIdTokenClaims(tokens) as Record<string, unknown> | undefined;
    } catch (err) {
      // What the identity provider refused, or why its answer was not accepted; never the code or a token.
      const e = err as { error?: string; message?: string };
      this.log?.warn({ reason: e.error ?? e.message }, 'approval page: sign-in with the identity provider failed');
      throw new SignInFailed('Signing in with the identity provider did not complete (the server log says why); open the link again to retry', 502);
    }
    const sub = claims?.sub;
    if (typeof sub !== 'string' || sub.trim() === '') throw new SignInFailed('The identity provider\'s ID token names nobody (no sub)', 502);
    if (!SUB_RE.test(sub)) throw new SignInFailed('The identity provider\'s ID token names its person by a subject that is not a valid OpenID Connect `sub` (at most 255 ASCII characters)', 502);
    // Read as the access token's person is (same truncation, same email claims), so the two `sub`s compare.
    return personOf(claims as JWTPayload);
  }

  /** The identity provider's metadata, read once (again after a failure, at most every 30 s). */
  private server(): Promise<AuthorizationServer> {
    if (this.metadata) return this.metadata;
    if (this.failedAt > 0 && this.now() - this.failedAt < DISCOVERY_RETRY_MS) {
      return Promise.reject(new SignInFailed('The identity provider could not be reached to sign you in; try again in a minute', 503));
    }
    this.metadata = discoverIssuer(this.cfg.issuer, canSignIn).catch((err: unknown) => {
      this.metadata = undefined;
      this.failedAt = this.now();
      this.log?.warn({ issuer: this.cfg.issuer, err: (err as Error).message }, 'approval page: identity provider discovery failed; check SALES_ACCESS_OAUTH_ISSUER');
      throw new SignInFailed('The identity provider could not be reached to sign you in; try again in a minute', 503);
    });
    return this.metadata;
  }

  /** client_secret_basic (RFC 6749's must-support) unless the provider lists only client_secret_post; PKCE alone without a secret. */
  private clientAuth(oauth: typeof import('oauth4webapi'), as: AuthorizationServer): ClientAuth {
    const secret = this.cfg.clientSecret;
    if (secret === undefined) return oauth.None();
    const methods = as.token_endpoint_auth_methods_supported;
    return methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post') ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
  }
}

/** What the sign-in needs of the identity provider's metadata: both endpoints, over TLS. */
function canSignIn(as: AuthorizationServer): void {
  if (typeof as.authorization_endpoint !== 'string' || typeof as.token_endpoint !== 'string') throw new Error('it has no authorization_endpoint or token_endpoint');
  requireTls(as.authorization_endpoint, 'authorization_endpoint');
  requireTls(as.token_endpoint, 'token_endpoint');
}

/** For `doctor`: can the approval page sign people in with this issuer now (its endpoints, discovered)? */
export async function probePageSignIn(issuer: string): Promise<{ ok: boolean; detail: string }> {
  try {
    const as = await discoverIssuer(issuer, canSignIn);
    return { ok: true, detail: `people sign in at ${new URL(as.authorization_endpoint!).origin} (authorization code with PKCE); register <approval origin>/approve/callback as the redirect URI` };
  } catch (err) {
    return { ok: false, detail: `the sign-in endpoints could not be found (${(err as Error).message}); the approval page cannot sign anyone in: check SALES_ACCESS_OAUTH_ISSUER` };
  }
}
