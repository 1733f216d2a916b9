import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../clock.js';
import { newSecret, parseBasicAuth, parseBearer, safeEqual } from './http-util.js';

/*
 * The OAuth 2.0 authorization server the Outreach, SalesLoft and Apollo simulators share (RFC 6749, PKCE per
 * RFC 7636). One confidential client per simulator. What it does the same for every vendor:
 *
 * - Refresh tokens rotate: each works once, the answer carries its successor, a used one is invalid_grant.
 * - Authorization codes are single use (spent even by a failed exchange) and live 10 minutes. PKCE is
 *   optional, but only S256: `plain` protects nothing, so the sandbox refuses it.
 * - `/oauth/authorize` approves at once (a sandbox has nobody to ask) and redirects with the code.
 * - Client authentication in the form (client_secret_post) or HTTP Basic; a failed Basic attempt gets the
 *   WWW-Authenticate challenge RFC 6749 5.2 requires.
 * - client_credentials issues no refresh token (RFC 6749 4.4.3: the client just asks again).
 *
 * What differs per vendor is an option: the grants its documentation names, its scopes, the prefixes of its
 * secrets, and the spelling of token_type. Routing, body parsing and request logging stay with each
 * simulator, which sends the OAuthReply values returned here in its own way.
 */

export type OAuthGrant = 'refresh_token' | 'authorization_code' | 'client_credentials';

export const AUTH_CODE_TTL_MS = 10 * 60 * 1000;

export interface OAuthServerOptions {
  clock: Clock;
  clientId: string;
  clientSecret: string;
  /** Lifetime of the access tokens the token endpoint issues. */
  tokenTtlMs: number;
  /** The grants the vendor documents; any other is unsupported_grant_type. */
  grants: readonly OAuthGrant[];
  /** Granted when an authorization or client_credentials request names no scope (an app configured with them all). */
  allScopes: readonly string[];
  /** Prefixes of the minted secrets, so a token's kind shows in a log. */
  prefix: { access: string; refresh: string; code: string };
  /** As the vendor writes it; RFC 6749 makes it case-insensitive. */
  tokenType: 'bearer' | 'Bearer';
  /** Realm of the Basic challenge to a failed client authentication. */
  realm: string;
}

/** What a simulator sends back: JSON when `body` is set, else a bare status with headers (the redirect). */
export interface OAuthReply {
  status: number;
  body?: Record<string, unknown>;
  headers: Record<string, string | number>;
}

/** An access token's grant: its scopes and when it expires (null: never, like an API key). */
export interface AccessGrant {
  scopes: Set<string>;
  expiresAt: number | null;
}

/** What an `Authorization: Bearer` header proves: a grant, or why it proves nothing. */
export type BearerCheck = { grant: AccessGrant; failure?: undefined } | { grant?: undefined; failure: 'missing' | 'invalid' | 'expired' };

interface CodeRecord {
  redirectUri: string;
  challenge: string | null;
  scopes: Set<string>;
  expiresAt: number;
}

/** An RFC 6749 5.2 error answer. */
export function oauthError(status: number, error: string, description: string, headers: Record<string, string> = {}): OAuthReply {
  return { status, body: { error, error_description: description }, headers: { 'Cache-Control': 'no-store', ...headers } };
}

export class OAuthServer {
  private readonly accessTokens = new Map<string, AccessGrant>();
  private readonly refreshTokens = new Map<string, Set<string>>();
  private readonly codes = new Map<string, CodeRecord>();

  constructor(private readonly o: OAuthServerOptions) {}

  /** Accepts `token` as a bearer token that never expires (the sandbox's static token, an API key). */
  addStaticToken(token: string, scopes: Iterable<string>): void {
    this.accessTokens.set(token, { scopes: new Set(scopes), expiresAt: null });
  }

  mintAccess(scopes: Iterable<string>, ttlMs = this.o.tokenTtlMs): string {
    const t = newSecret(this.o.prefix.access);
    this.accessTokens.set(t, { scopes: new Set(scopes), expiresAt: this.o.clock.now() + ttlMs });
    return t;
  }

  /** A fresh refresh token, valid for one use. */
  mintRefresh(scopes: Iterable<string>): string {
    const t = newSecret(this.o.prefix.refresh);
    this.refreshTokens.set(t, new Set(scopes));
    return t;
  }

  verifyBearer(authorization: string | undefined): BearerCheck {
    const bearer = parseBearer(authorization);
    if (!bearer) return { failure: 'missing' };
    const grant = this.accessTokens.get(bearer);
    if (!grant) return { failure: 'invalid' };
    if (grant.expiresAt !== null && this.o.clock.now() >= grant.expiresAt) return { failure: 'expired' };
    return { grant };
  }

