import { appendFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditLine, type IntentInput } from '../../src/audit/audit-log.js';
import { formatVerifyReport, formatVerifyReportJson, runAuditVerify, verifyAuditFiles } from '../../src/audit/verify.js';
import { ManualClock } from '../../src/clock.js';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'audit-verify-'));
  file = path.join(dir, 'audit.log');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const intent = (n: number): IntentInput => ({
  tool: 'outreach_lock_user',
  vendor: 'outreach',
  target: { id: String(n), email: `jane${n}@acme.example` },
  args: { id: String(n) },
  allow: ['id'],
  actor: { kind: 'mcp_client', name: 'claude-desktop', version: '1.0.0' },
  confirmation: 'elicit',
  before: { locked: false, title: 'Account Executive' },
});

/** Writes `ops` intent+outcome pairs (2 × ops lines) and returns the file's lines. */
async function writeLog(ops: number, p = file, writer = 'replica-a'): Promise<string[]> {
  const log = new AuditLog(p, { clock: new ManualClock(), writer });
  for (let n = 0; n < ops; n++) {
    const id = await log.intent(intent(n));
    await log.outcome(id, { result: 'ok', after: { locked: true } });
  }
  await log.close();
  return readLines(p);
}
async function readLines(p = file): Promise<string[]> {
  return (await readFile(p, 'utf8')).split('\n').filter((l) => l.length > 0);
}
const opId = (line: string) => (JSON.parse(line) as AuditLine).op_id;
const one = async (p = file) => (await verifyAuditFiles([p])).files[0];

describe('verifyAuditFiles', () => {
  it('reports an intact chain: lines checked and writers', async () => {
    await writeLog(3);
    expect(await verifyAuditFiles([file])).toEqual({
      ok: true,
      files: [{ file, status: 'ok', lines: 6, writers: 1, breaks: 0 }],
    });
  });

  it('an edited line: the break is at the next line, which no longer chains to it', async () => {
    const lines = await writeLog(3);
    lines[1] = lines[1].replace('"result":"ok"', '"result":"failed"');
    await writeFile(file, lines.join('\n') + '\n');
    expect(await one()).toEqual({
      file,
      status: 'broken',
      lines: 6,
      writers: 1,
      breaks: 1,
      first_break: { line: 3, reason: 'prev_hash_mismatch', op_id: opId(lines[2]), time: '2026-11-02T09:00:00.000Z' },
    });
  });

  it('a removed line: the break is at the line now in its place', async () => {
    const lines = await writeLog(3);
    const removed = lines.splice(3, 1);
    expect(removed).toHaveLength(1);
    await writeFile(file, lines.join('\n') + '\n');
    expect(await one()).toMatchObject({ status: 'broken', lines: 5, breaks: 1, first_break: { line: 4, reason: 'prev_hash_mismatch', op_id: opId(lines[3]) } });
  });

  it('lines removed from the start: line 1 does not start the chain', async () => {
    const lines = await writeLog(2);
    await writeFile(file, lines.slice(2).join('\n') + '\n');
    expect(await one()).toMatchObject({ status: 'broken', lines: 2, first_break: { line: 1, reason: 'prev_hash_mismatch' } });
  });

  it('a truncated last line is a torn last line, reported at its number', async () => {
    await writeLog(3);
    const size = (await readFile(file)).length;
    await truncate(file, size - 20);
    expect(await one()).toMatchObject({ status: 'broken', lines: 6, breaks: 1, first_break: { line: 6, reason: 'torn_last_line' } });
  });

  it('a whole last line that only lacks its newline chains and is not a break', async () => {
    await writeLog(2);
    await truncate(file, (await readFile(file)).length - 1);
    expect(await one()).toMatchObject({ status: 'ok', lines: 4 });
  });

  it('a torn line a restart terminated is not JSON; the chain goes on after it', async () => {
    await writeLog(1);
    await appendFile(file, '{"type":"intent","op_id":"torn');
    await writeLog(1); // a restart: terminates the torn line, chains to it
    expect(await one()).toMatchObject({ status: 'broken', lines: 5, breaks: 1, first_break: { line: 3, reason: 'not_json' } });
  });

  it('an edit that breaks the JSON counts the bad line and the one after it', async () => {
    const lines = await writeLog(2);
    lines[1] = lines[1].slice(0, -5);
    await writeFile(file, lines.join('\n') + '\n');
    expect(await one()).toMatchObject({ status: 'broken', breaks: 2, first_break: { line: 2, reason: 'not_json' } });
  });

  it('does not take an append still in progress for a torn line', async () => {
    const lines = await writeLog(2);
    const last = lines.pop() as string;
    await writeFile(file, lines.join('\n') + '\n' + last.slice(0, 40));
    const verifying = verifyAuditFiles([file]);
    await new Promise((r) => setTimeout(r, 20));
    await appendFile(file, last.slice(40) + '\n');
    expect((await verifying).files[0]).toMatchObject({ status: 'ok', lines: 4 });
  });

  it('checks each file on its own (replicas on different hosts keep their own files)', async () => {
    const a = path.join(dir, 'host-a', 'audit.log');
    const b = path.join(dir, 'host-b', 'audit.log');
    await writeLog(2, a, 'replica-a');
    const lines = await writeLog(2, b, 'replica-b');
    await writeFile(b, [lines[0], lines[2], lines[3]].join('\n') + '\n');
    const missing = path.join(dir, 'host-c', 'audit.log');
    const report = await verifyAuditFiles([a, b, missing]);
    expect(report.ok).toBe(false);
    expect(report.files.map((f) => [f.status, f.lines, f.first_break?.line, f.error])).toEqual([
      ['ok', 4, undefined, undefined],
      ['broken', 3, 2, undefined],
      ['unreadable', 0, undefined, 'ENOENT'],
    ]);
  });

  it('reports never carry line contents beyond line number, op_id and time', async () => {
    const lines = await writeLog(3);
    // A tampered line whose op_id and time carry text (a terminal escape, an email) the report must not echo.
    const l = JSON.parse(lines[2]) as Record<string, unknown>;
    l.op_id = '\u001b[2J rm -rf jane0@acme.example';
    l.time = 'yesterday jane0@acme.example';
    l.prev_hash = '1'.repeat(64);
    lines[2] = JSON.stringify(l);
    await writeFile(file, lines.join('\n') + '\n');
    const report = await verifyAuditFiles([file]);
    expect(report.files[0].first_break).toEqual({ line: 3, reason: 'prev_hash_mismatch' });
    for (const text of [formatVerifyReport(report), formatVerifyReportJson(report)]) {
      expect(text).not.toMatch(/acme|jane|Account Executive|claude-desktop|locked|replica-a|\u001b/);
    }
  });

  it('the human form: one line per file and a summary', async () => {
    const lines = await writeLog(2);
    lines[0] = lines[0].replace('"id":"0"', '"id":"9"');
    await writeFile(file, lines.join('\n') + '\n');
    const text = formatVerifyReport(await verifyAuditFiles([file, path.join(dir, 'nope.log')]));
    expect(text).toBe(
      `BROKEN ${file}: 4 lines, 1 writer, 1 break; first at line 2 (op_id ${opId(lines[1])}, 2026-11-02T09:00:00.000Z): ` +
        'prev_hash does not match line 1: line 1 was changed, lines were removed or inserted before line 2, or two processes appended at once without the lock (versions before it)\n' +
        `UNREADABLE ${path.join(dir, 'nope.log')}: no such file\n` +
        'audit verify: 1 broken, 1 unreadable of 2 files\n',
    );
  });
});

