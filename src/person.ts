import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { PersonRef } from './audit/audit-log.js';

/** A person signed in with the identity provider, as the HTTP transport verified them (http-auth.ts). */
export interface SignedInPerson extends PersonRef {
  iss: string;
  client_id?: string;
}

/**
 * The signed-in person of a request, from the AuthInfo the HTTP transport handed the SDK (`extra.authInfo`
 * in a tool handler); undefined over stdio, with the static token, or on loopback without authentication.
 */
export function personOf(auth: AuthInfo | undefined): SignedInPerson | undefined {
  const p = auth?.extra?.person as SignedInPerson | undefined;
  return p && typeof p.sub === 'string' && typeof p.iss === 'string' ? p : undefined;
}

/** Only who they are (sub, email, name), for approvals. */
export function personRef(p: PersonRef): PersonRef {
  return { sub: p.sub, ...(p.email ? { email: p.email } : {}), ...(p.name ? { name: p.name } : {}) };
}
