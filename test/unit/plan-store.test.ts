import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { ToolInputError } from '../../src/errors.js';
import { PlanStore, takeOver } from '../../src/workflows/plan-store.js';

const PLAN = 'AAAAAAAAAAAAAAAAAAAAAA';

function stores() {
  const dir = mkdtempSync(join(tmpdir(), 'plans-'));
  // Two stores on one state directory stand for two server processes sharing it.
  return { dir, lockFile: join(dir, 'plans', `${PLAN}.lock`), a: new PlanStore(dir, systemClock), b: new PlanStore(dir, systemClock) };
}

function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('PlanStore.withLock', () => {
  it('queues calls within one process', async () => {
    const { a } = stores();
    const order: string[] = [];
    const g = gate();
    const first = a.withLock(PLAN, async () => {
      order.push('first start');
      await g.opened;
      order.push('first end');
    });
    const second = a.withLock(PLAN, async () => void order.push('second'));
    await new Promise((r) => setTimeout(r, 20));
    g.open();
    await Promise.all([first, second]);
    expect(order).toEqual(['first start', 'first end', 'second']);
  });

  it('refuses a second process while the first executes, naming it, and lets it in afterwards', async () => {
    const { a, b, lockFile } = stores();
    const g = gate();
    let inside = false;
    const first = a.withLock(PLAN, async () => {
      inside = true;
      await g.opened;
    });
    while (!inside) await new Promise((r) => setTimeout(r, 2));
    const err = await b.withLock(PLAN, async () => 'ran').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolInputError);
    expect((err as Error).message).toContain(`Plan ${PLAN} is being executed by another sales-access-mcp process`);
    expect((err as Error).message).toContain(`process ${process.pid} on ${hostname()}`);
    expect((err as Error).message).not.toContain(lockFile); // no server paths in tool errors
    expect(existsSync(lockFile)).toBe(true);
    g.open();
    await first;
    expect(existsSync(lockFile)).toBe(false);
    await expect(b.withLock(PLAN, async () => 'ran')).resolves.toBe('ran');
  });

  it('releases the lock when the work fails', async () => {
    const { a, b, lockFile } = stores();
    await expect(a.withLock(PLAN, async () => Promise.reject(new Error('vendor down')))).rejects.toThrow('vendor down');
    expect(existsSync(lockFile)).toBe(false);
    await expect(b.withLock(PLAN, async () => 'ran')).resolves.toBe('ran');
  });

  it('releases only its own lock, and a failed release does not undo a finished execution', async () => {
    const { a, lockFile } = stores();
    const r = await a.withLock(PLAN, async () => {
      // Someone (an operator, a takeover) replaced the lock while this holder ran.
      writeFileSync(lockFile, JSON.stringify({ pid: 1, host: 'other-host.example', at: '2026-11-22T00:00:00Z', nonce: 'theirs' }));
      return 'done';
    });
    expect(r).toBe('done');
    expect(existsSync(lockFile)).toBe(true); // theirs, left alone
  });

  it('an I/O failure around the lock says what failed by code, without the server path', async () => {
    const { dir } = stores();
    writeFileSync(join(dir, 'plans'), 'not a directory');
    const err = (await new PlanStore(dir, systemClock).withLock(PLAN, async () => 'ran').catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^Could not create the plans directory \(E[A-Z]+\); nothing was changed/);
    expect(err.message).not.toContain(dir);
  });

  it('takes over a lock whose process is gone, or that its holder on another host stopped touching', async () => {
    const { a, dir, lockFile } = stores();
    mkdirSync(join(dir, 'plans'), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited: no process has this pid now
    writeFileSync(lockFile, JSON.stringify({ pid: dead, host: hostname(), at: '2026-11-22T00:00:00Z' }));
    await expect(a.withLock(PLAN, async () => 'ran')).resolves.toBe('ran');

    writeFileSync(lockFile, JSON.stringify({ pid: 1, host: 'other-host.example', at: '2026-11-22T00:00:00Z' }));
    await expect(a.withLock(PLAN, async () => 'ran')).rejects.toThrow(/process 1 on other-host\.example/);
    const old = new Date(Date.now() - 6 * 60_000);
    utimesSync(lockFile, old, old); // no heartbeat for six minutes
    await expect(a.withLock(PLAN, async () => 'ran')).resolves.toBe('ran');
    expect(existsSync(lockFile)).toBe(false);
  });

  it('a takeover gives way when the lock it judged stale was replaced meanwhile by a fresh one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const file = join(dir, 'p.lock');
    writeFileSync(file, '{"nonce":"fresh"}');
    expect(await takeOver(file, '{"nonce":"stale"}')).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('{"nonce":"fresh"}'); // put back
    expect(await takeOver(file, '{"nonce":"fresh"}')).toBe(true);
    expect(existsSync(file)).toBe(false);
    expect(await takeOver(file, undefined)).toBe(true); // already gone: free
    expect(readdirSync(dir)).toEqual([]); // nothing left aside
  });
});
