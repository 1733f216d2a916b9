import { createHash } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { RESULT_RETENTION_MS } from '../results.js';

/**
 * The job registry: what the tool runtime keeps about work that outlives a call (see runner.ts). This module
 * is the storage contract plus its in-process implementation; redis-store.ts keeps the same records in Redis
 * so that several replicas share them. Records are plain JSON (no functions, no class instances), and every
 * operation is async, so a networked store fits behind the same interface. The work itself (a promise and its
 * abort controller) never leaves the process that runs it; the record is what other calls read.
 */

export type JobState = 'running' | 'done' | 'failed';

export interface JobProgress {
  /** The work's own count (pages of a listing, steps of an offboarding), when it reports one. */
  done: number | null;
  total: number | null;
  pages: number | null;
  pages_total: number | null;
  accounts: number | null;
  vendor_requests: number;
  /** The last progress message of the work. */
  message: string | null;
  /** ISO time by the rate limiters' schedules; null when it cannot be told yet. */
  expected_finish_at: string | null;
}

/** How a finished job answers: a tool result, or an MCP error the call must raise (URL elicitation required). */
export type JobOutcome = { kind: 'result'; result: CallToolResult } | { kind: 'mcp_error'; code: number; message: string; data?: unknown };

export interface JobRecord {
  /** `job_` and 128 random bits. */
  id: string;
  tool: string;
  /** jobOwner() of the MCP session (HTTP) or connection (stdio process) that started it: only that one may attach. */
  owner: string;
  /** Tool, owner and arguments: a call with the same arguments attaches to this job instead of starting over. */
  key: string;
  /** Whether the tool writes (destructive): such a job is not cancelled halfway. */
  writes: boolean;
  state: JobState;
  started_at: number;
  finished_at: number | null;
  progress: JobProgress;
  outcome: JobOutcome | null;
  /** A `running` answer named this job: its result is kept for retrieval by id. */
  announced: boolean;
  /** A call received the finished answer: a later call with the same arguments starts afresh. */
  delivered: boolean;
  /** Set by cancel: the process running it stops the work. */
  cancel_requested: boolean;
}

/** What may change of a record besides its finish: flags set by calls, and the progress of a running job. */
export type JobPatch = Partial<Pick<JobRecord, 'announced' | 'delivered' | 'cancel_requested' | 'progress'>>;

export interface JobStore {
  /** Stores a new job. */
  put(job: JobRecord): Promise<void>;
  /** Job `id` ended: its state, time, last progress and outcome; the flags calls set stay as they are. Wakes attached calls. */
  finish(id: string, end: Pick<JobRecord, 'state' | 'finished_at' | 'progress' | 'outcome'>): Promise<void>;
  /** Merges `patch` into job `id`, if it exists; progress only while it runs. Never changes its state. */
  update(id: string, patch: JobPatch): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  /** The job a repeated call attaches to: under `key`, running or finished and not yet delivered. */
  byKey(key: string): Promise<JobRecord | undefined>;
  /**
   * Waits until job `id` is no longer running, or until `until` (epoch ms) or `signal` aborts, and returns
   * its record then (undefined when there is no such job).
   */
  attach(id: string, until: number, signal?: AbortSignal): Promise<JobRecord | undefined>;
  /** Forgets job `id`. */
  delete(id: string): Promise<void>;
  /** Running jobs of `owner` (to bound how many one session starts). */
  runningCount(owner: string): Promise<number>;
  /**
   * Job `id` runs in this process until the returned function is called: a networked store keeps it alive for
   * the other processes (a lease) and calls `onCancel` when a cancel is asked through another process.
   */
  hold?(id: string, onCancel: () => void): () => void;
  /** Releases what the store holds besides its records (timers, connections). */
  close?(): Promise<void>;
}

/**
 * The owner recorded for a job: the digest of the session (or principal) that started it, so that a store
 * shared by replicas never holds a session id in clear. Every comparison with a job's owner goes through it.
 */
export function jobOwner(session: string): string {
  return createHash('sha256').update(`job-owner\0${session}`).digest('base64url');
}

/** Finished jobs are kept as long as stored results (results.ts), and at most this many. */
export const JOB_RETENTION_MS = RESULT_RETENTION_MS;
export const MAX_FINISHED = 500;

/**
 * The in-process store: one Map, and waiters woken by finish(). What goes in and comes out are snapshots (a
 * record read from a networked store is one too, so no caller may rely on shared objects), made shallow: an
 * outcome is never changed once written, and a deep copy of every result cost a tool call more than the rest
 * of the job machinery together.
 */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly byKeys = new Map<string, string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private prunedAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async put(job: JobRecord): Promise<void> {
    this.prune();
    this.jobs.set(job.id, snapshot(job));
    this.byKeys.set(job.key, job.id);
  }

  async finish(id: string, end: Pick<JobRecord, 'state' | 'finished_at' | 'progress' | 'outcome'>): Promise<void> {
    const j = this.jobs.get(id);
    if (!j) return;
    Object.assign(j, end, { progress: { ...end.progress } });
    for (const wake of [...(this.waiters.get(id) ?? [])]) wake();
  }

  async update(id: string, patch: JobPatch): Promise<void> {
    const j = this.jobs.get(id);
    if (!j) return;
    const { progress, ...flags } = patch;
    Object.assign(j, flags);
    if (progress && j.state === 'running') j.progress = { ...progress };
    if (j.delivered && this.byKeys.get(j.key) === id) this.byKeys.delete(j.key);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const j = this.jobs.get(id);
    return j && snapshot(j);
  }

  async byKey(key: string): Promise<JobRecord | undefined> {
    const id = this.byKeys.get(key);
    const j = id === undefined ? undefined : this.jobs.get(id);
    return j && !j.delivered ? snapshot(j) : undefined;
  }

  attach(id: string, until: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    const j = this.jobs.get(id);
    if (!j || j.state !== 'running' || signal?.aborted) return this.get(id);
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set<() => void>();
      this.waiters.set(id, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(id);
        signal?.removeEventListener('abort', done);
        resolve(this.get(id));
      };
      const timer = setTimeout(done, Math.max(0, until - this.now()));
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async delete(id: string): Promise<void> {
    const j = this.jobs.get(id);
    if (!j) return;
    this.jobs.delete(id);
    if (this.byKeys.get(j.key) === id) this.byKeys.delete(j.key);
  }

  async runningCount(owner: string): Promise<number> {
    let n = 0;
    for (const j of this.jobs.values()) if (j.owner === owner && j.state === 'running') n += 1;
    return n;
  }

  /** Drops finished jobs past retention, and the oldest beyond MAX_FINISHED; looks at most once a minute unless over. */
  private prune(): void {
    const now = this.now();
    if (now - this.prunedAt < 60_000 && this.jobs.size <= MAX_FINISHED) return;
    this.prunedAt = now;
    const cutoff = now - JOB_RETENTION_MS;
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running').sort((a, b) => (a.finished_at ?? 0) - (b.finished_at ?? 0));
    const excess = finished.length - MAX_FINISHED;
    finished.forEach((j, i) => {
      if (i < excess || (j.finished_at ?? 0) < cutoff) void this.delete(j.id);
    });
  }
}

/** A copy of a record's own fields and its progress; the outcome is shared (written once, never changed). */
function snapshot(j: JobRecord): JobRecord {
  return { ...j, progress: { ...j.progress } };
}
