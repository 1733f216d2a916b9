import type BottleneckModule from 'bottleneck';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { SharedRedis } from '../shared/redis.js';
import {
  LimiterDeadlineError,
  reserveOf,
  usableLimit,
  useLimiterFactory,
  type Limiter,
  type LimiterOptions,
  type ScheduleOptions,
  type Ticket,
  type WindowSnapshot,
} from './limiter.js';
import type { RateLimitPolicy } from './types.js';

/*
 * Rate limits shared by the replicas (issue 13 item 1, docs/shared-limiter-design.md): with
 * SALES_ACCESS_REDIS_URL set, admissions go through Bottleneck clustered on Redis; the project's policy
 * (windows, weights, reserve, learned limits, 429 holds, deadlines, concurrency) drives it.
 *
 * - Each window is one Bottleneck whose maxConcurrent is the window's usable limit ("slots"): an admission is
 *   a job of the request's weight (clamped to the limit) that holds its slot until one window (+ slack) after
 *   the request's answer. A replica that dies has its slots freed by Redis at the job's expiration.
 * - Several windows: a slot in each, taken in a fixed order (concurrency first, then the policy's windows).
 * - The policy's maxConcurrent is one more Bottleneck, whose slot is held while the request runs.
 * - A learned limit is updateSettings({ maxConcurrent }), which every replica sees.
 * - A 429 hold, and a vendor's "nothing left until T", is one Redis key holding the epoch ms until which no
 *   request of the bucket leaves, checked before each admission. (A phantom job of the whole limit, the design
 *   note's first idea, needs every slot free at once, so it starves while other replicas take slots as they free.)
 * - Deadlines: an admission still waiting after a moment reads when the slots free from Bottleneck's
 *   `b_<id>_job_expirations` ZSET and fails at once with that retry time when it falls after the deadline.
 *
 * Bottleneck times everything with Date.now() (not the injected clock), so this engine runs on real time.
 */

type Bottleneck = BottleneckModule;
type BottleneckClass = typeof BottleneckModule;

/**
 * Slot kept past one window: the vendor counts a request somewhere between its sending and its answer, not always
 * equally late (a busy event loop on either side), so a slot is held one window from the answer (or the end of
 * the request without one). Counting from the sending instead met 429s with two busy replicas on 2 cores
 * (`npm run -s bench -- shared_limits`). The slack covers timer lateness.
 */
const SLOT_SLACK_MS = 25;
/** Heartbeat of each Bottleneck: how soon a replica notices slots freed elsewhere without a message. */
const HEARTBEAT_MS = 1_000;
/** How long an admission waits before it asks Redis when room frees (most are admitted well before). */
const FIRST_LOOK_MS = 25;
/** While waiting, Redis is asked again this often: the retry time is refreshed and an outage is noticed. */
const LOOK_EVERY_MS = 1_000;
/** With no deadline, slots held by a waiting admission survive its process this long (Redis frees them). */
const NO_DEADLINE_WAIT_MS = 10 * 60_000;
/** The longest a request is expected to run (timeouts are shorter): part of every slot's expiration. */
const REQUEST_ALLOWANCE_MS = 5 * 60_000;
/** Redis' answer to the first use of a limiter (its settings and scripts). */
const READY_TIMEOUT_MS = 5_000;

/** Only sets the hold when it is later than the one already there; the key expires with it. */
const HOLD_SCRIPT = `
local cur = tonumber(redis.call('get', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1`;

interface SharedWindow {
  name: string;
  intervalMs: number;
  configuredLimit: number;
  learnedLimit: number | undefined;
  usable: number;
  b: Bottleneck;
  learned: { remaining: number; resetAtMs: number | undefined; expiresAt: number } | undefined;
}

interface Slot {
  release(): void;
}

/**
 * Bottleneck's state for this limiter is gone from Redis (its keys expired when idle, or Redis restarted empty).
 * Bottleneck 2.19.5 would set itself up again, but it compares the message exactly and Redis 7 prefixes "ERR ",
 * so the limiter rebuilds its Bottlenecks and the admission starts over.
 */
class StaleSetup extends Error {}
const STALE = /SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT/;