describe('runAuditVerify', () => {
  const io = (defaultFile = file) => {
    let out = '';
    let err = '';
    return {
      io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, defaultFile },
      out: () => out,
      err: () => err,
    };
  };

  it('exit 0 on intact chains; the default file when none is named', async () => {
    await writeLog(1);
    const t = io();
    expect(await runAuditVerify([], t.io)).toBe(0);
    expect(t.out()).toBe(`OK ${file}: 2 lines, 1 writer, chain intact\naudit verify: 1 file intact\n`);
    expect(t.err()).toBe('');
  });

  it('exit 1 on a break (even with an unreadable file too), 2 when only unreadable; --json', async () => {
    const lines = await writeLog(2);
    await writeFile(file, [lines[0], lines[2], lines[3]].join('\n') + '\n');
    const missing = path.join(dir, 'missing.log');

    const broken = io();
    expect(await runAuditVerify(['--json', file, missing], broken.io)).toBe(1);
    const parsed = JSON.parse(broken.out()) as { ok: boolean; files: { status: string }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.files.map((f) => f.status)).toEqual(['broken', 'unreadable']);

    const unreadable = io();
    expect(await runAuditVerify([missing], unreadable.io)).toBe(2);
    expect(unreadable.out()).toContain('UNREADABLE');
  });

  it('usage: --help exits 0, an unknown option exits 2 on stderr, -- ends options', async () => {
    const help = io();
    expect(await runAuditVerify(['--help'], help.io)).toBe(0);
    expect(help.out()).toMatch(/^Usage: sales-access-mcp audit verify/);

    const bad = io();
    expect(await runAuditVerify(['--jsn'], bad.io)).toBe(2);
    expect(bad.err()).toMatch(/unknown option --jsn/);
    expect(bad.out()).toBe('');

    const dashed = path.join(dir, '--json');
    await writeLog(1, dashed);
    const t = io();
    expect(await runAuditVerify(['--', dashed], t.io)).toBe(0);
    expect(t.out()).toContain(`OK ${dashed}`);
  });
});
