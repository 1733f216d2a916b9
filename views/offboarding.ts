import type { App } from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { badge, callTool, connect, el, fmtNumber, textOf } from './common.js';

/**
 * The in-chat offboarding view. For plan_offboarding it shows the plan: per person and vendor what is handed
 * over to whom, unlinked, deactivated, the seat effect and the manual steps. For execute_offboarding's
 * `approval_required`/`pending` result it shows the same plan (read through the app-only `offboarding_plan`)
 * with Approve and Reject: the click goes to the app-only `offboarding_decide` with the request's nonce, which
 * only this view has (the result's `_meta`); Approve then runs execute_offboarding, which takes the decision
 * once. For execute_offboarding's `done` result it shows each step's outcome.
 */

const NONCE_KEY = 'sales-access-mcp/approval';
const PLAN_IN_SUMMARY = /plan ([A-Za-z0-9_-]{22})$/;

interface Step {
  step_id: string; vendor: string; person: string; account_id: string; email: string | null; name?: string | null; kind: string; action: string; path: string;
  expected_result?: string; seat_freed: boolean | null; record_type: string | null; count?: number | null; count_is_lower_bound?: boolean;
  transfer_to?: { id: string; email: string | null } | null; irreversible?: boolean; manual_instructions?: string | null;
  outcome?: string; error?: string | null; records_moved?: number | null; audit_ops?: number;
}
interface PlanOut {
  plan_id: string; expires_at: string; people: string[]; steps: Step[]; warnings: string[];
  summary: { steps: number; automated: number; manual: number; already_done: number; records_to_transfer: number; seats_still_billed: number };
  unchecked: { vendor: string; reason: string }[]; not_found: { person: string; vendors: string[] }[];
}
interface Envelope { status: string; message?: string; approval?: { id: string | null; method: string; summary: string; expires_at: string | null; decided_at: string | null; approved_by: string | null } }

const root = document.getElementById('root')!;
let app: App;
let toolArgs: Record<string, unknown> = {};

function seat(s: Step): HTMLElement | null {
  if (s.kind !== 'deactivate' && s.kind !== 'free_seat') return null;
  if (s.seat_freed === true) return badge('seat freed', 'ok');
  if (s.seat_freed === false) return badge('seat still billed', 'warn');
  return badge('seat: vendor does not say', 'sev-info');
}

function stepLine(s: Step): HTMLLIElement {
  const what =
    s.kind === 'transfer'
      ? `Hand over ${s.count === null || s.count === undefined ? '' : `${s.count_is_lower_bound ? 'at least ' : ''}${fmtNumber(s.count)} `}${s.record_type ?? 'records'} to ${s.transfer_to?.email ?? s.transfer_to?.id ?? '–'}`
      : s.action;
  const li = el('li', { class: `${s.path === 'manual' ? 'manual' : ''} ${s.irreversible ? 'irreversible' : ''}`.trim() || undefined, 'data-step': s.step_id, 'data-kind': s.kind },
    el('span', { class: 'action' }, what), ' ',
    s.path === 'manual' ? badge('manual', 'sev-medium') : s.path === 'none' ? badge('already done', 'sev-info') : el('span', { class: 'muted' }, `(${s.path})`), ' ',
    seat(s), s.irreversible ? badge('irreversible', 'sev-high') : null,
  );
  if (s.outcome) li.append(' ', badge(s.outcome, s.outcome === 'done' || s.outcome === 'unchanged' ? 'ok' : s.outcome === 'manual' ? 'sev-medium' : 'sev-high'));
  if (s.error) li.append(el('div', { class: 'error' }, s.error));
  if (s.path === 'manual' && s.manual_instructions) li.append(el('div', { class: 'muted' }, s.manual_instructions));
  return li;
}

