import { VendorError } from '../errors.js';

/*
 * What `sales-access-mcp doctor` and the check_connections tool learn from a vendor by asking it: a live,
 * read-only probe per connection. Each vendor's REST probe is its adapter's `probe` (vendors/<vendor>/probe.ts);
 * the SCIM probe is generic (vendors/scim/probe.ts). Probes read, never write, and never spend credits; what
 * they report is public text (vendor messages pass through the HTTP core's redaction), never a secret.
 */

export type CheckStatus = 'ok' | 'warning' | 'problem' | 'skipped';

export interface ProbeCheck {
  /** What was checked, e.g. "credential", "scope roles.read", "master key". */
  name: string;
  status: CheckStatus;
  /** What was found and, for a problem, what to do. */
  detail: string;
  /**
   * The toolsets that need this check to pass. A problem that only toolsets this server does not serve need
   * is reported as a warning (doctor reads the selection); absent: it matters whatever is served.
   */
  needed_by?: readonly string[];
}

export interface ProbeReport {
  checks: ProbeCheck[];
  /** The credential as the vendor sees it, e.g. "master API key", "scoped API key", "OAuth token". */
  key_kind?: string;
  /** OAuth scopes, for vendors that have them. */
  scopes?: ScopeReport;
  /** Credits the vendor reports for the account, for vendors whose calls spend them. */
  credits?: { used: number | null; remaining: number | null; limit: number | null; source: string };
  /**
   * For a vendor that reports no rate-limit headroom (ZoomInfo): what to say instead. Absent: the caller
   * reports the headroom the vendor's headers gave during the probe.
   */
  rate_limit?: ProbeCheck;
}

export interface ScopeReport {
  /** As granted at the last token exchange, when known (the token store keeps it); null when not known. */
  granted: string[] | null;
  /** Per toolset, the scopes its tools need. */
  needed: Record<string, readonly string[]>;
  /** Needed and refused: a read answered 403, or the granted list lacks them. */
  missing: string[];
  /** Needed, but no read can show it without writing and the granted list is not known. */
  unverified: string[];
}

/** What a probe gets besides the REST side: the abort signal and the scopes the token store recorded. */
export interface ProbeContext {
  signal?: AbortSignal;
  /** Scopes granted with the stored OAuth token (space-separated in the token response), when known. */
  grantedScopes: string[] | null;
}

/** A refused read (403): the vendor says the credential lacks a scope, a plan or a key type. */
export function isForbidden(err: unknown): err is VendorError {
  return err instanceof VendorError && err.code === 'forbidden';
}

/**
 * Runs one read that shows whether a scope is granted: ok, missing (403), or the error itself (a 401 means the
 * credential is rejected, which the caller reports once for the whole vendor).
 */
export async function scopeRead(read: () => Promise<unknown>): Promise<'granted' | 'missing'> {
  try {
    await read();
    return 'granted';
  } catch (err) {
    if (isForbidden(err)) return 'missing';
    throw err;
  }
}

/**
 * The scope part of a report: each needed scope is granted (a read succeeded, or the granted list has it),
 * missing (a read was refused, or the granted list lacks it), or unverified. One check per missing or
 * unverified scope, naming the toolsets that need it.
 */
export function scopeReport(
  needed: Record<string, readonly string[]>,
  read: ReadonlyMap<string, 'granted' | 'missing'>,
  granted: string[] | null,
  fix: string,
): { scopes: ScopeReport; checks: ProbeCheck[] } {
  const all = [...new Set(Object.values(needed).flat())];
  const missing: string[] = [];
  const unverified: string[] = [];
  const checks: ProbeCheck[] = [];
  for (const scope of all) {
    const byRead = read.get(scope);
    const state = byRead ?? (granted === null ? 'unverified' : granted.includes(scope) ? 'granted' : 'missing');
    const neededBy = Object.entries(needed)
      .filter(([, scopes]) => scopes.includes(scope))
      .map(([toolset]) => toolset);
    if (state === 'missing') {
      missing.push(scope);
      const how = byRead === 'missing' ? 'a read that needs it was refused (403)' : 'it is not among the scopes granted';
      checks.push({ name: `scope ${scope}`, status: 'problem', detail: `the token lacks ${scope} (${how}), needed by ${neededBy.join(', ')}. ${fix}`, needed_by: neededBy });
    } else if (state === 'unverified') {
      unverified.push(scope);
      checks.push({ name: `scope ${scope}`, status: 'skipped', detail: `not verifiable without a write, and the granted scopes are not known (a static token); needed by ${neededBy.join(', ')}` });
    }
  }
  if (missing.length === 0 && unverified.length === 0) checks.push({ name: 'scopes', status: 'ok', detail: `all granted: ${all.join(', ')}` });
  return { scopes: { granted, needed, missing, unverified }, checks };
}
