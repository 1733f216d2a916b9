import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { systemClock, type Clock } from '../clock.js';
import type { VendorId } from '../domain/account.js';
import { VendorError } from '../errors.js';
import { GENESIS_HASH, scanChain, sha256 } from './chain.js';

export { GENESIS_HASH } from './chain.js';

/** Who asked for a write: the MCP client over stdio, or the fingerprint of the HTTP bearer token. */
export type Actor =
  | { kind: 'mcp_client'; name: string; version: string }
  | { kind: 'http_token'; fingerprint: string }
  /**
   * A person signed in with the organisation's identity provider (HTTP with SALES_ACCESS_OAUTH_ISSUER): the
   * access token's `iss` and `sub`, email and name when it carries them, the OAuth client it was issued to,
   * and the MCP client (self-declared name and version). Never the token.
   */
  | ({ kind: 'person'; iss: string; client_id?: string; client?: string } & PersonRef);

/** A signed-in person as the audit log and approvals name them. */
export interface PersonRef {
  /** The identity provider's stable subject identifier. */
  sub: string;
  email?: string;
  name?: string;
}

export type AuditResult = 'ok' | 'failed' | 'ambiguous';

/** How the write was approved. Open-ended: new gate modes only add values. */
export type ConfirmationMethod = 'elicit' | 'token' | 'none' | (string & {});

/**
 * How a human decided, when the confirmation method records more than its name. For `browser`: when the
 * approval page's Approve was clicked and the approving browser's User-Agent (as that browser sent it). For
 * `app` (the in-chat view of an MCP Apps host): when Approve was clicked and the host's name and version
 * (its MCP clientInfo). Optional: lines written before this field existed stay valid.
 */
export interface ConfirmationDetail {
  /** ISO 8601 time of the decision. */
  decided_at: string;
  /** `browser`: User-Agent of the browser that approved, cut to 256 characters; null when it sent none. */
  user_agent?: string | null;
  /** `app`: the MCP host that showed the view and relayed the click, e.g. "Claude 1.2.3". */
  host?: string;
  /** `app`, signed in with the identity provider: the person whose session relayed the click. */
  decided_by?: PersonRef;
}

export interface AuditTarget {
  id?: string | null;
  email?: string | null;
}

export interface IntentInput {
  tool: string;
  vendor: VendorId;
  target: AuditTarget;
  /** Tool arguments; only keys named in `allow` are recorded, and never a secret-looking key. */
  args?: Record<string, unknown>;
  allow?: readonly string[];
  actor: Actor;
  confirmation: ConfirmationMethod;
  /** Details of the confirmation (browser approvals); copied to the outcome line. */
  confirmation_detail?: ConfirmationDetail;
  /** State before the write, when the tool read it; also copied to the outcome line. */
  before?: unknown;
  plan_id?: string;
}

export interface OutcomeInput {
  result: AuditResult;
  /** Public message (what the agent was told). */
  error?: string;
  /** Overrides the intent's `before`. */
  before?: unknown;
  after?: unknown;
  vendor_request_id?: string;
  /** Default: time since the intent line. */
  duration_ms?: number;
}

interface LineCommon {
  /** ISO 8601. */
  time: string;
  op_id: string;
  tool: string;
  vendor: VendorId;
  target: AuditTarget;
  actor: Actor;
  confirmation: ConfirmationMethod;
  confirmation_detail?: ConfirmationDetail;
  plan_id?: string;
  /**
   * Which process wrote the line: a replica id, or `<hostname>:<pid>`. Absent on lines written before it
   * existed.
   */
  writer?: string;
  /** SHA-256 hex of the previous line's bytes (without its newline); 64 zeros on the first line. */
  prev_hash: string;
}

export interface IntentLine extends LineCommon {
  type: 'intent';
  args: Record<string, unknown>;
  before?: unknown;
}

export interface OutcomeLine extends LineCommon {
  type: 'outcome';
  result: AuditResult;
  error?: string;
  before?: unknown;
  after?: unknown;
  vendor_request_id?: string;
  duration_ms: number;
}

export type AuditLine = IntentLine | OutcomeLine;

export interface VerifyResult {
  ok: boolean;
  /** Lines in the file. */
  lines: number;
  /** 1-based number of the first line that is not valid JSON or does not chain to the one before it. */
  firstBadLine?: number;
}