/** Per person, then per vendor (with the account), the steps in plan order. */
function people(steps: Step[]): HTMLElement[] {
  const byPerson = new Map<string, Step[]>();
  for (const s of steps) byPerson.set(s.person, [...(byPerson.get(s.person) ?? []), s]);
  return [...byPerson].map(([person, ss]) => {
    const box = el('div', { class: 'person', 'data-person': person }, el('h3', {}, person));
    const byVendor = new Map<string, Step[]>();
    for (const s of ss) byVendor.set(s.vendor, [...(byVendor.get(s.vendor) ?? []), s]);
    for (const [vendor, vs] of byVendor) {
      const acct = vs.find((s) => s.kind === 'deactivate') ?? vs[0];
      box.append(
        el('div', { class: 'vendor' }, vendor, ' ', acct.name ? el('span', { class: 'account-name' }, acct.name) : null, ' ', el('span', { class: 'muted mono' }, `${acct.email ?? ''} (id ${acct.account_id})`)),
        el('ul', { class: 'steps' }, ...vs.map(stepLine)),
      );
    }
    return box;
  });
}

function planSection(p: PlanOut, results?: Step[]): HTMLElement[] {
  const byId = new Map((results ?? []).map((r) => [r.step_id, r]));
  const steps = p.steps.map((s) => ({ ...s, ...(byId.get(s.step_id) ? { outcome: byId.get(s.step_id)!.outcome, error: byId.get(s.step_id)!.error } : {}) }));
  const s = p.summary;
  const out: HTMLElement[] = [
    el('div', { class: 'cards' },
      el('div', { class: 'card' }, el('div', { class: 'n' }, fmtNumber(p.people.length)), el('div', { class: 'l' }, 'people')),
      el('div', { class: 'card' }, el('div', { class: 'n' }, fmtNumber(s.automated)), el('div', { class: 'l' }, 'automated steps')),
      el('div', { class: 'card medium' }, el('div', { class: 'n' }, fmtNumber(s.manual)), el('div', { class: 'l' }, 'manual steps')),
      el('div', { class: 'card' }, el('div', { class: 'n' }, fmtNumber(s.records_to_transfer)), el('div', { class: 'l' }, 'records handed over')),
      el('div', { class: 'card high' }, el('div', { class: 'n' }, fmtNumber(s.seats_still_billed)), el('div', { class: 'l' }, 'seats still billed')),
    ),
  ];
  const warnings = [...p.unchecked.map((u) => `NOT COVERED: ${u.vendor} could not be checked (${u.reason}).`), ...p.warnings];
  if (warnings.length) out.push(el('ul', { class: 'warnings' }, ...warnings.map((w) => el('li', { class: 'error' }, w))));
  out.push(...people(steps));
  if (p.not_found.length) out.push(el('p', { class: 'muted' }, `No account: ${p.not_found.map((n) => `${n.person} (${n.vendors.join(', ')})`).join('; ')}`));
  return out;
}

function header(title: string, sub: string): HTMLElement[] {
  return [el('h1', {}, title), el('p', { class: 'muted' }, sub)];
}

async function showApproval(env: Envelope, nonce: string | undefined): Promise<void> {
  const a = env.approval!;
  const planId = String(toolArgs.plan_id ?? PLAN_IN_SUMMARY.exec(a.summary)?.[1] ?? '');
  let plan: PlanOut;
  try {
    plan = (await callTool<{ plan: PlanOut }>(app, 'offboarding_plan', { plan_id: planId })).plan;
  } catch (err) {
    root.replaceChildren(...header('Offboarding approval', a.summary), el('p', { class: 'error' }, (err as Error).message));
    return;
  }
  const status = el('p', { class: 'status', role: 'status' }, env.status === 'declined' ? 'You rejected this offboarding; nothing was changed.' : 'Nothing has been changed yet. Approve carries out the automated steps now.');
  const approve = el('button', { type: 'button', class: 'approve' }, 'Approve');
  const reject = el('button', { type: 'button', class: 'reject' }, 'Reject');
  const bar = el('div', { class: 'decision' }, approve, reject, status);
  if (!nonce || env.status === 'declined' || !a.id) {
    approve.disabled = reject.disabled = true;
    if (!nonce && env.status !== 'declined') status.textContent = 'This approval request was already decided or has expired.';
  }
  const decide = async (decision: 'approve' | 'reject') => {
    approve.disabled = reject.disabled = true;
    status.textContent = decision === 'approve' ? 'Approving…' : 'Rejecting…';
    try {
      await callTool(app, 'offboarding_decide', { approval_id: a.id, nonce, decision });
    } catch (err) {
      status.textContent = (err as Error).message;
      status.className = 'status error';
      return;
    }
    if (decision === 'reject') {
      status.textContent = 'Rejected: nothing was changed.';
      void tellModel(`The user rejected the offboarding (plan ${planId}) in the in-chat view; nothing was changed.`);
      return;
    }
    status.textContent = 'Approved. Carrying out the offboarding…';
    try {
      const done = await execute(planId, a.id!);
      const summary = done.summary as Record<string, number>;
      status.textContent = `Done: ${summary.done} changed, ${summary.unchanged} already so, ${summary.failed + summary.ambiguous} failed, ${summary.manual} manual, ${summary.blocked} blocked.`;
      root.replaceChildren(...header('Offboarding carried out', `Plan ${planId}`), ...planSection(plan, done.steps as Step[]), bar);
      void tellModel(`The user approved the offboarding (plan ${planId}) in the in-chat view, and it ran: ${JSON.stringify(summary)}.${done.retry_advice ? ` ${String(done.retry_advice)}` : ''}`);
    } catch (err) {
      status.textContent = (err as Error).message;
      status.className = 'status error';
    }
  };
  approve.addEventListener('click', () => void decide('approve'));
  reject.addEventListener('click', () => void decide('reject'));
  root.replaceChildren(...header('Approve this offboarding?', a.summary), ...planSection(plan), bar);
}

