import { credentialFingerprint } from '../http/identity.js';
import type { AuthProvider } from './types.js';

// A CR/LF in a pasted secret would be rejected by the HTTP stack with the value quoted in the error.
function checkSecret(what: string, value: string): void {
  if (!value) throw new Error(`${what} is empty`);
  if (/[\r\n\0]/.test(value)) throw new Error(`${what} contains a line break or NUL; check how it was pasted`);
}

/** A long-lived token sent as `Authorization: Bearer` (SalesLoft API key, Outreach SCIM token). */
export function bearerAuth(token: string): AuthProvider {
  checkSecret('Bearer token', token);
  const headers = { Authorization: `Bearer ${token}` };
  return {
    kind: 'bearer',
    identity: `bearer:${credentialFingerprint(token)}`,
    headers: async () => ({ ...headers }),
    onUnauthorized: async () => false,
  };
}

/** A key sent in a vendor-specific header (Apollo's `X-Api-Key`). */
export function apiKeyAuth(headerName: string, key: string): AuthProvider {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(headerName)) throw new Error(`Invalid API key header name: ${headerName}`);
  checkSecret(`API key (${headerName})`, key);
  const headers = { [headerName]: key };
  return {
    kind: 'api_key',
    identity: `key:${credentialFingerprint(key)}`,
    headers: async () => ({ ...headers }),
    onUnauthorized: async () => false,
  };
}
