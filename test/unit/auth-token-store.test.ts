import { mkdtemp, mkdir, readdir, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/auth/token-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'token-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('TokenStore', () => {
  it('returns undefined when nothing is stored', async () => {
    expect(await new TokenStore(dir).read('outreach')).toBeUndefined();
  });

  it('round-trips a record in a 0600 file inside a 0700 directory', async () => {
    const store = new TokenStore(dir);
    await store.write('outreach', { access_token: 'at-1', refresh_token: 'rt-1', access_expires_at: '2026-11-02T11:00:00.000Z' });
    const rec = await store.read('outreach');
    expect(rec).toMatchObject({ access_token: 'at-1', refresh_token: 'rt-1', access_expires_at: '2026-11-02T11:00:00.000Z' });
    expect(typeof rec?.updated_at).toBe('string');
    expect((await stat(store.filePath('outreach'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'tokens'))).mode & 0o777).toBe(0o700);
  });

  it('refuses a file readable by group or others and says how to fix it', async () => {
    const store = new TokenStore(dir);
    await store.write('outreach', { refresh_token: 'rt-secret' });
    const file = store.filePath('outreach');
    await chmod(file, 0o644);
    const err = await store.read('outreach').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain(`chmod 600 ${file}`);
    expect((err as Error).message).not.toContain('rt-secret');
    await chmod(file, 0o600);
    expect((await store.read('outreach'))?.refresh_token).toBe('rt-secret');
  });

  it('reports a corrupt file by name without quoting its contents', async () => {
    const store = new TokenStore(dir);
    await mkdir(path.join(dir, 'tokens'), { recursive: true, mode: 0o700 });
    const file = store.filePath('outreach');
    await writeFile(file, '{"refresh_token": "rt-very-secret", oops', { mode: 0o600 });
    const err = (await store.read('outreach').catch((e: Error) => e)) as Error;
    expect(err.message).toContain(file);
    expect(err.message).toContain('corrupt');
    expect(err.message).not.toContain('rt-very-secret');

    await writeFile(file, JSON.stringify({ refresh_token: 42, updated_at: 'x' }), { mode: 0o600 });
    expect(((await store.read('outreach').catch((e: Error) => e)) as Error).message).toContain('corrupt');
  });

  it('writes atomically: no temp files are left, after success or failure', async () => {
    const store = new TokenStore(dir);
    for (let i = 0; i < 5; i++) await store.write('outreach', { refresh_token: `rt-${i}` });
    expect(await readdir(path.join(dir, 'tokens'))).toEqual(['outreach.json']);
    expect((await store.read('outreach'))?.refresh_token).toBe('rt-4');

    // A directory where the file should be makes the rename fail after the temp file was written.
    await mkdir(path.join(dir, 'tokens', 'salesloft.json', 'x'), { recursive: true });
    await expect(store.write('salesloft', { refresh_token: 'rt-s' })).rejects.toThrow();
    expect((await readdir(path.join(dir, 'tokens'))).sort()).toEqual(['outreach.json', 'salesloft.json']);
  });

  it('rejects vendor names that could escape the directory', async () => {
    const store = new TokenStore(dir);
    await expect(store.read('../etc/passwd')).rejects.toThrow(/Invalid vendor name/);
    await expect(store.write('a/b', {})).rejects.toThrow(/Invalid vendor name/);
  });
});
