import { createHash, timingSafeEqual } from 'node:crypto';

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
