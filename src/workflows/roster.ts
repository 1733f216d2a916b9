import { ToolInputError } from '../errors.js';
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { RosterEntry } from '../domain/review.js';

/**
 * HR roster input of the access review: a CSV file (under SALES_ACCESS_ROSTER_DIR only) or an inline list
 * of emails. The roster is data from outside, and the file may hold anything: no error or warning ever
 * quotes a cell (header cells included) or the file's content; problems are reported by line number.
 */

export const ROSTER_DIR_VARIABLE = 'SALES_ACCESS_ROSTER_DIR';
export const MAX_ROSTER_BYTES = 20 * 1024 * 1024;
export const MAX_ROSTER_ROWS = 200_000;
/** Individual row warnings kept; the rest are counted in one closing warning. */
const MAX_ROW_WARNINGS = 50;

export class RosterError extends ToolInputError {
  override readonly name: string = 'RosterError';
}

export interface RosterParseOptions {
  /** Review date: termination dates on or before it mean terminated, later ones mean still employed. */
  now?: Date;
  maxBytes?: number;
  maxRows?: number;
}

export interface RosterParseResult {
  entries: RosterEntry[];
  warnings: string[];
  /** Data rows read (header excluded, blank lines skipped). */
  rows: number;
}

// Header names are compared after lower-casing, trimming and turning runs of spaces, `_` and `-` into one space.
// Earlier names win when a file has several (a "work email" column beats a personal "email" one).
const EMAIL_HEADERS = ['work email', 'work email address', 'email', 'email address', 'e mail', 'mail'];
const STATUS_HEADERS = ['status', 'employment status', 'employee status', 'employment'];
const TERMINATION_HEADERS = ['termination date', 'terminated on', 'end date', 'terminated at', 'termination', 'last day', 'last working day'];

const TERMINATED_WORDS = new Set(['terminated', 'inactive', 'leaver', 'left', 'former', 'separated', 'offboarded', 'termed', 'departed', 'resigned', 'exited', 'deactivated', 'gone', 'ex employee', 'ex']);
const ACTIVE_WORDS = new Set(['active', 'employed', 'current', 'hired', 'on leave', 'leave', 'loa', 'onboarding', 'new hire', 'pre start', 'suspended', 'contractor', 'full time', 'part time']);

// Deliberately simple: one @, no whitespace or characters that never occur in a login email, a dot in the domain.
const EMAIL_RE = /^[^\s@<>()[\]\\,;:"']+@[^\s@<>()[\]\\,;:"']+\.[^\s@<>()[\]\\,;:"'.][^\s@<>()[\]\\,;:"']*$/;

function normHeader(s: string): string {
  return s.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
}

/** Lower-cased, trimmed email, or null when it is not one. */
export function normalizeEmail(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const e = raw.trim().toLowerCase();
  if (e.length === 0 || e.length > 254 || !EMAIL_RE.test(e)) return null;
  return e;
}

function findColumn(header: string[], names: string[]): number {
  const norm = header.map(normHeader);
  for (const name of names) {
    const i = norm.indexOf(name);
    if (i >= 0) return i;
  }
  return -1;
}

/** YYYY-MM-DD from an ISO date or date-time (also YYYY/MM/DD); null when it is not one. */
export function parseIsoDate(raw: string): string | null {
  const m = /^(\d{4})[-/](\d{2})[-/](\d{2})(?:$|[T ])/.exec(raw.trim());
  if (!m) return null;
  const [, y, mo, d] = m;
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d));
  const iso = new Date(t).toISOString().slice(0, 10);
  return iso === `${y}-${mo}-${d}` ? iso : null;
}

/** The review date as YYYY-MM-DD (UTC). */
export function reviewDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/**
 * Whether a roster entry counts as terminated on the review date. A termination date wins over the status:
 * on or before the review day means terminated (the date is when the termination takes effect), a later
 * one means still employed (leaving soon). Without a date, the status says.
 */
export function isTerminated(entry: RosterEntry, now: Date): boolean {
  if (entry.terminated_on) return entry.terminated_on <= reviewDay(now);
  return entry.status === 'terminated';
}

class Warnings {
  readonly list: string[] = [];
  private dropped = 0;
  add(msg: string): void {
    if (this.list.length < MAX_ROW_WARNINGS) this.list.push(msg);
    else this.dropped += 1;
  }
  done(): string[] {
    if (this.dropped > 0) this.list.push(`${this.dropped} more row warnings not shown`);
    return this.list;
  }
}

interface Pending {
  entry: RosterEntry;
  lines: number[];
  conflict: boolean;
}

function lineList(lines: number[]): string {
  const shown = lines.slice(0, 10).join(', ');
  return lines.length > 10 ? `${shown} and ${lines.length - 10} more` : shown;
}

