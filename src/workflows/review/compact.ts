import type { AccountRef, CompactReviewResult, ReviewResult, ReviewSummary, VendorSummary } from '../../domain/review.js';

/** The small view of a review that goes back to the model as the tool result. */

export interface CompactOptions {
  /** Upper bound of the JSON text; default 24,000 (under the 25 KB tool-result cap, leaving room for links). */
  maxBytes?: number;
  /** Findings shown at most; default 25. */
  topFindings?: number;
  /** Accounts shown per finding at most; default 5. */
  accountsPerFinding?: number;
}

/**
 * Summary, not-auditable vendors, undetermined entries and the first findings, shrunk until the JSON fits
 * `maxBytes` whatever the size of the org. The complete result belongs in the evidence files.
 */
export function compactReview(result: ReviewResult, opts: CompactOptions = {}): CompactReviewResult {
  const maxBytes = opts.maxBytes ?? 24_000;
  let top = Math.min(opts.topFindings ?? 25, result.findings.length);
  let perFinding = opts.accountsPerFinding ?? 5;
  let warnings = result.warnings.slice(0, 20);
  const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const clipRef = (r: AccountRef): AccountRef => ({ ...r, email: r.email && clip(r.email, 120), name: r.name && clip(r.name, 80), role: r.role && clip(r.role, 60) });
  // Listing errors come from vendors and can be long or many: a few per vendor, clipped.
  const byVendor: ReviewSummary['by_vendor'] = {};
  for (const [v, vs] of Object.entries(result.summary.by_vendor) as [string, VendorSummary][]) {
    byVendor[v] = vs.auditable ? { ...vs, errors: vs.errors.slice(0, 3).map((e) => clip(e, 200)) } : { ...vs, reason: clip(vs.reason, 300) };
  }
  const summary: ReviewSummary = { ...result.summary, by_vendor: byVendor };
  for (;;) {
    const out: CompactReviewResult = {
      reviewed_at: result.reviewed_at,
      roster: result.roster,
      summary,
      not_auditable: result.not_auditable.map((n) => ({ vendor: n.vendor, reason: clip(n.reason, 300) })),
      undetermined: result.undetermined.map((u) => ({ ...u, reason: clip(u.reason, 300) })),
      top_findings: result.findings.slice(0, top).map((f) => ({ ...f, accounts: f.accounts.slice(0, perFinding).map(clipRef), accounts_total: f.accounts.length })),
      findings_omitted: result.findings.length - top,
      suppressed_total: result.suppressed.length,
      warnings: warnings.map((w) => clip(w, 300)),
      truncated: top < result.findings.length || result.findings.slice(0, top).some((f) => f.accounts.length > perFinding) || warnings.length < result.warnings.length,
    };
    const bytes = Buffer.byteLength(JSON.stringify(out));
    if (bytes <= maxBytes) return out;
    if (top > 5) top = Math.max(5, Math.floor(top * 0.6));
    else if (perFinding > 1) perFinding -= 1;
    else if (warnings.length > 3) warnings = warnings.slice(0, 3);
    else if (top > 0) top -= 1;
    else {
      // Only the summary is left; it is bounded (a few vendors × 7 codes), so this always fits in practice.
      return { ...out, undetermined: out.undetermined.slice(0, 10), warnings: [], truncated: true };
    }
  }
}