/**
 * A failure to write the audit trail itself. `message` names the file, for the server log and for start-up
 * (the admin at the terminal needs it); `publicMessage` is the same without any path, for tool results: a
 * remote client has no business learning where the server keeps its state.
 */
export class AuditWriteError extends Error {
  override readonly name = 'AuditWriteError';
  readonly publicMessage: string;
  constructor(message: string, publicMessage: string = message) {
    super(message);
    this.publicMessage = publicMessage;
  }
}

export interface AuditLogOptions {
  clock?: Clock;
  /**
   * Names this process in every line's `writer`. Pass the replica id (`SALES_ACCESS_REPLICA_ID`) when one is
   * configured; default `<hostname>:<pid>` (see auditWriterName).
   */
  writer?: string;
  /** The cross-process lock: a holder silent this long is taken to have died (min 2000), and how long to wait. */
  lock?: { staleMs?: number; timeoutMs?: number };
}

/** What this instance's appends cost in waiting for other writers; for benchmarks and diagnostics. */
export interface AuditWriteStats {
  /** Lines this instance appended. */
  appends: number;
  /** Lock acquisitions that found another writer holding the lock at least once. */
  lock_waits: number;
  /** Time spent waiting for the lock, summed and the longest, in ms. */
  lock_wait_ms: number;
  max_lock_wait_ms: number;
}

/** Dropped wherever it appears, even when a caller allowlisted it: the log must never hold a credential. */
const SECRET_KEY = /token|secret|password|authorization|api[_-]?key/i;
const MAX_DEPTH = 8;
const TAIL_CHUNK = 64 * 1024;
const CHECK_MODES = process.platform !== 'win32';
/**
 * A holder refreshes its lock every staleMs/2 while it holds it; appends hold it for one write and fsync
 * (milliseconds), so only a process killed mid-append (SIGKILL, OOM, power cut) leaves a lock to go stale.
 * Normal exits and signals remove it (proper-lockfile's exit hook).
 */
const LOCK_STALE_MS = 10_000;
/** Longer than the stale time, so a dead holder's lock is taken over rather than failing the write. */
const LOCK_TIMEOUT_MS = LOCK_STALE_MS + 5_000;
/** Upper bound of one wait between lock attempts; the first waits are ~1 ms, since holds are that short. */
const LOCK_MAX_BACKOFF_MS = 20;

interface HeldLock {
  release: () => Promise<void>;
  /** Throws if the lock was lost while held (its refresh failed), before anything is written. */
  check: () => void;
}

/** The `writer` of this process's lines: the replica id when set, else `<hostname>:<pid>`. */
export function auditWriterName(replicaId?: string): string {
  const id = replicaId?.trim();
  return id ? id : `${hostname()}:${process.pid}`;
}

/**
 * Append-only JSON-lines audit trail with a hash chain. Every line is fsynced before the call returns, so
 * an `intent` line is on disk before the vendor is touched and a crash leaves at worst an intent without
 * an outcome (which reads as "may have happened").
 *
 * Several writer processes on one host (servers sharing a state directory, as the plan lock allows) share
 * one file and one chain: each append takes a cross-process lock (proper-lockfile: an atomic mkdir of
 * `<file>.lock`, refreshed while held, taken over once stale), re-reads the tail if the file grew since this
 * process last wrote, writes and fsyncs its line, then unlocks. One chain rather than one file per process
 * because readers want one ordered trail: `recent(n)` and a verifier stay single-file, the configured path
 * keeps meaning "the audit log", a removed line shows wherever it was, and restarts (new pids) do not
 * scatter the trail over files. The price is a wait while another process appends: tens of ms, a few
 * hundred at worst, with three processes appending flat out (test/unit/audit-multiwriter.test.ts), small
 * beside the vendor call each line wraps. Each line names its `writer`. Replicas on different hosts must
 * not share a file (the lock is only as good as the file system's mkdir; NFS is not trusted here): give
 * each its own state directory, and verify the files together (verify.ts). The lock library is used rather
 * than a lock of our own: it handles takeover, refresh and exit cleanup, and Node has no flock(2).
 *
 * Known limit, from the lock library: if a holder dies mid-append and two waiters take over its stale lock
 * at the same instant, both may hold it (proper-lockfile issue #121); the chain then shows a break at that
 * spot, which verify reports, rather than hiding it.
 */
