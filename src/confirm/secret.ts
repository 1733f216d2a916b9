import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether a secret presented by a client (an approval page's CSRF token or cookie, an in-chat view's nonce)
 * is the expected one: compared in constant time over SHA-256 digests, so neither its content nor its length
 * leaks through timing. An absent or empty value never matches.
 */
export function sameSecret(given: string | null | undefined, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return typeof given === 'string' && given.length > 0 && timingSafeEqual(digest(given), digest(expected));
}

/** The SHA-256 (hex) under which a secret, or a value that need not be kept in clear, is stored. */
export function secretDigest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/** Whether `given` (already a digest) is one of `stored`, each compared in constant time. */
export function matchesDigest(given: string, stored: string[]): boolean {
  const g = Buffer.from(given, 'hex');
  let found = false;
  for (const s of stored) {
    const b = Buffer.from(s, 'hex');
    if (b.length === g.length && timingSafeEqual(b, g)) found = true;
  }
  return found;
}
