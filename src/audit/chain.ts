import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * Reading an audit file's hash chain, shared by AuditLog.verify() (one file, while this process writes it)
 * and verifyAuditFiles() (any files, from the CLI), so both judge a line by the same rules.
 */

/** prev_hash of a file's first line. */
export const GENESIS_HASH = '0'.repeat(64);

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Why a line does not continue the chain. */
export type BreakReason = 'not_json' | 'prev_hash_mismatch' | 'torn_last_line';

export interface ScannedLine {
  /** 1-based line number. */
  line: number;
  /** SHA-256 hex of the line's bytes without its newline: the next line's prev_hash. */
  hash: string;
  /** The parsed object, when the line is a JSON object. */
  record?: Record<string, unknown>;
  /** Set when this line breaks the chain. */
  broken?: BreakReason;
}

const CHUNK = 64 * 1024;
/**
 * How often, and how long apart, an unterminated last line is looked at again before it is called torn. Another
 * process may be appending at that moment (a reader can see part of a large write), and its line completes
 * within milliseconds; a line torn by a crash never does. Costs nothing unless the file ends mid-line.
 */
const SETTLE_TRIES = 3;
const SETTLE_MS = 50;

/**
 * Reads `file` once from the start (streamed in chunks, so its size does not matter), hashes every line and
 * checks that its prev_hash names the line before it; calls `visit` for each line in order. After a break
 * the chain is followed from the line actually there, so one edit shows as one break, not as every line
 * after it. Lines appended while the scan runs are read too. Throws the file system's error (ENOENT, …).
 *
 * An unterminated last piece is a torn write only if it is not a whole, chaining line: a crash can land
 * between a complete line and its newline, and the next writer terminates it and chains on.
 */
export async function scanChain(file: string, visit: (l: ScannedLine) => void): Promise<{ lines: number }> {
  const h = await fs.open(file, 'r');
  try {
    let prev = GENESIS_HASH;
    let n = 0;
    const check = (bytes: Buffer, last: boolean) => {
      n += 1;
      let record: Record<string, unknown> | undefined;
      try {
        const v: unknown = JSON.parse(bytes.toString('utf8'));
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) record = v as Record<string, unknown>;
      } catch {
        record = undefined;
      }
      let broken: BreakReason | undefined;
      if (!record) broken = last ? 'torn_last_line' : 'not_json';
      else if (record.prev_hash !== prev) broken = 'prev_hash_mismatch';
      prev = sha256(bytes);
      visit({ line: n, hash: prev, ...(record ? { record } : {}), ...(broken ? { broken } : {}) });
    };

    const buf = Buffer.alloc(CHUNK);
    let pos = 0;
    let carry = Buffer.alloc(0);
    let settle = SETTLE_TRIES;
    for (;;) {
      const { bytesRead } = await h.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) {
        if (carry.length === 0 || settle-- === 0) break;
        await sleep(SETTLE_MS);
        continue;
      }
      pos += bytesRead;
      let data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      let i: number;
      while ((i = data.indexOf(0x0a)) !== -1) {
        check(data.subarray(0, i), false);
        data = data.subarray(i + 1);
      }
      // A copy: `buf` is reused by the next read.
      carry = Buffer.from(data);
      settle = SETTLE_TRIES;
    }
    if (carry.length) check(carry, true);
    return { lines: n };
  } finally {
    await h.close();
  }
}