  /** GET /oauth/authorize: approves at once and redirects back with a code (or the error, RFC 6749 4.1.2.1). */
  authorize(url: URL): OAuthReply {
    const q = url.searchParams;
    const redirectUri = q.get('redirect_uri');
    // With a bad client or redirect URI, answer with an error page instead of redirecting anywhere.
    if (q.get('client_id') !== this.o.clientId) return oauthError(400, 'invalid_client', 'unknown client_id');
    let target: URL;
    try {
      target = new URL(redirectUri ?? '');
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('scheme');
    } catch {
      return oauthError(400, 'invalid_request', 'redirect_uri must be an absolute http(s) URL');
    }
    const state = q.get('state');
    const redirectWith = (params: Record<string, string>): OAuthReply => {
      for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
      if (state !== null) target.searchParams.set('state', state);
      return { status: 302, headers: { Location: target.toString(), 'Content-Length': 0 } };
    };
    if (q.get('response_type') !== 'code' || !this.o.grants.includes('authorization_code')) {
      return redirectWith({ error: 'unsupported_response_type', error_description: 'response_type must be code' });
    }
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method');
    if (challenge !== null || method !== null) {
      if (method !== 'S256') return redirectWith({ error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
      if (!challenge || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
        return redirectWith({ error: 'invalid_request', error_description: 'code_challenge must be a base64url SHA-256 digest' });
      }
    }
    const code = newSecret(this.o.prefix.code);
    this.codes.set(code, {
      redirectUri: redirectUri!,
      challenge,
      scopes: this.requestedScopes(q.get('scope') ?? undefined),
      expiresAt: this.o.clock.now() + AUTH_CODE_TTL_MS,
    });
    return redirectWith({ code });
  }

  /**
   * POST to the token endpoint, with the request's parameters as the simulator parsed them from the body
   * (form or JSON; values that are neither strings nor numbers are ignored).
   */
  token(req: IncomingMessage, body: Record<string, unknown>): OAuthReply {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string' || typeof v === 'number') params[k] = String(v);

    const basic = parseBasicAuth(req.headers.authorization);
    const id = basic?.user ?? params.client_id;
    const secret = basic?.password ?? params.client_secret;
    if (!id || secret === undefined || !safeEqual(id, this.o.clientId) || !safeEqual(secret, this.o.clientSecret)) {
      return oauthError(401, 'invalid_client', 'client authentication failed', basic ? { 'WWW-Authenticate': `Basic realm="${this.o.realm}"` } : {});
    }

    const grant = params.grant_type;
    if (grant === undefined) return oauthError(400, 'invalid_request', 'grant_type is required');
    if (!(this.o.grants as readonly string[]).includes(grant)) return oauthError(400, 'unsupported_grant_type', `grant_type ${grant} is not supported`);

    switch (grant as OAuthGrant) {
      case 'refresh_token': {
        const rt = params.refresh_token;
        const scopes = rt ? this.refreshTokens.get(rt) : undefined;
        if (!rt || !scopes) return oauthError(400, 'invalid_grant', 'refresh token is invalid or was already used');
        this.refreshTokens.delete(rt);
        return this.issue(scopes, true);
      }
      case 'authorization_code': {
        const code = params.code;
        const rec = code ? this.codes.get(code) : undefined;
        if (code) this.codes.delete(code); // single use, even when this attempt fails
        if (!rec) return oauthError(400, 'invalid_grant', 'authorization code is invalid or was already used');
        if (this.o.clock.now() >= rec.expiresAt) return oauthError(400, 'invalid_grant', 'authorization code expired');
        if (params.redirect_uri !== rec.redirectUri) return oauthError(400, 'invalid_grant', 'redirect_uri does not match the authorization request');
        if (rec.challenge !== null) {
          const verifier = params.code_verifier;
          if (!verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return oauthError(400, 'invalid_grant', 'code_verifier missing or malformed');
          const digest = createHash('sha256').update(verifier).digest('base64url');
          if (!safeEqual(digest, rec.challenge)) return oauthError(400, 'invalid_grant', 'code_verifier does not match code_challenge');
        }
        return this.issue(rec.scopes, true);
      }
      case 'client_credentials':
        return this.issue(this.requestedScopes(params.scope), false);
    }
  }

  private issue(scopes: Set<string>, withRefresh: boolean): OAuthReply {
    const body: Record<string, unknown> = {
      access_token: this.mintAccess(scopes),
      token_type: this.o.tokenType,
      expires_in: Math.floor(this.o.tokenTtlMs / 1000),
      scope: [...scopes].join(' '),
      created_at: Math.floor(this.o.clock.now() / 1000),
    };
    if (withRefresh) body.refresh_token = this.mintRefresh(scopes);
    return { status: 200, body, headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' } };
  }

  private requestedScopes(value: string | undefined): Set<string> {
    if (!value || !value.trim()) return new Set(this.o.allScopes);
    return new Set(value.split(/[\s+]+/).filter(Boolean));
  }
}
