/**
 * HTML escaping, a leaf module: the evidence report (workflows/report.ts) and the approval page
 * (confirm/approval-page.ts) both render vendor strings, which are attacker-controlled.
 */
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes & < > " ' so any value is safe in text and in quoted attributes. null/undefined → ''. */
export function escapeHtml(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}
