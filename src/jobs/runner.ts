import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { PageDetail } from '../domain/progress.js';
import { ToolInputError } from '../errors.js';
import type { Logger } from '../log.js';
import { noteWorkProgress, runMetered, WorkMeter } from './meter.js';
import type { JobOutcome, JobProgress, JobRecord, JobStore } from './store.js';

/**
 * Runs tool work as jobs, so that every call can answer within its deadline while the work goes on.
 *
 * The tool runtime starts the work here and waits on the store (attach) at most until the call's deadline; a
 * call with the same arguments, or with the job id, attaches to the same job instead of starting over, so no
 * vendor request is spent twice for one listing. The work gets the job's own abort signal, not the call's: a
 * client giving up on a call (Claude Desktop cancels at about 60 s) does not stop it; only a cancel (cancel_job,
 * read-only work only) or the server shutting down does.
 *
 * The promise and the abort controller live in this process; the store holds the record other calls read.
 * Progress is written to the store at most once a second (a networked store must not take a write per page);
 * `view` gives the live state of a job running here.
 */

export const JOB_ID_RE = /^job_[A-Za-z0-9_-]{22}$/;
/** Jobs one session may have running at once; more means something is looping. */
const MAX_RUNNING_PER_OWNER = 20;
const PROGRESS_WRITE_MS = 1_000;

export interface StartJob {
  tool: string;
  owner: string;
  key: string;
  writes: boolean;
  /** The work: it must not throw; every failure is an outcome (an error result). */
  work(job: JobWork): Promise<JobOutcome>;
}

/** What the work of a job gets from the runner. */
export interface JobWork {
  id: string;
  /** Aborted only by a cancel (read-only work) or the server shutting down, never by a call going away. */
  signal: AbortSignal;
  /** Progress of the work: to the calls attached now, the job's record, and (with `page`) its expected finish. */
  report(progress: number, total: number | undefined, message: string, page?: PageDetail): void;
}

interface Live {
  record: JobRecord;
  meter: WorkMeter;
  abort: AbortController;
  listeners: Set<(progress: number, total: number | undefined, message: string) => void>;
  lastWrite: number;
  /** Ends the store's hold on the job (its lease, in a shared store). */
  release: () => void;
}

export class TooManyJobs extends ToolInputError {
  override readonly name: string = 'TooManyJobs';
}

/** The abort reason of a stopped job: what a call picking it up is told. */
export class JobStopped extends ToolInputError {
  override readonly name: string = 'JobStopped';
}

const CANCELLED = () => new JobStopped('This work was stopped with cancel_job before it finished; nothing more was sent to the vendor. Call the tool again (without job_id) to start over.');
const SHUTDOWN = () => new JobStopped('This work was stopped because the server shut down. Call the tool again to start over.');

export class JobRunner {
  private readonly live = new Map<string, Live>();

  constructor(
    readonly store: JobStore,
    private readonly opts: { now: () => number; log: Logger },
  ) {}

  async start(spec: StartJob): Promise<JobRecord> {
    if ((await this.store.runningCount(spec.owner)) >= MAX_RUNNING_PER_OWNER) {
      throw new TooManyJobs(
        `${MAX_RUNNING_PER_OWNER} calls of this session are still running. Wait for them (call each again with its job_id) before starting more.`,
      );
    }
    const now = this.opts.now();
    const record: JobRecord = {
      id: `job_${randomBytes(16).toString('base64url')}`,
      tool: spec.tool,
      owner: spec.owner,
      key: spec.key,
      writes: spec.writes,
      state: 'running',
      started_at: now,
      finished_at: null,
      progress: emptyProgress(),
      outcome: null,
      announced: false,
      delivered: false,
      cancel_requested: false,
    };
    const live: Live = { record, meter: new WorkMeter(), abort: new AbortController(), listeners: new Set(), lastWrite: now, release: () => {} };
    // Every vendor request the work queues listens on this one signal; a review queues dozens.
    setMaxListeners(0, live.abort.signal);
    this.live.set(record.id, live);
    await this.store.put(record);
    // A cancel asked through another replica reaches the work here.
    live.release = this.store.hold?.(record.id, () => live.abort.abort(CANCELLED())) ?? (() => {});
    void this.run(live, spec);
    return record;
  }