/**
 * Parses an HR roster CSV (header row required). Columns, found case-insensitively: the email (`email`,
 * `e-mail`, `work email`, `mail`), optionally a status (`status`, `employment_status`; active / terminated /
 * inactive / leaver / left …) and a termination date (`termination_date`, `terminated_on`, `end_date`;
 * YYYY-MM-DD). A UTF-8 BOM is tolerated. Rows without a valid email are skipped with a warning naming the
 * line; duplicate emails (case-insensitive) are merged, terminated winning over active (a missed leaver is
 * worse than a second look at a rehire). A file over `maxBytes` or `maxRows` is refused.
 */
export function parseRosterCsv(text: string | Buffer, opts: RosterParseOptions = {}): RosterParseResult {
  const now = opts.now ?? new Date();
  const maxBytes = opts.maxBytes ?? MAX_ROSTER_BYTES;
  const maxRows = opts.maxRows ?? MAX_ROSTER_ROWS;
  const bytes = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  if (bytes > maxBytes) {
    throw new RosterError(`roster CSV is ${bytes} bytes, over the limit of ${maxBytes} bytes: split it or keep only the email, status and termination date columns`);
  }
  const input = typeof text === 'string' ? text : text.toString('utf8');

  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(input, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      relax_quotes: true,
      trim: true,
      // Header + maxRows data rows + one more, so an oversized file is detected without parsing all of it.
      to: maxRows + 2,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    // csv-parse messages can quote the offending characters: keep only the code and the line.
    const e = err as { code?: unknown; lines?: unknown };
    const code = typeof e.code === 'string' ? e.code : 'CSV_ERROR';
    const line = typeof e.lines === 'number' ? ` at line ${e.lines}` : '';
    throw new RosterError(`roster CSV is malformed${line} (${code}); check the quoting of that row`);
  }

  if (records.length === 0) throw new RosterError('roster CSV is empty: it needs a header row with an email column');
  if (records.length - 1 > maxRows) {
    throw new RosterError(`roster CSV has more than ${maxRows} rows: split it into smaller files`);
  }

  const header = records[0].record;
  const emailCol = findColumn(header, EMAIL_HEADERS);
  if (emailCol < 0) {
    throw new RosterError(
      `roster CSV has no email column: the header row (first line, ${header.length} column${header.length === 1 ? '' : 's'}) must name one ` +
        `"email", "e-mail", "work email" or "mail" (case-insensitive)`,
    );
  }
  const statusCol = findColumn(header, STATUS_HEADERS);
  const dateCol = findColumn(header, TERMINATION_HEADERS);
  const today = reviewDay(now);

  const warnings = new Warnings();
  const byEmail = new Map<string, Pending>();
  let unknownStatus = 0;

  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r];
    const line = info.lines;
    const rawEmail = record[emailCol] ?? '';
    const email = normalizeEmail(rawEmail);
    if (email === null) {
      warnings.add(rawEmail.trim() === '' ? `line ${line}: email is empty; row skipped` : `line ${line}: email is not a valid address; row skipped`);
      continue;
    }

    let status: RosterEntry['status'] = statusCol < 0 ? 'active' : 'unknown';
    if (statusCol >= 0) {
      const word = normHeader(record[statusCol] ?? '');
      if (TERMINATED_WORDS.has(word)) status = 'terminated';
      else if (ACTIVE_WORDS.has(word)) status = 'active';
      else unknownStatus += 1;
    }

    let terminatedOn: string | null = null;
    const rawDate = dateCol < 0 ? '' : (record[dateCol] ?? '').trim();
    if (rawDate !== '') {
      terminatedOn = parseIsoDate(rawDate);
      if (terminatedOn === null) {
        warnings.add(`line ${line}: termination date is not a date in YYYY-MM-DD form; ignored`);
      } else {
        // The date wins over the status column: past (or today) → terminated, future → still employed.
        status = terminatedOn <= today ? 'terminated' : 'active';
      }
    }

    const entry: RosterEntry = { email, status, terminated_on: terminatedOn };
    const prev = byEmail.get(email);
    if (!prev) {
      byEmail.set(email, { entry, lines: [line], conflict: false });
      continue;
    }
    prev.lines.push(line);
    const a = prev.entry;
    if (a.status !== entry.status) prev.conflict = true;
    if (entry.status === 'terminated' && a.status !== 'terminated') prev.entry = entry;
    else if (entry.status === 'terminated' && a.status === 'terminated') {
      // Keep the latest termination date.
      if ((entry.terminated_on ?? '') > (a.terminated_on ?? '')) prev.entry = { ...a, terminated_on: entry.terminated_on };
    } else if (a.status === 'unknown' && entry.status === 'active') prev.entry = entry;
  }

  const entries: RosterEntry[] = [];
  let duplicateRows = 0;
  for (const p of byEmail.values()) {
    entries.push(p.entry);
    if (p.lines.length > 1) {
      duplicateRows += p.lines.length - 1;
      if (p.conflict) warnings.add(`lines ${lineList(p.lines)} give the same email different statuses; merged as ${p.entry.status}`);
    }
  }
  const out = warnings.done();
  if (duplicateRows > 0) out.push(`${duplicateRows} duplicate row${duplicateRows === 1 ? '' : 's'} (same email, any case) merged`);
  if (unknownStatus > 0) out.push(`${unknownStatus} row${unknownStatus === 1 ? ' has' : 's have'} an empty or unrecognised status; treated as on the roster with status unknown`);
  if (entries.length === 0) out.push('roster has no valid rows: every account will be reported as absent from it');
  return { entries, warnings: out, rows: records.length - 1 };
}

