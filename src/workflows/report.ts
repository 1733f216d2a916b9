import { escapeHtml } from '../html.js';
import { CHART_STATUSES, fmt, renderChart } from '../review-chart.js';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify, type Options as CsvOptions } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { FINDING_CODES, FINDING_DESCRIPTIONS, type Finding, type ReviewedAccount, type ReviewResult, type Severity, type VendorInventory } from '../domain/review.js';

/**
 * Evidence files of an access review: CSV (one row per account per vendor), JSON (the full result and the
 * inventories) and a self-contained HTML report. Vendor data is untrusted: the HTML escapes every value and
 * forbids everything but its one hashed <style> block (no script at all); CSV cells that a spreadsheet would
 * run as a formula are neutralised. Large arrays are streamed, so 40,000 rows are never held as one string.
 */

export interface EvidencePaths {
  csv: string;
  json: string;
  html: string;
}

/** Where access reviews write their evidence files. */
export function evidenceRoot(stateDir: string): string {
  return join(stateDir, 'evidence');
}

export interface EvidenceOptions {
  generatedAt: Date;
  /** File-name safe: letters, digits, `.`, `_`, `-` (max 128). */
  reviewId: string;
  /** Account rows shown across the HTML report's finding groups; default 300 (the CSV and JSON hold all of them). */
  htmlTopFindings?: number;
}

const REVIEW_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Account rows per finding group in the HTML (the CSV and JSON hold every one). */
const HTML_ROWS_PER_GROUP = 25;
const HTML_SUPPRESSED_ROWS = 200;
const FLUSH_CHARS = 1 << 16;

// ---------------------------------------------------------------------------------------------------------
// Escaping (HTML: src/html.ts)

/**
 * How the evidence CSV is written (RFC 4180, CRLF). `escape_formulas` prefixes `'` to a cell a spreadsheet
 * would run as a formula: one starting with `=`, `+`, `-`, `@`, tab or carriage return (and their full-width
 * forms, which some spreadsheets fold to ASCII). `quote_record_delimiter` is needed because an explicit
 * `record_delimiter` otherwise turns off quoting of cells holding a lone `\n` or `\r`. Booleans are written as
 * `true` / `false` (the library's default would write `1` / empty, which reads as a count).
 */
const CSV_OPTIONS: CsvOptions = {
  record_delimiter: '\r\n',
  quote_record_delimiter: true,
  escape_formulas: true,
  cast: { boolean: (b) => String(b) },
};

/** One CSV cell as the evidence writes it: formula-looking values neutralised, quoted when needed. */
export function csvCell(value: unknown): string {
  return stringifySync([[value]], { ...CSV_OPTIONS, eof: false });
}


// ---------------------------------------------------------------------------------------------------------
// Streaming output

class Out {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly ws: WriteStream) {}

  async write(s: string): Promise<void> {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= FLUSH_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.ws.write(chunk)) await once(this.ws, 'drain');
  }

  async end(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.end(() => resolve());
    });
  }
}

/**
 * Writes through a temporary file (created 0600, exclusive) renamed into place, so a reader never sees half a
 * file. `write` must end the stream.
 */
