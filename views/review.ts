import type { App } from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { renderChart, type ChartInput } from '../src/review-chart.js';
import { badge, callTool, connect, el, fmtNumber } from './common.js';

/**
 * The in-chat access review view: the summary per vendor, the seats chart (the HTML report's own), the
 * findings table with filters, paged through the app-only `access_review_findings` tool, and the evidence
 * files. It renders from access_review's structuredContent; nothing reaches the network.
 */

interface Row {
  finding_id: string; code: string; severity: string; vendor: string; vendor_label?: string;
  email: string | null; name: string | null; status: string | null; roster: string; detail: string | null; message: string;
}
interface Review {
  status: string; message?: string; review_id: string; reviewed_at: string;
  summary: ChartInput['summary'] & { by_severity: Record<string, number>; accounts_total: number; findings_total: number; not_auditable_total: number; by_finding: Record<string, number> };
  not_auditable: { vendor: string; reason: string }[];
  top_findings: { id: string; code: string; severity: string; vendor: string; message: string; accounts: Record<string, unknown>[] }[];
  evidence: { csv: string; json: string; html: string; files?: { csv: string; json: string; html: string } };
}
interface Page { total: number; offset: number; rows: Row[]; facets: Record<string, Record<string, number>> }

const PAGE = 25;
const root = document.getElementById('root')!;
let app: App;
let review: Review | undefined;
const filters: Record<string, string> = { vendor: '', severity: '', code: '', roster: '' };
let offset = 0;

function topRows(r: Review): Row[] {
  const rows: Row[] = [];
  for (const f of r.top_findings) {
    const accounts = f.accounts.length ? f.accounts : [{}];
    for (const a of accounts) {
      rows.push({ finding_id: f.id, code: f.code, severity: f.severity, vendor: f.vendor, message: f.message, email: (a.email as string) ?? null, name: (a.name as string) ?? null, status: (a.status as string) ?? null, roster: (a.roster as string) ?? 'none', detail: (a.detail as string) ?? null });
    }
  }
  return rows;
}

function summary(r: Review): HTMLElement {
  const s = r.summary;
  const cards = el('div', { class: 'cards' },
    el('div', { class: 'card' }, el('div', { class: 'n' }, fmtNumber(s.accounts_total)), el('div', { class: 'l' }, 'accounts')),
    ...(['high', 'medium', 'low'] as const).map((sev) => el('div', { class: `card ${sev}` }, el('div', { class: 'n' }, fmtNumber(s.by_severity[sev] ?? 0)), el('div', { class: 'l' }, `${sev} findings`))),
    el('div', { class: 'card' }, el('div', { class: 'n' }, fmtNumber(s.not_auditable_total)), el('div', { class: 'l' }, 'not auditable')),
  );
  const head = el('tr', {}, el('th', {}, 'Vendor'), el('th', { class: 'num' }, 'Accounts'), el('th', { class: 'num' }, 'Active'), el('th', { class: 'num' }, 'Locked'), el('th', { class: 'num' }, 'Deact.'), el('th', { class: 'num' }, 'Admins'));
  const body = el('tbody');
  for (const [vendor, v] of Object.entries(s.by_vendor)) {
    const vs = v as Record<string, any>;
    if (!vs?.auditable) {
      body.append(el('tr', { 'data-vendor': vendor }, el('td', {}, vendor), el('td', { colspan: '5' }, badge('NOT AUDITABLE', 'warn'), ' ', String(vs?.reason ?? ''))));
      continue;
    }
    body.append(el('tr', { 'data-vendor': vendor }, el('td', {}, vendor), el('td', { class: 'num' }, fmtNumber(vs.accounts)), el('td', { class: 'num' }, fmtNumber(vs.by_status?.active)), el('td', { class: 'num' }, fmtNumber(vs.by_status?.locked)), el('td', { class: 'num' }, fmtNumber(vs.by_status?.deactivated)), el('td', { class: 'num' }, fmtNumber(vs.active_admins))));
  }
  const chart = el('figure', { class: 'chart', 'aria-label': 'Seats by vendor and status' });
  // renderChart (shared with the HTML evidence report) escapes every value it writes into its SVG.
  chart.innerHTML = renderChart({ summary: { by_vendor: s.by_vendor } }, Object.keys(s.by_vendor));
  return el('section', {}, cards, chart, el('h2', {}, 'Per vendor'), el('div', { class: 'wrap' }, el('table', { class: 'vendors' }, el('thead', {}, head), body)));
}

function select(name: string, label: string, values: string[], counts?: Record<string, number>): HTMLLabelElement {
  const s = el('select', { name, 'data-filter': name }, el('option', { value: '' }, 'all'), ...values.map((v) => el('option', { value: v }, counts?.[v] !== undefined ? `${v} (${fmtNumber(counts[v])})` : v)));
  s.value = filters[name];
  s.addEventListener('change', () => {
    filters[name] = s.value;
    offset = 0;
    void loadPage();
  });
  return el('label', {}, label, s);
}

