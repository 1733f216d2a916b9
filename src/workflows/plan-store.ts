import { createHash, randomBytes } from 'node:crypto';
import { link, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { ObservedAccount, Plan } from '../domain/offboarding.js';
import { ensurePrivateDir, writePrivateFile } from '../fs-private.js';
import { ToolInputError } from '../errors.js';

/**
 * Offboarding plans: what plan_offboarding observed and intends, kept under the state directory so that
 * execute_offboarding acts on exactly that, once. A plan id is 128 random bits, valid for 15 minutes, and
 * bound to a hash of the accounts it observed; executing it again returns the stored result.
 */

export const PLAN_TTL_MS = 15 * 60_000;
/** A plan lock's holder touches it this often; a lock untouched for LOCK_STALE_MS is a crashed holder's. */
const LOCK_HEARTBEAT_MS = 30_000;
const LOCK_STALE_MS = 5 * 60_000;

/** Order-independent hash of what planning observed: vendor, source, id, email, status, admin flag. */
export function observedHash(accounts: ObservedAccount[]): string {
  const rows = accounts
    .map((a) => [a.vendor, a.source, a.id, (a.email ?? '').toLowerCase(), a.status, a.is_admin === null ? 'null' : String(a.is_admin)].join('\u0000'))
    .sort();
  return createHash('sha256').update(rows.join('\n')).digest('hex');
}

export const PLAN_ID = /^[A-Za-z0-9_-]{22}$/;

/** Where plans are kept: files under the state directory (PlanStore), or Redis for replicas (RedisPlanStore). */
export interface PlanStorage {
  newPlanId(): string;
  save(plan: Plan): Promise<void>;
  /** Loads a plan; an unknown or malformed id is a ToolInputError. */
  load(planId: string): Promise<Plan>;
  expired(plan: Plan): boolean;
  /** Runs `fn` with the plan's execute lock held, in this process and across the processes sharing the plans. */
  withLock<T>(planId: string, fn: () => Promise<T>): Promise<T>;
}

export function newPlanId(): string {
  return randomBytes(16).toString('base64url');
}

export function checkPlanId(planId: string): void {
  if (!PLAN_ID.test(planId)) throw new ToolInputError('`plan_id` is not a plan id returned by plan_offboarding (22 characters). Make a plan first.');
}

/**
 * Runs `fn` after the calls for the same id queued before it in this process (two executes racing), with
 * the cross-process lock `acquire` takes held around it.
 */
export async function queuedWithLock<T>(locks: Map<string, Promise<unknown>>, id: string, acquire: () => Promise<() => Promise<void>>, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(id) ?? Promise.resolve();
  const locked = async () => {
    const release = await acquire();
    try {
      return await fn();
    } finally {
      await release();
    }
  };
  const run = prev.then(locked, locked);
  const settled = run.catch(() => undefined);
  locks.set(id, settled);
  try {
    return await run;
  } finally {
    if (locks.get(id) === settled) locks.delete(id);
  }
}

export class PlanStore implements PlanStorage {
  private readonly dir: string;
  /** Serialises state transitions of one plan within the process (two executes racing). */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    stateDir: string,
    private readonly clock: Clock,
  ) {
    this.dir = join(stateDir, 'plans');
  }

  newPlanId(): string {
    return newPlanId();
  }

  async save(plan: Plan): Promise<void> {
    await writePrivateFile(this.path(plan.plan_id), JSON.stringify(plan));
  }

  /** Loads a plan; an unknown or malformed id is a clear error, never a path outside the plan directory. */
  async load(planId: string): Promise<Plan> {
    checkPlanId(planId);
    let text: string;
    try {
      text = await readFile(this.path(planId), 'utf8');
    } catch {
      throw new ToolInputError(`No offboarding plan ${planId} on this server. Plans are kept under the state directory; make a new one with plan_offboarding.`);
    }
    return JSON.parse(text) as Plan;
  }

  expired(plan: Plan): boolean {
    return this.clock.now() > Date.parse(plan.expires_at);
  }

  /**
   * Runs `fn` with the plan's lock held, so a plan cannot be executed twice at the same time: in this process
   * (calls queue), and across processes sharing the state directory (a lock file; the second process is
   * told to wait and call again, and then gets the stored result).
   */
  async withLock<T>(planId: string, fn: () => Promise<T>): Promise<T> {
    return queuedWithLock(this.locks, planId, () => this.lockFile(planId), fn);
  }

  /**
   * Creates `<plan>.lock` exclusively and touches it every LOCK_HEARTBEAT_MS while held. A lock left by a
   * process that is gone (same host, pid not running), or not touched for LOCK_STALE_MS (a crashed holder
   * on another host), is stale and taken over; any other is another server executing the plan. The lock
   * carries a random nonce, so release removes only this holder's lock and a takeover only the stale one.
   * Kept rather than proper-lockfile (the audit log's): that judges staleness by mtime alone and knows no
   * holder, so it could neither take over at once from a dead process on this host nor name the holder.
   */
  private async lockFile(planId: string): Promise<() => Promise<void>> {
    const file = join(this.dir, `${planId}.lock`);
    try {
      await ensurePrivateDir(this.dir);
    } catch (err) {
      throw lockIoError(err, 'create the plans directory');
    }
    const mine = JSON.stringify({ pid: process.pid, host: hostname(), at: new Date(this.clock.now()).toISOString(), nonce: randomBytes(12).toString('hex') });
    for (let attempt = 0; ; attempt++) {
      let created = false;
      try {
        const handle = await open(file, 'wx', 0o600);
        created = true;
        try {
          await handle.writeFile(mine, 'utf8');
        } finally {
          await handle.close();
        }
      } catch (err) {
        if (created) {
          await rm(file, { force: true }).catch(() => {});
          throw lockIoError(err, 'write the plan lock');
        }
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw lockIoError(err, 'create the plan lock');
        const text = await readText(file);
        const holder = parseHolder(text);
        if (attempt > 0 || !(await lockIsStale(file, holder)) || !(await takeOver(file, text))) throw this.busy(planId, holder);
        continue;
      }
      const heartbeat = setInterval(() => {
        const now = new Date();
        utimes(file, now, now).catch(() => {});
      }, LOCK_HEARTBEAT_MS);
      heartbeat.unref();
      return async () => {
        clearInterval(heartbeat);
        // Only this holder's lock; a failure here must not turn a finished execution into an error.
        if ((await readText(file)) === mine) await rm(file, { force: true }).catch(() => {});
      };
    }
  }

  /** Names the other process, never the state directory's path (HTTP clients do not see server paths). */
  private busy(planId: string, holder?: LockHolder): ToolInputError {
    const who = holder ? ` (process ${holder.pid} on ${holder.host}, since ${holder.at})` : '';
    return new ToolInputError(
      `Plan ${planId} is being executed by another sales-access-mcp process sharing this state directory${who}; nothing was changed by this call. Wait a minute and call execute_offboarding again: once that run ends, the stored result is returned. A lock whose process has died is taken over (at once on the same host, else after ${LOCK_STALE_MS / 60_000} minutes).`,
    );
  }

  private path(planId: string): string {
    return join(this.dir, `${planId}.json`);
  }
}

