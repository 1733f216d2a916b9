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
