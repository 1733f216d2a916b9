import { MockAgent } from 'undici';
import { bearerAuth } from '../../src/auth/static.js';
import type { AuthProvider } from '../../src/auth/types.js';

/** A MockAgent that refuses real connections: a request no interceptor answers fails instead of leaving the machine. */
export function offlineAgent(): MockAgent {
  const agent = new MockAgent();
  agent.disableNetConnect();
  return agent;
}

/**
 * A bearer credential no other test uses. Limiters are process-wide, keyed by vendor and credential identity,
 * so a distinct token per test keeps their budgets independent.
 */
export function uniqueBearer(prefix: string): AuthProvider {
  return bearerAuth(`${prefix}-${Math.random()}`);
}

/** Request headers as a MockAgent interceptor sees them (an object or a flat [name, value, ...] list), lower-cased. */
export function lowerHeaders(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(h)) {
    for (let i = 0; i < h.length; i += 2) out[String(h[i]).toLowerCase()] = String(h[i + 1]);
  } else if (h && typeof h === 'object') {
    for (const [k, v] of Object.entries(h as Record<string, unknown>)) out[k.toLowerCase()] = String(v);
  }
  return out;
}