async function writeFileAtomically(path: string, write: (ws: WriteStream) => Promise<void>): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const ws = createWriteStream(tmp, { flags: 'wx', mode: 0o600, encoding: 'utf8' });
  await once(ws, 'open');
  try {
    await write(ws);
    await rename(tmp, path);
  } catch (err) {
    ws.destroy();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** `writeFileAtomically` for text produced piece by piece. */
function writeFileStreamed(path: string, body: (out: Out) => Promise<void>): Promise<void> {
  return writeFileAtomically(path, async (ws) => {
    const out = new Out(ws);
    await body(out);
    await out.end();
  });
}

// ---------------------------------------------------------------------------------------------------------
// CSV

export const CSV_COLUMNS = [
  'review_id',
  'vendor',
  'kind',
  'account_id',
  'rest_id',
  'scim_id',
  'email',
  'name',
  'status',
  'status_rest',
  'status_scim',
  'sources',
  'role',
  'is_admin',
  'locked',
  'active',
  'seat_held',
  'created_at',
  'invited_at',
  'roster',
  'findings',
  'suppressed',
  'notes',
] as const;

function accountCsvRecord(reviewId: string, a: ReviewedAccount): unknown[] {
  return [
    reviewId,
    a.vendor,
    a.kind,
    a.id,
    a.ids.rest,
    a.ids.scim,
    a.email,
    a.name,
    a.status,
    a.status_by_source.rest,
    a.status_by_source.scim,
    a.sources.join(';'),
    a.role,
    a.is_admin,
    a.locked,
    a.active,
    a.seat_held,
    a.created_at,
    a.invited_at,
    a.roster,
    a.findings.join(';'),
    a.suppressed.join(';'),
    a.notes.join('; '),
  ];
}

/** The CSV's records, header first, one at a time (so 40,000 rows are never held as one string). */
function* csvRecords(result: ReviewResult, reviewId: string): Generator<unknown[]> {
  yield [...CSV_COLUMNS];
  for (const a of result.accounts) yield accountCsvRecord(reviewId, a);
  // A vendor that could not be listed gets one row saying so, never silence (that would read as zero seats).
  for (const n of result.not_auditable) {
    const cells: unknown[] = CSV_COLUMNS.map(() => null);
    cells[0] = reviewId;
    cells[1] = n.vendor;
    cells[2] = 'not_auditable';
    cells[CSV_COLUMNS.length - 1] = `NOT_AUDITABLE: ${n.reason}`;
    yield cells;
  }
}

// ---------------------------------------------------------------------------------------------------------
// JSON

/**
 * Streams `value` as JSON: objects (down to depth 4) key by key, arrays element by element; the elements of
 * a long array (the account and finding rows) are serialised one at a time.
 */
async function writeJson(out: Out, value: unknown, depth = 0): Promise<void> {
  if (Array.isArray(value)) {
    const long = value.length > 64;
    if (!long && depth >= 4) {
      await out.write(JSON.stringify(value));
      return;
    }
    await out.write('[');
    for (let i = 0; i < value.length; i++) {
      const el = value[i];
      await out.write(i === 0 ? '\n' : ',\n');
      if (el === undefined || typeof el === 'function') await out.write('null');
      else if (long) await out.write(JSON.stringify(el));
      else await writeJson(out, el, depth + 1);
    }
    await out.write(value.length ? '\n]' : ']');
    return;
  }
  if (value !== null && typeof value === 'object' && depth < 4 && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    await out.write('{');
    let first = true;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined || typeof v === 'function') continue;
      await out.write(`${first ? '' : ','}\n${JSON.stringify(k)}:`);
      first = false;
      await writeJson(out, v, depth + 1);
    }
    await out.write(first ? '}' : '\n}');
    return;
  }
  await out.write(JSON.stringify(value) ?? 'null');
}

// ---------------------------------------------------------------------------------------------------------
// HTML

const STYLE = `
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6476; --line: #dde2ea; --soft: #f5f7fa; --accent: #24466f; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #eef1f5; color: var(--ink); font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 32px 28px 48px; background: #fff; min-height: 100vh; }
header.top { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 22px; }
h1 { font-size: 26px; line-height: 1.25; margin: 0 0 6px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0; }
p { margin: 6px 0; }
.meta { color: var(--muted); font-size: 13.5px; }
.meta b { color: var(--ink); font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 18px 0 6px; }
.card { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .n { font-size: 24px; font-weight: 650; line-height: 1.2; font-variant-numeric: tabular-nums; }
.card .l { color: var(--muted); font-size: 12.5px; text-transform: uppercase; letter-spacing: 0.04em; }
.card.high .n { color: #b42318; } .card.medium .n { color: #b54708; } .card.low .n { color: #175cd3; }
table { width: 100%; border-collapse: collapse; margin: 8px 0 4px; font-size: 13px; }
.wrap { overflow-x: auto; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; color: #344054; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.sev-high { background: #fee4e2; color: #b42318; } .sev-medium { background: #fef0c7; color: #b54708; }
.sev-low { background: #d1e9ff; color: #175cd3; } .sev-info { background: #f2f4f7; color: #475467; }
.na { background: #fff4e5; color: #8a4b00; border: 1px solid #f5c98c; }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: 12px 8px 4px; background: #fff; }
.chart svg { display: block; width: 100%; height: auto; }
.chart .vlabel { font-size: 13px; font-weight: 600; fill: var(--ink); }
.chart .count { font-size: 12px; fill: var(--muted); }
.chart .legend { font-size: 12px; fill: #344054; }
.chart .axis { stroke: var(--line); }
.chart .note { font-size: 12px; fill: #8a4b00; font-style: italic; }
article.finding { border: 1px solid var(--line); border-left: 4px solid #98a2b3; border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
article.finding.high { border-left-color: #d92d20; } article.finding.medium { border-left-color: #f79009; }
article.finding.low { border-left-color: #2e90fa; }
article.finding .head { display: flex; flex-wrap: wrap; gap: 10px; align-items: baseline; }
article.finding .vendor { font-weight: 600; }
article.finding .action { color: #344054; }
article.finding .action::before { content: "Action: "; font-weight: 600; }
article.finding table { font-size: 12.5px; }
.muted { color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 36px; padding-top: 12px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12.5px; }
@media print { body { background: #fff; } main { padding: 0; max-width: none; } article.finding, table, .chart { break-inside: avoid; } }
`;

