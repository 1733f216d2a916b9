import { homedir, tmpdir } from 'node:os';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VendorError } from './errors.js';

/**
 * The text of an error as a tool result may show it. A result can travel to a remote HTTP client, which has no
 * business learning where the server keeps its state (the state directory, the audit log, the install
 * directory): whatever names them stays in the server log.
 *
 * - VendorError: its public text (written for the agent, never a raw vendor body).
 * - An error that carries a `publicMessage` (AuditWriteError): that.
 * - A Node system error (it has a `syscall`, and its message quotes the path): the operation and the code only.
 * - Anything else: its message, with every known server directory replaced by `<server path>`.
 */
export function publicErrorText(err: unknown, paths: ServerPaths = {}): string {
  if (err instanceof VendorError) return err.toPublicText();
  if (err && typeof err === 'object') {
    const e = err as { publicMessage?: unknown; syscall?: unknown; code?: unknown; message?: unknown };
    if (typeof e.publicMessage === 'string') return e.publicMessage;
    if (typeof e.syscall === 'string') return `a file or system operation failed (${e.syscall}: ${typeof e.code === 'string' ? e.code : 'error'})`;
    if (typeof e.message === 'string') return scrubServerPaths(e.message, paths);
  }
  return scrubServerPaths(String(err), paths);
}

/** The configured directories a message must not reveal (all optional: a library caller may know none). */
export interface ServerPaths {
  stateDir?: string;
  auditLogPath?: string;
  rosterDir?: string;
}

/** Where this package is installed: the root above dist/src (compiled) or src (tsx, tests). */
const HERE = dirname(fileURLToPath(import.meta.url));
const INSTALL_DIR = HERE.endsWith(`${sep}dist${sep}src`) ? resolve(HERE, '..', '..') : resolve(HERE, '..');

/** `text` with each server directory (longest first, so a nested one is replaced whole) replaced. */
export function scrubServerPaths(text: string, paths: ServerPaths = {}): string {
  const dirs = [paths.auditLogPath, paths.stateDir, paths.rosterDir, INSTALL_DIR, process.cwd(), tmpdir(), homedir()]
    .filter((d): d is string => typeof d === 'string' && d.length > 1)
    .sort((a, b) => b.length - a.length);
  let out = text;
  // Only whole path components: "/root" must not eat the start of "/rooted".
  for (const d of dirs) out = out.replace(new RegExp(`${escapeRegExp(d)}(?=$|[\\/\\\\]|[^\\w.-])`, 'g'), '<server path>');
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
