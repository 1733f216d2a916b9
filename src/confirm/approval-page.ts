import { createHash } from 'node:crypto';
import { escapeHtml } from '../html.js';
import type { PersonRef } from '../audit/audit-log.js';
import type { ConfirmTarget } from './types.js';

/**
 * The HTML of the approval page and of the pages that answer a decision. Self-contained (one hashed
 * <style>, no script, no image, no font), readable without JavaScript, and every value that comes from a
 * vendor or from the MCP client is escaped. See approvals.ts for the security model.
 */

export interface PageRequest {
  tool: string;
  summary: string;
  targets: ConfirmTarget[];
  notes: string[];
  /** Who asked, as the server knows it: the MCP client's own name and version, the transport, a token fingerprint. */
  requester: Requester;
}

export interface Requester {
  /** The MCP client's name and version as it declared them at initialize (self-reported). */
  client: string;
  transport: 'stdio' | 'http';
  /** HTTP: fingerprint of the bearer token the client authenticated with. */
  tokenFingerprint?: string;
  /** HTTP with the identity provider: the signed-in person who asked. */
  person?: PersonRef;
}

const STYLE = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5d6778; --line: #dfe3ea; --bg: #f4f6f9; --card: #ffffff;
  --danger: #b42318; --danger-dark: #912018; --ok: #067647; --warn-bg: #fff8e6; --warn-line: #f5d48a; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 760px; margin: 40px auto; padding: 0 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 28px 32px; box-shadow: 0 1px 3px rgba(16,24,40,.06); }
