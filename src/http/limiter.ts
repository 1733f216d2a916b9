import type { Clock } from '../clock.js';
import type { RateLimitPolicy } from './types.js';

/**
 * Client-side rate limiter for one (vendor, credential identity, bucket).
 *
 * Window accounting is done here rather than with Bottleneck (the user's named limiter) because its
 * reservoirs refresh on real timers in windows anchored to their own start, cannot express several windows
 * at once, and cannot be told "the vendor says 12 left until 09:15"; and its local datastore yields through
 * setTimeout(0) and starts every job through another timer: 4.5 ms p50 added per admission against 0.012 ms
 * here (`npm run -s bench -- limiter_engine`). Bottleneck's Redis clustering is the candidate for limits
 * shared by replicas (docs/shared-limiter-design.md). Every wait goes through the injected Clock, so a
 * ManualClock test can show the (limit+1)th request parked until the window rolls over.
 *
 * Each window is a sliding log of admitted weights: a request is admitted when, for every window, the
 * weight admitted in the last `intervalMs` plus this request stays within the limit. A sliding window
 * never exceeds the limit over any interval, so it also satisfies a vendor's fixed window whatever its
 * alignment. When the vendor reports its own count in headers, that count is used instead (see learn()).
 */

/** Proof of admission; `mark` lets a later response be compared with what was admitted after it. */
export interface Ticket {
  readonly weight: number;
  readonly admittedAt: number;
  /** Total weight admitted by this limiter up to and including this request. */
  readonly mark: number;
}

/** Thrown when admission would come after the caller's deadline; says when to try again. */
export class LimiterDeadlineError extends Error {
  override readonly name = 'LimiterDeadlineError';
  constructor(
    /** Earliest time (epoch ms) the request could be admitted, as far as is known now. */
    readonly retryAtMs: number,
    /** The window that is full, or 'hold' after a 429. */
    readonly window: string,
    readonly bucket: string,
    /** Counted across replicas (the shared limits on Redis), not by this process alone. */
    readonly shared = false,
  ) {
    super(`rate limit bucket ${bucket} (${window}) has no room before the deadline; retry at ${new Date(retryAtMs).toISOString()}`);
  }
}

export interface ScheduleOptions {
  /** Cost units; default 1. A weight larger than a window's usable limit is charged as the whole window. */
  weight?: number;
  signal?: AbortSignal;
  /** Epoch ms; admission later than this rejects with LimiterDeadlineError instead of waiting. */
  deadlineAt?: number;
}

export interface WindowSnapshot {
  name: string;
  limit: number;
  remaining: number | null;
  resets_at: string | null;
  bucket: string;
}

interface Learned {
  remaining: number;
  /** Ticket mark of the response that reported it: weight admitted after it is not in `remaining`. */
  mark: number;
  resetAtMs: number | undefined;
  /** When `remaining` stops being trusted: the reported reset, or one interval after it was seen. */
  expiresAt: number;
}

interface WindowState {
  name: string;
  intervalMs: number;
  configuredLimit: number;
  learnedLimit: number | undefined;
  /** Index in the log of the first entry still inside this window. */
  start: number;
  /** Weight of log entries from `start` to the end. */
  sum: number;
  /**
   * The vendor said the window reset at this time: entries admitted before it whose response also came
   * back before it are forgotten. One still in flight at the reset may have been counted after it, in
   * the new window, so it stays until it ages out.
   */
  floorT: number;
  /** The floorT whose entries were last looked at: each reset is applied once. */
  sweptFloorT: number;
  /** Entries forgotten at a reset but not yet at the front of the log (their weight is out of `sum`). */
  forgotten: Set<LogEntry>;
  learned: Learned | undefined;
}

interface LogEntry {
  t: number;
  w: number;
  /** When its response was observed, or, without one (network error, abort), when the request ended. */
  settledAt?: number;
}

interface Waiter {
  weight: number;
  /** Needs a concurrency slot (schedule) as well as window room. */
  slot: boolean;
  deadlineAt: number | undefined;
  resolve: (t: Ticket) => void;
  reject: (e: unknown) => void;
}

/**
 * What the HTTP core and the vendors use of a limiter. RateLimiter below counts in-process; SharedLimiter
 * (shared-limiter.ts) keeps the same policy over Bottleneck clustered on Redis when SALES_ACCESS_REDIS_URL is set.
 */