export function styleHash(style: string = STYLE): string {
  return `sha256-${createHash('sha256').update(style, 'utf8').digest('base64')}`;
}

/** The report's Content-Security-Policy: nothing is allowed but the one inline style block, by hash. */
export function reportCsp(style: string = STYLE): string {
  return `default-src 'none'; style-src '${styleHash(style)}'; img-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'`;
}

/** The vendor's name as the review knew it; its id for results written before labels were recorded. */
function labelsOf(result: ReviewResult): (vendor: string) => string {
  return (vendor) => result.vendor_labels?.[vendor] ?? vendor;
}

function sevBadge(s: Severity): string {
  return `<span class="badge sev-${escapeHtml(s)}">${escapeHtml(s)}</span>`;
}

/** The vendors reviewed, in the review's order (its by_vendor keys), then any other vendor inventoried. */
function vendorsOf(result: ReviewResult, inventories: readonly VendorInventory[]): string[] {
  const set = new Set<string>(Object.keys(result.summary.by_vendor));
  for (const i of inventories) set.add(i.vendor);
  return [...set];
}

interface FindingGroup {
  code: Finding['code'];
  vendor: string;
  severity: Severity;
  findings: Finding[];
}

/** Findings grouped by code, vendor and severity, in the result's order (most severe first). */
function groupFindings(findings: readonly Finding[]): FindingGroup[] {
  const groups = new Map<string, FindingGroup>();
  for (const f of findings) {
    const key = `${f.severity}\u0000${f.vendor}\u0000${f.code}`;
    let g = groups.get(key);
    if (!g) {
      g = { code: f.code, vendor: f.vendor, severity: f.severity, findings: [] };
      groups.set(key, g);
    }
    g.findings.push(f);
  }
  return [...groups.values()];
}

function groupCard(g: FindingGroup, maxRows: number, vendorLabel: (v: string) => string): string {
  const e = escapeHtml;
  const first = g.findings[0];
  const same = <K extends 'message' | 'recommended_action'>(k: K) => g.findings.every((f) => f[k] === first[k]);
  const message = same('message') ? first.message : FINDING_DESCRIPTIONS[g.code];
  const action = same('recommended_action') ? first.recommended_action : `${first.recommended_action} (first finding; see the evidence for each)`;
  const multi = g.findings.some((f) => f.accounts.length > 1);
  const rows: string[] = [];
  let total = 0;
  g.findings.forEach((f, i) => {
    for (const a of f.accounts) {
      total += 1;
      if (rows.length >= maxRows) continue;
      rows.push(
        `<tr>${multi ? `<td class="num">${i + 1}</td>` : ''}<td class="mono">${e(a.email ?? '—')}</td><td>${e(a.name ?? '')}</td><td class="mono">${e(a.id ?? '')}</td>` +
          `<td>${e(a.kind === 'invitation' ? 'invitation' : a.status)}</td><td>${e(a.sources.join(' + ').toUpperCase())}</td>` +
          `<td>${e(a.roster ?? 'no roster')}</td><td>${e(a.detail ?? '')}</td></tr>`,
      );
    }
  });
  const count = `${fmt(g.findings.length)} finding${g.findings.length === 1 ? '' : 's'}`;
  let table = '';
  if (rows.length > 0) {
    table =
      `<div class="wrap"><table><thead><tr>${multi ? '<th class="num">#</th>' : ''}<th>Email</th><th>Name</th><th>Id</th><th>Status</th><th>Source</th><th>Roster</th><th>Detail</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>` +
      (total > rows.length ? `<p class="muted">and ${fmt(total - rows.length)} more account${total - rows.length === 1 ? '' : 's'} in the CSV and JSON evidence.</p>` : '');
  }
  return (
    `<article class="finding ${e(g.severity)}"><div class="head">${sevBadge(g.severity)}<h3 class="mono">${e(g.code)}</h3><span class="vendor">${e(vendorLabel(g.vendor))}</span><span class="muted">${count}</span></div>` +
    `<p>${e(message)}</p><p class="action">${e(action)}</p>${table}</article>`
  );
}