.eyebrow { display: inline-block; font-size: 12px; font-weight: 600; letter-spacing: .06em; text-transform: uppercase; color: var(--danger); background: #fef3f2; border: 1px solid #fecdca; border-radius: 999px; padding: 2px 10px; }
h1 { font-size: 22px; line-height: 1.3; margin: 12px 0 6px; overflow-wrap: anywhere; }
.meta { color: var(--muted); font-size: 13.5px; margin: 0 0 20px; }
.meta b { color: var(--ink); font-weight: 600; }
table { width: 100%; border-collapse: collapse; margin: 8px 0 20px; font-size: 14px; }
th { text-align: left; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); border-bottom: 1px solid var(--line); padding: 6px 8px; }
td { border-bottom: 1px solid var(--line); padding: 9px 8px; vertical-align: top; overflow-wrap: break-word; }
td.account { min-width: 14em; }
td.vendor { font-weight: 600; white-space: nowrap; }
td .id { color: var(--muted); font-size: 12.5px; }
.notes { background: var(--warn-bg); border: 1px solid var(--warn-line); border-radius: 8px; padding: 12px 16px 12px 18px; margin: 0 0 22px; }
.notes h2 { font-size: 14px; margin: 0 0 6px; }
.notes ul { margin: 0; padding-left: 18px; }
.notes li { margin: 3px 0; overflow-wrap: anywhere; }
form { display: flex; gap: 12px; justify-content: flex-end; flex-wrap: wrap; margin: 0; }
button { font: inherit; font-weight: 600; border-radius: 8px; padding: 10px 22px; cursor: pointer; border: 1px solid var(--line); }
button.reject { background: #fff; color: var(--ink); }
button.approve { background: var(--danger); border-color: var(--danger); color: #fff; }
button.approve:hover { background: var(--danger-dark); }
button.reject:hover { background: #f2f4f7; }
button:focus-visible { outline: 3px solid #84adff; outline-offset: 2px; }
.fine { color: var(--muted); font-size: 12.5px; margin-top: 18px; }
.result h1 { margin-top: 4px; }
.result.approved .eyebrow { color: var(--ok); background: #ecfdf3; border-color: #abefc6; }
.result.neutral .eyebrow { color: var(--muted); background: #f2f4f7; border-color: var(--line); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
`;

/** The page's Content-Security-Policy: nothing but its own hashed style, and forms that post to itself. */
export function approvalCsp(): string {
  const hash = createHash('sha256').update(STYLE, 'utf8').digest('base64');
  return `default-src 'none'; style-src 'sha256-${hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;
}

export function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function requesterText(r: Requester): string {
  if (r.person) {
    const who = r.person.email ? `${r.person.name ? `${r.person.name} ` : ''}<${r.person.email}>` : (r.person.name ?? 'a signed-in person');
    return `${who} (identity provider subject ${r.person.sub}), signed in, using ${r.client} over HTTP`;
  }
  const via = r.transport === 'http' ? `over HTTP${r.tokenFingerprint ? ` (bearer token fingerprint ${r.tokenFingerprint})` : ''}` : 'over stdio on this computer';
  return `${r.client} ${via}`;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export interface ApprovalPageInput {
  request: PageRequest;
  /** Form action: the page's own path. */
  action: string;
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

export function renderApprovalPage(p: ApprovalPageInput): string {
  const { request: r } = p;
  const rows = r.targets
    .map(
      (t) =>
        `<tr><td class="vendor">${escapeHtml(t.vendor)}</td><td class="account">${escapeHtml(t.email ?? '(no email)')}<br><span class="id">id ${escapeHtml(t.id)}</span></td><td>${escapeHtml(t.action)}</td></tr>`,
    )
    .join('\n');
  const notes =
    r.notes.length === 0
      ? ''
      : `<section class="notes"><h2>Before you approve</h2><ul>${r.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>`;
  const count = r.targets.length;
  return layout(
    `Approve: ${r.summary}`,
    `<div class="card">
<span class="eyebrow">Approval needed</span>
<h1>${escapeHtml(r.summary)}</h1>
<p class="meta">Requested by <b>${escapeHtml(requesterText(r.requester))}</b> through the tool <code>${escapeHtml(r.tool)}</code> at ${escapeHtml(utc(p.createdAt))}.<br>
This request expires at <b>${escapeHtml(utc(p.expiresAt))}</b>. Nothing changes unless you click Approve.</p>
<table>
<thead><tr><th>Vendor</th><th>Account</th><th>What will happen</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${notes}
<form method="post" action="${escapeHtml(p.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(p.csrf)}">
<button class="reject" type="submit" name="decision" value="reject">Reject</button>
<button class="approve" type="submit" name="decision" value="approve">Approve ${count === 1 ? 'this change' : `${count} changes`}</button>
</form>
<p class="fine">This page was opened from a link the sales-access-mcp server gave your AI assistant. Approve only if you asked for exactly this. A decision is final: the link cannot decide again.</p>
</div>`,
  );
}

export type ResultKind = 'approved' | 'rejected' | 'already' | 'expired' | 'refused' | 'not_found';

/** The answer to a decision, or to a link that cannot be decided (any more). */
export function renderResultPage(kind: ResultKind, opts: { summary?: string; at?: number; detail?: string } = {}): string {
  const summary = opts.summary ? `<p class="meta">${escapeHtml(opts.summary)}</p>` : '';
  const at = opts.at === undefined ? '' : ` at ${escapeHtml(utc(opts.at))}`;
  const pages: Record<ResultKind, { cls: string; eyebrow: string; title: string; text: string }> = {
    approved: {
      cls: 'approved',
      eyebrow: 'Approved',
      title: 'Approved. Go back to your assistant.',
      text: `You approved this${at}. The change is made when the assistant runs the same call again (for an offboarding, with the same plan id): tell it you approved, if it does not do so by itself, within 10 minutes. You can close this tab.`,
    },
    rejected: {
      cls: 'neutral',
      eyebrow: 'Rejected',
      title: 'Rejected. Nothing was changed.',
      text: `You rejected this${at}. The assistant is told that nothing was changed when it asks again. You can close this tab.`,
    },
    already: {
      cls: 'neutral',
      eyebrow: 'Already decided',
      title: 'This request was already decided.',
      text: `${opts.detail ?? 'It was decided earlier'}. Nothing was changed by this submission; a decision cannot be changed or repeated.`,
    },
    expired: {
      cls: 'neutral',
      eyebrow: 'Expired',
      title: 'This approval link has expired. Nothing was changed.',
      text: 'Approval links are valid for 10 minutes. Ask the assistant to run the call again for a new link.',
    },
    refused: {
      cls: 'neutral',
      eyebrow: 'Not accepted',
      title: 'This submission was not accepted. Nothing was changed.',
      text: `${opts.detail ?? 'It did not come from the approval page in this browser'}. Open the link the assistant gave you and use its buttons.`,
    },
    not_found: {
      cls: 'neutral',
      eyebrow: 'Not found',
      title: 'No such approval request.',
      text: 'The link is wrong, or the server was restarted since it was made. Nothing was changed.',
    },
  };
  const p = pages[kind];
  return layout(p.eyebrow, `<div class="card result ${p.cls}">
<span class="eyebrow">${escapeHtml(p.eyebrow)}</span>
<h1>${escapeHtml(p.title)}</h1>
${summary}
<p>${escapeHtml(p.text)}</p>
</div>`);
}