function table(rows: Row[]): HTMLElement {
  const body = el('tbody');
  for (const r of rows) {
    body.append(
      el('tr', { class: 'finding', 'data-code': r.code, 'data-vendor': r.vendor, 'data-severity': r.severity, 'data-roster': r.roster },
        el('td', {}, badge(r.severity, `sev-${r.severity}`)),
        el('td', { class: 'mono code' }, r.code),
        el('td', { class: 'vendor' }, r.vendor_label ?? r.vendor),
        el('td', { class: 'mono email' }, r.email ?? '–'),
        el('td', { class: 'name' }, r.name ?? '–'),
        el('td', { class: 'status' }, r.status ?? '–'),
        el('td', { class: 'roster' }, `roster: ${r.roster}`),
        el('td', { class: 'muted detail' }, r.detail ?? r.message),
      ),
    );
  }
  const head = el('tr', {}, ...['Sev.', 'Code', 'Vendor', 'Email', 'Name', 'Status', 'Roster', 'Detail'].map((h) => el('th', {}, h)));
  return el('div', { class: 'wrap' }, el('table', { class: 'findings' }, el('thead', {}, head), body));
}

function findingsSection(rows: Row[], page: Page | undefined): HTMLElement {
  const r = review!;
  const facets = page?.facets;
  const vendors = Object.keys(facets?.vendor ?? r.summary.by_vendor);
  const codes = Object.keys(facets?.code ?? r.summary.by_finding).filter((c) => !facets || (facets.code[c] ?? 0) > 0 || r.summary.by_finding[c]);
  const bar = el('div', { class: 'filters' },
    select('vendor', 'Vendor', vendors, facets?.vendor),
    select('severity', 'Severity', ['high', 'medium', 'low', 'info'], facets?.severity),
    select('code', 'Finding', codes, facets?.code),
    select('roster', 'Roster', ['absent', 'terminated', 'active', 'unknown', 'none'], facets?.roster),
  );
  const total = page ? page.total : rows.length;
  const pager = el('div', { class: 'pager' }, el('span', { class: 'muted', 'data-total': String(total) }, total === 0 ? 'No finding matches.' : `Rows ${fmtNumber(offset + 1)}–${fmtNumber(offset + rows.length)} of ${fmtNumber(total)}`));
  if (page) {
    const prev = el('button', { type: 'button' }, 'Previous');
    prev.disabled = offset === 0;
    prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE); void loadPage(); });
    const next = el('button', { type: 'button' }, 'Next');
    next.disabled = offset + rows.length >= total;
    next.addEventListener('click', () => { offset += PAGE; void loadPage(); });
    pager.append(prev, next);
  } else pager.append(el('span', { class: 'muted' }, '(top findings; loading all…)'));
  return el('section', { id: 'findings' }, el('h2', {}, `Findings (${fmtNumber(r.summary.findings_total)})`), el('p', { class: 'muted' }, 'One row per finding and account it names.'), bar, pager, table(rows));
}

function evidence(r: Review): HTMLElement {
  const list = el('ul', { class: 'evidence' });
  const caps = app.getHostCapabilities();
  for (const [kind, uri, mime, label] of [['html', r.evidence.html, 'text/html', 'HTML report with the chart'], ['csv', r.evidence.csv, 'text/csv', 'CSV, one row per account'], ['json', r.evidence.json, 'application/json', 'JSON, the complete result']] as const) {
    const item = el('li', {}, el('b', {}, label), ': ', el('span', { class: 'mono' }, r.evidence.files?.[kind] ?? uri));
    if (caps?.downloadFile) {
      const b = el('button', { type: 'button', 'data-evidence': kind }, 'Save');
      b.addEventListener('click', () => void app.downloadFile({ contents: [{ type: 'resource_link', uri, name: uri.split('/').pop() ?? kind, mimeType: mime }] }));
      item.append(' ', b);
    }
    list.append(item);
  }
  return el('section', {}, el('h2', {}, 'Evidence'), list);
}

let renderSeq = 0;
function render(rows: Row[], page?: Page): void {
  const r = review!;
  root.replaceChildren(
    el('h1', {}, 'Access review'),
    el('p', { class: 'muted' }, `Review ${r.review_id} · ${r.reviewed_at.replace('T', ' ').slice(0, 16)} UTC`),
    summary(r),
    findingsSection(rows, page),
    evidence(r),
  );
}

async function loadPage(): Promise<void> {
  const seq = ++renderSeq;
  const args: Record<string, unknown> = { review_id: review!.review_id, offset, limit: PAGE };
  for (const [k, v] of Object.entries(filters)) if (v) args[k] = v;
  try {
    const page = await callTool<Page>(app, 'access_review_findings', args);
    if (seq === renderSeq) render(page.rows, page);
  } catch (err) {
    if (seq === renderSeq) document.getElementById('findings')?.append(el('p', { class: 'error' }, (err as Error).message));
  }
}

function onResult(result: CallToolResult): void {
  const sc = result.structuredContent as unknown as Review | undefined;
  if (result.isError || !sc) {
    root.replaceChildren(el('p', { class: 'error' }, 'The access review failed; the conversation has the reason.'));
    return;
  }
  if (sc.status !== 'done') {
    root.replaceChildren(el('h1', {}, 'Access review'), el('p', { class: 'status' }, sc.message ?? 'Still running…'));
    return;
  }
  review = sc;
  offset = 0;
  render(topRows(sc));
  void loadPage();
}

void (async () => {
  root.replaceChildren(el('p', { class: 'muted' }, 'Waiting for the access review…'));
  app = await connect('sales-access-mcp access review', root, { result: onResult });
})();