interface LockHolder {
  pid: number;
  host: string;
  at: string;
}

/** A file's text, or undefined when it cannot be read (gone, or unreadable). */
async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

function parseHolder(text: string | undefined): LockHolder | undefined {
  try {
    const v = JSON.parse(text ?? '') as Partial<LockHolder>;
    return typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.at === 'string' ? (v as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Moves a stale lock aside and checks it is the one judged stale (`text`). If another process took it over
 * meanwhile, the lock moved aside is its fresh one: it is put back (unless a newer one exists) and false
 * tells the caller to give way. True: the path is free to create again.
 */
export async function takeOver(file: string, text: string | undefined): Promise<boolean> {
  const aside = `${file}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(file, aside);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'; // released meanwhile: free to try again
  }
  const moved = await readText(aside);
  if (moved !== text) await link(aside, file).catch(() => {});
  await rm(aside, { force: true }).catch(() => {});
  return moved === text;
}

/** An I/O failure around the plan lock, by error code only: tool errors never carry server paths. */
function lockIoError(err: unknown, what: string): Error {
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
  return new Error(`Could not ${what} (${code}); nothing was changed. Check that the server's state directory is writable and has free space.`);
}

/**
 * Stale: its process is gone (checkable on the same host only), or its holder stopped touching it. A lock
 * with no readable holder was torn by a crash between create and write, unless it is brand new.
 */
async function lockIsStale(file: string, holder: LockHolder | undefined): Promise<boolean> {
  if (holder && holder.host === hostname() && !processAlive(holder.pid)) return true;
  let age: number;
  try {
    age = Date.now() - (await stat(file)).mtimeMs;
  } catch {
    return true; // removed meanwhile
  }
  return holder ? age > LOCK_STALE_MS : age > 10_000;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