/** execute_offboarding with the approval taken, following `running` answers until it is done. */
async function execute(planId: string, approvalId: string): Promise<Record<string, unknown>> {
  let args: Record<string, unknown> = { plan_id: planId, approval_id: approvalId };
  for (let i = 0; i < 200; i++) {
    const r = await callTool<Record<string, unknown>>(app, 'execute_offboarding', args);
    if (r.status === 'done') return r;
    if (r.status !== 'running') throw new Error(String(r.message ?? `execute_offboarding answered ${String(r.status)}`));
    args = { plan_id: planId, job_id: (r.job as { id: string }).id };
  }
  throw new Error('The offboarding is still running; ask the assistant for its result.');
}

async function tellModel(text: string): Promise<void> {
  try {
    if (app.getHostCapabilities()?.updateModelContext) await app.updateModelContext({ content: [{ type: 'text', text }] });
  } catch {
    // The view already shows the outcome; the assistant can read it with execute_offboarding.
  }
}

function onResult(result: CallToolResult): void {
  const sc = result.structuredContent as Record<string, any> | undefined;
  if (result.isError || !sc) {
    root.replaceChildren(el('p', { class: 'error' }, textOf(result) || 'The call failed.'));
    return;
  }
  if ((sc.status === 'approval_required' || sc.status === 'pending' || sc.status === 'declined') && sc.approval?.method === 'app') {
    const nonce = (result._meta?.[NONCE_KEY] as { nonce?: string } | undefined)?.nonce;
    void showApproval(sc as Envelope, nonce);
    return;
  }
  if (sc.status !== 'done') {
    root.replaceChildren(...header('Offboarding', ''), el('p', { class: 'status' }, String(sc.message ?? sc.status)));
    return;
  }
  if (Array.isArray(sc.steps) && sc.summary && 'automated' in sc.summary) {
    root.replaceChildren(...header('Offboarding plan', `Plan ${sc.plan_id} · valid until ${String(sc.expires_at).replace('T', ' ').slice(0, 16)} UTC · nothing changed yet`), ...planSection(sc as PlanOut));
    return;
  }
  // execute_offboarding done (in another turn than the view's own click): the outcome per step.
  void (async () => {
    const plan = (await callTool<{ plan: PlanOut }>(app, 'offboarding_plan', { plan_id: sc.plan_id })).plan;
    root.replaceChildren(...header('Offboarding carried out', `Plan ${sc.plan_id} · ${sc.confirmation}`), ...planSection(plan, sc.steps as Step[]));
  })().catch((err: Error) => root.replaceChildren(el('p', { class: 'error' }, err.message)));
}

void (async () => {
  root.replaceChildren(el('p', { class: 'muted' }, 'Waiting for the offboarding plan…'));
  app = await connect('sales-access-mcp offboarding', root, { input: (a) => (toolArgs = a), result: onResult });
})();
