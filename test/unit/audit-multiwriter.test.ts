import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, utimes } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, AuditWriteError, type AuditLine, type AuditWriteStats, type IntentInput } from '../../src/audit/audit-log.js';
import { verifyAuditFiles } from '../../src/audit/verify.js';

/*
 * Several real processes appending to one audit file at once, as servers sharing a state directory do.
 * The children run the TypeScript source through tsx, so the test needs no build and checks this tree.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MODULE = path.join(ROOT, 'src/audit/audit-log.ts');

/**
 * A child writer: opens the log, says "ready", waits for a line on stdin (so all children start together),
 * then runs OPS intent+outcome pairs over CONCURRENCY parallel loops (the in-process queue and the
 * cross-process lock both in play), and prints its op_ids, time and lock figures as one JSON line.
 */
const CHILD = `
const { AuditLog } = await import(process.env.AUDIT_MODULE);
const log = new AuditLog(process.env.AUDIT_FILE, { writer: process.env.WRITER || undefined });
await log.open();
process.stdout.write('ready\\n');
await new Promise((r) => process.stdin.once('data', r));
// An open stdin would keep this process alive after its work.
process.stdin.destroy();
const ops = [];
const t0 = performance.now();
const loop = async (k) => {
  for (let i = k; i < Number(process.env.OPS); i += Number(process.env.CONCURRENCY)) {
    const id = await log.intent({
      tool: 'outreach_lock_user', vendor: 'outreach', target: { id: String(i), email: 'u' + i + '@acme.example' },
      args: { id: String(i) }, allow: ['id'], actor: { kind: 'mcp_client', name: 'writer-test', version: '1' }, confirmation: 'none',
    });
    await log.outcome(id, { result: 'ok' });
    ops.push(id);
  }
};
await Promise.all(Array.from({ length: Number(process.env.CONCURRENCY) }, (_, k) => loop(k)));
const ms = performance.now() - t0;
await log.close();
process.stdout.write(JSON.stringify({ ops, ms, stats: log.stats() }) + '\\n');
`;

interface ChildResult {
  ops: string[];
  ms: number;
  stats: AuditWriteStats;
}

interface RunFigures {
  processes: number;
  lines: number;
  wall_ms: number;
  lock_waits: number;
  lock_wait_ms: number;
  max_lock_wait_ms: number;
  /** Places where the next line is another process's: how interleaved the writers really were. */
  writer_switches: number;
}

function startChild(file: string, ops: number, concurrency: number, writer: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', AUDIT_MODULE: MODULE, AUDIT_FILE: file, OPS: String(ops), CONCURRENCY: String(concurrency), WRITER: writer },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`writer ${writer} exited ${code}: ${err}`));
      resolve(JSON.parse(out.slice('ready\n'.length)) as ChildResult);
    });
    // A child that died before "ready" must not leave the test waiting on it.
    child.on('exit', () => onReady());
  });
  return { child, ready, done };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'audit-mw-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('AuditLog with several writer processes', () => {
  it('three processes appending at once leave one intact chain with every line present', async ({ annotate }) => {
    const PROCESSES = 3;
    const OPS = 150; // 300 lines per process
    const file = path.join(dir, 'state', 'audit.log');
    const children = Array.from({ length: PROCESSES }, (_, i) => startChild(file, OPS, 2, `writer-${i}`));
    await Promise.all(children.map((c) => c.ready));
    const t0 = performance.now();
    for (const c of children) c.child.stdin.end('go\n');
    const results = await Promise.all(children.map((c) => c.done));
    const wallMs = performance.now() - t0;

    const report = await verifyAuditFiles([file]);
    expect(report).toEqual({ ok: true, files: [{ file, status: 'ok', lines: PROCESSES * OPS * 2, writers: PROCESSES, breaks: 0 }] });

    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine);
    let switches = 0;
    for (let i = 1; i < lines.length; i++) if (lines[i].writer !== lines[i - 1].writer) switches += 1;
    results.forEach((r, i) => {
      const mine = lines.filter((l) => l.writer === `writer-${i}`);
      expect(mine).toHaveLength(OPS * 2);
      // Every op this process finished has its intent, then its outcome, and nothing else is its.
      const seen = new Map<string, string[]>();
      for (const l of mine) seen.set(l.op_id, [...(seen.get(l.op_id) ?? []), l.type]);
      expect([...seen.keys()].sort()).toEqual([...r.ops].sort());
      expect([...seen.values()].every((t) => t.join() === 'intent,outcome')).toBe(true);
      expect(r.stats.appends).toBe(OPS * 2);
    });
    // The writers really did interleave; otherwise this test would prove nothing.
    expect(switches).toBeGreaterThan(PROCESSES);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const figures: RunFigures = {
      processes: PROCESSES,
      lines: lines.length,
      wall_ms: Math.round(wallMs),
      lock_waits: results.reduce((n, r) => n + r.stats.lock_waits, 0),
      lock_wait_ms: results.reduce((n, r) => n + r.stats.lock_wait_ms, 0),
      max_lock_wait_ms: Math.max(...results.map((r) => r.stats.max_lock_wait_ms)),
      writer_switches: switches,
    };
    await annotate(JSON.stringify(figures), 'figures');
  }, 120_000);
});

describe('AuditLog cross-process lock', () => {
  const intent = (): IntentInput => ({
    tool: 'outreach_lock_user',
    vendor: 'outreach',
    target: { id: '1', email: null },
    actor: { kind: 'mcp_client', name: 'test', version: '1' },
    confirmation: 'none',
  });

  it('names its writer: the given replica id, else <hostname>:<pid>', async () => {
    const file = path.join(dir, 'audit.log');
    const a = new AuditLog(file, { writer: 'replica-7' });
    const b = new AuditLog(file);
    await a.intent(intent());
    await b.intent(intent());
    await a.close();
    await b.close();
    const [la, lb] = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as AuditLine);
    expect(la.writer).toBe('replica-7');
    expect(lb.writer).toBe(`${hostname()}:${process.pid}`);
  });

  it('takes over the lock of a writer that died holding it', async () => {
    const file = path.join(dir, 'audit.log');
    const log = new AuditLog(file, { lock: { staleMs: 2000 } });
    await log.open();
    // What a process killed mid-append leaves: the lock directory, untouched since.
    await mkdir(`${file}.lock`);
    const past = new Date(Date.now() - 60_000);
    await utimes(`${file}.lock`, past, past);
    await log.intent(intent());
    await log.close();
    expect((await verifyAuditFiles([file])).files[0]).toMatchObject({ status: 'ok', lines: 1 });
    await expect(stat(`${file}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses the write, writing nothing, while a live writer holds the lock past the timeout', async () => {
    const file = path.join(dir, 'audit.log');
    const log = new AuditLog(file, { lock: { timeoutMs: 200 } });
    await log.open();
    await mkdir(`${file}.lock`); // fresh: a live holder
    const err = (await log.intent(intent()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(AuditWriteError);
    expect(err.message).toMatch(/locked by another process/);
    expect((await stat(file)).size).toBe(0);
    expect(log.stats().lock_waits).toBe(0); // a wait is counted when it ends in the lock
    await rm(`${file}.lock`, { recursive: true });
    await log.intent(intent());
    await log.close();
    expect((await verifyAuditFiles([file])).ok).toBe(true);
  });

  it('follows the path when the log is moved away or removed while open', async () => {
    const file = path.join(dir, 'audit.log');
    const log = new AuditLog(file);
    await log.intent(intent());
    await rm(file);
    await log.intent(intent());
    await log.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await verifyAuditFiles([file])).ok).toBe(true);
  });
});
