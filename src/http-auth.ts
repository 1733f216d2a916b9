import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { AuthorizationServer } from 'oauth4webapi';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Actor, PersonRef } from './audit/audit-log.js';
import type { OAuthResourceConfig } from './config.js';
import { isLoopbackHost } from './env.js';
import { credentialFingerprint } from './http/identity.js';
import type { Logger } from './log.js';

/**
 * Who is calling the HTTP transport (issue 13 item 5, "people, not one token"). Two ways, either or both:
 * - the static bearer SALES_ACCESS_HTTP_TOKEN, compared in constant time: the actor is its fingerprint;
 * - OAuth 2.1 access tokens (JWT) from the organisation's identity provider: signature checked against the
 *   issuer's JWKS (jose), `iss` the configured issuer, `aud` this server's resource URL (RFC 8707), `exp`/`nbf`
 *   with 30 s of clock skew, asymmetric algorithms only; the actor is the person (`sub`, email, name).
 * With both configured, a bearer equal to the static token is that token; any other bearer is verified as a JWT.
 *
 * The SDK's auth pieces used here: its AuthInfo (handed to the transport as `req.auth`, so tool handlers get it
 * as `extra.authInfo`), its Protected Resource Metadata type, and the MCP spec's 401 shape. Its
 * requireBearerAuth and mcpAuthMetadataRouter are Express middleware (res.status().json()), and this server is
 * node:http; and importing server/auth/router.js would load Express for one three-line URL helper.
 *
 * The discovery document and the JWKS are fetched with Node's fetch (oauth4webapi and jose), not the HTTP core:
 * the core exists for vendor calls (per-vendor limiter, retries, vendor credential redaction), these GETs carry
 * no credential, and jose already bounds them (timeout, cooldown between refetches, key cache).
 */

/** Asymmetric JWS algorithms only: never `none`, never HS* (a shared secret has no place in a public JWKS). */
export const ACCEPTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. */
export const CLOCK_TOLERANCE_S = 30;
/** A failed discovery is tried again after this long (a request in between is answered 503). */
const DISCOVERY_RETRY_MS = 30_000;

export type AuthOutcome =
  /** No authentication configured (loopback without a token): every request passes. */
  | { kind: 'open' }
  | { kind: 'ok'; principal: string; actor: Actor; authInfo?: AuthInfo; label: string }
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'insufficient_scope'; principal: string; missing: string[] }
  /** The identity provider could not be reached (discovery or JWKS): the token was neither accepted nor refused. */
  | { kind: 'unavailable'; reason: string };

export class HttpAuthenticator {
  private readonly tokenDigest: Buffer | undefined;
  private readonly tokenActor: Actor | undefined;
  private readonly oauth: OAuthResourceConfig | undefined;
  private keys: { getKey: JWTVerifyGetKey; issuers: string[] } | undefined;
  private discovering: Promise<void> | undefined;
  private lastFailure = 0;

  constructor(
    opts: { httpToken: string | undefined; oauth: OAuthResourceConfig | undefined },
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.tokenDigest = opts.httpToken === undefined ? undefined : sha256(opts.httpToken);
    this.tokenActor = opts.httpToken === undefined ? undefined : { kind: 'http_token', fingerprint: credentialFingerprint(opts.httpToken) };
    this.oauth = opts.oauth;
    if (this.oauth?.jwksUrl) this.keys = { getKey: remoteKeys(this.oauth.jwksUrl), issuers: issuerForms(this.oauth.issuer) };
  }

  get required(): boolean {
    return this.tokenDigest !== undefined || this.oauth !== undefined;
  }

  /** Starts discovery early (start-up), so the first request does not wait for it; failures are logged only. */
  warmUp(): void {
    if (this.oauth && !this.keys) void this.ensureKeys().catch(() => {});
  }