/** The Bottleneck engine for one process: one Redis connection (and its subscriber) for every limiter. */
export class SharedLimits {
  private readonly limiters: SharedLimiter[] = [];
  private closed = false;

  private constructor(
    readonly redis: SharedRedis,
    private readonly Bottleneck: BottleneckClass,
    private readonly connection: BottleneckModule.IORedisConnection,
  ) {}

  /**
   * Loads Bottleneck (only when Redis is configured) and opens its connection over the process's Redis
   * client; its pub/sub subscriber is the one extra connection.
   */
  static async open(redis: SharedRedis): Promise<SharedLimits> {
    const [{ default: Bottleneck }, { Redis: RedisClass }] = await Promise.all([import('bottleneck'), import('ioredis')]);
    const connection = new Bottleneck.IORedisConnection({ Redis: RedisClass, client: subscribable(redis.client) } as BottleneckModule.IORedisConnectionOptions);
    connection.on('error', () => {}); // outages reach the callers through SharedRedis.run
    await redis.run('opening the shared rate limits', () => withTimeout((connection as unknown as { ready: Promise<unknown> }).ready, READY_TIMEOUT_MS));
    return new SharedLimits(redis, Bottleneck, connection);
  }

  /** Makes getLimiter build shared limiters (createDeps calls it when Redis is configured). */
  install(): this {
    useLimiterFactory((opts) => this.limiter(opts));
    return this;
  }

  /** A new shared limiter; getLimiter keeps one per key and process. */
  limiter(opts: LimiterOptions): SharedLimiter {
    const l = new SharedLimiter(opts, this.redis, (o) => new this.Bottleneck({ ...o, datastore: 'ioredis', connection: this.connection }));
    this.limiters.push(l);
    return l;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    useLimiterFactory(undefined);
    for (const l of this.limiters) l.stop();
    // The client belongs to SharedRedis (closed by its owner); only the subscriber is this engine's.
    (this.connection as unknown as { subscriber: Redis }).subscriber.disconnect();
  }
}

/**
 * The client, except that its duplicate (Bottleneck's subscriber) connects by itself: SharedRedis' client is
 * lazyConnect, and a copy of that never connects (design note), so Bottleneck would wait for it forever.
 */
function subscribable(client: Redis): Redis {
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'duplicate') return () => target.duplicate({ lazyConnect: false });
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** One (vendor, credential fingerprint, bucket) on Bottleneck clustered on Redis; see the top of this file. */
export class SharedLimiter implements Limiter {
  readonly vendor: string;
  readonly identity: string;
  readonly bucket: string;
  private readonly clock: Clock;
  private readonly policy: RateLimitPolicy;
  private readonly reserve: number;
  private readonly windows: SharedWindow[];
  private concurrency: Bottleneck | undefined;
  private readonly holdKey: string;
  /** The Bottlenecks' set-up in Redis; rebuilt at the next admission after it failed (Redis was down). */
  private ready: Promise<void>;
  private readonly build: () => void;
  private running = 0;
  private total = 0;
  private stopped = false;
  /** Admissions waiting for a slot: failed at stop(). */
  private readonly waiting = new Set<(err: unknown) => void>();
  /** Each admission's window slots, released one window (+ slack) after the request ended. */
  private readonly pending = new WeakMap<Ticket, { slots: Slot[]; timers: NodeJS.Timeout[] }>();
  private localHold = 0;
  private last429: number | undefined;

