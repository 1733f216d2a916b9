import type { Redis } from 'ioredis';
import type { SharedRedis } from '../shared/redis.js';
import { holderLabel } from '../shared/redis-lock.js';
import { JOB_RETENTION_MS, MAX_FINISHED, type JobOutcome, type JobPatch, type JobRecord, type JobStore } from './store.js';

/*
 * The job registry in Redis, for replicas: a job started on one replica is attached to, collected (once) and
 * cancelled through any other. The work itself runs where it started; what the others read is its record.
 * Keys under the prefix:
 *   job:<id>            hash: the record's fields, progress and outcome as JSON (tool results, no credential)
 *   job-lease:<id>      the running replica's label (no secret), expiring LEASE_MS after its last heartbeat
 *   job-key:<key>       the id a repeated call (same tool, owner and arguments, as a digest) attaches to
 *   job-running:<owner> ids of the owner's running jobs (runningCount); the owner is a digest (store.ts jobOwner)
 *   job-finished        ids by finish time, for the MAX_FINISHED bound
 * and the channel job-event:<id> ('done', 'cancel'). A finished job is kept JOB_RETENTION_MS; a running one at
 * most twice that. A job whose lease expired (its replica stopped) reads as failed, saying so.
 */

/** A running job's lease: the replica running it renews it every LEASE_MS / 3; gone, the job is reported failed. */
export const JOB_LEASE_MS = 15_000;
/** How often an attached call re-reads the record besides the 'done' message (a lost message, a dead replica). */
const POLL_MS = 1_000;

/**
 * finish() and the failure of an orphan, in one step: ARGV[5] = '1' applies only to a job still `running`
 * whose lease is gone. Drops the lease, the owner's running entry and the oldest finished jobs beyond the
 * bound, keeps the key mapping as long as the record, and tells attached calls.
 * KEYS: job hash, lease, finished zset. ARGV: state, finished_at, progress, outcome, orphan-only, prefix, id,
 * keep ms, max finished, cutoff (finished before it is dropped).
 */
const FINISH_LUA = `
if redis.call('exists', KEYS[1]) == 0 then return 0 end
if ARGV[5] == '1' and (redis.call('hget', KEYS[1], 'state') ~= 'running' or redis.call('exists', KEYS[2]) == 1) then return 0 end
redis.call('hset', KEYS[1], 'state', ARGV[1], 'finished_at', ARGV[2], 'outcome', ARGV[4])
if ARGV[3] ~= '' then redis.call('hset', KEYS[1], 'progress', ARGV[3]) end
redis.call('pexpire', KEYS[1], ARGV[8])
redis.call('del', KEYS[2])
local f = redis.call('hmget', KEYS[1], 'owner', 'key')
redis.call('srem', ARGV[6] .. 'job-running:' .. f[1], ARGV[7])
local kk = ARGV[6] .. 'job-key:' .. f[2]
if redis.call('get', kk) == ARGV[7] then redis.call('pexpire', kk, ARGV[8]) end
redis.call('zadd', KEYS[3], ARGV[2], ARGV[7])
redis.call('zremrangebyscore', KEYS[3], '-inf', '(' .. ARGV[10])
local over = redis.call('zcard', KEYS[3]) - tonumber(ARGV[9])
if over > 0 then
  for _, old in ipairs(redis.call('zrange', KEYS[3], 0, over - 1)) do
    redis.call('del', ARGV[6] .. 'job:' .. old)
    redis.call('zrem', KEYS[3], old)
  end
end
redis.call('pexpire', KEYS[3], ARGV[8])
redis.call('publish', ARGV[6] .. 'job-event:' .. ARGV[7], 'done')
return 1`;

/**
 * update(): flags (ARGV[4..] as field, value pairs) when the job exists; progress (ARGV[3]) only while it runs;
 * a delivered job no longer answers its key. KEYS: job hash. ARGV: prefix, id, progress, pairs...
 */
