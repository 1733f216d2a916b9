import { randomBytes } from 'node:crypto';
import type { PersonRef } from '../audit/audit-log.js';
import type { Deps } from '../deps.js';
import { ToolInputError } from '../errors.js';
import { sameSecret } from './secret.js';

/**
 * Approval requests decided in the conversation, in an MCP Apps view (the `io.modelcontextprotocol/ui`
 * extension): the counterpart of the approval page (approvals.ts) for hosts that render views. A request has
 * an id (which the model sees, as `approval.id`) and a nonce (which it never sees: the nonce travels only in
 * the result's `_meta`, which the host hands to the view, and back in the app-only decision tool's arguments).
 * A decision needs both, from the session that asked; the nonce is single-use, and the decision is handed to
 * one tool call (take), like a page decision.
 *
 * Own code rather than the approval page's broker: that one serves an HTTP page with CSRF token and cookie,
 * and starts a loopback server; this one has neither, only the nonce check.
 */

/** Same lifetimes as the approval page: 10 minutes to decide, and a decision kept 10 minutes for its call. */
export const IN_CHAT_TTL_MS = 10 * 60_000;
/** Undecided requests at once, per process. */
const MAX_OPEN = 50;
/** The `_meta` key of a result that carries the request's nonce to the view. */
export const APPROVAL_META_KEY = 'sales-access-mcp/approval';

export interface InChatDecision {
  approved: boolean;
  decidedAt: number;
  /** The MCP host that rendered the view and relayed the click (its clientInfo name and version). */
  host: string;
  /** HTTP with the identity provider: the signed-in person whose session relayed the click. */
  by?: PersonRef;
}

export interface InChatInfo {
  id: string;
  key: string;
  owner: string;
  tool: string;
  summary: string;
  /** What the view shows beside the buttons (e.g. the offboarding plan id). */
  subject: Record<string, string>;
  expiresAt: number;
  decision: InChatDecision | undefined;
  taken: boolean;
}

interface Rec extends InChatInfo {
  nonce: string;
  createdAt: number;
  /** The nonce was used by a decision: any further use is refused. */
  nonceUsed: boolean;
}

export class InChatApprovals {
  private readonly records = new Map<string, Rec>();
  private readonly byKey = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Opens a request for `key`, or re-uses the open one (pending, or decided and not yet used by a call). */
  open(key: string, owner: string, request: { tool: string; summary: string; subject: Record<string, string> }): { id: string; expiresAt: number; created: boolean } {
    this.purge();
    const now = this.now();
    const existing = this.records.get(this.byKey.get(key) ?? '');
    if (existing && !existing.taken && (existing.decision ? now <= existing.decision.decidedAt + IN_CHAT_TTL_MS : now <= existing.expiresAt)) {
      return { id: existing.id, expiresAt: existing.expiresAt, created: false };
    }
    const open = [...this.records.values()].filter((r) => !r.decision && now <= r.expiresAt).length;
    if (open >= MAX_OPEN) {
      throw new ToolInputError(`Nothing was changed: ${open} approval requests are already waiting for a decision. Ask the user to decide or let them expire (10 minutes).`);
    }
    const rec: Rec = {
      id: randomBytes(16).toString('base64url'),
      nonce: randomBytes(32).toString('base64url'),
      key,
      owner,
      tool: request.tool,
      summary: request.summary,
      subject: request.subject,
      createdAt: now,
      expiresAt: now + IN_CHAT_TTL_MS,
      decision: undefined,
      taken: false,
      nonceUsed: false,
    };
    this.records.set(rec.id, rec);
    this.byKey.set(key, rec.id);
    return { id: rec.id, expiresAt: rec.expiresAt, created: true };
  }

  info(id: string): InChatInfo | undefined {
    this.purge();
    const r = this.records.get(id);
    return r && { id: r.id, key: r.key, owner: r.owner, tool: r.tool, summary: r.summary, subject: r.subject, expiresAt: r.expiresAt, decision: r.decision, taken: r.taken };
  }

  /**
   * The nonce of an undecided request, for the `_meta` of the result that this session's call answers; never
   * for another session, and never once the request is decided (a replayed result carries none).
   */
  nonceFor(id: string, owner: string): string | undefined {
    const r = this.records.get(id);
    if (!r || r.owner !== owner || r.decision || r.nonceUsed || this.now() > r.expiresAt) return undefined;
    return r.nonce;
  }

  /**
   * The human's click in the view, relayed by the host through the app-only decision tool. Refused unless
   * the request is this session's, undecided, unexpired, and the nonce is its own and unused.
   */
  decide(id: string, nonce: string, owner: string, approved: boolean, host: string, by?: PersonRef): InChatInfo {
    this.purge();
    const r = this.records.get(id);
    if (!r || r.owner !== owner) {
      throw new ToolInputError('Nothing was decided: this approval request is not one of this conversation (it may have expired and been forgotten). Ask the assistant to run the change again.');
    }
    if (r.nonceUsed || r.decision) {
      throw new ToolInputError(`Nothing was decided: "${r.summary}" was already ${r.decision?.approved ? 'approved' : 'rejected'}; a decision is made once.`);
    }
    if (!sameSecret(nonce, r.nonce)) {
      throw new ToolInputError('Nothing was decided: the view\'s token does not belong to this approval request. Reload the view from the latest result.');
    }
    const now = this.now();
    if (now > r.expiresAt) {
      r.nonceUsed = true;
      throw new ToolInputError(`Nothing was decided: the approval request for "${r.summary}" expired. Ask the assistant to run the change again.`);
    }
    r.nonceUsed = true;
    r.decision = { approved, decidedAt: now, host, ...(by ? { by } : {}) };
    return this.info(id)!;
  }

  /** The decision for the one tool call that acts on it; undefined if none, or already used. */
  take(id: string): InChatDecision | undefined {
    const r = this.records.get(id);
    if (!r?.decision || r.taken) return undefined;
    r.taken = true;
    return r.decision;
  }

  private purge(): void {
    const now = this.now();
    for (const [id, r] of this.records) {
      const end = (r.decision ? r.decision.decidedAt : r.expiresAt) + IN_CHAT_TTL_MS;
      if (now > end) {
        this.records.delete(id);
        if (this.byKey.get(r.key) === id) this.byKey.delete(r.key);
      }
    }
  }
}

const stores = new WeakMap<Deps, InChatApprovals>();

/** The in-chat approval requests of these deps (one per process, shared by every session's server). */
export function inChatApprovalsFor(deps: Deps): InChatApprovals {
  let s = stores.get(deps);
  if (!s) {
    s = new InChatApprovals(() => deps.clock.now());
    stores.set(deps, s);
  }
  return s;
}
