import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ConfirmMode } from '../config.js';
import type { VendorId as Vendor } from '../domain/account.js';
import { ToolInputError } from '../http/errors.js';
import type { Requester } from './approval-page.js';
import type { ApprovalBroker } from './approvals.js';

/**
 * The single gate every destructive write passes, in the mode SALES_ACCESS_CONFIRM chooses:
 * - `auto` (default): `elicit` when the client declares form elicitation, otherwise `browser`;
 * - `elicit`: only a human's explicit accept in the client's elicitation dialog lets a write through;
 * - `browser`: a human approves on the loopback approval page (approvals.ts) while the call waits;
 * - `token`: an operator's opt-in for clients that cannot elicit but show their own per-call approval:
 *   the `confirm` argument must name the target exactly.
 * In every mode but `token`, nothing the model can put in the arguments counts: the approval page's URL is
 * never accepted as an argument, and approving needs a browser on the page (see approvals.ts).
 */

export interface ConfirmTarget {
  vendor: Vendor;
  id: string;
  email: string | null;
  /** What will happen, e.g. "lock (locked: true)". */
  action: string;
}

export interface ConfirmRequest {
  tool: string;
  /** One line shown first, e.g. "Lock Outreach user jane@acme.example (id 123)". */
  summary: string;
  targets: ConfirmTarget[];
  /** Caveats the human should read before approving. */
  notes: string[];
  /** Exact values accepted as `confirm` in token mode (e.g. the account's email and id). */
  tokenMatches: string[];
  /** The `confirm` argument as the model passed it. */
  confirmArg: string | undefined;
}

export interface Confirmation {
  method: 'elicit' | 'token' | 'browser';
  /** ISO 8601 time of the human's decision (for token: when the argument was checked). */
  at: string;
  /** Browser approvals: the page, when it was decided and the approving browser's User-Agent. */
  approval?: { url: string; decided_at: string; user_agent: string | null };
}

/** What the gate needs of the tool call it confirms. */
export interface ConfirmOptions {
  signal?: AbortSignal;
  /** MCP progress notification (a no-op when the request carried no progress token). */
  progress?: (progress: number, total: number | undefined, message: string) => Promise<void>;
  /** Who asked, shown on the approval page. */
  requester?: Requester;
}

export interface BrowserApprovalOptions {
  /** The process's approval broker (started lazily: only a call that needs the page starts its server). */
  broker: () => ApprovalBroker;
  /** How long a call waits for the decision (SALES_ACCESS_APPROVAL_TIMEOUT_SECONDS). */
  timeoutMs: number;
  /** Interval of the progress notifications that repeat the URL; default 15 s. */
  progressEveryMs?: number;
}

export class ConfirmationRefused extends ToolInputError {
  override readonly name: string = 'ConfirmationRefused';
}

export class ConfirmationGate {
  constructor(
    private readonly mode: ConfirmMode,
    private readonly server: Server,
    private readonly now: () => number = Date.now,
    private readonly browser?: BrowserApprovalOptions,
  ) {}

  async confirm(req: ConfirmRequest, opts: ConfirmOptions = {}): Promise<Confirmation> {
    switch (this.mode) {
      case 'token':
        return this.byToken(req);
      case 'elicit':
        return this.byElicitation(req, opts.signal);
      case 'browser':
        return this.byBrowser(req, opts);
      case 'auto':
        // Without an approval page (HTTP beyond loopback) auto means elicitation only.
        return this.canElicit() || !this.browser ? this.byElicitation(req, opts.signal) : this.byBrowser(req, opts);
    }
  }

  private canElicit(): boolean {
    return Boolean(this.server.getClientCapabilities()?.elicitation?.form);
  }

  private byToken(req: ConfirmRequest): Confirmation {
    if (req.confirmArg === undefined || !req.tokenMatches.includes(req.confirmArg)) {
      throw new ConfirmationRefused(
        `Nothing was changed. This server runs with SALES_ACCESS_CONFIRM=token: ${req.summary} needs the argument \`confirm\` set exactly to ${req.tokenMatches
          .map((m) => JSON.stringify(m))
          .join(' or ')}. Ask the user to approve this exact change first.`,
      );
    }
    return { method: 'token', at: new Date(this.now()).toISOString() };
  }