const UPDATE_LUA = `
if redis.call('exists', KEYS[1]) == 0 then return 0 end
for i = 4, #ARGV, 2 do redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[3] ~= '' and redis.call('hget', KEYS[1], 'state') == 'running' then redis.call('hset', KEYS[1], 'progress', ARGV[3]) end
if redis.call('hget', KEYS[1], 'delivered') == '1' then
  local kk = ARGV[1] .. 'job-key:' .. redis.call('hget', KEYS[1], 'key')
  if redis.call('get', kk) == ARGV[2] then redis.call('del', kk) end
end
return 1`;

/** delete(): the record and what points to it. KEYS: job hash, lease, finished zset. ARGV: prefix, id. */
const DELETE_LUA = `
local f = redis.call('hmget', KEYS[1], 'owner', 'key')
if f[1] then redis.call('srem', ARGV[1] .. 'job-running:' .. f[1], ARGV[2]) end
if f[2] then
  local kk = ARGV[1] .. 'job-key:' .. f[2]
  if redis.call('get', kk) == ARGV[2] then redis.call('del', kk) end
end
redis.call('del', KEYS[1], KEYS[2])
redis.call('zrem', KEYS[3], ARGV[2])
return 1`;

interface Held {
  onCancel: () => void;
}

export class RedisJobStore implements JobStore {
  /** Jobs running in this process: their leases are renewed here, and a cancel asked elsewhere reaches them. */
  private readonly held = new Map<string, Held>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** Calls of this process waiting per job, woken by the job's channel. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private subscriber: Redis | undefined;
  private readonly holder: string;
  private readonly leaseMs: number;