export interface Limiter {
  readonly vendor: string;
  readonly identity: string;
  readonly bucket: string;
  schedule<T>(fn: (ticket: Ticket) => Promise<T>, opts?: ScheduleOptions): Promise<T>;
  acquire(opts?: ScheduleOptions): Promise<Ticket>;
  observe(headers: Record<string, string>, ticket?: Ticket): void;
  /** The request of `ticket` leaves now (after auth and connection set-up): the vendor counts it from about then. */
  sent?(ticket: Ticket): void;
  learn(name: string, info: { limit?: number; remaining?: number; resetAtMs?: number }, mark?: number): void;
  holdUntil(untilMs: number): void;
  noteRateLimited(atMs?: number): void;
  readonly last429At: number | undefined;
  readonly inFlight: number;
  waitMs(weight?: number): number;
  forecast(count: number, weight?: number): number;
  snapshot(): WindowSnapshot[];
}

export interface LimiterOptions {
  vendor: string;
  identity: string;
  bucket: string;
  policy: RateLimitPolicy;
  clock: Clock;
}

/** Builds the limiter of one key; the default is the in-process RateLimiter. */
export type LimiterFactory = (opts: LimiterOptions) => Limiter;

export class RateLimiter implements Limiter {
  readonly vendor: string;
  readonly identity: string;
  readonly bucket: string;
  private readonly policy: RateLimitPolicy;
  private readonly clock: Clock;
  private readonly reserve: number;
  private readonly windows: WindowState[];
  private readonly maxConcurrent: number;
  /** Requests admitted through schedule() whose fn has not settled yet. */
  private running = 0;
  /** Admitted requests in order: when they left (t), their weight, and when their response was observed. */
  private log: LogEntry[] = [];
  private readonly entries = new WeakMap<Ticket, LogEntry>();
  private total = 0;
  private holdUntilMs = 0;
  private last429: number | undefined;
  private queue: Waiter[] = [];
  private pumping = false;
  private wakePump: (() => void) | undefined;

  constructor(opts: LimiterOptions) {
    this.vendor = opts.vendor;
    this.identity = opts.identity;
    this.bucket = opts.bucket;
    this.policy = opts.policy;
    this.clock = opts.clock;
    this.reserve = reserveOf(opts.policy);
    this.windows = opts.policy.windows.map((w) => ({
      name: w.name,
      intervalMs: w.intervalMs,
      configuredLimit: w.limit,
      learnedLimit: undefined,
      start: 0,
      sum: 0,
      floorT: -Infinity,
      sweptFloorT: -Infinity,
      forgotten: new Set(),
      learned: undefined,
    }));
    this.maxConcurrent = opts.policy.maxConcurrent ?? Infinity;
  }

  /**
   * Runs `fn` once a concurrency slot is free and every window has room for `weight`. Both are granted
   * together, just before `fn` runs, so the log records when requests really leave. An abort while
   * queued drops the request; once fn runs, the abort is fn's to report (it alone knows whether a write
   * may have been sent).
   */
  async schedule<T>(fn: (ticket: Ticket) => Promise<T>, opts: ScheduleOptions = {}): Promise<T> {
    const ticket = await this.enqueue(opts, true);
    try {
      return await fn(ticket);
    } finally {
      this.settle(ticket, this.clock.now());
      this.running -= 1;
      this.kick();
    }
  }

  /** Waits (FIFO) until every window has room for `weight`, then counts it. Takes no concurrency slot. */
  acquire(opts: ScheduleOptions = {}): Promise<Ticket> {
    return this.enqueue(opts, false);
  }

  /** The request behind `ticket` is over at `now` (its response seen, or it ended without one), if not already. */
  private settle(ticket: Ticket, now: number): void {
    const entry = this.entries.get(ticket);
    if (entry && entry.settledAt === undefined) entry.settledAt = now;
  }

  /** Requests running through schedule() now (at most maxConcurrent). */
  get inFlight(): number {
    return this.running;
  }