  async authenticate(req: IncomingMessage): Promise<AuthOutcome> {
    if (!this.required) return { kind: 'open' };
    const header = req.headers.authorization;
    if (header === undefined || header === '') return { kind: 'missing' };
    const m = /^Bearer +(\S+) *$/i.exec(header);
    if (!m) return { kind: 'invalid', reason: 'the Authorization header is not "Bearer <token>"' };
    const token = m[1];
    if (this.tokenDigest !== undefined && timingSafeEqual(sha256(token), this.tokenDigest)) {
      const fp = (this.tokenActor as { fingerprint: string }).fingerprint;
      return { kind: 'ok', principal: `token:${fp}`, actor: this.tokenActor!, label: `token:${fp}` };
    }
    if (!this.oauth) return { kind: 'invalid', reason: 'the bearer token is not SALES_ACCESS_HTTP_TOKEN' };
    return this.verifyJwt(token, this.oauth);
  }

  private async verifyJwt(token: string, oauth: OAuthResourceConfig): Promise<AuthOutcome> {
    if (token.split('.').length !== 3) return { kind: 'invalid', reason: 'the bearer token is not a JWT access token' };
    try {
      await this.ensureKeys();
    } catch (err) {
      return { kind: 'unavailable', reason: (err as Error).message };
    }
    const keys = this.keys!;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.getKey, {
        issuer: keys.issuers,
        audience: resourceForms(oauth.resourceUrl),
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['sub', 'exp'],
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      if (isUnavailable(err)) {
        this.log.warn({ err: (err as Error).message }, 'OAuth: the identity provider\'s signing keys could not be fetched');
        return { kind: 'unavailable', reason: 'the identity provider\'s signing keys could not be fetched' };
      }
      return { kind: 'invalid', reason: invalidReason(err) };
    }
    // jose checks that `sub` is present; an empty or non-string one would name nobody in the audit trail.
    if (typeof payload.sub !== 'string' || payload.sub.trim() === '') return { kind: 'invalid', reason: 'the access token\'s sub claim is empty' };
    const sub = payload.sub;
    const principal = `person:${sha256(`${payload.iss}\n${sub}`).toString('hex').slice(0, 24)}`;
    const scopes = scopesOf(payload);
    const missing = oauth.scopes.filter((s) => !scopes.includes(s));
    if (missing.length > 0) return { kind: 'insufficient_scope', principal, missing };
    const person = personOf(payload);
    const clientId = stringClaim(payload, 'client_id') ?? stringClaim(payload, 'azp') ?? stringClaim(payload, 'appid');
    const authInfo: AuthInfo = {
      // The token itself stays here: tools get who called, never the credential.
      token: '',
      clientId: clientId ?? '',
      scopes,
      expiresAt: payload.exp,
      resource: new URL(oauth.resourceUrl),
      extra: { person: { ...person, iss: String(payload.iss), ...(clientId ? { client_id: clientId } : {}) } },
    };
    return {
      kind: 'ok',
      principal,
      actor: { kind: 'person', iss: String(payload.iss), ...person, ...(clientId ? { client_id: clientId } : {}) },
      authInfo,
      label: principal,
    };
  }

  /** The signing keys: from SALES_ACCESS_OAUTH_JWKS_URL, else the issuer's discovery document (RFC 8414, then OIDC). */
  private async ensureKeys(): Promise<void> {
    if (this.keys) return;
    const oauth = this.oauth!;
    if (this.discovering) return this.discovering;
    if (this.lastFailure > 0 && this.now() - this.lastFailure < DISCOVERY_RETRY_MS) {
      throw new Error(`the identity provider's discovery document for ${oauth.issuer} could not be read; retrying within ${Math.ceil(DISCOVERY_RETRY_MS / 1000)} s`);
    }
    this.discovering = (async () => {
      try {
        const meta = await discover(oauth.issuer);
        this.keys = { getKey: remoteKeys(meta.jwks_uri), issuers: [meta.issuer, ...issuerForms(oauth.issuer)] };
        this.log.info({ issuer: meta.issuer, jwks_uri: meta.jwks_uri }, 'OAuth: identity provider discovered');
      } catch (err) {
        this.lastFailure = this.now();
        this.log.warn({ issuer: oauth.issuer, err: (err as Error).message }, 'OAuth: identity provider discovery failed; set SALES_ACCESS_OAUTH_JWKS_URL or check SALES_ACCESS_OAUTH_ISSUER');
        throw err;
      } finally {
        this.discovering = undefined;
      }
    })();
    return this.discovering;
  }
}

