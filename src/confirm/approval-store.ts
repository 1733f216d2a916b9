import { ToolInputError } from '../errors.js';
import type { PageRequest } from './approval-page.js';

/*
 * Where the approval page's requests live: this process (MemoryApprovalStore), or Redis for replicas
 * (redis-approvals.ts), so that a page served by any replica decides, and the decision is used once. Neither
 * keeps a secret: the session and the request key are kept as SHA-256 digests, and each page view's CSRF token
 * and cookie only as the digest of the pair (secret.ts).
 */

/** Same lifetimes everywhere: 10 minutes to decide, and a request remembered 10 minutes after it ended. */
export const APPROVAL_TTL_MS = 10 * 60_000;

export interface Decision {
  approved: boolean;
  decidedAt: number;
  /** The approving browser's User-Agent (cut to 256 characters), or null when it sent none. */
  userAgent: string | null;
}

/** A request as stored: nothing in it is secret. */
export interface StoredApproval {
  id: string;
  /** SHA-256 of the request key (the change and the session). */
  keyDigest: string;
  /** SHA-256 of the MCP session (or stdio connection) that asked. */
  ownerDigest: string;
  request: PageRequest;
  createdAt: number;
  expiresAt: number;
}

/** What any stored request has: the approval page's (StoredApproval) and the in-chat view's (in-chat.ts). */
export interface StoredRequest {
  id: string;
  keyDigest: string;
  /** SHA-256 of the session that asked. */
  ownerDigest: string;
  expiresAt: number;
}

/**
 * Requests neither decided nor expired that one session may have, and the whole service: more means something
 * is looping. Per session first, so one session (or person) cannot use up everyone's requests.
 */
export const MAX_OPEN_PER_OWNER = 10;

/**
 * Page views one request may record (each stores a digest; with sign-in, only the signed-in person's views and
 * sign-ins do, since starting a sign-in stores nothing). A person opens the link a few times; more is a script
 * re-loading it, and the page is refused rather than the store grown (the page is served before the per-client
 * budget, which applies to MCP calls).
 */
export const MAX_PASSES = 64;

export interface ApprovalState<R extends StoredRequest = StoredApproval, D extends { decidedAt: number } = Decision> {
  rec: R;
  decision: D | undefined;
  /** A tool call has used the decision. */
  taken: boolean;
}

export interface ApprovalStore<R extends StoredRequest = StoredApproval, D extends { decidedAt: number } = Decision> {
  get(id: string): Promise<ApprovalState<R, D> | undefined>;
  /** The newest request opened for this key digest. */
  byKey(keyDigest: string): Promise<ApprovalState<R, D> | undefined>;
  /** Requests neither decided nor expired: all of them, or those of one session (its digest). */
  countOpen(now: number, ownerDigest?: string): Promise<number>;
  create(rec: R): Promise<void>;
  /**
   * Remembers one page view's CSRF token + cookie pair (or, with sign-in, a signed-in page cookie), as a digest,
   * until the request expires; false, and nothing stored, when the request is unknown or already holds MAX_PASSES.
   */
  addPass(id: string, passDigest: string, expiresAt: number): Promise<boolean>;
  passes(id: string): Promise<string[]>;
  /** Records the decision unless one exists; false when another was first. */
  decide(id: string, d: D): Promise<boolean>;
  /** Marks the decision used; true for the one call that does it first. */
  take(id: string): Promise<boolean>;
  /** Runs `fn` once when request `id` is decided, wherever it is decided (at once if it already is). */
  onDecided(id: string, fn: () => void): void;
  close(): Promise<void>;
}

/** Whether a request is still remembered: 10 minutes past its decision, or past its expiry when undecided. */
export function remembered(s: { rec: StoredRequest; decision: { decidedAt: number } | undefined }, now: number): boolean {
  return now <= (s.decision ? s.decision.decidedAt : s.rec.expiresAt) + APPROVAL_TTL_MS;
}

/** Whether the request already opened for a change answers a new call for it: pending, or decided and unused. */
export function reusable(s: { rec: StoredRequest; decision: { decidedAt: number } | undefined; taken: boolean }, now: number): boolean {
  return !s.taken && (s.decision ? now <= s.decision.decidedAt + APPROVAL_TTL_MS : now <= s.rec.expiresAt);
}

export class MemoryApprovalStore<R extends StoredRequest = StoredApproval, D extends { decidedAt: number } = Decision> implements ApprovalStore<R, D> {
  private readonly records = new Map<string, ApprovalState<R, D> & { passes: string[]; listeners: Set<() => void> }>();
  private readonly keys = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(id: string): Promise<ApprovalState<R, D> | undefined> {
    this.purge();
    const r = this.records.get(id);
    return r && { rec: r.rec, decision: r.decision, taken: r.taken };
  }

  async byKey(keyDigest: string): Promise<ApprovalState<R, D> | undefined> {
    return this.get(this.keys.get(keyDigest) ?? '');
  }

  async countOpen(now: number, ownerDigest?: string): Promise<number> {
    this.purge();
    return [...this.records.values()].filter((r) => !r.decision && now <= r.rec.expiresAt && (ownerDigest === undefined || r.rec.ownerDigest === ownerDigest)).length;
  }

  async create(rec: R): Promise<void> {
    this.records.set(rec.id, { rec, decision: undefined, taken: false, passes: [], listeners: new Set() });
    this.keys.set(rec.keyDigest, rec.id);
  }

  async addPass(id: string, passDigest: string): Promise<boolean> {
    const r = this.records.get(id);
    if (!r || r.passes.length >= MAX_PASSES) return false;
    r.passes.push(passDigest);
    return true;
  }

  async passes(id: string): Promise<string[]> {
    return [...(this.records.get(id)?.passes ?? [])];
  }

  async decide(id: string, d: D): Promise<boolean> {
    const r = this.records.get(id);
    if (!r || r.decision) return false;
    r.decision = d;
    for (const l of [...r.listeners]) l();
    return true;
  }

  async take(id: string): Promise<boolean> {
    const r = this.records.get(id);
    if (!r?.decision || r.taken) return false;
    r.taken = true;
    return true;
  }

  onDecided(id: string, fn: () => void): void {
    const r = this.records.get(id);
    if (!r) return;
    if (r.decision) return fn();
    const once = () => {
      r.listeners.delete(once);
      fn();
    };
    r.listeners.add(once);
  }

  async close(): Promise<void> {}

  private purge(): void {
    const now = this.now();
    for (const [id, r] of this.records) {
      if (!remembered(r, now)) {
        this.records.delete(id);
        if (this.keys.get(r.rec.keyDigest) === id) this.keys.delete(r.rec.keyDigest);
      }
    }
  }
}

/** Refuses a new request when its session, or the whole service, has too many waiting for a decision. */
export async function checkOpenLimits(store: ApprovalStore<StoredRequest, { decidedAt: number }>, now: number, ownerDigest: string, maxOpen: number): Promise<void> {
  const mine = await store.countOpen(now, ownerDigest);
  if (mine >= MAX_OPEN_PER_OWNER) {
    throw new ToolInputError(`Nothing was changed: this conversation already has ${mine} approval requests waiting for a decision. Ask the user to decide on them or let them expire (10 minutes).`);
  }
  const open = await store.countOpen(now);
  if (open >= maxOpen) {
    throw new ToolInputError(`Nothing was changed: ${open} approval requests are already waiting for a decision. Ask the user to decide or let them expire (10 minutes).`);
  }
}