  constructor(
    private readonly redis: SharedRedis,
    private readonly opts: { now?: () => number; replicaId?: string; leaseMs?: number; maxFinished?: number } = {},
  ) {
    this.holder = holderLabel(opts.replicaId);
    this.leaseMs = opts.leaseMs ?? JOB_LEASE_MS;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  async put(job: JobRecord): Promise<void> {
    const keep = 2 * JOB_RETENTION_MS;
    const h = this.k('job', job.id);
    const running = this.k('job-running', job.owner);
    await this.redis.run('saving a background job', async (c) => {
      await c
        .multi()
        .del(h)
        .hset(h, toHash(job, this.holder))
        .pexpire(h, keep)
        .set(this.k('job-lease', job.id), this.holder, 'PX', this.leaseMs)
        .set(this.k('job-key', job.key), job.id, 'PX', keep)
        .sadd(running, job.id)
        .pexpire(running, keep)
        .exec();
    });
  }

  hold(id: string, onCancel: () => void): () => void {
    this.held.set(id, { onCancel });
    void this.subscribe(id);
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => void this.beat(), Math.max(50, Math.floor(this.leaseMs / 3)));
      this.heartbeat.unref();
    }
    return () => this.release(id);
  }

  async finish(id: string, end: Pick<JobRecord, 'state' | 'finished_at' | 'progress' | 'outcome'>): Promise<void> {
    // Released first: a heartbeat after the script would bring the lease back for a finished job.
    this.release(id);
    await this.finishScript(id, end.state, end.finished_at ?? this.now(), JSON.stringify(end.progress), end.outcome, false);
  }

  async update(id: string, patch: JobPatch): Promise<void> {
    const { progress, ...flags } = patch;
    const pairs: string[] = [];
    for (const [f, v] of Object.entries(flags)) if (v !== undefined) pairs.push(f, v ? '1' : '0');
    await this.redis.run('updating a background job', async (c) => {
      await c.eval(UPDATE_LUA, 1, this.k('job', id), this.redis.config.prefix, id, progress ? JSON.stringify(progress) : '', ...pairs);
      if (flags.cancel_requested) await c.publish(this.k('job-event', id), 'cancel');
    });
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const [fields, leased] = await this.redis.run('reading a background job', async (c) => {
      const r = await c.multi().hgetall(this.k('job', id)).exists(this.k('job-lease', id)).exec();
      return [(r?.[0]?.[1] ?? {}) as Record<string, string>, r?.[1]?.[1] === 1];
    });
    const job = fromHash(fields);
    if (!job || job.state !== 'running' || leased || this.held.has(id)) return job;
    // Its replica stopped renewing the lease: the work is gone with it.
    await this.finishScript(id, 'failed', this.now(), '', orphanOutcome(job, fields.runner, this.leaseMs), true);
    return fromHash(await this.redis.run('reading a background job', (c) => c.hgetall(this.k('job', id))));
  }

  async byKey(key: string): Promise<JobRecord | undefined> {
    const id = await this.redis.run('reading a background job', (c) => c.get(this.k('job-key', key)));
    if (id === null) return undefined;
    const j = await this.get(id);
    // A job its replica left behind is not handed to a new call: that call starts afresh (the old one stays readable by id).
    return !j || j.delivered || isOrphan(j) ? undefined : j;
  }

  attach(id: string, until: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    return this.get(id).then((first) => {
      if (!first || first.state !== 'running' || signal?.aborted || this.now() >= until) return first;
      return new Promise<JobRecord | undefined>((resolve, reject) => {
        let last: JobRecord | undefined = first;
        let settled = false;
        const end = (err?: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          clearInterval(poll);
          this.unwait(id, check);
          signal?.removeEventListener('abort', stop);
          if (err) reject(err);
          else resolve(last);
        };
        const check = () => {
          void this.get(id).then(
            (j) => {
              last = j;
              if (!j || j.state !== 'running') end();
            },
            // Redis unreachable: looked at again at the next tick; the read at the deadline reports it.
            () => undefined,
          );
        };
        const stop = () => void this.get(id).then((j) => ((last = j), end()), end);
        const timer = setTimeout(stop, Math.max(0, until - this.now()));
        const poll = setInterval(check, POLL_MS);
        // Read again once subscribed: a finish published before that is in the record.
        void this.wait(id, check).then(check);
        signal?.addEventListener('abort', stop, { once: true });
      });
    });
  }

  async delete(id: string): Promise<void> {
    await this.redis.run('deleting a background job', (c) =>
      c.eval(DELETE_LUA, 3, this.k('job', id), this.k('job-lease', id), this.k('job-finished'), this.redis.config.prefix, id),
    );
    this.release(id);
  }

  async runningCount(owner: string): Promise<number> {
    const ids = await this.redis.run('counting running background jobs', (c) => c.smembers(this.k('job-running', owner)));
    let n = 0;
    for (const id of ids) {
      // get() fails a job whose replica stopped (and drops it from the set); a record gone drops its entry.
      const j = await this.get(id);
      if (j?.state === 'running') n += 1;
      else if (!j) await this.redis.run('counting running background jobs', (c) => c.srem(this.k('job-running', owner), id));
    }
    return n;
  }

  /** Stops the heartbeat and the channel subscription; the main connection is the process's (closed by its owner). */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.held.clear();
    const s = this.subscriber;
    this.subscriber = undefined;
    if (s) await s.quit().catch(() => s.disconnect());
  }

  private async finishScript(id: string, state: string, finishedAt: number, progress: string, outcome: JobOutcome | null, orphanOnly: boolean): Promise<void> {
    const p = this.redis.config.prefix;
    await this.redis.run('saving a background job result', (c) =>
      c.eval(
        FINISH_LUA,
        3,
        this.k('job', id),
        this.k('job-lease', id),
        this.k('job-finished'),
        state,
        String(finishedAt),
        progress,
        JSON.stringify(outcome),
        orphanOnly ? '1' : '0',
        p,
        id,
        String(JOB_RETENTION_MS),
        String(this.opts.maxFinished ?? MAX_FINISHED),
        String(this.now() - JOB_RETENTION_MS),
      ),
    );
  }

  /** Renews the leases of the jobs running here, and hands them a cancel asked of another replica. */
  private async beat(): Promise<void> {
    const ids = [...this.held.keys()];
    if (ids.length === 0) return;
    try {
      const m = this.redis.client.multi();
      for (const id of ids) m.set(this.k('job-lease', id), this.holder, 'PX', this.leaseMs).hget(this.k('job', id), 'cancel_requested');
      const r = (await m.exec()) ?? [];
      ids.forEach((id, i) => {
        if (r[2 * i + 1]?.[1] === '1') this.held.get(id)?.onCancel();
      });
    } catch {
      // Redis unreachable: the work meets it at its own next write; the lease lasts LEASE_MS meanwhile.
    }
  }

  private release(id: string): void {
    if (!this.held.delete(id)) return;
    if (!this.waiters.has(id)) this.unsubscribe(id);
    if (this.held.size === 0) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private wait(id: string, fn: () => void): Promise<void> {
    const set = this.waiters.get(id) ?? new Set();
    set.add(fn);
    this.waiters.set(id, set);
    return this.subscribe(id);
  }

  private unwait(id: string, fn: () => void): void {
    const set = this.waiters.get(id);
    set?.delete(fn);
    if (set && set.size === 0) {
      this.waiters.delete(id);
      if (!this.held.has(id)) this.unsubscribe(id);
    }
  }

  /** The channel of job `id` on this store's subscriber connection (a subscribed connection takes no other command). */
  private subscribe(id: string): Promise<void> {
    if (!this.subscriber) {
      const s = this.redis.client.duplicate();
      s.on('error', () => {
        // The attach poll and the heartbeat cover a lost subscription.
      });
      s.on('message', (channel: string, message: string) => {
        const jobId = channel.slice(this.k('job-event', '').length);
        if (message === 'cancel') this.held.get(jobId)?.onCancel();
        for (const fn of [...(this.waiters.get(jobId) ?? [])]) fn();
      });
      this.subscriber = s;
    }
    return this.subscriber.subscribe(this.k('job-event', id)).then(
      () => undefined,
      () => undefined,
    );
  }

  private unsubscribe(id: string): void {
    void this.subscriber?.unsubscribe(this.k('job-event', id)).catch(() => undefined);
  }

  private k(...parts: string[]): string {
    return this.redis.key(...parts);
  }
}