export class AuditLog {
  private readonly clock: Clock;
  private readonly writer: string;
  private readonly lockStaleMs: number;
  private readonly lockTimeoutMs: number;
  private handle: FileHandle | undefined;
  private opening: Promise<FileHandle> | undefined;
  private lastHash = GENESIS_HASH;
  /** File size after our last append; -1 forces a re-read of the tail. */
  private size = -1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pending = new Map<string, { intent: IntentLine; startedAt: number }>();
  private readonly counters: AuditWriteStats = { appends: 0, lock_waits: 0, lock_wait_ms: 0, max_lock_wait_ms: 0 };

  constructor(
    readonly path: string,
    opts: AuditLogOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.writer = auditWriterName(opts.writer);
    this.lockStaleMs = Math.max(opts.lock?.staleMs ?? LOCK_STALE_MS, 2000);
    this.lockTimeoutMs = opts.lock?.timeoutMs ?? Math.max(LOCK_TIMEOUT_MS, this.lockStaleMs + 5_000);
  }

  /**
   * Opens (or creates) the file now, so a bad mode fails at start-up rather than at the first write, and
   * terminates a torn last line (under the lock: it is a write).
   */
  async open(): Promise<void> {
    await this.enqueue(() => this.underLock(async () => {}));
  }

  /** Counters of this instance's appends and lock waits since it was created. */
  stats(): AuditWriteStats {
    const c = this.counters;
    return { ...c, lock_wait_ms: Math.round(c.lock_wait_ms), max_lock_wait_ms: Math.round(c.max_lock_wait_ms) };
  }

  /** Writes and fsyncs the intent line; resolves with the op_id the outcome must carry. */
  async intent(e: IntentInput): Promise<string> {
    const opId = randomUUID();
    const startedAt = this.clock.now();
    const line = await this.append((prev_hash) => {
      const l: IntentLine = {
        time: new Date(startedAt).toISOString(),
        type: 'intent',
        op_id: opId,
        writer: this.writer,
        tool: e.tool,
        vendor: e.vendor,
        target: scrub(e.target, 0) as AuditTarget,
        actor: scrub(e.actor, 0) as Actor,
        confirmation: e.confirmation,
        ...(e.confirmation_detail !== undefined ? { confirmation_detail: scrub(e.confirmation_detail, 0) as ConfirmationDetail } : {}),
        ...(e.plan_id !== undefined ? { plan_id: e.plan_id } : {}),
        args: pickArgs(e.args ?? {}, e.allow ?? []),
        ...(e.before !== undefined ? { before: scrub(e.before, 0) } : {}),
        prev_hash,
      };
      return l;
    });
    this.pending.set(opId, { intent: line as IntentLine, startedAt });
    return opId;
  }

  /**
   * Writes and fsyncs the outcome line for an intent written by this instance. Throws for an op_id it does
   * not know (never written, or already given an outcome): each intent gets exactly one outcome.
   */
  async outcome(opId: string, e: OutcomeInput): Promise<void> {
    const p = this.pending.get(opId);
    if (!p) throw new AuditWriteError(`No pending audit intent with op_id ${opId} (unknown, or its outcome was already written)`);
    this.pending.delete(opId);
    const { intent } = p;
    const before = e.before !== undefined ? scrub(e.before, 0) : intent.before;
    await this.append((prev_hash) => {
      const now = this.clock.now();
      const l: OutcomeLine = {
        time: new Date(now).toISOString(),
        type: 'outcome',
        op_id: opId,
        writer: this.writer,
        tool: intent.tool,
        vendor: intent.vendor,
        target: intent.target,
        actor: intent.actor,
        confirmation: intent.confirmation,
        ...(intent.confirmation_detail !== undefined ? { confirmation_detail: intent.confirmation_detail } : {}),
        ...(intent.plan_id !== undefined ? { plan_id: intent.plan_id } : {}),
        result: e.result,
        ...(e.error !== undefined ? { error: e.error } : {}),
        ...(before !== undefined ? { before } : {}),
        ...(e.after !== undefined ? { after: scrub(e.after, 0) } : {}),
        ...(e.vendor_request_id !== undefined ? { vendor_request_id: e.vendor_request_id } : {}),
        duration_ms: e.duration_ms ?? Math.max(0, now - p.startedAt),
        prev_hash,
      };
      return l;
    }).catch((err: unknown) => {
      // Let a retry of outcome() find the intent again.
      this.pending.set(opId, p);
      throw err;
    });
  }

