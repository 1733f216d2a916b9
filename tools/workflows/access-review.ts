import { basename } from 'node:path';
import * as z from 'zod';
import { EVIDENCE_URI_PREFIX } from '../../src/resources.js';
import { runAccessReview } from '../../src/workflows/access-review.js';
import { FINDING_CODES, SEVERITIES } from '../../src/domain/review.js';
import { defineTool } from '../types.js';

const count = z.number().int();

export default defineTool({
  name: 'access_review',
  vendor: null,
  toolsets: ['workflows'],
  title: 'Access review across vendors',
  description:
    'Audits every configured vendor against the HR roster: lists all seats (deactivated included; REST and SCIM merged) and reports findings: ORPHANED_ACCOUNT (active for someone absent or terminated), LOCKED_STILL_BILLED (Outreach), DEACTIVATED_SEAT_NOT_FREED (Apollo), STALE_INVITATION, SOLE_ADMIN, DUPLICATE_IDENTITY, NO_AUTOMATED_OFFBOARDING. A vendor whose seats cannot be listed (ZoomInfo without SCIM) is NOT_AUDITABLE, never zero. Returns a summary and the top findings; the complete evidence (CSV, JSON, HTML report) is linked as resources. Never spends credits.',
  inputSchema: (vendorIds) => ({
    roster: z.array(z.string().max(320)).max(200_000).optional().describe('Emails of current employees; or give roster_path'),
    roster_path: z.string().max(4096).optional().describe('CSV roster (email column; optional status, termination date) in the roster directory, e.g. "roster.csv"; stdio only'),
    vendors: z.array(z.enum(vendorIds)).optional().describe('Only these vendors; default all configured'),
    exceptions: z.array(z.string().max(320)).max(1000).optional().describe('Emails or patterns whose findings are suppressed (and listed), e.g. ["svc-*@acme.example"]'),
    stale_invitation_days: z.number().int().min(1).max(3650).default(30).describe('Invitations pending longer are stale'),
  }),
  outputSchema: {
    review_id: z.string().describe('Id of this review; names its evidence files'),
    reviewed_at: z.string().describe('ISO time of the review'),
    roster: z.object({ provided: z.boolean().describe('A roster was given'), entries: count.describe('People on it'), terminated: count.describe('People marked terminated') }).describe('Roster used'),
    roster_warnings: z.array(z.string()).describe('Rows skipped or merged (by row number, never cell contents)'),
    summary: z
      .object({
        by_vendor: z.record(z.string(), z.unknown()).describe('Per vendor: accounts by status and source, invitations, admins, or why it is not auditable'),
        by_status: z.record(z.string(), count).describe('Accounts by canonical status across auditable vendors'),
        by_finding: z.record(z.enum(FINDING_CODES), count).describe('Findings per code, after exceptions'),
        by_severity: z.record(z.enum(SEVERITIES), count).describe('Findings per severity'),
        accounts_total: count.describe('Accounts reviewed (after merging REST and SCIM)'),
        findings_total: count.describe('Findings after exceptions'),
        undetermined_total: count.describe('Checks that could not be answered'),
        suppressed_total: count.describe('Findings suppressed by exceptions'),
        not_auditable_total: count.describe('Vendors that could not be audited'),
      })
      .describe('Counts by vendor, status and finding'),
    not_auditable: z.array(z.object({ vendor: z.string().describe('Vendor'), reason: z.string().describe('Why') })).describe('Vendors whose seats could not be listed (never counted as zero accounts)'),
    undetermined: z.array(z.object({ code: z.enum(FINDING_CODES).describe('Check'), vendor: z.string().describe('Vendor'), reason: z.string().describe('Why it could not be answered') })).describe('Checks the vendor data cannot answer'),
    top_findings: z
      .array(
        z.object({
          id: z.string().describe('Stable finding id, e.g. "ORPHANED_ACCOUNT:outreach:123"'),
          code: z.enum(FINDING_CODES).describe('Finding code'),
          severity: z.enum(SEVERITIES).describe('high, medium, low or info'),
          vendor: z.string().describe('Vendor'),
          message: z.string().describe('What was found'),
          recommended_action: z.string().describe('What to do about it'),
          accounts: z.array(z.record(z.string(), z.unknown())).describe('Some of the accounts concerned (id, email, name, status, roster state)'),
          accounts_total: count.describe('All accounts concerned (the evidence lists them all)'),
        }),
      )
      .describe('The most important findings first'),
    findings_omitted: count.describe('Findings not shown here (see the evidence)'),
    suppressed_total: count.describe('Findings suppressed by exceptions (listed in the evidence)'),
    warnings: z.array(z.string()).describe('Listing problems per vendor'),
    evidence: z
      .object({
        csv: z.string().describe('Resource URI of the CSV evidence (one row per account)'),
        json: z.string().describe('Resource URI of the complete JSON result'),
        html: z.string().describe('Resource URI of the self-contained HTML report'),
        files: z
          .object({ csv: z.string().describe('CSV file'), json: z.string().describe('JSON file'), html: z.string().describe('HTML file') })
          .optional()
          .describe('Over stdio only: where the files are on this machine, to attach them to an audit ticket'),
      })
      .describe('Evidence files, also returned as resource links'),
    truncated: z.boolean().describe('True when findings or accounts were left out to keep the result small'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    let pages = 0;
    const { reviewId, compact, rosterWarnings, evidence } = await runAccessReview(ctx.deps, {
      roster: args.roster,
      rosterPath: args.roster_path,
      vendors: args.vendors,
      exceptions: args.exceptions,
      staleInvitationDays: args.stale_invitation_days,
      progress: (message) => ctx.progress(++pages, undefined, message),
      signal: ctx.signal,
    });
    const uri = (p: string) => `${EVIDENCE_URI_PREFIX}${basename(p)}`;
    return {
      review_id: reviewId,
      reviewed_at: compact.reviewed_at,
      roster: compact.roster,
      roster_warnings: rosterWarnings,
      summary: compact.summary,
      not_auditable: compact.not_auditable,
      undetermined: compact.undetermined,
      // AccountRef is an interface, which TypeScript will not take as the schema's record type; same data.
      top_findings: compact.top_findings as never,
      findings_omitted: compact.findings_omitted,
      suppressed_total: compact.suppressed_total,
      warnings: compact.warnings,
      // The local paths mean something only to a client on this machine; an HTTP client never sees server paths.
      evidence: { csv: uri(evidence.csv), json: uri(evidence.json), html: uri(evidence.html), ...(ctx.deps.config.transport === 'stdio' ? { files: evidence } : {}) },
      truncated: compact.truncated,
    };
  },
  resourceLinks: (out) => [
    { uri: out.evidence.html, name: 'Access review report (HTML)', mimeType: 'text/html', description: 'Self-contained report with summary tables and a chart of seats by vendor and status' },
    { uri: out.evidence.csv, name: 'Access review evidence (CSV)', mimeType: 'text/csv', description: 'One row per account per vendor with its findings' },
    { uri: out.evidence.json, name: 'Access review evidence (JSON)', mimeType: 'application/json', description: 'The complete review result and vendor inventories' },
  ],
});
