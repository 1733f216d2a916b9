import type { AccountStatus } from './domain/account.js';
import type { ReviewSummary } from './domain/review.js';
import { escapeHtml } from './html.js';

/**
 * The chart of seats by vendor and status, a leaf module with no Node import: the HTML evidence report
 * (workflows/report.ts) writes it to disk, and the in-chat access review view (views/review.ts) draws it from
 * the tool's structuredContent in the browser. Every vendor string is escaped (vendor data is untrusted).
 */

/** What the chart reads of a review: the per-vendor summary and, when known, the vendors' names. */
export interface ChartInput {
  summary: { by_vendor: ReviewSummary['by_vendor'] };
  vendor_labels?: Record<string, string>;
}

export function fmt(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export const STATUS_COLOR: Record<AccountStatus, string> = {
  active: '#1b7f5b',
  pending: '#3b73c4',
  locked: '#d08c1a',
  deactivated: '#8a94a6',
  unknown: '#b04a8a',
};
/** Chart order: access first, then cost, then gone. */
export const CHART_STATUSES: AccountStatus[] = ['active', 'pending', 'locked', 'deactivated', 'unknown'];

/** Stacked horizontal bars of seats by vendor and status; one `g.bar-group` per vendor reviewed. */
export function renderChart(result: ChartInput, vendors: readonly string[]): string {
  const vendorLabel = (vendor: string) => result.vendor_labels?.[vendor] ?? vendor;
  const labelW = 120;
  const barW = 540;
  const rightW = 110;
  const rowH = 36;
  const barH = 22;
  const top = 10;
  const width = labelW + barW + rightW;
  const legendY = top + vendors.length * rowH + 18;
  const height = legendY + 24;
  let max = 0;
  for (const v of vendors) {
    const s = result.summary.by_vendor[v];
    if (s?.auditable) max = Math.max(max, s.accounts);
  }
  const descParts: string[] = [];
  const groups: string[] = [];
  vendors.forEach((v, i) => {
    const s = result.summary.by_vendor[v];
    const y = top + i * rowH;
    const label = vendorLabel(v);
    const parts: string[] = [`<text class="vlabel" x="${labelW - 10}" y="${y + barH / 2 + 5}" text-anchor="end">${escapeHtml(label)}</text>`];
    if (!s || !s.auditable) {
      parts.push(`<rect x="${labelW}" y="${y}" width="${barW}" height="${barH}" rx="3" fill="#fff8ed" stroke="#e7a64b" stroke-dasharray="5 4"/>`);
      parts.push(`<text class="note" x="${labelW + 10}" y="${y + barH / 2 + 4}">not auditable: seats could not be listed (not zero)</text>`);
      descParts.push(`${label}: not auditable`);
      groups.push(`<g class="bar-group not-auditable" data-vendor="${escapeHtml(v)}">${parts.join('')}</g>`);
      return;
    }
    let x = labelW;
    const segs: string[] = [];
    for (const st of CHART_STATUSES) {
      const n = s.by_status[st];
      if (n <= 0) continue;
      const w = Math.max(2, max === 0 ? 0 : (n / max) * barW);
      parts.push(
        `<rect class="seg seg-${escapeHtml(st)}" x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${STATUS_COLOR[st]}"><title>${escapeHtml(`${label} · ${st}: ${fmt(n)}`)}</title></rect>`,
      );
      x += w;
      segs.push(`${st} ${fmt(n)}`);
    }
    if (s.accounts === 0) parts.push(`<line class="axis" x1="${labelW}" x2="${labelW}" y1="${y}" y2="${y + barH}" stroke="#98a2b3" stroke-width="2"/>`);
    parts.push(`<text class="count" x="${x + 8}" y="${y + barH / 2 + 4}">${escapeHtml(fmt(s.accounts))} accounts</text>`);
    descParts.push(`${label}: ${fmt(s.accounts)} accounts${segs.length ? ` (${segs.join(', ')})` : ''}`);
    groups.push(`<g class="bar-group" data-vendor="${escapeHtml(v)}">${parts.join('')}</g>`);
  });
  const legend: string[] = [];
  let lx = labelW;
  for (const st of CHART_STATUSES) {
    legend.push(`<rect x="${lx}" y="${legendY}" width="12" height="12" rx="2" fill="${STATUS_COLOR[st]}"/><text class="legend" x="${lx + 17}" y="${legendY + 10}">${escapeHtml(st)}</text>`);
    lx += 24 + st.length * 7.5 + 14;
  }
  return (
    `<svg class="seats-chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="chart-title chart-desc">` +
    `<title id="chart-title">Seats by vendor and status</title>` +
    `<desc id="chart-desc">${escapeHtml(descParts.join('; ') || 'No vendor reviewed')}</desc>` +
    `<line class="axis" x1="${labelW}" x2="${labelW}" y1="${top - 4}" y2="${top + vendors.length * rowH - 10}"/>` +
    groups.join('') +
    `<g class="legend-group">${legend.join('')}</g>` +
    `</svg>`
  );
}

