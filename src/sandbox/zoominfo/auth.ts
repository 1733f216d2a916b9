import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { safeEqual } from '../http-util.js';
import { fail } from './http.js';

/**
 * The JWTs /authenticate issues (notes: a signed three-part JWT with `iat`/`exp`, no refresh token): HS256 with
 * a key of this simulator's, valid `ttlMs` on the injected clock. Revocation bumps a generation every token
 * carries, so every token issued before stops working at once.
 */
export class JwtIssuer {
  private readonly signingKey = randomBytes(32);
  private generation = 0;

  constructor(
    private readonly clock: Clock,
    private readonly subject: string,
    private readonly ttlMs: number,
  ) {}

  issue(ttlMs = this.ttlMs): string {
    const now = this.clock.now();
    const head = b64({ alg: 'HS256', typ: 'JWT' });
    const body = b64({
      iss: 'zoominfo-sandbox',
      sub: this.subject,
      iat: Math.floor(now / 1000),
      exp: Math.floor((now + ttlMs) / 1000),
      gen: this.generation,
      jti: randomBytes(8).toString('hex'),
    });
    return `${head}.${body}.${this.sign(`${head}.${body}`)}`;
  }

  /** Throws the 401 a missing, malformed, forged, revoked or expired token gets. */
  verify(token: string | undefined): void {
    if (!token) fail(401, 'Missing Authorization: Bearer <jwt>; POST /authenticate first');
    const parts = token.split('.');
    if (parts.length !== 3 || !safeEqual(this.sign(`${parts[0]}.${parts[1]}`), parts[2]!)) fail(401, 'Invalid token');
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      fail(401, 'Invalid token');
    }
    if (payload.gen !== this.generation) fail(401, 'Token revoked');
    if (typeof payload.exp !== 'number' || this.clock.now() >= payload.exp * 1000) fail(401, 'Token expired; POST /authenticate again');
  }

  revokeAll(): void {
    this.generation++;
  }

  private sign(data: string): string {
    return createHmac('sha256', this.signingKey).update(data).digest('base64url');
  }
}

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}
