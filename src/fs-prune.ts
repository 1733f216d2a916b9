import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Removes the files of `dir` whose name matches and whose mtime is before `before`; a missing dir is empty. */
export async function pruneOlderThan(dir: string, before: number, match: RegExp): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    if (!match.test(name)) continue;
    const file = join(dir, name);
    try {
      if ((await stat(file)).mtimeMs < before) {
        await unlink(file);
        removed += 1;
      }
    } catch {
      // raced with another server's prune
    }
  }
  return removed;
}
