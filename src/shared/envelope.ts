import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigError, type Env } from '../env.js';

/*
 * Secrets kept outside this process (token records in Redis) are sealed with AES-256-GCM from node:crypto:
 * a random 12-byte IV per write, the 16-byte tag, and additional authenticated data that binds the value
 * to what it is for (e.g. the vendor and OAuth client), so a record copied to another key does not open.
 * The envelope names the key by a non-secret id so a replica holding another key says so instead of
 * reporting corruption.
 */

export const ENCRYPTION_KEY_VARIABLE = 'SALES_ACCESS_ENCRYPTION_KEY';
const ENVELOPE_VERSION = 1;

export interface EncryptionKey {
  key: Buffer;
  /** First 12 hex digits of a SHA-256 over the key (domain-separated): names it, reveals nothing usable. */
  id: string;
}

/** A 32-byte key given as 64 hex digits or base64 (44 characters), or undefined when the variable is unset. */
export function encryptionKeyFromEnv(env: Env): EncryptionKey | undefined {
  const raw = env[ENCRYPTION_KEY_VARIABLE]?.trim();
  if (!raw) return undefined;
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(raw)) key = Buffer.from(raw, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(raw)) key = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key?.length !== 32) {
    throw new ConfigError(`${ENCRYPTION_KEY_VARIABLE} must be 32 random bytes as 64 hex digits or base64, e.g. \`openssl rand -base64 32\`.`);
  }
  return encryptionKey(key);
}

export function encryptionKey(key: Buffer): EncryptionKey {
  if (key.length !== 32) throw new RangeError('AES-256-GCM needs a 32-byte key');
  return { key, id: createHash('sha256').update('sales-access-mcp encryption key id\0').update(key).digest('hex').slice(0, 12) };
}

interface Envelope {
  v: number;
  alg: 'A256GCM';
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

/** The sealed form of `plaintext`, a JSON envelope: {v, alg, kid, iv, tag, ct} (base64url). */
export function seal(k: EncryptionKey, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k.key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const env: Envelope = { v: ENVELOPE_VERSION, alg: 'A256GCM', kid: k.id, iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), ct: ct.toString('base64url') };
  return JSON.stringify(env);
}

/** Why an envelope did not open; the message never contains any of the sealed text. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    message: string,
    readonly reason: 'malformed' | 'other_key' | 'not_authentic',
  ) {
    super(message);
  }
}

/** Opens an envelope sealed with `k` for `aad`; throws EnvelopeError (other key, tampered, malformed). */
export function open(k: EncryptionKey, sealed: string, aad: string): string {
  let e: Partial<Envelope>;
  try {
    e = JSON.parse(sealed) as Partial<Envelope>;
  } catch {
    throw new EnvelopeError('not a sealed envelope (not JSON)', 'malformed');
  }
  if (typeof e !== 'object' || e === null || e.v !== ENVELOPE_VERSION || e.alg !== 'A256GCM' || typeof e.iv !== 'string' || typeof e.tag !== 'string' || typeof e.ct !== 'string' || typeof e.kid !== 'string') {
    throw new EnvelopeError(`not a version ${ENVELOPE_VERSION} AES-256-GCM envelope`, 'malformed');
  }
  if (e.kid !== k.id) {
    throw new EnvelopeError(`sealed with key id ${e.kid.slice(0, 12)}, but ${ENCRYPTION_KEY_VARIABLE} has key id ${k.id}`, 'other_key');
  }
  const iv = Buffer.from(e.iv, 'base64url');
  const tag = Buffer.from(e.tag, 'base64url');
  if (iv.length !== 12 || tag.length !== 16) throw new EnvelopeError('IV or tag has the wrong length', 'malformed');
  try {
    const d = createDecipheriv('aes-256-gcm', k.key, iv, { authTagLength: 16 });
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(Buffer.from(e.ct, 'base64url')), d.final()]).toString('utf8');
  } catch {
    throw new EnvelopeError('authentication failed: the value was altered, or belongs to another record', 'not_authentic');
  }
}