export interface HtmlReportOptions {
  generatedAt: Date;
  reviewId: string;
  htmlTopFindings?: number;
  /** File names of the companion evidence, shown in the footer. */
  files?: { csv: string; json: string };
}

/** The whole HTML report as a string (bounded in size: the long lists are capped and point to the CSV/JSON). */
export function renderHtmlReport(result: ReviewResult, inventories: readonly VendorInventory[], opts: HtmlReportOptions): string {
  const vendorLabel = labelsOf(result);
  const vendors = vendorsOf(result, inventories);
  const s = result.summary;
  const topN = opts.htmlTopFindings ?? 300;
  const e = escapeHtml;
  const h: string[] = [];

  h.push('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">');
  h.push(`<meta http-equiv="Content-Security-Policy" content="${e(reportCsp())}">`);
  h.push('<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width, initial-scale=1">');
  h.push(`<title>Access review ${e(opts.reviewId)}</title>`);
  h.push(`<style>${STYLE}</style></head><body><main>`);

  const rosterText = result.roster.provided
    ? `${fmt(result.roster.entries)} ${result.roster.entries === 1 ? 'person' : 'people'} (${fmt(result.roster.terminated)} terminated)`
    : 'none given: orphaned accounts undetermined';
  h.push(
    `<header class="top"><h1>Sales-tool access review</h1>` +
      `<p class="meta">Review <b class="mono">${e(opts.reviewId)}</b> · reviewed at <b>${e(result.reviewed_at)}</b> · report generated <b>${e(opts.generatedAt.toISOString())}</b></p>` +
      `<p class="meta">Vendors: <b>${e(vendors.map((v) => vendorLabel(v)).join(', ') || 'none')}</b> · roster: <b>${e(rosterText)}</b> · stale invitations: older than <b>${e(result.stale_invitation_days)}</b> days` +
      (result.exceptions.length ? ` · exceptions: <b>${e(result.exceptions.length)}</b>` : '') +
      `</p></header>`,
  );

  const audited = vendors.filter((v) => s.by_vendor[v]?.auditable).length;
  h.push('<section class="cards">');
  h.push(`<div class="card"><div class="n">${fmt(s.accounts_total)}</div><div class="l">accounts reviewed</div></div>`);
  h.push(`<div class="card"><div class="n">${fmt(audited)} / ${fmt(vendors.length)}</div><div class="l">vendors audited</div></div>`);
  for (const sev of ['high', 'medium', 'low'] as const) {
    h.push(`<div class="card ${sev}"><div class="n">${fmt(s.by_severity[sev])}</div><div class="l">${sev} findings</div></div>`);
  }
  h.push(`<div class="card"><div class="n">${fmt(s.undetermined_total)}</div><div class="l">undetermined</div></div>`);
  h.push('</section>');

  h.push('<section><h2>Seats by vendor and status</h2>');
  h.push(`<figure class="chart">${renderChart(result, vendors)}</figure></section>`);

  // Vendors × status.
  h.push('<section><h2>Accounts by vendor and status</h2><div class="wrap"><table><thead><tr><th>Vendor</th>');
  for (const st of CHART_STATUSES) h.push(`<th class="num">${e(st)}</th>`);
  h.push('<th class="num">total</th><th class="num" title="merged accounts seen by REST only / SCIM only / both">REST / SCIM / both</th><th class="num">invitations</th><th class="num">active admins</th><th>SCIM</th></tr></thead><tbody>');
  for (const v of vendors) {
    const vs = s.by_vendor[v];
    if (!vs) continue;
    if (!vs.auditable) {
      h.push(`<tr><td>${e(vendorLabel(v))}</td><td colspan="${CHART_STATUSES.length + 4}"><span class="badge na">NOT_AUDITABLE</span> ${e(vs.reason)}</td><td>${vs.scim_configured ? 'yes' : 'no'}</td></tr>`);
      continue;
    }
    h.push(`<tr><td>${e(vendorLabel(v))}</td>`);
    for (const st of CHART_STATUSES) h.push(`<td class="num">${fmt(vs.by_status[st])}</td>`);
    h.push(
      `<td class="num"><b>${fmt(vs.accounts)}</b></td><td class="num">${fmt(vs.by_source.rest)} / ${fmt(vs.by_source.scim)} / ${fmt(vs.by_source.both)}</td>` +
        `<td class="num">${vs.invitations === null ? '<span class="muted">not exposed</span>' : fmt(vs.invitations)}</td>` +
        `<td class="num">${vs.active_admins === null ? '<span class="muted">unknown</span>' : fmt(vs.active_admins)}</td>` +
        `<td>${vs.scim_configured ? 'yes' : 'no'}</td></tr>`,
    );
  }
  h.push(`<tr><td><b>All audited</b></td>`);
  for (const st of CHART_STATUSES) h.push(`<td class="num"><b>${fmt(s.by_status[st])}</b></td>`);
  h.push(`<td class="num"><b>${fmt(s.accounts_total)}</b></td><td colspan="4"></td></tr></tbody></table></div></section>`);

  // Findings by code.
  h.push('<section><h2>Findings by code</h2><div class="wrap"><table><thead><tr><th>Code</th><th>Meaning</th>');
  for (const v of vendors) h.push(`<th class="num">${e(vendorLabel(v))}</th>`);
  h.push('<th class="num">total</th></tr></thead><tbody>');
  const perCodeVendor = new Map<string, number>();
  for (const f of result.findings) perCodeVendor.set(`${f.code}:${f.vendor}`, (perCodeVendor.get(`${f.code}:${f.vendor}`) ?? 0) + 1);
  const undeterminedSet = new Set(result.undetermined.map((u) => `${u.code}:${u.vendor}`));
  const naSet = new Set(result.not_auditable.map((n) => n.vendor));
  for (const code of FINDING_CODES) {
    h.push(`<tr><td class="mono">${e(code)}</td><td>${e(FINDING_DESCRIPTIONS[code])}</td>`);
    for (const v of vendors) {
      const n = perCodeVendor.get(`${code}:${v}`) ?? 0;
      const cell = n > 0 ? fmt(n) : naSet.has(v) && code !== 'NO_AUTOMATED_OFFBOARDING' ? '<span class="muted">n/a</span>' : undeterminedSet.has(`${code}:${v}`) ? '<span class="muted">undetermined</span>' : '0';
      h.push(`<td class="num">${cell}</td>`);
    }
    h.push(`<td class="num"><b>${fmt(s.by_finding[code])}</b></td></tr>`);
  }
  h.push('</tbody></table></div></section>');

  h.push('<section><h2>Not auditable</h2>');
  if (result.not_auditable.length === 0) h.push('<p class="empty">Every vendor reviewed could be listed.</p>');
  else {
    h.push('<table><thead><tr><th>Vendor</th><th>Reason</th></tr></thead><tbody>');
    for (const n of result.not_auditable) h.push(`<tr><td>${e(vendorLabel(n.vendor))} <span class="badge na">NOT_AUDITABLE</span></td><td>${e(n.reason)}</td></tr>`);
    h.push('</tbody></table><p class="muted">A vendor that cannot be listed is not counted as zero accounts.</p>');
  }
  h.push('</section>');

  h.push('<section><h2>Undetermined</h2>');
  if (result.undetermined.length === 0) h.push('<p class="empty">Every check could be run on every audited vendor.</p>');
  else {
    h.push('<table><thead><tr><th>Code</th><th>Vendor</th><th>Why it could not be determined</th></tr></thead><tbody>');
    for (const u of result.undetermined) h.push(`<tr><td class="mono">${e(u.code)}</td><td>${e(vendorLabel(u.vendor))}</td><td>${e(u.reason)}</td></tr>`);
    h.push('</tbody></table>');
  }
  h.push('</section>');

  h.push(`<section><h2>Top findings</h2>`);
  if (result.findings.length === 0) h.push('<p class="empty">No findings.</p>');
  else {
    const groups = groupFindings(result.findings);
    let budget = topN;
    const shown: string[] = [];
    let shownFindings = 0;
    for (const g of groups) {
      if (budget <= 0) break;
      const rows = Math.min(HTML_ROWS_PER_GROUP, budget);
      shown.push(groupCard(g, rows, vendorLabel));
      shownFindings += g.findings.length;
      budget -= Math.min(rows, g.findings.reduce((n, f) => n + Math.max(1, f.accounts.length), 0));
    }
    h.push(
      `<p class="muted">${fmt(result.findings.length)} finding${result.findings.length === 1 ? '' : 's'} in ${fmt(groups.length)} group${groups.length === 1 ? '' : 's'} by code and vendor, most severe first` +
        (shown.length < groups.length ? `; the first ${fmt(shown.length)} groups (${fmt(shownFindings)} findings) are shown` : '') +
        '. Every finding and account is in the CSV and JSON evidence.</p>',
    );
    h.push(...shown);
  }
  h.push('</section>');

  h.push('<section><h2>Suppressed by exceptions</h2>');
  if (result.suppressed.length === 0) h.push(`<p class="empty">${result.exceptions.length ? 'No finding matched an exception.' : 'No exceptions given.'}</p>`);
  else {
    const rows = result.suppressed.slice(0, HTML_SUPPRESSED_ROWS);
    h.push('<table><thead><tr><th>Code</th><th>Vendor</th><th>Email</th><th>Matched exception</th></tr></thead><tbody>');
    for (const x of rows) h.push(`<tr><td class="mono">${e(x.code)}</td><td>${e(vendorLabel(x.vendor))}</td><td class="mono">${e(x.email)}</td><td class="mono">${e(x.matched_exception)}</td></tr>`);
    h.push('</tbody></table>');
    if (result.suppressed.length > rows.length) h.push(`<p class="muted">and ${fmt(result.suppressed.length - rows.length)} more in the JSON evidence.</p>`);
  }
  h.push('</section>');

  if (result.warnings.length > 0) {
    h.push('<section><h2>Listing warnings</h2><ul>');
    for (const w of result.warnings.slice(0, 100)) h.push(`<li>${e(w)}</li>`);
    h.push('</ul></section>');
  }

  h.push(
    '<footer><p>Complete evidence: ' +
      (opts.files ? `<span class="mono">${e(opts.files.csv)}</span> (one row per account per vendor) and <span class="mono">${e(opts.files.json)}</span> (full result and inventories).` : 'the CSV and JSON files written with this report.') +
      '</p><p>REST and SCIM records of one vendor are merged before duplicates are judged. Emails are compared lower-cased; <span class="mono">jane+x@</span> counts as <span class="mono">jane@</span>. Vendor values are shown as data, escaped.</p>' +
      `<p>Generated by sales-access-mcp.</p></footer>`,
  );
  h.push('</main></body></html>\n');
  return h.join('');
}

