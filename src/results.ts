import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Results larger than an agent's context can take are kept here and served as MCP resources. */
export const RESULT_URI_PREFIX = 'sales-access://results/';
export const MAX_RESULT_BYTES = 25_000;
/** Stored results are working copies for the agent, not records (the audit log is): a day is plenty. */
export const RESULT_RETENTION_MS = 24 * 60 * 60_000;

export class ResultStore {
  constructor(private readonly dir: string) {}

  /** Writes the complete result (mode 0600) and returns its resource URI and file path. */
  async save(toolName: string, value: unknown): Promise<{ uri: string; path: string; bytes: number }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const id = `${toolName}-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(6).toString('hex')}`;
    const path = join(this.dir, `${id}.json`);
    const text = JSON.stringify(value);
    await writeFile(path, text, { mode: 0o600 });
    await this.prune(Date.now() - RESULT_RETENTION_MS);
    return { uri: `${RESULT_URI_PREFIX}${id}`, path, bytes: Buffer.byteLength(text) };
  }

  /** Removes results older than `before`; a file that vanished meanwhile is fine. */
  async prune(before: number): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.dir, name);
      try {
        if ((await stat(file)).mtimeMs < before) {
          await unlink(file);
          removed += 1;
        }
      } catch {
        // raced with another prune
      }
    }
    return removed;
  }

  /** Reads a stored result by the id part of its URI; ids are checked so a URI cannot name another file. */
  async read(id: string): Promise<string | undefined> {
    if (!/^[a-z0-9_]+-[0-9TZ-]+-[0-9a-f]{12}$/.test(id)) return undefined;
    try {
      return await readFile(join(this.dir, `${id}.json`), 'utf8');
    } catch {
      return undefined;
    }
  }
}
