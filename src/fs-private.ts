import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

/*
 * Files only this user may read (tokens, the credit ledger, offboarding plans), written so that a crash or
 * power cut leaves either the old file or the new one, never a torn one: a single-use refresh token or a
 * credit reservation that is lost or half-written cannot be got back.
 */

// POSIX permission bits mean nothing on Windows (stat reports 0o666), so the checks would refuse every file.
const CHECK_MODES = process.platform !== 'win32';

/** Creates `dir` (mode 0700) and tightens an existing one that a loose umask left readable by others. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (CHECK_MODES) {
    const st = await fs.stat(dir);
    if ((st.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
  }
}

/**
 * Replaces `file` with `text` atomically and durably: a temp file beside it (mode 0600 from creation, so the
 * content never sits in a wider-mode file), fsync, rename over the target, fsync of the directory. The
 * directory is created (0700) when missing. On failure the temp file is removed and the target is untouched.
 * Kept rather than write-file-atomic: that library neither creates its temp file exclusively (O_EXCL) nor
 * fsyncs the directory after the rename, and a lost rotated refresh token cannot be got back.
 */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    // 'wx': never follow or reuse an existing path.
    handle = await fs.open(tmp, 'wx', 0o600);
    await handle.writeFile(text, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, file);
  } catch (err) {
    await handle?.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  // Without this the rename itself may not survive a power cut, and the previous content returns.
  await fsyncDir(dir);
}

/**
 * The text of `file`, or undefined when it does not exist. Refuses a file that is not a regular file, or
 * that group or others may read or write: a secret another local user can read is already leaked, so
 * refusing is safer than quietly tightening it. `what` names the file in messages, e.g. "Token file".
 */
export async function readPrivateFile(file: string, what: string): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot open ${what.toLowerCase()} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    // fstat on the open handle, not stat on the path: the checked file is the one that is read.
    const st = await handle.stat();
    if (!st.isFile()) throw new Error(`${what} ${file} is not a regular file`);
    if (CHECK_MODES && (st.mode & 0o077) !== 0) {
      throw new Error(`${what} ${file} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``);
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Windows cannot open or fsync a directory; there the rename is as durable as the OS makes it.
    if (process.platform !== 'win32') throw err;
  } finally {
    await handle?.close().catch(() => {});
  }
}
