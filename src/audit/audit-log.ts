import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { VendorId } from '../domain/account.js';
import { VendorError } from '../http/errors.js';

/** Who asked for a write: the MCP client over stdio, or the fingerprint of the HTTP bearer token. */
export type Actor =
  | { kind: 'mcp_client'; name: string; version: string }
  | { kind: 'http_token'; fingerprint: string };

export type AuditResult = 'ok' | 'failed' | 'ambiguous';

/** How the write was approved. Open-ended: new gate modes only add values. */
export type ConfirmationMethod = 'elicit' | 'token' | 'none' | (string & {});

/**
 * How a human decided, when the confirmation method records more than its name. For `browser`: when the
 * approval page's Approve was clicked and the approving browser's User-Agent (as that browser sent it).
 * Optional: lines written before this field existed stay valid.
 */
export interface ConfirmationDetail {
  /** ISO 8601 time of the decision. */
  decided_at: string;
  /** User-Agent of the browser that approved, cut to 256 characters; null when it sent none. */
  user_agent: string | null;
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

/** A failure to write the audit trail itself. */
export class AuditWriteError extends Error {
  override readonly name = 'AuditWriteError';
}

export const GENESIS_HASH = '0'.repeat(64);
/** Dropped wherever it appears, even when a caller allowlisted it: the log must never hold a credential. */
const SECRET_KEY = /token|secret|password|authorization|api[_-]?key/i;
const MAX_DEPTH = 8;
const TAIL_CHUNK = 64 * 1024;
const CHECK_MODES = process.platform !== 'win32';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * Append-only JSON-lines audit trail with a hash chain. Every line is fsynced before the call returns, so
 * an `intent` line is on disk before the vendor is touched and a crash leaves at worst an intent without
 * an outcome (which reads as "may have happened"). One writing process per file: appends are serialised
 * here, and a size check before each append re-reads the tail if someone else appended meanwhile, but
 * there is no cross-process lock.
 */
export class AuditLog {
  private readonly clock: Clock;
  private handle: FileHandle | undefined;
  private opening: Promise<FileHandle> | undefined;
  private lastHash = GENESIS_HASH;
  /** File size after our last append; -1 forces a re-read of the tail. */
  private size = -1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pending = new Map<string, { intent: IntentLine; startedAt: number }>();

  constructor(
    readonly path: string,
    opts: { clock?: Clock } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Opens (or creates) the file now, so a bad mode fails at start-up rather than at the first write. */
  async open(): Promise<void> {
    await this.enqueue(() => this.ensureOpen());
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

  /** Re-hashes the whole file (streamed) and checks every line's prev_hash. */
  async verify(): Promise<VerifyResult> {
    return this.enqueue(async () => {
      let lines = 0;
      let firstBad: number | undefined;
      let prev = GENESIS_HASH;
      let carry = Buffer.alloc(0);
      // The chain alone cannot show an edit to (or removal of) the last line; the hash of the line this
      // process last wrote can, for as long as it runs. Other writers may have appended after it, so it
      // only has to appear somewhere.
      const expectLast = this.handle && this.size !== -1 && this.lastHash !== GENESIS_HASH ? this.lastHash : undefined;
      let sawLast = false;
      const check = (buf: Buffer) => {
        lines += 1;
        let ok = false;
        try {
          const parsed = JSON.parse(buf.toString('utf8')) as { prev_hash?: unknown };
          ok = typeof parsed === 'object' && parsed !== null && parsed.prev_hash === prev;
        } catch {
          ok = false;
        }
        if (!ok && firstBad === undefined) firstBad = lines;
        prev = sha256(buf);
        if (prev === expectLast) sawLast = true;
      };
      try {
        for await (const chunk of createReadStream(this.path)) {
          const b = chunk as Buffer;
          let data = carry.length ? Buffer.concat([carry, b]) : b;
          let i: number;
          while ((i = data.indexOf(0x0a)) !== -1) {
            check(data.subarray(0, i));
            data = data.subarray(i + 1);
          }
          carry = Buffer.from(data);
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          // Missing is fine before the first write; after one, the file was removed under us.
          return expectLast === undefined ? { ok: true, lines: 0 } : { ok: false, lines: 0, firstBadLine: 1 };
        }
        throw err;
      }
      // A final fragment without a newline is a torn write.
      if (carry.length) check(carry);
      if (firstBad === undefined && expectLast !== undefined && !sawLast) firstBad = Math.max(lines, 1);
      return firstBad === undefined ? { ok: true, lines } : { ok: false, lines, firstBadLine: firstBad };
    });
  }

  /** Closes the file after pending appends. Later writes reopen it. */
  async close(): Promise<void> {
    await this.enqueue(async () => {
      const h = this.handle;
      this.handle = undefined;
      this.opening = undefined;
      this.size = -1;
      await h?.close();
    });
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private append(build: (prevHash: string) => AuditLine): Promise<AuditLine> {
    return this.enqueue(async () => {
      try {
        const h = await this.ensureOpen();
        const st = await h.stat();
        checkMode(st.mode, this.path);
        if (st.size !== this.size) await this.syncTail(h, st.size);
        const line = build(this.lastHash);
        const text = JSON.stringify(line);
        const buf = Buffer.from(text + '\n', 'utf8');
        await writeAll(h, buf);
        await h.sync();
        this.lastHash = sha256(Buffer.from(text, 'utf8'));
        this.size += buf.length;
        return line;
      } catch (err) {
        this.size = -1;
        if (err instanceof AuditWriteError) throw err;
        throw new AuditWriteError(
          `Could not write the audit log ${this.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); nothing was sent to the vendor if this was an intent.`,
        );
      }
    });
  }

  private ensureOpen(): Promise<FileHandle> {
    if (this.handle) return Promise.resolve(this.handle);
    this.opening ??= (async () => {
      await fs.mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 });
      // Created 0600 (umask can only narrow it); 'a+' so the tail can be read through the same handle.
      const h = await fs.open(this.path, 'a+', 0o600);
      try {
        const st = await h.stat();
        if (!st.isFile()) throw new AuditWriteError(`The audit log ${this.path} is not a regular file`);
        checkMode(st.mode, this.path);
        await this.syncTail(h, st.size);
      } catch (err) {
        await h.close().catch(() => {});
        throw err;
      }
      this.handle = h;
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
    throw new AuditWriteError(
      `The change was applied (audit op ${opId}) but its outcome could not be recorded in the audit log: ${(err as Error).message}. Do not repeat the change.`,
    );
  }
  return value;
}