/**
 * For `doctor`: can this server read the identity provider's signing keys now (discovery, then the JWKS)? A
 * person's sign-in fails with 503 until it can. Returns what was found, or what failed and which setting to check.
 */
export async function probeIdentityProvider(oauth: OAuthResourceConfig): Promise<{ ok: boolean; detail: string }> {
  try {
    const jwksUri = oauth.jwksUrl ?? (await discover(oauth.issuer)).jwks_uri;
    const set = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5000 });
    await set.reload();
    const usable = (set.jwks()?.keys ?? []).filter((k) => k.use !== 'enc' && (k.alg === undefined || (ACCEPTED_ALGORITHMS as readonly string[]).includes(k.alg)));
    if (usable.length === 0) return { ok: false, detail: `the key set at ${jwksUri} has no signing key this server accepts (${ACCEPTED_ALGORITHMS.join(', ')}); no access token can be verified` };
    return { ok: true, detail: `${usable.length} signing key${usable.length === 1 ? '' : 's'} read from ${jwksUri}` };
  } catch (err) {
    const via = oauth.jwksUrl ? 'SALES_ACCESS_OAUTH_JWKS_URL' : 'SALES_ACCESS_OAUTH_ISSUER (or set SALES_ACCESS_OAUTH_JWKS_URL)';
    return { ok: false, detail: `the signing keys could not be read (${(err as Error).message}); people cannot sign in until they can: check ${via}` };
  }
}

/** Reads the issuer's metadata and checks that it can sign people in: keys over TLS (see discoverIssuer). */
async function discover(issuer: string): Promise<{ issuer: string; jwks_uri: string }> {
  const as = await discoverIssuer(issuer, (meta) => {
    if (typeof meta.jwks_uri !== 'string') throw new Error('it has no jwks_uri');
    // The keys decide who is signed in: fetched over TLS, like the issuer (plain http for a loopback one only).
    requireTls(meta.jwks_uri, 'jwks_uri');
  });
  return { issuer: as.issuer, jwks_uri: as.jwks_uri! };
}

/**
 * The issuer's metadata: RFC 8414 `/.well-known/oauth-authorization-server` (path inserted), else OIDC's
 * `openid-configuration`; `usable` refuses a document lacking what the caller needs, so the other is tried.
 * oauth4webapi checks that the document names exactly this issuer.
 */