  /** The last `n` lines, oldest first (unparseable lines skipped); reads only the tail of the file. */
  async recent(n: number): Promise<AuditLine[]> {
    if (n <= 0) return [];
    return this.enqueue(async () => {
      let h: FileHandle;
      try {
        h = await fs.open(this.path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      try {
        const { size } = await h.stat();
        const { lines } = await readTail(h, size, n);
        const out: AuditLine[] = [];
        for (const b of lines) {
          try {
            out.push(JSON.parse(b.toString('utf8')) as AuditLine);
          } catch {
            // A torn or edited line; verify() reports it.
          }
        }
        return out;
      } finally {
        await h.close();
      }
    });
  }

  /**
   * Re-hashes the whole file (streamed) and checks every line's prev_hash. verifyAuditFiles (verify.ts) is
   * the same check for any files, with reasons; this one also knows the last line this process wrote.
   */
  async verify(): Promise<VerifyResult> {
    return this.enqueue(async () => {
      let firstBad: number | undefined;
      // The chain alone cannot show an edit to (or removal of) the last line; the hash of the line this
      // process last wrote can, for as long as it runs. Other writers may have appended after it, so it
      // only has to appear somewhere.
      const expectLast = this.handle && this.size !== -1 && this.lastHash !== GENESIS_HASH ? this.lastHash : undefined;
      let sawLast = false;
      let lines: number;
      try {
        ({ lines } = await scanChain(this.path, (l) => {
          if (l.broken && firstBad === undefined) firstBad = l.line;
          if (l.hash === expectLast) sawLast = true;
        }));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          // Missing is fine before the first write; after one, the file was removed under us.
          return expectLast === undefined ? { ok: true, lines: 0 } : { ok: false, lines: 0, firstBadLine: 1 };
        }
        throw err;
      }
      if (firstBad === undefined && expectLast !== undefined && !sawLast) firstBad = Math.max(lines, 1);
      return firstBad === undefined ? { ok: true, lines } : { ok: false, lines, firstBadLine: firstBad };
    });
  }

  /** Closes the file after pending appends. Later writes reopen it. */
  async close(): Promise<void> {
    await this.enqueue(() => this.dropHandle());
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private append(build: (prevHash: string) => AuditLine): Promise<AuditLine> {
    return this.enqueue(async () => {
      try {
        return await this.underLock(async (h, held) => {
          const line = build(this.lastHash);
          const text = JSON.stringify(line);
          const buf = Buffer.from(text + '\n', 'utf8');
          // The lock is refreshed in the background; if that failed, another process may be writing now.
          held.check();
          await writeAll(h, buf);
          await h.sync();
          this.lastHash = sha256(Buffer.from(text, 'utf8'));
          this.size += buf.length;
          this.counters.appends += 1;
          return line;
        });
      } catch (err) {
        this.size = -1;
        if (err instanceof AuditWriteError) throw err;
        const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        throw new AuditWriteError(
          `Could not write the audit log ${this.path} (${why}); nothing was sent to the vendor if this was an intent.`,
          // An fs error's own message quotes the path; only its code is public.
          `Could not write the audit log (${(err as NodeJS.ErrnoException).code ?? 'I/O error'}; the server log names the file); nothing was sent to the vendor if this was an intent.`,
        );
      }
    });
  }

  /**
   * Runs `fn` holding the cross-process lock, with the handle on the file the path names now and
   * `lastHash` set to the hash of its last line. Only ever called from the queue.
   */
  private async underLock<T>(fn: (h: FileHandle, held: HeldLock) => Promise<T>): Promise<T> {
    let h = await this.ensureOpen();
    let held: HeldLock;
    try {
      held = await this.acquire();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The log was removed while open (the lock resolves the file's real path, so it needs the file):
      // start it again rather than append to a file no one can read any more.
      await this.dropHandle();
      h = await this.ensureOpen();
      held = await this.acquire();
    }
    try {
      // Every writer must append to the file the lock guards. If the path names another file now (the log
      // was moved or removed and recreated), writing on through the old handle would fork the trail.
      let [st, ps] = await Promise.all([h.stat(), fs.stat(this.path).catch(() => undefined)]);
      if (!ps || ps.ino !== st.ino || ps.dev !== st.dev) {
        await this.dropHandle();
        h = await this.ensureOpen();
        st = await h.stat();
      }
      checkMode(st.mode, this.path);
      // Another writer appended since our last line (or this is the first append): learn the chain head.
      if (st.size !== this.size) await this.syncTail(h, st.size);
      return await fn(h, held);
    } finally {
      // The line is on disk: a failed unlock must not fail it (a leftover lock goes stale and is taken over).
      await held.release().catch(() => {});
    }
  }

  /**
   * Takes `<file>.lock`, retrying with a short backoff while another writer holds it, for up to the lock
   * timeout (longer than the stale time, so a dead holder's lock is taken over first). The library retries
   * too, but counting the waits here is what lets stats() report them.
   */
  private async acquire(): Promise<HeldLock> {
    const started = performance.now();
    let compromised: Error | undefined;
    const options: lockfile.LockOptions = {
      stale: this.lockStaleMs,
      // Resolves symlinks, so two processes reaching the file by different paths share one lock.
      realpath: true,
      // The default throws from a timer, which would crash the server; the append checks this instead.
      onCompromised: (err) => {
        compromised = err;
      },
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const release = await lockfile.lock(this.path, options);
        if (attempt > 0) {
          const waited = performance.now() - started;
          this.counters.lock_waits += 1;
          this.counters.lock_wait_ms += waited;
          this.counters.max_lock_wait_ms = Math.max(this.counters.max_lock_wait_ms, waited);
        }
        const check = () => {
          if (!compromised) return;
          const code = (compromised as NodeJS.ErrnoException).code ?? 'ECOMPROMISED';
          throw new AuditWriteError(
            `Lost the lock on the audit log ${this.path} (${code}); nothing was written, try again.`,
            `Lost the lock on the audit log (${code}); nothing was written, try again.`,
          );
        };
        return { release, check };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
        const waited = performance.now() - started;
        if (waited >= this.lockTimeoutMs) {
          throw new AuditWriteError(
            `The audit log ${this.path} stayed locked by another process for ${Math.round(waited / 1000)} s (lock ${this.path}.lock); nothing was written.`,
            `The audit log stayed locked by another process for ${Math.round(waited / 1000)} s; nothing was written. Try again; the server log names the lock.`,
          );
        }
        await sleep(Math.min(2 ** attempt, LOCK_MAX_BACKOFF_MS) * (0.5 + Math.random()));
      }
    }
  }

  private async dropHandle(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    this.opening = undefined;
    this.size = -1;
    await h?.close();
  }

  /** Opens (creating it 0600) the file; reading the tail and terminating a torn line happen under the lock. */
  private ensureOpen(): Promise<FileHandle> {
    if (this.handle) return Promise.resolve(this.handle);
    this.opening ??= (async () => {
      await fs.mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 });
      // Created 0600 (umask can only narrow it); 'a+' so the tail can be read through the same handle.
      const h = await fs.open(this.path, 'a+', 0o600);
      try {
        const st = await h.stat();
        if (!st.isFile()) throw new AuditWriteError(`The audit log ${this.path} is not a regular file`, 'The audit log is not a regular file (the server log names it)');
        checkMode(st.mode, this.path);
      } catch (err) {
        await h.close().catch(() => {});
        throw err;
      }
      this.handle = h;
      this.size = -1;
      return h;
    })().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Learns the chain head from the file's last line without reading the rest of the file. */
  private async syncTail(h: FileHandle, size: number): Promise<void> {
    const { lines, endsWithNewline } = await readTail(h, size, 1);
    if (size > 0 && !endsWithNewline) {
      // A torn last line (crash mid-write): terminate it so the next line starts clean; it stays in the
      // chain and verify() reports it.
      await writeAll(h, Buffer.from('\n'));
      await h.sync();
      size += 1;
    }
    this.lastHash = lines.length ? sha256(lines[lines.length - 1]) : GENESIS_HASH;
    this.size = size;
  }
}

function checkMode(mode: number, file: string): void {
  if (CHECK_MODES && (mode & 0o077) !== 0) {
    throw new AuditWriteError(
      `The audit log ${file} is accessible by group or others (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${file}\` and try again`,
      `The audit log is accessible by group or others (mode ${(mode & 0o777).toString(8)}); an admin must run chmod 600 on it (the server log names the file) before writes can continue`,
    );
  }
}

async function writeAll(h: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await h.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/** The last `n` lines (without newlines, oldest first), reading backwards in chunks. */
async function readTail(h: FileHandle, size: number, n: number): Promise<{ lines: Buffer[]; endsWithNewline: boolean }> {
  if (size === 0) return { lines: [], endsWithNewline: true };
  const last = Buffer.alloc(1);
  await h.read(last, 0, 1, size - 1);
  const endsWithNewline = last[0] === 0x0a;
  const end = endsWithNewline ? size - 1 : size;
  let pos = end;
  let acc = Buffer.alloc(0);
  let newlines = 0;
  while (pos > 0 && newlines < n) {
    const len = Math.min(TAIL_CHUNK, pos);
    pos -= len;
    const chunk = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await h.read(chunk, got, len - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    for (const byte of chunk) if (byte === 0x0a) newlines += 1;
    acc = Buffer.concat([chunk, acc]);
  }
  const parts: Buffer[] = [];
  let start = 0;
  let i: number;
  while ((i = acc.indexOf(0x0a, start)) !== -1) {
    parts.push(acc.subarray(start, i));
    start = i + 1;
  }
  parts.push(acc.subarray(start));
  // Unless the read reached the start of the file, the first piece may be the end of a longer line.
  if (pos > 0) parts.shift();
  return { lines: parts.slice(-n), endsWithNewline };
}

/** Copies the allowlisted arguments, minus anything that looks like a credential. */
function pickArgs(args: Record<string, unknown>, allow: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of allow) {
    if (SECRET_KEY.test(key) || !Object.prototype.hasOwnProperty.call(args, key)) continue;
    const v = scrub(args[key], 0);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** A JSON-safe deep copy with secret-looking keys removed at every depth. */
function scrub(value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined; // functions, symbols, undefined
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEY.test(k)) continue;
    const s = scrub(v, depth + 1);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

/** Mutable record a withAudit callback fills in for the outcome line. */
export interface AuditContext {
  readonly op_id: string;
  before?: unknown;
  after?: unknown;
  vendor_request_id?: string;
}

/**
 * Runs one vendor write between an intent line and an outcome line. A throw whose error says
 * `ambiguous: true` (a VendorError after the request was sent) is recorded as 'ambiguous', any other throw
 * as 'failed'; the error is rethrown unchanged. When the write succeeded but its outcome line cannot be
 * written, an AuditWriteError says so (the change WAS applied).
 */
export async function withAudit<T>(
  log: AuditLog,
  intent: IntentInput,
  fn: (ctx: AuditContext) => Promise<T>,
): Promise<T> {
  const opId = await log.intent(intent);
  const ctx: AuditContext = { op_id: opId, before: intent.before };
  let value: T;
  try {
    value = await fn(ctx);
  } catch (err) {
    const ambiguous = typeof err === 'object' && err !== null && (err as { ambiguous?: unknown }).ambiguous === true;
    try {
      await log.outcome(opId, {
        result: ambiguous ? 'ambiguous' : 'failed',
        error: err instanceof Error ? err.message : String(err),
        before: ctx.before,
        after: ctx.after,
        vendor_request_id: ctx.vendor_request_id ?? (err instanceof VendorError ? err.requestId : undefined),
      });
    } catch (auditErr) {
      // The vendor's error is what the caller must act on; the audit failure still reaches stderr.
      process.emitWarning(`audit outcome for op ${opId} could not be written: ${(auditErr as Error).message}`);
    }
    throw err;
  }
  try {
    await log.outcome(opId, { result: 'ok', before: ctx.before, after: ctx.after, vendor_request_id: ctx.vendor_request_id });
  } catch (err) {
    const inner = err instanceof AuditWriteError ? err.publicMessage : 'I/O error';
    throw new AuditWriteError(
      `The change was applied (audit op ${opId}) but its outcome could not be recorded in the audit log: ${(err as Error).message}. Do not repeat the change.`,
      `The change was applied (audit op ${opId}) but its outcome could not be recorded in the audit log: ${inner}. Do not repeat the change.`,
    );
  }
  return value;
}