  constructor(
    opts: LimiterOptions,
    private readonly redis: SharedRedis,
    make: (o: BottleneckModule.ConstructorOptions) => Bottleneck,
  ) {
    this.vendor = opts.vendor;
    this.identity = opts.identity;
    this.bucket = opts.bucket;
    this.clock = opts.clock;
    const policy = opts.policy;
    this.policy = policy;
    this.reserve = reserveOf(policy);
    // Vendor, non-secret credential fingerprint, bucket: nothing else goes into the keys (b_<id>_*).
    const id = (part: string) => redis.key('limits', opts.vendor, opts.identity, opts.bucket, part);
    const longest = Math.max(...policy.windows.map((w) => w.intervalMs), 60_000);
    const common = {
      heartbeatInterval: HEARTBEAT_MS,
      // Keys expire once idle past the longest slot they may hold (Bottleneck's `timeout`).
      timeout: longest * 2 + NO_DEADLINE_WAIT_MS + REQUEST_ALLOWANCE_MS,
    };
    this.windows = policy.windows.map((w) => ({ name: w.name, intervalMs: w.intervalMs, configuredLimit: w.limit, learnedLimit: undefined, usable: this.usableOf(w.limit), learned: undefined, b: undefined as unknown as Bottleneck }));
    this.holdKey = id('hold');
    // The first replica's settings stay in Redis: every replica sets its limits when it starts using them.
    const settle = (b: Bottleneck, maxConcurrent: number) => b.ready().then(() => (b.updateSettings({ maxConcurrent }) as unknown as Promise<unknown>));
    this.build = () => {
      for (const w of this.windows) w.b = make({ ...common, id: id(w.name), maxConcurrent: w.usable });
      this.concurrency = policy.maxConcurrent ? make({ ...common, id: id('concurrency'), maxConcurrent: policy.maxConcurrent }) : undefined;
      for (const b of this.all()) b.on('error', () => {}); // heartbeat failures; callers meet the outage through SharedRedis.run
      this.ready = Promise.all([
        ...this.windows.map((w) => settle(w.b, w.usable)),
        ...(this.concurrency ? [settle(this.concurrency, policy.maxConcurrent!)] : []),
      ]).then(() => undefined);
      this.ready.catch(() => {}); // awaited (and reported) by each admission
    };
    this.ready = Promise.resolve();
    this.build();
  }

  /** Waits for the set-up in Redis; after a failure, the next admission starts over with new Bottlenecks. */
  private async whenReady(): Promise<void> {
    const ready = this.ready;
    try {
      await this.redis.run('preparing the shared rate limits', () => withTimeout(ready, READY_TIMEOUT_MS));
    } catch (err) {
      this.rebuild(ready);
      throw err;
    }
  }

  /** New Bottlenecks, unless another admission already replaced the set-up `seen`. */
  private rebuild(seen: Promise<void>): void {
    if (this.ready !== seen || this.stopped) return;
    this.quiet(this.all());
    this.build();
  }

  private all(): Bottleneck[] {
    return [...(this.concurrency ? [this.concurrency] : []), ...this.windows.map((w) => w.b)];
  }

  private usableOf(limit: number): number {
    return usableLimit(limit, this.reserve);
  }

  async schedule<T>(fn: (ticket: Ticket) => Promise<T>, opts: ScheduleOptions = {}): Promise<T> {
    const { ticket, slot } = await this.admit(opts, true);
    this.running += 1;
    try {
      return await fn(ticket);
    } finally {
      this.running -= 1;
      slot?.release();
      this.settle(ticket);
    }
  }

  async acquire(opts: ScheduleOptions = {}): Promise<Ticket> {
    return (await this.admit(opts, false)).ticket;
  }

  /**
   * Waits out any hold, then takes a concurrency slot (schedule only) and a slot in every window, in that
   * order. The window slots are released one window (+ slack) after the request ends (see sent, settle).
   */
  private async admit(opts: ScheduleOptions, withConcurrency: boolean): Promise<{ ticket: Ticket; slot: Slot | undefined }> {
    const seen = this.ready;
    try {
      return await this.admitOnce(opts, withConcurrency);
    } catch (err) {
      if (!(err instanceof StaleSetup)) throw err;
      this.rebuild(seen);
      try {
        return await this.admitOnce(opts, withConcurrency);
      } catch (again) {
        if (!(again instanceof StaleSetup)) throw again;
        return this.redis.run('taking a shared rate-limit slot', () => Promise.reject(new Error('the rate-limit state in Redis disappeared twice in a row')));
      }
    }
  }

