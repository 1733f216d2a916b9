import { createHmac } from 'node:crypto';

/**
 * HMAC key for credential fingerprints. It is deliberately public and fixed: it is not a secret and
 * protects nothing by itself. Keying the hash only makes the fingerprint of a short or guessable secret
 * useless to look up in a plain SHA-256 table, while keeping it stable across processes and releases so
 * limiter keys, logs and audit entries of the same credential line up. Changing it changes every
 * fingerprint (bump the version suffix if it ever has to).
 */
export const FINGERPRINT_KEY = 'sales-access-mcp/credential-fingerprint/v1';

/** First 16 hex characters (64 bits) of HMAC-SHA256(FINGERPRINT_KEY, secret): non-reversible and stable. */
export function credentialFingerprint(secret: string): string {
  return createHmac('sha256', FINGERPRINT_KEY).update(secret, 'utf8').digest('hex').slice(0, 16);
}
