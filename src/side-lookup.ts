import { AsyncLocalStorage } from 'node:async_hooks';
import { VendorError, type VendorErrorCode } from './errors.js';

/**
 * Degrade, don't fail (issue 14 item 2). Role and profile names, group names, invitations, usage counters,
 * the SCIM ServiceProviderConfig: lookups made beside the data the admin asked for. When one fails (a scope
 * the token lacks, a 404 on an endpoint the plan does not have, a 5xx), the primary result stays whole and a
 * warning says what is missing and how to fix it.
 *
 * Warnings travel by async context rather than through every signature: the tool runtime opens a scope per
 * tool call (collectWarnings) and puts what was reported into the result's `warnings` (or, for a tool without
 * that field, a text line). Code that must act on a degraded lookup itself (an access review that can no
 * longer tell admins apart) opens its own scope and returns the warnings explicitly.
 */

const scopes = new AsyncLocalStorage<string[]>();

/** Runs `fn` in a fresh warning scope and returns what it reported (each warning once). */
export async function collectWarnings<T>(fn: () => Promise<T>): Promise<{ value: T; warnings: string[] }> {
  const list: string[] = [];
  const value = await scopes.run(list, fn);
  return { value, warnings: list };
}

/** Reports a warning to the innermost scope; outside any scope (a library caller) it is dropped. */
export function warn(message: string): void {
  const list = scopes.getStore();
  if (list && !list.includes(message)) list.push(message);
}

/** What a side lookup is, for its warning. */
export interface SideLookup {
  /** Vendor label, e.g. "Outreach". */
  vendor: string;
  /** What could not be read, e.g. "role names (GET /roles)". */
  what: string;
  /** What the result lacks because of it, e.g. "accounts show role ids instead of names". */
  without: string;
  /** How to fix it, per error code; a generic instruction otherwise. */
  fix?: Partial<Record<VendorErrorCode, string>>;
}

const REASON: Record<VendorErrorCode, string> = {
  bad_request: 'the vendor refused the request',
  unauthorized: 'the credential was refused (401)',
  forbidden: 'access denied (403)',
  not_found: 'not offered for this account (404)',
  conflict: 'conflict',
  rate_limited: 'rate limited (429)',
  unavailable: 'the vendor failed (5xx)',
  network: 'no answer from the vendor',
  invalid_response: 'an answer this server cannot read',
  config: 'not configured',
};

const GENERIC_FIX: Partial<Record<VendorErrorCode, string>> = {
  forbidden: 'Give the credential access to it (scope or role), or ignore this if it is not needed.',
  not_found: 'The account or plan does not offer it; nothing to do unless you need it.',
  rate_limited: 'Temporary: call again later.',
  unavailable: 'Usually temporary: call again later.',
  network: 'Usually temporary: call again later.',
  invalid_response: 'Call again later; if it persists, report it.',
  unauthorized: 'Check the credential.',
};

/** The warning for a failed side lookup: what is missing, why, what the result lacks, and the fix. */
export function sideLookupWarning(spec: SideLookup, err: VendorError): string {
  const status = err.status !== undefined && !REASON[err.code].includes(String(err.status)) ? ` (HTTP ${err.status})` : '';
  const fix = spec.fix?.[err.code] ?? GENERIC_FIX[err.code] ?? '';
  return `${spec.vendor} ${spec.what} could not be read: ${REASON[err.code]}${status}. So ${spec.without}. ${fix}`.trim();
}

/**
 * Runs a side lookup; a vendor failure is reported as a warning and `fallback` is returned instead. An abort
 * (the caller went away) and anything that is not a vendor failure (a bug) still throw.
 */
export async function sideLookup<T>(spec: SideLookup, run: () => Promise<T>, fallback: T, signal?: AbortSignal): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (signal?.aborted || !(err instanceof VendorError)) throw err;
    warn(sideLookupWarning(spec, err));
    return fallback;
  }
}

/**
 * Puts a tool call's warnings into its result: into `warnings` when the tool's output declares that field
 * (merged with what the handler put there, each once; always present, [] when none), and otherwise returned
 * as one line of text for the result's content, so no warning is lost.
 */
export function mergeWarnings(outputSchema: object, structured: Record<string, unknown>, warnings: readonly string[]): string | undefined {
  if ('warnings' in outputSchema) {
    const own = Array.isArray(structured.warnings) ? (structured.warnings as string[]) : [];
    structured.warnings = [...new Set([...own, ...warnings])];
    return undefined;
  }
  return warnings.length === 0 ? undefined : `Warnings: ${warnings.join(' ')}`;
}