const ORPHAN_MARK = 'The server replica running this work';

function orphanOutcome(job: JobRecord, runner: string | undefined, leaseMs: number): JobOutcome {
  const who = runner ? ` (${runner})` : '';
  const writes = job.writes ? ' It was a write: check the audit log for what was applied before repeating it.' : ' Nothing of it can be collected.';
  return {
    kind: 'result',
    result: {
      content: [
        {
          type: 'text',
          text:
            `${ORPHAN_MARK}${who} stopped before it finished: it no longer renewed the job's lease in Redis (every ${Math.round(leaseMs / 3000)} s, expiring after ${Math.round(leaseMs / 1000)} s).${writes} ` +
            `Call ${job.tool} again without job_id to start afresh.`,
        },
      ],
      isError: true,
    },
  };
}

function isOrphan(j: JobRecord): boolean {
  const c = j.outcome?.kind === 'result' ? j.outcome.result.content[0] : undefined;
  return c?.type === 'text' && c.text.startsWith(ORPHAN_MARK);
}

function toHash(j: JobRecord, runner: string): Record<string, string> {
  return {
    id: j.id,
    tool: j.tool,
    owner: j.owner,
    key: j.key,
    writes: j.writes ? '1' : '0',
    state: j.state,
    started_at: String(j.started_at),
    finished_at: j.finished_at === null ? '' : String(j.finished_at),
    progress: JSON.stringify(j.progress),
    outcome: JSON.stringify(j.outcome),
    announced: j.announced ? '1' : '0',
    delivered: j.delivered ? '1' : '0',
    cancel_requested: j.cancel_requested ? '1' : '0',
    runner,
  };
}

function fromHash(h: Record<string, string>): JobRecord | undefined {
  if (!h.id) return undefined;
  return {
    id: h.id,
    tool: h.tool,
    owner: h.owner,
    key: h.key,
    writes: h.writes === '1',
    state: h.state as JobRecord['state'],
    started_at: Number(h.started_at),
    finished_at: h.finished_at ? Number(h.finished_at) : null,
    progress: JSON.parse(h.progress) as JobRecord['progress'],
    outcome: JSON.parse(h.outcome ?? 'null') as JobOutcome | null,
    announced: h.announced === '1',
    delivered: h.delivered === '1',
    cancel_requested: h.cancel_requested === '1',
  };
}