  private async run(live: Live, spec: StartJob): Promise<void> {
    let outcome: JobOutcome;
    try {
      const id = live.record.id;
      const work: JobWork = { id, signal: live.abort.signal, report: (p, total, message, page) => this.report(id, p, total, message, page) };
      outcome = await runMetered(live.meter, () => spec.work(work));
    } catch (err) {
      // The work turns failures into results itself; this is a bug, kept out of the client's way.
      this.opts.log.error({ tool: spec.tool, err }, 'job work threw');
      outcome = { kind: 'result', result: { content: [{ type: 'text', text: `Internal error in ${spec.tool}; the server log has details.` }], isError: true } };
    }
    const id = live.record.id;
    const progress = this.progressOf(live);
    this.live.delete(id);
    live.listeners.clear();
    try {
      await this.store.finish(id, { state: outcome.kind === 'result' && outcome.result.isError ? 'failed' : 'done', finished_at: this.opts.now(), progress, outcome });
    } catch (err) {
      // Redis unreachable: the record stays `running` until its lease expires, then reads as failed.
      this.opts.log.warn({ tool: spec.tool, err: (err as Error)?.message }, 'job result not stored');
    } finally {
      live.release();
    }
  }

  /**
   * Progress of job `id` running here: counted by its meter (called from the work, so in the scope that made
   * it), fanned out to the calls attached now, and written to the store now and then.
   */
  private report(id: string, progress: number, total: number | undefined, message: string, page?: PageDetail): void {
    noteWorkProgress(progress, total, page);
    const live = this.live.get(id);
    if (!live) return;
    live.record.progress.message = message;
    for (const l of live.listeners) l(progress, total, message);
    const now = this.opts.now();
    if (now - live.lastWrite >= PROGRESS_WRITE_MS) {
      live.lastWrite = now;
      void this.sync(id, live);
    }
  }

  /** Writes the progress to the store, and picks up a cancel asked of another process. */
  private async sync(id: string, live: Live): Promise<void> {
    try {
      await this.store.update(id, { progress: this.progressOf(live) });
      if ((await this.store.get(id))?.cancel_requested) live.abort.abort(CANCELLED());
    } catch (err) {
      this.opts.log.warn({ err: (err as Error)?.message }, 'job progress not stored');
    }
  }

  /** A call attached to job `id` hears its progress until it detaches (the returned function). */
  listen(id: string, fn: (progress: number, total: number | undefined, message: string) => void): () => void {
    const live = this.live.get(id);
    if (!live) return () => {};
    live.listeners.add(fn);
    return () => live.listeners.delete(fn);
  }

  /** The freshest record of job `id`: live progress when it runs here, else the stored one. */
  async view(id: string): Promise<JobRecord | undefined> {
    const stored = await this.store.get(id);
    const live = this.live.get(id);
    if (!stored || !live || stored.state !== 'running') return stored;
    return { ...stored, progress: this.progressOf(live) };
  }

  /** Stops a read-only job; a job that writes runs to its end. Returns the record as it stands. */
  async cancel(id: string): Promise<JobRecord | undefined> {
    const stored = await this.store.get(id);
    if (!stored || stored.state !== 'running' || stored.writes) return stored;
    await this.store.update(id, { cancel_requested: true });
    this.live.get(id)?.abort.abort(CANCELLED());
    return { ...stored, cancel_requested: true };
  }

  /** Stops every job of this process (shutdown). */
  close(): void {
    for (const live of this.live.values()) live.abort.abort(SHUTDOWN());
  }

  private progressOf(live: Live): JobProgress {
    const m = live.meter.snapshot();
    return {
      done: m.done,
      total: m.total,
      pages: m.pages,
      pages_total: m.pagesTotal,
      accounts: m.accounts,
      vendor_requests: m.vendorRequests,
      message: live.record.progress.message,
      expected_finish_at: m.expectedFinishAt === null ? null : new Date(m.expectedFinishAt).toISOString(),
    };
  }
}

function emptyProgress(): JobProgress {
  return { done: null, total: null, pages: null, pages_total: null, accounts: null, vendor_requests: 0, message: null, expected_finish_at: null };
}