  private async byElicitation(req: ConfirmRequest, signal?: AbortSignal): Promise<Confirmation> {
    if (!this.canElicit()) {
      throw new ConfirmationRefused(
        `Nothing was changed. ${req.summary} needs a human's approval, and this MCP client cannot show a confirmation prompt (it does not support elicitation). Use a client that supports MCP elicitation, or ask the server's operator to set SALES_ACCESS_CONFIRM=auto (the default: an approval page in the browser) or SALES_ACCESS_CONFIRM=token for clients that show their own per-call approval.`,
      );
    }
    const result = await this.server.elicitInput(
      {
        mode: 'form',
        message: renderMessage(req),
        requestedSchema: {
          type: 'object',
          properties: {
            approve: {
              type: 'boolean',
              title: 'Approve this change',
              description: 'Tick to approve exactly the change described above.',
              default: false,
            },
          },
          required: ['approve'],
        },
      },
      { signal },
    );
    if (result.action !== 'accept' || result.content?.approve !== true) {
      const how = result.action === 'accept' ? 'did not approve' : result.action === 'decline' ? 'declined' : 'cancelled';
      throw new ConfirmationRefused(`Nothing was changed: the user ${how} "${req.summary}". Do not retry unless the user asks again.`);
    }
    return { method: 'elicit', at: new Date(this.now()).toISOString() };
  }

  /**
   * The approval page: open (or re-use) the request for this exact change, tell the client where to click
   * (progress notifications now and every 15 s), and wait for the decision up to the timeout. A call that
   * gives up leaves the request open; a later call for the same change picks up the decision.
   */
  private async byBrowser(req: ConfirmRequest, opts: ConfirmOptions): Promise<Confirmation> {
    if (!this.browser) {
      throw new ConfirmationRefused(`Nothing was changed. ${req.summary} needs a human's approval, and this server has no approval page configured.`);
    }
    const broker = this.browser.broker();
    const opened = await broker.open(approvalKey(req, opts.requester), {
      tool: req.tool,
      summary: req.summary,
      targets: req.targets,
      notes: req.notes,
      requester: opts.requester ?? { client: 'unknown client', transport: 'stdio' },
    });
    const { url } = opened;
    const expires = new Date(opened.expiresAt).toISOString();
    const timeoutMs = this.browser.timeoutMs;
    const total = Math.ceil(timeoutMs / 1000);
    const tell = async (elapsedMs: number) => {
      const left = Math.max(0, Math.round((timeoutMs - elapsedMs) / 1000));
      await opts.progress?.(
        Math.floor(elapsedMs / 1000),
        total,
        `Waiting for the user's approval: open ${url} in a browser and click Approve or Reject (${req.summary}). Waiting ${left} s more; the link expires at ${expires}.`,
      );
    };
    await tell(0).catch(() => {});
    const outcome = await broker.wait(opened.id, { timeoutMs, everyMs: this.browser.progressEveryMs ?? 15_000, signal: opts.signal, onTick: tell });
    const again =
      req.tool === 'execute_offboarding'
        ? 'call execute_offboarding again with the same plan_id'
        : `call ${req.tool} again with the same arguments`;
    if (outcome === 'expired') {
      throw new ConfirmationRefused(
        `Nothing was changed: the approval request ${url} for "${req.summary}" expired without a decision. If the user still wants this, ${again} for a new link.`,
      );
    }
    if (outcome === 'timeout') {
      throw new ConfirmationRefused(
        `Nothing was changed yet: no decision on the approval page within ${total} s. The user can still open ${url} and decide until ${expires}; then ${again} to pick up the decision. Give the user the link; only the user can approve, on the page.`,
      );
    }
    const decision = broker.take(opened.id);
    if (!decision) {
      throw new ConfirmationRefused(`Nothing was changed by this call: the decision on ${url} was already used by another call for the same change.`);
    }
    if (!decision.approved) {
      throw new ConfirmationRefused(`Nothing was changed: the user rejected "${req.summary}" on the approval page ${url}. Do not retry unless the user asks again.`);
    }
    const at = new Date(decision.decidedAt).toISOString();
    return { method: 'browser', at, approval: { url, decided_at: at, user_agent: decision.userAgent } };
  }
}

/**
 * One approval request per change: the tool, each target with its action, and the values that identify it
 * (an offboarding's plan id), so a retry of the same call re-uses the open request and its URL.
 */
/**
 * One approval request per change and per requester: a retry by the same client re-uses the pending request
 * (and picks up a decision made after it gave up), while another client asking for the same change cannot
 * take the decision a human made for the first.
 */
export function approvalKey(req: ConfirmRequest, requester?: Requester): string {
  const who = requester ? [requester.client, requester.transport, requester.tokenFingerprint ?? null] : null;
  return JSON.stringify([req.tool, req.targets.map((t) => [t.vendor, t.id, t.action]), [...req.tokenMatches].sort(), who]);
}

function renderMessage(req: ConfirmRequest): string {
  const lines = [req.summary, ''];
  for (const t of req.targets) lines.push(`- ${t.vendor}: ${t.email ?? '(no email)'} (id ${t.id}) -> ${t.action}`);
  if (req.notes.length > 0) {
    lines.push('', 'Please note:');
    for (const n of req.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n');
}
