import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import type { ConfirmMode } from '../config.js';
import { ToolInputError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PersonRef } from '../audit/audit-log.js';
import { utc, type Requester } from './approval-page.js';
import { keyDigestOf, ownerDigestOf, type ApprovalBroker } from './approvals.js';
import { inChatKeyDigest, inChatOwnerDigest, type InChatApprovals } from './in-chat.js';
import type { ConfirmTarget } from './types.js';

/**
 * The single gate every destructive write passes, in the mode SALES_ACCESS_CONFIRM chooses:
 * - `auto` (default): `elicit` when the client declares form elicitation, otherwise `browser`;
 * - `elicit`: only a human's explicit accept in the client's elicitation dialog lets a write through;
 * - `browser`: a human approves on the loopback approval page (approvals.ts). The call does not wait for the
 *   decision: it answers at once with the link (ApprovalOutcome `approval_required`, or, to a client that
 *   declares URL-mode elicitation, the MCP error that asks it to show the link), a repeated call answers
 *   `pending` until the human decides, and the first call after the decision uses it: the write goes through
 *   once, or the call answers `declined`;
 * - `token`: an operator's opt-in for clients that cannot elicit but show their own per-call approval:
 *   the `confirm` argument must name the target exactly.
 * In `auto`, a change that has an in-chat view (an offboarding plan) is decided in that view when the client
 * declares the MCP Apps extension: the call answers `approval_required` at once (the view shows the plan with
 * Approve and Reject), the click reaches the app-only decision tool with the request's nonce (in-chat.ts), and
 * the next call for the same change takes the decision once, as with the page. Any other mode turns it off.
 * In every mode but `token`, nothing the model can put in the arguments counts: the approval page's URL is
 * never accepted as an argument, `approval_id` only names a request (it must belong to the same session and
 * the same change), and approving needs a browser on the page (see approvals.ts).
 */

// The account a confirmation names: in types.ts, which the approval page shares without importing the gate.
export type { ConfirmTarget } from './types.js';

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
  /**
   * The change has an in-chat view (MCP Apps) that can decide it, showing `subject` (e.g. the plan id) beside
   * its buttons. Without it, the change is approved the other ways only.
   */
  inChat?: { subject: Record<string, string> };
}

export interface Confirmation {
  method: 'elicit' | 'token' | 'browser' | 'app';
  /** ISO 8601 time of the human's decision (for token: when the argument was checked). */
  at: string;
  /** Who approved and how, in words, for the result. */
  by: string;
  /** Browser approvals: the request, when it was decided and the approving browser's User-Agent. */
  approval?: { id: string; url: string; decided_at: string; user_agent: string | null };
  /** In-chat approvals: the request, when it was decided and the host that relayed the click. */
  inChat?: { id: string; decided_at: string; host: string; by?: PersonRef };
}

/** What the gate needs of the tool call it confirms. */
export interface ConfirmOptions {
  signal?: AbortSignal;
  /** MCP progress notification (a no-op when the request carried no progress token). */
  progress?: (progress: number, total: number | undefined, message: string) => Promise<void>;
  /** Who asked, shown on the approval page. */
  requester?: Requester;
  /** The MCP session (HTTP) or connection (stdio process) of the call: an approval is bound to it. */
  session: string;
  /** The call's arguments as an approval binds them (the runtime's digest of the tool's own arguments). */
  binding: string;
  /** The call's `approval_id` argument: it names the request the call means, and approves nothing. */
  approvalId?: string;
}

export interface InChatOptions {
  /** The process's in-chat approval requests. */
  store: () => InChatApprovals;
  /** Whether this session's client declares the MCP Apps extension (checked per call: known after initialize). */
  available: () => boolean;
}

export interface PageApprovalOptions {
  /** The process's approval broker (started lazily: only a call that needs the page starts its server). */
  broker: () => ApprovalBroker;
  /** Where the link of each new request is logged (warn, on stderr), for a human reading the server's log. */
  log?: Logger;
}

export class ConfirmationRefused extends ToolInputError {
  override readonly name: string = 'ConfirmationRefused';
}

export type ApprovalStatus = 'approval_required' | 'pending' | 'declined';

/** An approval request as a result shows it: never its CSRF token or cookie. */
export interface ApprovalView {
  id: string;
  /** The approval page; null for an in-chat approval (the view is in the conversation). */
  url: string | null;
  summary: string;
  expires_at: string;
  decided_at: string | null;
}

