import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { FINDING_CODES, SEVERITIES, type ReviewResult } from '../../src/domain/review.js';
import { ToolInputError } from '../../src/errors.js';
import { evidenceRoot } from '../../src/workflows/report.js';
import { defineAppTool } from './types.js';

const REVIEW_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ROSTER_STATES = ['absent', 'active', 'terminated', 'unknown', 'none'] as const;
const MAX_PAGE = 200;

export interface FindingRow {
  finding_id: string;
  code: string;
  severity: string;
  vendor: string;
  vendor_label: string;
  message: string;
  recommended_action: string;
  account_id: string | null;
  email: string | null;
  name: string | null;
  status: string | null;
  roster: string;
  detail: string | null;
}

/** The last review read, by file and modification time: a view pages through one review at a time. */
let cached: { path: string; mtimeMs: number; rows: FindingRow[] } | undefined;

async function rowsOf(path: string): Promise<FindingRow[]> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new ToolInputError('No evidence for this review_id on this server (evidence files are pruned after the retention period). Run access_review again.');
  if (cached && cached.path === path && cached.mtimeMs === st.mtimeMs) return cached.rows;
  const doc = JSON.parse(await readFile(path, 'utf8')) as { result: ReviewResult };
  const labels = doc.result.vendor_labels ?? {};
  const rows: FindingRow[] = [];
  for (const f of doc.result.findings) {
    const base = { finding_id: f.id, code: f.code, severity: f.severity, vendor: f.vendor, vendor_label: labels[f.vendor] ?? f.vendor, message: f.message, recommended_action: f.recommended_action };
    if (f.accounts.length === 0) rows.push({ ...base, account_id: null, email: null, name: null, status: null, roster: 'none', detail: null });
    for (const a of f.accounts) rows.push({ ...base, account_id: a.id, email: a.email, name: a.name, status: a.status, roster: a.roster ?? 'none', detail: a.detail ?? null });
  }
  cached = { path, mtimeMs: st.mtimeMs, rows };
  return rows;
}

function countBy(rows: readonly FindingRow[], key: 'vendor' | 'severity' | 'code' | 'roster'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r[key]] = (out[r[key]] ?? 0) + 1;
  return out;
}

/**
 * The findings table of the in-chat access review view, one row per finding and account, read from the
 * review's JSON evidence: the tool result carries only the top findings, and a large review pages here
 * instead of inflating it.
 */
export default defineAppTool({
  name: 'access_review_findings',
  title: 'Access review findings (in-chat view)',
  description: 'Returns a page of an access review\'s findings (one row per finding and account), filtered, for the access review view.',
  view: 'review',
  companionOf: ['access_review'],
  inputSchema: {
    review_id: z.string().regex(REVIEW_ID_RE).describe('review_id of an access_review result'),
    vendor: z.string().max(64).optional().describe('Only this vendor'),
    severity: z.enum(SEVERITIES).optional().describe('Only this severity'),
    code: z.enum(FINDING_CODES).optional().describe('Only this finding code'),
    roster: z.enum(ROSTER_STATES).optional().describe('Only accounts in this roster state (none: no roster given, or no account)'),
    offset: z.number().int().min(0).default(0).describe('Rows to skip'),
    limit: z.number().int().min(1).max(MAX_PAGE).default(50).describe('Rows to return'),
  },
  outputSchema: {
    review_id: z.string().describe('The review'),
    total: z.number().int().describe('Rows matching the filters'),
    offset: z.number().int().describe('Rows skipped'),
    rows: z.array(z.record(z.string(), z.unknown())).describe('The page'),
    facets: z.record(z.string(), z.record(z.string(), z.number())).describe('Rows of the whole review per vendor, severity, code and roster state'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const all = await rowsOf(join(evidenceRoot(ctx.deps.config.stateDir), `access-review-${args.review_id}.json`));
    const rows = all.filter(
      (r) =>
        (args.vendor === undefined || r.vendor === args.vendor) &&
        (args.severity === undefined || r.severity === args.severity) &&
        (args.code === undefined || r.code === args.code) &&
        (args.roster === undefined || r.roster === args.roster),
    );
    return {
      review_id: args.review_id,
      total: rows.length,
      offset: args.offset,
      rows: rows.slice(args.offset, args.offset + args.limit) as unknown as Record<string, unknown>[],
      facets: { vendor: countBy(all, 'vendor'), severity: countBy(all, 'severity'), code: countBy(all, 'code'), roster: countBy(all, 'roster') },
    };
  },
});