  private async admitOnce(opts: ScheduleOptions, withConcurrency: boolean): Promise<{ ticket: Ticket; slot: Slot | undefined }> {
    const weight = Math.max(0, opts.weight ?? 1);
    const { signal, deadlineAt } = opts;
    if (signal?.aborted) throw signal.reason;
    await this.whenReady();
    // Bottleneck frees a slot at its expiration (here, or in Redis when this process died): it must outlast the
    // wait for the other slots, the request itself, and one window after it.
    const waitBudget = deadlineAt === undefined ? NO_DEADLINE_WAIT_MS : Math.max(0, deadlineAt - this.clock.now());
    await this.waitOutHold(deadlineAt, signal);
    const taken: Slot[] = [];
    const t0 = this.clock.now();
    try {
      if (withConcurrency && this.concurrency) taken.push(await this.take(this.concurrency, 1, waitBudget + REQUEST_ALLOWANCE_MS, 'concurrency', deadlineAt, signal));
      for (const w of this.windows) {
        taken.push(await this.take(w.b, Math.min(weight, w.usable), waitBudget + REQUEST_ALLOWANCE_MS + w.intervalMs + SLOT_SLACK_MS, w.name, deadlineAt, signal));
      }
      // A hold set elsewhere while this admission waited for its slots still applies.
      if (this.clock.now() - t0 > FIRST_LOOK_MS) await this.waitOutHold(deadlineAt, signal);
    } catch (err) {
      for (const s of taken) s.release(); // nothing was sent
      throw err;
    }
    const now = this.clock.now();
    const concurrency = withConcurrency && this.concurrency ? taken.shift() : undefined;
    this.total += weight;
    const ticket: Ticket = { weight, admittedAt: now, mark: this.total };
    this.pending.set(ticket, { slots: taken, timers: this.releaseLater(taken) });
    return { ticket, slot: concurrency };
  }

  /** Releases the window slots one window (+ slack) from now. */
  private releaseLater(slots: Slot[]): NodeJS.Timeout[] {
    return this.windows.map((w, i) => {
      const t = setTimeout(() => slots[i]!.release(), w.intervalMs + SLOT_SLACK_MS);
      t.unref();
      return t;
    });
  }

  /** The request went out: its slots are held one window from now at least. */
  sent(ticket: Ticket): void {
    const p = this.pending.get(ticket);
    if (!p) return;
    for (const t of p.timers) clearTimeout(t);
    p.timers = this.releaseLater(p.slots);
  }

  /** The request is over (answer seen, or failed without one): its slots are held one window from now, once. */
  private settle(ticket: Ticket): void {
    this.sent(ticket);
    this.pending.delete(ticket);
  }

