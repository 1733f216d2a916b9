import { randomBytes } from 'node:crypto';
import type { PersonRef } from '../audit/audit-log.js';
import type { Deps } from '../deps.js';
import { ToolInputError } from '../errors.js';
import { APPROVAL_TTL_MS, checkOpenLimits, MemoryApprovalStore, reusable, type ApprovalState, type ApprovalStore } from './approval-store.js';
import { RedisApprovalStore } from './redis-approvals.js';
import { matchesDigest, secretDigest } from './secret.js';

/**
 * Approval requests decided in the conversation, in an MCP Apps view (the `io.modelcontextprotocol/ui`
 * extension): the counterpart of the approval page (approvals.ts) for hosts that render views. A request has
 * an id (which the model sees, as `approval.id`) and a nonce (which it never sees: the nonce travels only in
 * the result's `_meta`, which the host hands to the view, and back in the app-only decision tool's arguments).
 * A decision needs both, from the session that asked; the nonce is single-use, and the decision is handed to
 * one tool call (take), like a page decision.
 *
 * Own code rather than the approval page's broker: that one serves an HTTP page with CSRF token and cookie,
 * and starts a loopback server; this one has neither, only the nonce check. The requests are kept in the
 * page's store (approval-store.ts: memory, or Redis shared by the replicas) under their own names; the store
 * holds the session, the request key and the nonce as SHA-256 digests only. The nonce itself stays in the
 * memory of the replica that opened the request, which is the one answering that session's calls.
 */

/** Same lifetimes as the approval page: 10 minutes to decide, and a decision kept 10 minutes for its call. */
export const IN_CHAT_TTL_MS = APPROVAL_TTL_MS;
/** Undecided requests at once, per process. */
const MAX_OPEN = 200;
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
  /** SHA-256 of the request key (the change and the session). */
  keyDigest: string;
  /** SHA-256 of the session that asked. */
  ownerDigest: string;
  tool: string;
  summary: string;
  /** What the view shows beside the buttons (e.g. the offboarding plan id). */
  subject: Record<string, string>;
  expiresAt: number;
  decision: InChatDecision | undefined;
  taken: boolean;
}

/** A request as stored: no secret in it. */
export interface StoredInChat {
  id: string;
  keyDigest: string;
  ownerDigest: string;
  nonceDigest: string;
  tool: string;
  summary: string;
  subject: Record<string, string>;
  createdAt: number;
  expiresAt: number;
}

export const inChatKeyDigest = (key: string) => secretDigest('in-chat key', key);
export const inChatOwnerDigest = (session: string) => secretDigest('in-chat owner', session);
const nonceDigest = (nonce: string) => secretDigest('in-chat nonce', nonce);

export class InChatApprovals {
  private readonly store: ApprovalStore<StoredInChat, InChatDecision>;
  /** The nonces of the requests this process opened (the store has their digests only). */
  private readonly nonces = new Map<string, { nonce: string; expiresAt: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    store?: ApprovalStore<StoredInChat, InChatDecision>,
  ) {
    this.store = store ?? new MemoryApprovalStore<StoredInChat, InChatDecision>(now);
  }

  /** Opens a request for `key`, or re-uses the open one (pending, or decided and not yet used by a call). */
  async open(key: string, owner: string, request: { tool: string; summary: string; subject: Record<string, string> }): Promise<{ id: string; expiresAt: number; created: boolean }> {
    const now = this.now();
    const keyDigest = inChatKeyDigest(key);
    const existing = await this.store.byKey(keyDigest);
    if (existing && reusable(existing, now)) {
      return { id: existing.rec.id, expiresAt: existing.rec.expiresAt, created: false };
    }
    await checkOpenLimits(this.store, now, inChatOwnerDigest(owner), MAX_OPEN);
    const nonce = randomBytes(32).toString('base64url');
    const rec: StoredInChat = {
      id: randomBytes(16).toString('base64url'),
      keyDigest,
      ownerDigest: inChatOwnerDigest(owner),
      nonceDigest: nonceDigest(nonce),
      tool: request.tool,
      summary: request.summary,
      subject: request.subject,
      createdAt: now,
      expiresAt: now + IN_CHAT_TTL_MS,
    };
    await this.store.create(rec);
    for (const [id, n] of this.nonces) if (now > n.expiresAt) this.nonces.delete(id);
    this.nonces.set(rec.id, { nonce, expiresAt: rec.expiresAt });
    return { id: rec.id, expiresAt: rec.expiresAt, created: true };
  }

