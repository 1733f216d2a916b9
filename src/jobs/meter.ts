import { AsyncLocalStorage } from 'node:async_hooks';
import type { PageDetail } from '../domain/progress.js';

/**
 * What a job has done so far and how long the rest will take by the rate limiters' own schedules.
 *
 * A job's work runs inside a meter (AsyncLocalStorage, so nothing is threaded through the vendor clients): the
 * HTTP core reports every vendor request it sends, with the limiter that admitted it, and the tool's progress
 * reports how far each listing is. Work that lists several sources at once (the access review: every vendor,
 * REST and SCIM) opens one scope per source, so each source's pages are matched with its own limiter.
 *
 * Expected finish: per scope, the requests still to come on each limiter are the requests it made so far
 * scaled by the work left (pages or steps still to do over those done); each limiter is asked when it would
 * have admitted all of its share (RateLimiter.forecast), and the latest answer is the estimate. Null while any
 * unfinished scope has not said how much there is to do.
 */

/** The part of a rate limiter the meter uses: its schedule for more requests. */
export interface Schedule {
  forecast(count: number): number;
}

export interface MeterSnapshot {
  /** The work's own count (pages of a listing, steps of an offboarding), when it reports one. */
  done: number | null;
  total: number | null;
  /** Listings only: pages fetched and pages in all, summed over the sources listed. */
  pages: number | null;
  pagesTotal: number | null;
  /** Listings only: accounts fetched so far. */
  accounts: number | null;
  /** Vendor requests sent so far (retries included). */
  vendorRequests: number;
  /** Epoch ms by the limiters' schedules; null when it cannot be told yet. */
  expectedFinishAt: number | null;
}

export class WorkScope {
  done: number | undefined;
  total: number | undefined;
  page: PageDetail | undefined;
  readonly requests = new Map<Schedule, number>();

  constructor(
    readonly meter: WorkMeter,
    readonly label: string,
  ) {}

  noteRequest(schedule: Schedule): void {
    this.requests.set(schedule, (this.requests.get(schedule) ?? 0) + 1);
    this.meter.vendorRequests += 1;
  }

  noteProgress(done: number, total: number | undefined, page: PageDetail | undefined): void {
    if (page) {
      this.page = page;
      return;
    }
    this.done = done;
    this.total = total;
  }

  /** Units done and in all: the listing's pages when it reports them, else the generic count. */
  private units(): { done: number; total: number | undefined } | undefined {
    if (this.page) return { done: this.page.pages, total: this.page.pagesTotal };
    if (this.done !== undefined) return { done: this.done, total: this.total };
    return undefined;
  }

  /** Requests still to come per limiter; undefined when this scope cannot tell. */
  remaining(): Map<Schedule, number> | undefined {
    const out = new Map<Schedule, number>();
    if (this.requests.size === 0) return out;
    const u = this.units();
    if (!u || u.total === undefined || u.done <= 0) return undefined;
    const left = Math.max(0, u.total - u.done);
    // Nothing left still asks the limiter (for nothing): its answer is "now", or the end of a hold.
    for (const [s, n] of this.requests) out.set(s, Math.ceil((n * left) / u.done));
    return out;
  }
}

export class WorkMeter {
  vendorRequests = 0;
  readonly root: WorkScope;
  private readonly scopes: WorkScope[] = [];

  constructor() {
    this.root = this.scope('job');
  }

  scope(label: string): WorkScope {
    const s = new WorkScope(this, label);
    this.scopes.push(s);
    return s;
  }

  snapshot(): MeterSnapshot {
    const paged = this.scopes.filter((s) => s.page !== undefined);
    const sum = (xs: (number | undefined)[]) => (xs.some((x) => x === undefined) ? null : xs.reduce<number>((a, x) => a + x!, 0));
    const accounts = paged.map((s) => s.page!.accounts).filter((a): a is number => a !== undefined);
    return {
      done: this.root.done ?? null,
      total: this.root.total ?? null,
      pages: paged.length === 0 ? null : paged.reduce((a, s) => a + s.page!.pages, 0),
      pagesTotal: paged.length === 0 ? null : sum(paged.map((s) => s.page!.pagesTotal)),
      accounts: accounts.length === 0 ? null : accounts.reduce((a, x) => a + x, 0),
      vendorRequests: this.vendorRequests,
      expectedFinishAt: this.expectedFinish(),
    };
  }

  private expectedFinish(): number | null {
    const perSchedule = new Map<Schedule, number>();
    let any = false;
    for (const s of this.scopes) {
      const r = s.remaining();
      if (r === undefined) return null;
      for (const [sch, n] of r) {
        perSchedule.set(sch, (perSchedule.get(sch) ?? 0) + n);
        any = true;
      }
    }
    if (!any) return null;
    let latest = 0;
    for (const [sch, n] of perSchedule) latest = Math.max(latest, sch.forecast(n));
    return latest;
  }
}

const current = new AsyncLocalStorage<WorkScope>();

/** Runs `fn` metered by `meter` (a job's work). */
export function runMetered<T>(meter: WorkMeter, fn: () => Promise<T>): Promise<T> {
  return current.run(meter.root, fn);
}

/** Runs `fn` as its own scope of the current job (one source of a listing that runs several); outside a job just fn(). */
export function withWorkScope<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const parent = current.getStore();
  return parent ? current.run(parent.meter.scope(label), fn) : fn();
}

/** The HTTP core: a vendor request was admitted by `schedule`'s limiter. */
export function noteVendorRequest(schedule: Schedule): void {
  current.getStore()?.noteRequest(schedule);
}

/** The tool runtime: progress reported by the work running here. */
export function noteWorkProgress(done: number, total: number | undefined, page?: PageDetail): void {
  current.getStore()?.noteProgress(done, total, page);
}