  /** Sleeps until the bucket's hold (a 429, or nothing left until the reset) is over, or fails at once past the deadline. */
  private async waitOutHold(deadlineAt: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      const stored = await this.redis.run('reading the shared rate-limit hold', (c) => c.get(this.holdKey));
      const until = Math.max(this.localHold, Number(stored ?? 0) || 0);
      const now = this.clock.now();
      if (until <= now) return;
      if (deadlineAt !== undefined && until > deadlineAt) throw new LimiterDeadlineError(until, 'hold', this.bucket, true);
      await this.clock.sleep(until - now, signal);
    }
  }

  /**
   * A job of `weight` on `b` that holds its slot until released (or, if this process dies, until Redis drops
   * it at `expirationMs`). Resolves when the job starts; a job abandoned while queued (deadline, abort, Redis
   * error) frees its slot as soon as it starts.
   */
  private take(b: Bottleneck, weight: number, expirationMs: number, window: string, deadlineAt: number | undefined, signal: AbortSignal | undefined): Promise<Slot> {
    return new Promise<Slot>((resolve, reject) => {
      let state: 'waiting' | 'started' | 'abandoned' = 'waiting';
      let timer: NodeJS.Timeout | undefined;
      const give = (err: unknown) => {
        if (state !== 'waiting') return;
        state = 'abandoned';
        this.waiting.delete(give);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      const onAbort = () => give(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(give);
      const job = () =>
        new Promise<void>((done) => {
          if (state === 'abandoned') return done();
          state = 'started';
          this.waiting.delete(give);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          let released = false;
          resolve({
            release: () => {
              // After stop() the slot stays held in Redis until its expiration, as if this process had died.
              if (released || this.stopped) return;
              released = true;
              done();
            },
          });
        });
      const submit = (w: number) =>
        b.schedule({ weight: w, expiration: Math.max(1, Math.round(expirationMs)) }, job).catch((err: unknown) => {
          if (state !== 'waiting') return; // after the start: the expiration (the slot is already over)
          // Another replica learned a lower limit than this one knows: the request takes the whole window.
          const over = /OVERWEIGHT:\d+:(\d+)/.exec(String((err as Error)?.message));
          if (over && Number(over[1]) < w) return void submit(Math.max(1, Number(over[1])));
          if (STALE.test(String((err as Error)?.message))) return give(new StaleSetup());
          // SharedRedis.run turns the failure into its actionable "Redis ... is unreachable" error.
          this.redis.run('taking a shared rate-limit slot', () => Promise.reject(err)).catch(give);
        });
      void submit(weight);
      // Most admissions start within a timer tick; one still waiting asks Redis when its room frees.
      const look = () => {
        timer = undefined;
        if (state !== 'waiting') return;
        this.retryAt(b, weight, window)
          .then((at) => {
            if (state !== 'waiting') return;
            if (deadlineAt !== undefined && at > deadlineAt) return give(new LimiterDeadlineError(at, window, this.bucket, true));
            const next = deadlineAt === undefined ? LOOK_EVERY_MS : Math.min(LOOK_EVERY_MS, Math.max(1, deadlineAt - this.clock.now() + 1));
            timer = setTimeout(look, next);
            timer.unref();
          })
          .catch((err: unknown) => give(err));
      };
      timer = setTimeout(look, FIRST_LOOK_MS);
      timer.unref();
    });
  }

  /**
   * When `weight` fits in `b`, from Bottleneck's own log in Redis: the jobs holding slots, their weights and
   * their expirations. Past the deadline the job is still queued: a conservative answer (one more look later).
   */
  private async retryAt(b: Bottleneck, weight: number, window: string): Promise<number> {
    const now = this.clock.now();
    const id = (b as unknown as { id: string }).id;
    const w = this.windows.find((x) => x.name === window);
    const fallback = now + (w?.intervalMs ?? LOOK_EVERY_MS);
    return this.redis.run('reading the shared rate-limit slots', async (c) => {
      const [[, settings], [, held]] = (await c
        .pipeline()
        .hmget(`b_${id}_settings`, 'maxConcurrent', 'running')
        .zrangebyscore(`b_${id}_job_expirations`, `(${now}`, '+inf', 'WITHSCORES')
        .exec()) as [[unknown, (string | null)[]], [unknown, string[]]];
      const max = Number(settings[0]);
      const running = Number(settings[1] ?? 0);
      if (!Number.isFinite(max)) return fallback;
      let missing = running + weight - max;
      if (missing <= 0) return Math.max(now + LOOK_EVERY_MS, this.localHold); // room, but others are queued first
      const indexes: string[] = [];
      const at: number[] = [];
      for (let i = 0; i < held.length; i += 2) {
        indexes.push(held[i]!);
        at.push(Number(held[i + 1]));
      }
      if (indexes.length === 0) return fallback;
      const weights = await c.hmget(`b_${id}_job_weights`, ...indexes);
      // A held slot's expiration is its latest end (slots are usually released one window after the request).
      const order = at.map((t, i) => ({ t, w: Number(weights[i] ?? 1) })).sort((x, y) => x.t - y.t);
      for (const e of order) {
        missing -= e.w;
        if (missing <= 0) return Math.min(e.t, fallback);
      }
      return fallback;
    });
  }

  /** Feeds a response's headers through the policy's header spec (see learn). */
  observe(headers: Record<string, string>, ticket?: Ticket): void {
    if (ticket) this.settle(ticket);
    const spec = this.policy.headers;
    if (!spec) return;
    for (const [name, info] of Object.entries(spec.parse(headers, this.clock.now(), ticket?.admittedAt))) this.learn(name, info);
  }

  /**
   * A learned limit becomes the window's maxConcurrent for every replica; a reported remaining with nothing
   * usable left holds the bucket until the reported reset (at most one window).
   */
  learn(name: string, info: { limit?: number; remaining?: number; resetAtMs?: number }): void {
    const w = this.windows.find((x) => x.name === name);
    if (!w) return;
    const now = this.clock.now();
    if (info.limit !== undefined && Number.isFinite(info.limit) && info.limit > 0 && info.limit !== (w.learnedLimit ?? w.configuredLimit)) {
      w.learnedLimit = info.limit;
      w.usable = this.usableOf(info.limit);
      void (w.b.updateSettings({ maxConcurrent: w.usable }) as unknown as Promise<unknown>).catch(() => {});
    }
    if (info.remaining !== undefined && Number.isFinite(info.remaining)) {
      if (info.resetAtMs !== undefined && info.resetAtMs <= now) return;
      const expiresAt = Math.min(info.resetAtMs ?? now + w.intervalMs, now + w.intervalMs);
      w.learned = { remaining: Math.max(0, info.remaining), resetAtMs: info.resetAtMs, expiresAt };
      const reserved = (w.learnedLimit ?? w.configuredLimit) - w.usable;
      if (info.remaining - reserved <= 0) this.holdUntil(expiresAt);
    }
  }

  holdUntil(untilMs: number): void {
    const now = this.clock.now();
    if (untilMs <= Math.max(now, this.localHold)) return;
    this.localHold = untilMs;
    void this.redis.client.eval(HOLD_SCRIPT, 1, this.holdKey, String(Math.round(untilMs)), String(Math.max(1, Math.ceil(untilMs - now)))).catch(() => {});
  }

  noteRateLimited(atMs: number = this.clock.now()): void {
    this.last429 = atMs;
  }

  get last429At(): number | undefined {
    return this.last429;
  }

  get inFlight(): number {
    return this.running;
  }

  /** What this replica knows without asking Redis: its own hold. */
  waitMs(): number {
    return Math.max(0, this.localHold - this.clock.now());
  }

  /** The rate-bound schedule for `count` more requests, as if this replica had the whole budget. */
  forecast(count: number, weight = 1): number {
    const now = this.clock.now();
    const start = Math.max(now, this.localHold);
    const n = Math.max(0, Math.ceil(count));
    if (n === 0) return start;
    let t = start;
    for (const w of this.windows) {
      const per = Math.max(1, Math.floor(w.usable / Math.max(1, Math.min(weight, w.usable))));
      t = Math.max(t, start + Math.floor((n - 1) / per) * w.intervalMs);
    }
    return t;
  }

  snapshot(): WindowSnapshot[] {
    const now = this.clock.now();
    return this.windows.map((w) => {
      const learned = w.learned && now < w.learned.expiresAt ? w.learned : undefined;
      return {
        name: w.name,
        limit: w.learnedLimit ?? w.configuredLimit,
        remaining: learned ? learned.remaining : null,
        resets_at: learned?.resetAtMs === undefined ? null : new Date(learned.resetAtMs).toISOString(),
        bucket: this.bucket,
      };
    });
  }

  /**
   * Stops as a process that dies would: the slots it holds stay counted in Redis until their expiration, so a
   * restarting replica does not hand its share of the window back early. Bottleneck's stop() would wait for
   * them (an hour for Outreach), so its timers are cleared here (2.19.5 internals: the heartbeat and the
   * jobs' start and expiration timers). Admissions still waiting fail.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const give of [...this.waiting]) give(new Error(`the ${this.vendor} rate limiter was stopped (the server is shutting down)`));
    this.quiet(this.all());
  }

  /** Clears Bottleneck's timers (2.19.5 internals: the heartbeat, the jobs' start and expiration timers). */
  private quiet(bs: Bottleneck[]): void {
    for (const b of bs) {
      const inner = b as unknown as { _store?: { heartbeat?: NodeJS.Timeout }; _scheduled?: Record<string, { timeout?: NodeJS.Timeout; expiration?: NodeJS.Timeout }> };
      clearInterval(inner._store?.heartbeat);
      for (const v of Object.values(inner._scheduled ?? {})) {
        clearTimeout(v.timeout);
        clearTimeout(v.expiration);
      }
    }
  }
}