/**
 * A destructive call that stops before writing and answers normally (not as an error): the approval was just
 * requested, is still undecided, or the human rejected it. Nothing was changed. The runtime makes the result.
 */
export class ApprovalOutcome extends Error {
  override readonly name = 'ApprovalOutcome';
  constructor(
    readonly status: ApprovalStatus,
    readonly approval: ApprovalView,
    /** One sentence for the agent to show the human. */
    message: string,
    /** Where the human decides: the approval page, or the in-chat view. */
    readonly method: 'browser' | 'app' = 'browser',
  ) {
    super(message);
  }
}

export class ConfirmationGate {
  /** Requests whose decision will be announced with notifications/elicitation/complete. */
  private readonly notifying = new Set<string>();

  constructor(
    private readonly mode: ConfirmMode,
    private readonly server: Server,
    private readonly now: () => number = Date.now,
    private readonly page?: PageApprovalOptions,
    private readonly inChat?: InChatOptions,
    /**
     * Stateless HTTP (--stateless): no session carries an elicitation or its completion notice, and an in-chat
     * request's nonce lives in one replica's memory, so only the approval page (or token) can confirm.
     */
    private readonly stateless = false,
  ) {}

  async confirm(req: ConfirmRequest, opts: ConfirmOptions): Promise<Confirmation> {
    switch (this.mode) {
      case 'token':
        return this.byToken(req);
      case 'elicit':
        return this.byElicitation(req, opts);
      case 'browser':
        return this.byPage(req, opts);
      case 'auto':
        if (req.inChat && !this.stateless && this.inChat?.available()) return this.byApp(req, opts);
        // Without an approval page (HTTP beyond loopback) auto means elicitation only.
        return this.canElicit() || !this.page ? this.byElicitation(req, opts) : this.byPage(req, opts);
    }
  }

  private canElicit(): boolean {
    return !this.stateless && Boolean(this.server.getClientCapabilities()?.elicitation?.form);
  }

  private canElicitUrl(): boolean {
    return !this.stateless && Boolean(this.server.getClientCapabilities()?.elicitation?.url);
  }

  private byToken(req: ConfirmRequest): Confirmation {
    if (req.confirmArg === undefined || !req.tokenMatches.includes(req.confirmArg)) {
      throw new ConfirmationRefused(
        `Nothing was changed. This server runs with SALES_ACCESS_CONFIRM=token: ${req.summary} needs the argument \`confirm\` set exactly to ${req.tokenMatches
          .map((m) => JSON.stringify(m))
          .join(' or ')}. Ask the user to approve this exact change first.`,
      );
    }
    return {
      method: 'token',
      at: new Date(this.now()).toISOString(),
      by: 'the `confirm` argument naming the target (SALES_ACCESS_CONFIRM=token: the MCP host\'s own per-call approval)',
    };
  }