  private enqueue(opts: ScheduleOptions, slot: boolean): Promise<Ticket> {
    const { signal } = opts;
    return new Promise<Ticket>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i < 0) return;
        this.queue.splice(i, 1);
        reject(signal?.reason);
        this.kick();
      };
      const waiter: Waiter = {
        weight: Math.max(0, opts.weight ?? 1),
        deadlineAt: opts.deadlineAt,
        slot,
        resolve: (t) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(t);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.kick();
    });
  }

  /**
   * Feeds a response's headers through the policy's header spec. `ticket` is the admission of the
   * request that got this response; without it the report is taken as covering everything admitted.
   */
  observe(headers: Record<string, string>, ticket?: Ticket): void {
    const now = this.clock.now();
    if (ticket) this.settle(ticket, now);
    const spec = this.policy.headers;
    if (!spec) return;
    for (const [name, info] of Object.entries(spec.parse(headers, now, ticket?.admittedAt))) {
      this.learn(name, info, ticket?.mark ?? this.total);
    }
  }

  /**
   * What the vendor says about one window. A reported limit replaces the configured one for good (plans
   * change). A reported remaining replaces the local count until the reported reset (or one interval if
   * no reset is given); weight admitted after the reporting request is subtracted from it. A report
   * older than the one already held (a slow response overtaken by a newer one) is ignored. Window names
   * the policy does not declare are ignored.
   */
  learn(name: string, info: { limit?: number; remaining?: number; resetAtMs?: number }, mark: number = this.total): void {
    const w = this.windows.find((x) => x.name === name);
    if (!w) return;
    const now = this.clock.now();
    this.refresh(w, now);
    if (info.limit !== undefined && Number.isFinite(info.limit) && info.limit > 0) w.learnedLimit = info.limit;
    if (info.remaining !== undefined && Number.isFinite(info.remaining)) {
      if (info.resetAtMs !== undefined && info.resetAtMs <= now) {
        // The window this count belongs to is already over.
        w.floorT = Math.max(w.floorT, info.resetAtMs);
      } else if (!w.learned || w.learned.mark <= mark) {
        // A window cannot reset later than one interval from now; a further "reset" is not trusted.
        const cap = now + w.intervalMs;
        w.learned = {
          remaining: Math.max(0, info.remaining),
          mark,
          resetAtMs: info.resetAtMs,
          expiresAt: info.resetAtMs === undefined ? cap : Math.min(info.resetAtMs, cap),
        };
      }
    }
    this.kick();
  }

  /** Holds every request of this bucket until `untilMs` (epoch ms), e.g. the end of a 429's Retry-After. */
  holdUntil(untilMs: number): void {
    if (untilMs <= this.holdUntilMs) return;
    this.holdUntilMs = untilMs;
    this.kick();
  }

  /** Records a 429 for budget(); callers usually pair it with holdUntil(). */
  noteRateLimited(atMs: number = this.clock.now()): void {
    this.last429 = atMs;
  }

  get last429At(): number | undefined {
    return this.last429;
  }

  /** ms until a request of `weight` could be admitted, ignoring requests already queued. */
  waitMs(weight = 1): number {
    return this.blocker(weight, this.clock.now()).until - this.clock.now();
  }

  /**
   * The limiter's own schedule for `count` more requests of `weight` queued behind everything waiting now:
   * when the last of them would be admitted (epoch ms), given what each window has admitted, what the vendor
   * reported, and any hold after a 429. It ignores concurrency and response times, so it is the earliest the
   * work could be done at this budget (a job's expected finish), not a promise.
   */
  forecast(count: number, weight = 1): number {
    const now = this.clock.now();
    let t = Math.max(now, this.holdUntilMs);
    const n = Math.max(0, Math.ceil(count));
    if (n === 0) return t;
    const queued = this.queue.map((q) => q.weight);
    const plan = [...queued, ...new Array<number>(n).fill(Math.max(0, weight))];
    // Per window: the admissions still inside it (oldest first) and their weight; simulated ones are appended.
    const sims = this.windows.map((w) => {
      this.refresh(w, now);
      const usable = this.usable(w);
      const entries: { t: number; w: number }[] = [];
      for (let i = w.start; i < this.log.length; i++) {
        const e = this.log[i]!;
        if (!w.forgotten.has(e)) entries.push({ t: e.t, w: e.w });
      }
      // A count the vendor reported stands until it expires; after that the window is taken as fresh.
      let learnedLeft: number | undefined;
      let learnedUntil = -Infinity;
      if (w.learned) {
        learnedLeft = w.learned.remaining - (this.total - w.learned.mark) - (this.limitOf(w) - usable);
        learnedUntil = w.learned.expiresAt;
      }
      return { intervalMs: w.intervalMs, usable, entries, head: 0, sum: entries.reduce((a, e) => a + e.w, 0), learnedLeft, learnedUntil };
    });
    for (const wt of plan) {
      for (let changed = true; changed; ) {
        changed = false;
        for (const s of sims) {
          const need = Math.min(wt, s.usable);
          if (s.learnedLeft !== undefined && t < s.learnedUntil) {
            if (s.learnedLeft >= need) continue;
            // Nothing left until the reported reset: from then on only what is admitted after it counts.
            t = s.learnedUntil;
            s.entries = s.entries.filter((e) => e.t >= t);
            s.head = 0;
            s.sum = s.entries.reduce((a, e) => a + e.w, 0);
            changed = true;
          }
          while (s.head < s.entries.length && s.entries[s.head]!.t <= t - s.intervalMs) s.sum -= s.entries[s.head++]!.w;
          while (s.sum + need > s.usable && s.head < s.entries.length) {
            const leaves = s.entries[s.head]!.t + s.intervalMs;
            if (leaves > t) {
              t = leaves;
              changed = true;
            }
            s.sum -= s.entries[s.head++]!.w;
          }
        }
      }
      for (const s of sims) {
        const need = Math.min(wt, s.usable);
        if (s.learnedLeft !== undefined && t < s.learnedUntil) s.learnedLeft -= need;
        s.entries.push({ t, w: need });
        s.sum += need;
      }
    }
    return t;
  }

  /** Each window as list_connections shows it; remaining is null until something is known. */
  snapshot(): WindowSnapshot[] {
    const now = this.clock.now();
    return this.windows.map((w) => {
      this.refresh(w, now);
      const limit = this.limitOf(w);
      let remaining: number | null = null;
      let resetsAt: number | null = null;
      if (w.learned) {
        remaining = Math.max(0, w.learned.remaining - (this.total - w.learned.mark));
        resetsAt = w.learned.resetAtMs ?? null;
      } else if (w.sum > 0) {
        remaining = Math.max(0, limit - w.sum);
        resetsAt = this.log[w.start]!.t + w.intervalMs;
      }
      return {
        name: w.name,
        limit,
        remaining,
        resets_at: resetsAt === null ? null : new Date(resetsAt).toISOString(),
        bucket: this.bucket,
      };
    });
  }

  private limitOf(w: WindowState): number {
    return w.learnedLimit ?? w.configuredLimit;
  }

  /** The part of the limit this client may use; the reserve is left to the customer's other tools. */
  private usable(w: WindowState): number {
    return usableLimit(this.limitOf(w), this.reserve);
  }

  /** Drops expired learned counts and log entries that left the window. */
  private refresh(w: WindowState, now: number): void {
    if (w.learned && now >= w.learned.expiresAt) {
      const l = w.learned;
      if (l.resetAtMs !== undefined && l.resetAtMs <= l.expiresAt) w.floorT = Math.max(w.floorT, l.resetAtMs);
      w.learned = undefined;
    }
    if (w.floorT > w.sweptFloorT) {
      // The vendor's window reset at floorT: what was admitted and settled before it was counted in the old
      // window. A request still in flight then may count in the new one, and stays. floorT is never in the
      // future, so everything that settled before it has settled by now: one look per reset is enough.
      for (let i = w.start; i < this.log.length && this.log[i]!.t < w.floorT; i++) {
        const e = this.log[i]!;
        if (e.settledAt !== undefined && e.settledAt <= w.floorT && !w.forgotten.has(e)) {
          w.forgotten.add(e);
          w.sum -= e.w;
        }
      }
      w.sweptFloorT = w.floorT;
    }
    while (w.start < this.log.length) {
      const e = this.log[w.start]!;
      if (w.forgotten.delete(e)) {
        w.start++; // its weight already left `sum`
        continue;
      }
      if (e.t > now - w.intervalMs) break;
      w.sum -= e.w;
      w.start++;
    }
  }

  /** Earliest admission time for `weight` and what blocks it. A lower bound: re-checked on waking. */
  private blocker(weight: number, now: number): { until: number; window: string } {
    let until = now;
    let window = '';
    if (this.holdUntilMs > until) {
      until = this.holdUntilMs;
      window = 'hold';
    }
    for (const w of this.windows) {
      this.refresh(w, now);
      const usable = this.usable(w);
      const need = Math.min(weight, usable);
      let free: number;
      if (w.learned) {
        const reserved = this.limitOf(w) - usable;
        const available = w.learned.remaining - (this.total - w.learned.mark) - reserved;
        free = available >= need ? now : w.learned.expiresAt;
      } else if (w.sum + need <= usable) {
        free = now;
      } else {
        // The oldest entries leave first; find the one whose departure makes room.
        let excess = w.sum + need - usable;
        free = now;
        for (let i = w.start; i < this.log.length; i++) {
          const e = this.log[i]!;
          if (w.forgotten.has(e)) continue;
          excess -= e.w;
          if (excess <= 0) {
            free = e.t + w.intervalMs;
            break;
          }
        }
      }
      if (free > until) {
        until = free;
        window = w.name;
      }
    }
    return { until, window };
  }

  private admit(weight: number, now: number): Ticket {
    const entry: LogEntry = { t: now, w: weight };
    this.log.push(entry);
    this.total += weight;
    for (const w of this.windows) w.sum += weight;
    this.compact();
    const ticket: Ticket = { weight, admittedAt: now, mark: this.total };
    this.entries.set(ticket, entry);
    return ticket;
  }

  /** Keeps the log from growing without bound once every window has moved past its head. */
  private compact(): void {
    const drop = Math.min(...this.windows.map((w) => w.start), this.log.length);
    if (drop < 1024) return;
    this.log = this.log.slice(drop);
    for (const w of this.windows) w.start -= drop;
  }

  /** Something changed (new waiter, abort, learned count, hold): re-evaluate the head of the queue. */
  private kick(): void {
    if (this.wakePump) {
      const wake = this.wakePump;
      this.wakePump = undefined;
      wake();
    } else if (!this.pumping) {
      void this.pump();
    }
  }

  /**
   * Admits waiters strictly in order, so a heavy request is not starved by light ones behind it. Only
   * the head is timed; everyone behind it can only go after it, so a waiter whose deadline falls before
   * the head's admission is failed at once instead of waiting to find out.
   */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const now = this.clock.now();
        const head = this.queue[0]!;
        if (head.slot && this.running >= this.maxConcurrent) {
          await this.sleepUnlessKicked(Infinity); // the end of a running request kicks the pump
          continue;
        }
        const { until, window } = this.blocker(head.weight, now);
        if (until <= now) {
          if (head.deadlineAt !== undefined && now > head.deadlineAt) {
            this.queue.shift();
            head.reject(new LimiterDeadlineError(now, window || 'queue', this.bucket));
            continue;
          }
          this.queue.shift();
          if (head.slot) this.running += 1;
          head.resolve(this.admit(head.weight, now));
          continue;
        }
        const doomed = this.queue.filter((q) => q.deadlineAt !== undefined && until > q.deadlineAt);
        if (doomed.length > 0) {
          this.queue = this.queue.filter((q) => !doomed.includes(q));
          for (const q of doomed) q.reject(new LimiterDeadlineError(until, window, this.bucket));
          continue;
        }
        await this.sleepUnlessKicked(until - now);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Sleeps `ms` (Infinity: until kicked) unless something changes first. */
  private async sleepUnlessKicked(ms: number): Promise<void> {
    const kicked = new Promise<void>((resolve) => {
      this.wakePump = resolve;
    });
    if (!Number.isFinite(ms)) {
      await kicked;
      return;
    }
    const timer = new AbortController();
    const slept = this.clock.sleep(ms, timer.signal);
    slept.catch(() => {}); // rejects when cancelled below
    await Promise.race([slept, kicked]);
    this.wakePump = undefined;
    timer.abort();
  }
}