// ---------------------------------------------------------------------------------------------------------

/**
 * Writes `access-review-<reviewId>.csv|.json|.html` under `dir` (created 0700; files 0600, each written to a
 * temporary file and renamed) and returns their paths.
 */
export async function writeEvidence(result: ReviewResult, inventories: readonly VendorInventory[], dir: string, opts: EvidenceOptions): Promise<EvidencePaths> {
  if (!REVIEW_ID_RE.test(opts.reviewId)) throw new Error('reviewId may hold only letters, digits, ".", "_" and "-" (at most 128, starting with a letter or digit)');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const base = `access-review-${opts.reviewId}`;
  const paths: EvidencePaths = { csv: join(dir, `${base}.csv`), json: join(dir, `${base}.json`), html: join(dir, `${base}.html`) };

  await writeFileAtomically(paths.csv, (ws) => pipeline(Readable.from(csvRecords(result, opts.reviewId)), stringify(CSV_OPTIONS), ws));
  await writeFileStreamed(paths.json, (out) =>
    writeJson(out, {
      format: 'sales-access-mcp/access-review@1',
      review_id: opts.reviewId,
      generated_at: opts.generatedAt.toISOString(),
      result,
      inventories,
    }).then(() => out.write('\n')),
  );
  const html = renderHtmlReport(result, inventories, {
    generatedAt: opts.generatedAt,
    reviewId: opts.reviewId,
    htmlTopFindings: opts.htmlTopFindings,
    files: { csv: `${base}.csv`, json: `${base}.json` },
  });
  await writeFileStreamed(paths.html, (out) => out.write(html));
  return paths;
}