  private async byElicitation(req: ConfirmRequest, opts: ConfirmOptions): Promise<Confirmation> {
    if (this.stateless) {
      throw new ConfirmationRefused(
        `Nothing was changed. ${req.summary} needs a human's approval, and this server runs stateless HTTP (--stateless), where MCP elicitation is not available, and it offers no approval page (served on loopback, or beyond it only when the page signs people in). Ask the server's operator to set SALES_ACCESS_APPROVAL_CLIENT_ID (sign-in on the approval page), SALES_ACCESS_CONFIRM=token (for clients that show their own per-call approval), or to serve with sessions (without --stateless).`,
      );
    }
    if (!this.canElicit()) {
      throw new ConfirmationRefused(
        `Nothing was changed. ${req.summary} needs a human's approval, and this MCP client cannot show a confirmation prompt (it does not support elicitation). Use a client that supports MCP elicitation, or ask the server's operator to set SALES_ACCESS_CONFIRM=auto (the default: an approval page in the browser) or SALES_ACCESS_CONFIRM=token for clients that show their own per-call approval.`,
      );
    }
    // A `running` answer given while the dialog is open says what the work waits for.
    await opts.progress?.(0, undefined, `Waiting for the user's answer in the confirmation dialog: ${req.summary}`).catch(() => {});
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
      { signal: opts.signal },
    );
    if (result.action !== 'accept' || result.content?.approve !== true) {
      const how = result.action === 'accept' ? 'did not approve' : result.action === 'decline' ? 'declined' : 'cancelled';
      throw new ConfirmationRefused(`Nothing was changed: the user ${how} "${req.summary}". Do not retry unless the user asks again.`);
    }
    const client = opts.requester?.client ?? 'the MCP client';
    return { method: 'elicit', at: new Date(this.now()).toISOString(), by: `the user, in the confirmation dialog of ${client} (MCP elicitation)` };
  }

  /**
   * The approval page, without waiting: open (or re-use) the request for this exact change in this session,
   * and answer at once. The first call after the human decided takes the decision (once): approved, the write
   * goes on; rejected, the call answers `declined`. Before that, the call answers `approval_required` (new
   * request) or `pending`, with the link; a client that declares URL-mode elicitation gets the MCP error that
   * asks it to show the link instead, and a completion notice when the human has decided.
   */
  private async byPage(req: ConfirmRequest, opts: ConfirmOptions): Promise<Confirmation> {
    if (!this.page) {
      throw new ConfirmationRefused(`Nothing was changed. ${req.summary} needs a human's approval, and this server has no approval page configured.`);
    }
    const broker = this.page.broker();
    if (broker.signInRequired && !opts.requester?.person) {
      // The page accepts only the person who asked, so a caller known by a static token has nobody to approve.
      throw new ConfirmationRefused(
        `Nothing was changed. ${req.summary} needs a human's approval on the approval page, which accepts only the person who asked, signed in with the identity provider; this call came with the server's static token (SALES_ACCESS_HTTP_TOKEN), which names no person. Connect with the identity provider's sign-in (OAuth) instead, or use a client with MCP elicitation over a session.`,
      );
    }
    const key = approvalKey(req, opts);
    if (opts.approvalId !== undefined) {
      checkApprovalId(await broker.info(opts.approvalId), { ownerDigest: ownerDigestOf(opts.session), keyDigest: keyDigestOf(key) }, opts.approvalId, req.tool);
    }
    const opened = await broker.open(
      key,
      {
        tool: req.tool,
        summary: req.summary,
        targets: req.targets,
        notes: req.notes,
        requester: opts.requester ?? { client: 'unknown client', transport: 'stdio' },
      },
      opts.session,
    );
    const { id, url } = opened;
    const decision = (await broker.info(id))?.decision;
    const view: ApprovalView = { id, url, summary: req.summary, expires_at: new Date(opened.expiresAt).toISOString(), decided_at: null };
    if (decision) {
      if (!(await broker.take(id))) {
        throw new ConfirmationRefused(`Nothing was changed by this call: the decision on ${url} was already used by another call for the same change.`);
      }
      const at = new Date(decision.decidedAt).toISOString();
      if (!decision.approved) {
        throw new ApprovalOutcome('declined', { ...view, decided_at: at }, `You rejected "${req.summary}" on the approval page at ${utc(decision.decidedAt)}; nothing was changed.`);
      }
      return {
        method: 'browser',
        at,
        by: `the user, on the approval page ${url} at ${utc(decision.decidedAt)} (browser: ${decision.userAgent ?? 'no User-Agent'})`,
        approval: { id, url, decided_at: at, user_agent: decision.userAgent },
      };
    }
    if (opened.created) {
      // The human can find the link in the server's log too (Claude Desktop keeps it in its MCP log file).
      this.page.log?.warn({ tool: req.tool, approval_url: url, expires_at: view.expires_at }, `approval needed: open ${url} to approve or reject "${req.summary}"`);
    }
    const expires = utc(opened.expiresAt);
    if (this.canElicitUrl()) {
      this.notifyWhenDecided(broker, id);
      throw new UrlElicitationRequiredError(
        [{ mode: 'url', elicitationId: id, url, message: `Approve or reject: ${req.summary}. Nothing changes unless you click Approve; the link expires at ${expires}.` }],
        `Nothing was changed yet: ${req.summary} needs the user's approval on ${url} (expires at ${expires}). Once they decided, call ${req.tool} again with the same arguments.`,
      );
    }
    const message = opened.created
      ? `Approval needed: open ${url} in your browser and click Approve or Reject for "${req.summary}" (the link expires at ${expires}); nothing has been changed yet.`
      : `Still waiting for your decision: open ${url} and click Approve or Reject for "${req.summary}" (the link expires at ${expires}); nothing has been changed yet.`;
    throw new ApprovalOutcome(opened.created ? 'approval_required' : 'pending', view, message);
  }

  /**
   * The in-chat view, without waiting: open (or re-use) the request for this change in this session and answer
   * `approval_required` or `pending` at once (the runtime adds the nonce to the result's `_meta` for the view);
   * the first call after the human clicked takes the decision (once).
   */
  private async byApp(req: ConfirmRequest, opts: ConfirmOptions): Promise<Confirmation> {
    const store = this.inChat!.store();
    const key = approvalKey(req, opts);
    if (opts.approvalId !== undefined) {
      checkApprovalId(await store.info(opts.approvalId), { ownerDigest: inChatOwnerDigest(opts.session), keyDigest: inChatKeyDigest(key) }, opts.approvalId, req.tool);
    }
    const opened = await store.open(key, opts.session, { tool: req.tool, summary: req.summary, subject: req.inChat!.subject });
    const { id } = opened;
    const decision = (await store.info(id))?.decision;
    const view: ApprovalView = { id, url: null, summary: req.summary, expires_at: new Date(opened.expiresAt).toISOString(), decided_at: null };
    if (decision) {
      if (!(await store.take(id))) throw new ConfirmationRefused(`Nothing was changed by this call: the decision on "${req.summary}" was already used by another call.`);
      const at = new Date(decision.decidedAt).toISOString();
      if (!decision.approved) {
        throw new ApprovalOutcome('declined', { ...view, decided_at: at }, `You rejected "${req.summary}" in the conversation at ${utc(decision.decidedAt)}; nothing was changed.`, 'app');
      }
      return {
        method: 'app',
        at,
        by: `${decision.by ? (decision.by.email ?? decision.by.name ?? `subject ${decision.by.sub}`) : 'the user'}, with Approve in the in-chat view of ${decision.host} at ${utc(decision.decidedAt)} (MCP Apps)`,
        inChat: { id, decided_at: at, host: decision.host, ...(decision.by ? { by: decision.by } : {}) },
      };
    }
    const expires = utc(opened.expiresAt);
    const message = opened.created
      ? `Approval needed: the plan is shown in the conversation with Approve and Reject buttons for "${req.summary}" (until ${expires}); nothing has been changed yet. Clicking Approve carries it out.`
      : `Still waiting for the user's decision in the conversation's view on "${req.summary}" (until ${expires}); nothing has been changed yet.`;
    throw new ApprovalOutcome(opened.created ? 'approval_required' : 'pending', view, message, 'app');
  }

  /** URL-mode elicitation: tells the client when the human has decided, so it can retry the call. */
  private notifyWhenDecided(broker: ApprovalBroker, id: string): void {
    if (this.notifying.has(id)) return;
    let notify: () => Promise<void>;
    try {
      notify = this.server.createElicitationCompletionNotifier(id);
    } catch {
      return;
    }
    this.notifying.add(id);
    broker.onDecided(id, () => {
      this.notifying.delete(id);
      notify().catch((err: unknown) => this.page?.log?.debug({ err: (err as Error)?.message }, 'elicitation completion not delivered'));
    });
  }
}