/** An inline roster: every email is an active person. Invalid items are skipped and reported by position. */
export function rosterFromEmails(emails: readonly string[], opts: { maxRows?: number } = {}): { entries: RosterEntry[]; warnings: string[] } {
  const maxRows = opts.maxRows ?? MAX_ROSTER_ROWS;
  if (emails.length > maxRows) throw new RosterError(`roster has ${emails.length} emails, over the limit of ${maxRows}`);
  const warnings = new Warnings();
  const seen = new Set<string>();
  const entries: RosterEntry[] = [];
  let duplicates = 0;
  emails.forEach((raw, i) => {
    const email = normalizeEmail(raw);
    if (email === null) {
      warnings.add(`roster item ${i + 1} is not a valid email; skipped`);
      return;
    }
    if (seen.has(email)) {
      duplicates += 1;
      return;
    }
    seen.add(email);
    entries.push({ email, status: 'active', terminated_on: null });
  });
  const out = warnings.done();
  if (duplicates > 0) out.push(`${duplicates} duplicate email${duplicates === 1 ? '' : 's'} (any case) merged`);
  return { entries, warnings: out };
}

function isInside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && !isAbsolute(rel) && rel.split(sep)[0] !== '..';
}

/**
 * Resolves `path` (absolute, or relative to the roster directory) and checks that the file it names, after
 * following every symlink, lies inside the roster directory (itself resolved). Returns the real path.
 *
 * Every way of not naming a file inside the directory gets the same answer: a missing file, a file outside,
 * a symlink out, the directory itself. Telling "does not exist" from "resolves outside" would let a caller
 * probe which files exist anywhere on the server. A path that is outside the directory even before symlinks
 * are followed is refused without touching the file system at all.
 * Errors name the path given and the variable, never the file's content or a symlink's target.
 */
export async function resolveRosterPath(path: string, rosterDir: string | undefined | null): Promise<string> {
  if (!rosterDir) {
    throw new RosterError(`roster_path needs ${ROSTER_DIR_VARIABLE} to be set to the directory roster files are read from; or pass the roster inline as a list of emails`);
  }
  if (typeof path !== 'string' || path === '' || path.includes('\0')) throw new RosterError('roster_path must be a non-empty file path');
  let dir: string;
  try {
    dir = await realpath(rosterDir);
  } catch {
    throw new RosterError(`${ROSTER_DIR_VARIABLE} does not name an existing directory`);
  }
  const notInside = () =>
    new RosterError(
      `roster file ${JSON.stringify(path)} is not a file inside ${ROSTER_DIR_VARIABLE}: give the path of an existing file in that directory (relative paths are read from it; symlinks are followed and must stay inside it)`,
    );
  const candidate = isAbsolute(path) ? resolve(path) : resolve(dir, path);
  if (!isInside(dir, candidate) && !isInside(resolve(rosterDir), candidate)) throw notInside();
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw notInside();
  }
  if (!isInside(dir, real)) throw notInside();
  return real;
}

/**
 * Resolves and reads a roster file, then parses it. The resolved file is opened without following a final
 * symlink (a swap after the check fails instead of escaping), must be a regular file and within the size cap.
 */
export async function loadRosterFile(path: string, rosterDir: string | undefined | null, opts: RosterParseOptions = {}): Promise<RosterParseResult> {
  const real = await resolveRosterPath(path, rosterDir);
  const maxBytes = opts.maxBytes ?? MAX_ROSTER_BYTES;
  let fh;
  try {
    fh = await open(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    throw new RosterError(`roster file ${JSON.stringify(path)} cannot be opened`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new RosterError(`roster file ${JSON.stringify(path)} is not a regular file`);
    if (st.size > maxBytes) {
      throw new RosterError(`roster file is ${st.size} bytes, over the limit of ${maxBytes} bytes: split it or keep only the email, status and termination date columns`);
    }
    const buf = await fh.readFile();
    return parseRosterCsv(buf, opts);
  } finally {
    await fh.close();
  }
}