/** One limiter per key for the whole process: every client of the same credential shares its budget. */
const registry = new Map<string, Limiter>();
let factory: LimiterFactory | undefined;

/** The share of each window left to the customer's other tools: the policy's `reserveFraction`, at most half. */
export function reserveOf(policy: RateLimitPolicy): number {
  return Math.min(0.5, Math.max(0, policy.reserveFraction ?? 0));
}

/** The part of `limit` this client may use after the reserve; at least 1. */
export function usableLimit(limit: number, reserve: number): number {
  return Math.max(1, Math.floor(limit * (1 - reserve)));
}

export function limiterKey(vendor: string, identity: string, bucket: string): string {
  return `${vendor}:${identity}:${bucket}`;
}

/**
 * Makes getLimiter build its limiters with `f` (the shared limits on Redis), or again in-process with
 * undefined. Limiters built before are forgotten.
 */
export function useLimiterFactory(f: LimiterFactory | undefined): void {
  factory = f;
  registry.clear();
}

/**
 * The process-wide limiter for (vendor, identity, bucket), created on first use. The first caller's
 * policy and clock win: clients of one credential are expected to agree on the vendor's limits.
 */
export function getLimiter(opts: {
  vendor: string;
  identity: string;
  bucket?: string;
  policy: RateLimitPolicy;
  clock: Clock;
}): Limiter {
  const bucket = opts.bucket ?? 'default';
  const key = limiterKey(opts.vendor, opts.identity, bucket);
  let limiter = registry.get(key);
  if (!limiter) {
    limiter = factory ? factory({ ...opts, bucket }) : new RateLimiter({ ...opts, bucket });
    registry.set(key, limiter);
  }
  return limiter;
}

/** Every bucket of one credential that has been used in this process. */
export function limitersFor(vendor: string, identity: string): Limiter[] {
  return [...registry.values()].filter((l) => l.vendor === vendor && l.identity === identity);
}

/** Forgets every limiter (tests; a credential change at runtime). Queued requests keep their limiter. */
export function clearLimiters(): void {
  registry.clear();
}