export async function discoverIssuer(issuer: string, usable: (as: AuthorizationServer) => void): Promise<AuthorizationServer> {
  const oauth = await import('oauth4webapi');
  const url = new URL(issuer);
  const insecure = plainHttpOnLoopback(url);
  const failures: string[] = [];
  for (const algorithm of ['oauth2', 'oidc'] as const) {
    try {
      const res = await oauth.discoveryRequest(url, { algorithm, signal: AbortSignal.timeout(10_000), [oauth.allowInsecureRequests]: insecure });
      const as = await oauth.processDiscoveryResponse(url, res);
      usable(as);
      return as;
    } catch (err) {
      failures.push(`${algorithm === 'oauth2' ? 'oauth-authorization-server' : 'openid-configuration'}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no usable discovery document for ${issuer} (${failures.join('; ')})`);
}

/** Throws unless `url` is https (plain http only on a loopback host); `what` names it in the message. */
export function requireTls(url: string, what: string): void {
  const u = new URL(url);
  if (u.protocol !== 'https:' && !plainHttpOnLoopback(u)) throw new Error(`its ${what} is not https (${u.origin})`);
}

/** Plain http to a loopback host: the one case an identity provider's endpoints may skip TLS (local tests). */
export function plainHttpOnLoopback(url: string | URL): boolean {
  const u = typeof url === 'string' ? new URL(url) : url;
  return u.protocol === 'http:' && isLoopbackHost(u.hostname);
}

function remoteKeys(jwksUrl: string): JWTVerifyGetKey {
  // jose caches the key set, refetches at most every 30 s (cooldown) when a token names an unknown `kid`.
  return createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
}

/** Errors that say nothing about the token: the keys could not be had. */
function isUnavailable(err: unknown): boolean {
  if (!(err instanceof joseErrors.JOSEError)) return true;
  return err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || err.code === 'ERR_JOSE_GENERIC';
}

/** Why a token was refused, for the 401's error_description: the check that failed, never a claim value. */
function invalidReason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'the token was not issued for this server (audience is not SALES_ACCESS_RESOURCE_URL)';
    if (err.claim === 'iss') return 'the token was not issued by the configured identity provider';
    if (err.claim === 'nbf') return 'the token is not valid yet';
    return `the token's "${err.claim}" claim is missing or invalid`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm this server does not accept';
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token\'s signature does not verify against the identity provider\'s keys';
  return 'the token is not a valid JWT';
}

function stringClaim(p: JWTPayload, name: string): string | undefined {
  const v = p[name];
  return typeof v === 'string' && v.length > 0 ? v.slice(0, 256) : undefined;
}

/** Scopes from `scope` (RFC 9068, space-separated) or `scp` (a list or a string, as Okta and Entra write it). */
function scopesOf(p: JWTPayload): string[] {
  const out = new Set<string>();
  for (const v of [p.scope, p.scp]) {
    if (typeof v === 'string') v.split(' ').filter(Boolean).forEach((s) => out.add(s));
    else if (Array.isArray(v)) v.filter((s): s is string => typeof s === 'string').forEach((s) => out.add(s));
  }
  return [...out];
}

/**
 * The person an access token or an ID token names (the approval page's sign-in reads both the same way): `sub`,
 * and the email (`email`, else an email-shaped `preferred_username` or `upn`) and name when given.
 */
export function personOf(p: JWTPayload): PersonRef {
  const emailish = (v: string | undefined) => (v !== undefined && /^[^@\s]+@[^@\s]+$/.test(v) ? v : undefined);
  const email = emailish(stringClaim(p, 'email')) ?? emailish(stringClaim(p, 'preferred_username')) ?? emailish(stringClaim(p, 'upn'));
  const name = stringClaim(p, 'name');
  return { sub: String(p.sub).slice(0, 256), ...(email ? { email } : {}), ...(name ? { name } : {}) };
}

/** The identifier as configured, and with or without its one trailing slash (the same authority). */
function issuerForms(issuer: string): string[] {
  return issuer.endsWith('/') ? [issuer, issuer.slice(0, -1)] : [issuer, `${issuer}/`];
}

/** As the SDK's requireBearerAuth compares resources: equal, one trailing slash aside. */
function resourceForms(resource: string): string[] {
  return issuerForms(resource);
}

/**
 * RFC 9728 §3.1: the metadata URL of a resource, `/.well-known/oauth-protected-resource` + the resource's path.
 * As the SDK's getOAuthProtectedResourceMetadataUrl computes it (that module loads Express, hence the copy).
 */
export function protectedResourceMetadataUrl(resourceUrl: string): string {
  const u = new URL(resourceUrl);
  const path = u.pathname !== '/' ? u.pathname : '';
  return new URL(`/.well-known/oauth-protected-resource${path}`, u).href;
}

/** The Protected Resource Metadata document (RFC 9728) MCP clients read to find the authorization server. */
export function protectedResourceMetadata(oauth: OAuthResourceConfig): OAuthProtectedResourceMetadata {
  return {
    resource: oauth.resourceUrl,
    authorization_servers: [oauth.issuer],
    ...(oauth.scopes.length > 0 ? { scopes_supported: oauth.scopes } : {}),
    bearer_methods_supported: ['header'],
    resource_name: 'sales-access-mcp',
  };
}

/** The WWW-Authenticate of a 401/403 (MCP authorization spec; RFC 6750 §3; RFC 9728 §5.1). */
export function wwwAuthenticate(oauth: OAuthResourceConfig | undefined, error?: { code: 'invalid_token' | 'insufficient_scope'; description: string }): string {
  const parts: string[] = [];
  if (error) parts.push(`error="${error.code}"`, `error_description="${error.description.replace(/["\\]/g, '')}"`);
  if (oauth) {
    if (oauth.scopes.length > 0) parts.push(`scope="${oauth.scopes.join(' ')}"`);
    parts.push(`resource_metadata="${protectedResourceMetadataUrl(oauth.resourceUrl)}"`);
  }
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