  async info(id: string): Promise<InChatInfo | undefined> {
    const s = await this.state(id);
    return s && infoOf(s);
  }

  /**
   * The nonce of an undecided request, for the `_meta` of the result that this session's call answers; never
   * for another session, and never once the request is decided (a replayed result carries none).
   */
  async nonceFor(id: string, owner: string): Promise<string | undefined> {
    const n = this.nonces.get(id);
    if (!n || this.now() > n.expiresAt) return undefined;
    const s = await this.state(id);
    if (!s || !matchesDigest(inChatOwnerDigest(owner), [s.rec.ownerDigest]) || s.decision) return undefined;
    return n.nonce;
  }

  /**
   * The human's click in the view, relayed by the host through the app-only decision tool. Refused unless
   * the request is this session's, undecided, unexpired, and the nonce is its own and unused.
   */
  async decide(id: string, nonce: string, owner: string, approved: boolean, host: string, by?: PersonRef): Promise<InChatInfo> {
    const s = await this.state(id);
    if (!s || !matchesDigest(inChatOwnerDigest(owner), [s.rec.ownerDigest])) {
      throw new ToolInputError('Nothing was decided: this approval request is not one of this conversation (it may have expired and been forgotten). Ask the assistant to run the change again.');
    }
    const already = () => new ToolInputError(`Nothing was decided: "${s.rec.summary}" was already ${s.decision?.approved ? 'approved' : 'rejected'}; a decision is made once.`);
    if (s.decision) throw already();
    if (!nonce || !matchesDigest(nonceDigest(nonce), [s.rec.nonceDigest])) {
      throw new ToolInputError('Nothing was decided: the view\'s token does not belong to this approval request. Reload the view from the latest result.');
    }
    const now = this.now();
    if (now > s.rec.expiresAt) {
      throw new ToolInputError(`Nothing was decided: the approval request for "${s.rec.summary}" expired. Ask the assistant to run the change again.`);
    }
    const decision: InChatDecision = { approved, decidedAt: now, host, ...(by ? { by } : {}) };
    if (!(await this.store.decide(id, decision))) {
      s.decision = (await this.state(id))?.decision;
      throw already();
    }
    this.nonces.delete(id);
    return infoOf({ ...s, decision });
  }

  /** A request by id; an id of another shape (the model passes approval_id) never reaches the store. */
  private async state(id: string): Promise<ApprovalState<StoredInChat, InChatDecision> | undefined> {
    return /^[A-Za-z0-9_-]{22}$/.test(id) ? this.store.get(id) : undefined;
  }

  /** The decision for the one tool call that acts on it; undefined if none, or already used. */
  async take(id: string): Promise<InChatDecision | undefined> {
    const s = await this.state(id);
    if (!s?.decision || s.taken) return undefined;
    return (await this.store.take(id)) ? s.decision : undefined;
  }
}

function infoOf(s: ApprovalState<StoredInChat, InChatDecision>): InChatInfo {
  const r = s.rec;
  return { id: r.id, keyDigest: r.keyDigest, ownerDigest: r.ownerDigest, tool: r.tool, summary: r.summary, subject: r.subject, expiresAt: r.expiresAt, decision: s.decision, taken: s.taken };
}

const stores = new WeakMap<Deps, InChatApprovals>();

/** The in-chat approval requests of these deps (one per process, shared by every session's server). */
export function inChatApprovalsFor(deps: Deps): InChatApprovals {
  let s = stores.get(deps);
  if (!s) {
    const now = () => deps.clock.now();
    // Redis when configured: a decision relayed through any replica counts, and is used once.
    s = new InChatApprovals(now, deps.redis ? new RedisApprovalStore<StoredInChat, InChatDecision>(deps.redis, now, 'inchat') : undefined);
    stores.set(deps, s);
  }
  return s;
}
