import { createHash } from 'node:crypto';
import { appendFile, chmod, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AuditLog,
  AuditWriteError,
  GENESIS_HASH,
  withAudit,
  type AuditLine,
  type IntentInput,
} from '../../src/audit/audit-log.js';
import { ManualClock } from '../../src/clock.js';
import { ToolInputError, VendorError } from '../../src/errors.js';

let dir: string;
let file: string;
let clock: ManualClock;
const logs: AuditLog[] = [];

function newLog(p = file): AuditLog {
  const l = new AuditLog(p, { clock });
  logs.push(l);
  return l;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'audit-'));
  file = path.join(dir, 'state', 'audit.log');
  clock = new ManualClock();
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const l of logs.splice(0)) await l.close();
  await rm(dir, { recursive: true, force: true });
});

const intent = (over: Partial<IntentInput> = {}): IntentInput => ({
  tool: 'outreach_lock_user',
  vendor: 'outreach',
  target: { id: '123', email: 'jane@acme.example' },
  args: { id: '123' },
  allow: ['id'],
  actor: { kind: 'mcp_client', name: 'claude-desktop', version: '1.0.0' },
  confirmation: 'elicit',
  ...over,
});

async function lines(p = file): Promise<string[]> {
  const text = await readFile(p, 'utf8');
  return text.split('\n').filter((l) => l.length > 0);
}
const parsed = async (p = file) => (await lines(p)).map((l) => JSON.parse(l) as AuditLine);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('AuditLog', () => {
  it('writes an intent then an outcome, each on disk (fsynced) before the call returns', async () => {
    const probe = await open(path.join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: () => unknown; sync: () => unknown };
    await probe.close();
    const events: string[] = [];
    const origWrite = proto.write;
    const origSync = proto.sync;
    vi.spyOn(proto, 'write').mockImplementation(function (this: unknown, ...a: unknown[]) {
      events.push('write');
      return (origWrite as (...x: unknown[]) => unknown).apply(this, a);
    } as never);
    vi.spyOn(proto, 'sync').mockImplementation(function (this: unknown, ...a: unknown[]) {
      events.push('sync');
      return (origSync as (...x: unknown[]) => unknown).apply(this, a);
    } as never);

    const log = newLog();
    const opId = await log.intent(intent({ plan_id: 'plan-1', before: { locked: false } }));
    expect(events).toEqual(['write', 'sync']);
    const [i] = await parsed();
    expect(i).toMatchObject({
      type: 'intent',
      op_id: opId,
      tool: 'outreach_lock_user',
      vendor: 'outreach',
      target: { id: '123', email: 'jane@acme.example' },
      args: { id: '123' },
      actor: { kind: 'mcp_client', name: 'claude-desktop', version: '1.0.0' },
      confirmation: 'elicit',
      plan_id: 'plan-1',
      prev_hash: GENESIS_HASH,
      time: '2026-11-02T09:00:00.000Z',
    });

    clock.advance(250);
    await log.outcome(opId, { result: 'ok', after: { locked: true }, vendor_request_id: 'req-9' });
    expect(events).toEqual(['write', 'sync', 'write', 'sync']);
    const all = await lines();
    expect(all).toHaveLength(2);
    const o = JSON.parse(all[1]) as AuditLine;
    expect(o).toMatchObject({
      type: 'outcome',
      op_id: opId,
      result: 'ok',
      before: { locked: false },
      after: { locked: true },
      vendor_request_id: 'req-9',
      duration_ms: 250,
      tool: 'outreach_lock_user',
      plan_id: 'plan-1',
      prev_hash: sha(all[0]),
    });
  });

  it('creates the file 0600 in a 0700 directory', async () => {
    await newLog().intent(intent());
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
  });

  it('refuses to append to a file readable by group or others', async () => {
    await newLog(path.join(dir, 'x.log')).open();
    await chmod(path.join(dir, 'x.log'), 0o644);
    const err = (await newLog(path.join(dir, 'x.log')).intent(intent()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(AuditWriteError);
    expect(err.message).toContain('chmod 600');

    // Also when the mode is loosened while the server runs.
    const log = newLog();
    await log.intent(intent());
    await chmod(file, 0o640);
    await expect(log.intent(intent())).rejects.toThrow(/chmod 600/);
  });

  it('drops arguments not allowlisted, and secret-looking keys even when allowlisted', async () => {
    const log = newLog();
    await log.intent(
      intent({
        args: {
          id: '123',
          api_key: 'k-SECRET1',
          apiKey: 'k-SECRET2',
          refresh_token: 'SECRET3',
          Authorization: 'Bearer SECRET4',
          client_secret: 'SECRET5',
          note: 'not allowed',
          options: { password: 'SECRET6', keep: 1, deeper: [{ 'x-api-key': 'SECRET7', y: 2 }] },
        },
        allow: ['id', 'api_key', 'apiKey', 'refresh_token', 'Authorization', 'client_secret', 'options'],
        before: { id: '123', token: 'SECRET8' },
      }),
    );
    const text = await readFile(file, 'utf8');
    expect(text).not.toMatch(/SECRET/);
    const [i] = await parsed();
    expect(i.type === 'intent' && i.args).toEqual({ id: '123', options: { keep: 1, deeper: [{ y: 2 }] } });
  });

  it('verify() detects an edited line', async () => {
    const log = newLog();
    for (let n = 0; n < 3; n++) {
      const id = await log.intent(intent({ target: { id: String(n), email: null } }));
      await log.outcome(id, { result: 'ok' });
    }
    expect(await log.verify()).toEqual({ ok: true, lines: 6 });
    await log.close();

    const all = await lines();
    all[1] = all[1].replace('"result":"ok"', '"result":"failed"');
    await writeFile(file, all.join('\n') + '\n');
    expect(await newLog().verify()).toEqual({ ok: false, lines: 6, firstBadLine: 3 });
  });

  it('verify() detects an edit of the last line while the writer runs', async () => {
    const log = newLog();
    const id = await log.intent(intent());
    await log.outcome(id, { result: 'ok' });
    const all = await lines();
    all[1] = all[1].replace('"result":"ok"', '"result":"failed"');
    await writeFile(file, all.join('\n') + '\n');
    expect(await log.verify()).toMatchObject({ ok: false, firstBadLine: 2 });
  });

  it('concurrent appends keep one valid chain with whole lines', async () => {
    const log = newLog();
    await Promise.all(
      Array.from({ length: 40 }, async (_, n) => {
        const id = await log.intent(intent({ target: { id: String(n), email: `u${n}@acme.example` } }));
        await log.outcome(id, { result: n % 3 === 0 ? 'failed' : 'ok', error: n % 3 === 0 ? 'nope' : undefined });
      }),
    );
    expect(await log.verify()).toEqual({ ok: true, lines: 80 });
    const ls = await parsed();
    const ops = new Map<string, string[]>();
    for (const l of ls) ops.set(l.op_id, [...(ops.get(l.op_id) ?? []), l.type]);
    expect([...ops.values()].every((t) => t.join() === 'intent,outcome')).toBe(true);
  });

  it('a restart continues the chain from the last line, read from the tail of a large file', async () => {
    const first = newLog();
    // A long line (bigger than one tail chunk) and many lines, so the tail read spans chunks.
    await first.intent(intent({ args: { id: 'x'.repeat(150_000) }, allow: ['id'] }));
    for (let n = 0; n < 1500; n++) await first.intent(intent({ target: { id: String(n), email: null } }));
    await first.close();

    const second = newLog();
    await second.intent(intent({ target: { id: 'after-restart', email: null } }));
    const all = await lines();
    const last = JSON.parse(all[all.length - 1]) as AuditLine;
    expect(last.prev_hash).toBe(sha(all[all.length - 2]));
    expect(await second.verify()).toEqual({ ok: true, lines: 1502 });

    const recent = await second.recent(3);
    expect(recent.map((l) => l.target.id)).toEqual(['1498', '1499', 'after-restart']);
  });

  it('a restart after a torn last line terminates it and keeps chaining', async () => {
    const log = newLog();
    await log.intent(intent());
    await log.close();
    await appendFile(file, '{"type":"intent","op_id":"torn');
    const next = newLog();
    await next.intent(intent({ target: { id: 'next', email: null } }));
    const all = await lines();
    expect(all).toHaveLength(3);
    expect((JSON.parse(all[2]) as AuditLine).prev_hash).toBe(sha(all[1]));
    expect(await next.verify()).toEqual({ ok: false, lines: 3, firstBadLine: 2 });
  });

  it('recent() on a missing file is empty; an outcome for an unknown or finished op is refused', async () => {
    const log = newLog();
    expect(await log.recent(5)).toEqual([]);
    await expect(log.outcome('nope', { result: 'ok' })).rejects.toThrow(/No pending audit intent/);
    const id = await log.intent(intent());
    await log.outcome(id, { result: 'ok' });
    await expect(log.outcome(id, { result: 'ok' })).rejects.toThrow(/already written/);
  });

  it('records the HTTP token actor and an open-ended confirmation value', async () => {
    const log = newLog();
    await log.intent(intent({ actor: { kind: 'http_token', fingerprint: '0123456789abcdef' }, confirmation: 'plan' }));
    const [l] = await parsed();
    expect(l.actor).toEqual({ kind: 'http_token', fingerprint: '0123456789abcdef' });
    expect(l.confirmation).toBe('plan');
  });
});

describe('withAudit', () => {
  it('ok: the intent is on disk before fn runs; before/after/request id reach the outcome', async () => {
    const log = newLog();
    const value = await withAudit(log, intent(), async (ctx) => {
      const onDisk = await parsed();
      expect(onDisk.map((l) => l.type)).toEqual(['intent']);
      expect(onDisk[0].op_id).toBe(ctx.op_id);
      ctx.before = { locked: false };
      ctx.after = { locked: true };
      ctx.vendor_request_id = 'req-1';
      return 42;
    });
    expect(value).toBe(42);
    const [, o] = await parsed();
    expect(o).toMatchObject({ type: 'outcome', result: 'ok', before: { locked: false }, after: { locked: true }, vendor_request_id: 'req-1' });
  });

  it('classifies an ambiguous VendorError as ambiguous and other throws as failed, rethrowing them', async () => {
    const log = newLog();
    const ambiguous = new VendorError({ vendor: 'outreach', code: 'network', message: 'Connection reset after sending.', ambiguous: true, requestId: 'req-a' });
    await expect(withAudit(log, intent(), async () => Promise.reject(ambiguous))).rejects.toBe(ambiguous);
    const plain = new VendorError({ vendor: 'outreach', code: 'forbidden', message: 'Missing users.write scope.' });
    await expect(withAudit(log, intent(), async () => Promise.reject(plain))).rejects.toBe(plain);
    const input = new ToolInputError('Pass id or email.');
    await expect(withAudit(log, intent(), async () => Promise.reject(input))).rejects.toBe(input);

    const outcomes = (await parsed()).filter((l) => l.type === 'outcome');
    expect(outcomes.map((o) => (o.type === 'outcome' ? [o.result, o.error, o.vendor_request_id] : []))).toEqual([
      ['ambiguous', 'Connection reset after sending.', 'req-a'],
      ['failed', 'Missing users.write scope.', undefined],
      ['failed', 'Pass id or email.', undefined],
    ]);
    expect(await log.verify()).toMatchObject({ ok: true, lines: 6 });
  });

  it('does not run fn when the intent cannot be written', async () => {
    await writeFile(path.join(dir, 'loose.log'), '', { mode: 0o644 });
    await chmod(path.join(dir, 'loose.log'), 0o644);
    const fn = vi.fn(async () => 1);
    await expect(withAudit(newLog(path.join(dir, 'loose.log')), intent(), fn)).rejects.toThrow(/chmod 600/);
    expect(fn).not.toHaveBeenCalled();
  });
});