/**
 * One approval request per change and per session: the tool, each target with its action, the values that
 * identify it (an offboarding's plan id), the call's arguments, and the MCP session (or stdio connection). A
 * retry of the same call re-uses the pending request (and picks up a decision made after it answered), while
 * another session asking for the same change cannot take the decision a human made for the first.
 */
export function approvalKey(req: ConfirmRequest, opts: Pick<ConfirmOptions, 'binding' | 'session'>): string {
  return JSON.stringify([req.tool, req.targets.map((t) => [t.vendor, t.id, t.action]), [...req.tokenMatches].sort(), opts.binding, opts.session]);
}

/** `approval_id` names a request; it must be one of this session's, for this very change. */
/**
 * An `approval_id` the model passed must name a request (page or in-chat: `info`, undefined when unknown) of
 * this session (`ownerDigest`) for this very change (`keyDigest`).
 */
function checkApprovalId(
  info: { ownerDigest: string; keyDigest: string; summary: string } | undefined,
  expected: { ownerDigest: string; keyDigest: string },
  approvalId: string,
  tool: string,
): void {
  if (!info || info.ownerDigest !== expected.ownerDigest) {
    throw new ConfirmationRefused(
      `Nothing was changed: approval_id "${approvalId}" is not an approval request of this session (a request belongs to the session that asked, and is forgotten 10 minutes after it expires). Call ${tool} without approval_id to ask the user for approval.`,
    );
  }
  if (info.keyDigest !== expected.keyDigest) {
    throw new ConfirmationRefused(
      `Nothing was changed: approval_id "${approvalId}" was asked for another change ("${info.summary}"), not for these arguments. Call ${tool} with the arguments it was made for, or without approval_id to ask for this change.`,
    );
  }
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
