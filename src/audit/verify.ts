import { scanChain, type BreakReason } from './chain.js';

/*
 * Checking audit files from the command line (`sales-access-mcp audit verify [--json] [file…]`). Each file
 * is its own chain: the writers on one host share one file (audit-log.ts), and replicas on other hosts
 * keep their own, so a deployment's trail is verified by naming all its files.
 *
 * Reports identify a line only by its number, op_id and time: a verifier's output goes to terminals, tickets
 * and CI logs, and the lines hold targets' emails and before/after state. op_id and time are reported only
 * when they look like what the log writes, so an edited line cannot put arbitrary text into the report.
 */

export type { BreakReason } from './chain.js';

export interface ChainBreak {
  /** 1-based line number. */
  line: number;
  reason: BreakReason;
  /** The breaking line's op_id and time, when it has well-formed ones. */
  op_id?: string;
  time?: string;
}

export interface FileVerifyReport {
  file: string;
  /** `unreadable`: missing, or could not be read (see `error`). */
  status: 'ok' | 'broken' | 'unreadable';
  /** Lines checked. */
  lines: number;
  /** Distinct `writer` values among the lines (lines written before the field existed have none). */
  writers: number;
  /** Lines that do not continue the chain; after a break the chain is followed from the line actually there. */
  breaks: number;
  first_break?: ChainBreak;
  /** The file system's error code, for `unreadable`. */
  error?: string;
}

export interface VerifyReport {
  /** Every file read, and every chain intact. */
  ok: boolean;
  files: FileVerifyReport[];
}

const OP_ID = /^[A-Za-z0-9._:-]{1,80}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Checks each file's hash chain, one file after another (they may be large; this is disk-bound). */
export async function verifyAuditFiles(paths: readonly string[]): Promise<VerifyReport> {
  const files: FileVerifyReport[] = [];
  for (const file of paths) files.push(await verifyOne(file));
  return { ok: files.every((f) => f.status === 'ok'), files };
}

async function verifyOne(file: string): Promise<FileVerifyReport> {
  let breaks = 0;
  let first: ChainBreak | undefined;
  const writers = new Set<string>();
  try {
    const { lines } = await scanChain(file, (l) => {
      const w = l.record?.writer;
      if (typeof w === 'string') writers.add(w);
      if (!l.broken) return;
      breaks += 1;
      if (first) return;
      const opId = l.record?.op_id;
      const time = l.record?.time;
      first = {
        line: l.line,
        reason: l.broken,
        ...(typeof opId === 'string' && OP_ID.test(opId) ? { op_id: opId } : {}),
        ...(typeof time === 'string' && ISO_TIME.test(time) ? { time } : {}),
      };
    });
    return { file, status: first ? 'broken' : 'ok', lines, writers: writers.size, breaks, ...(first ? { first_break: first } : {}) };
  } catch (err) {
    // The code only: a message would repeat the path, and some carry more than the caller needs.
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    return { file, status: 'unreadable', lines: 0, writers: 0, breaks: 0, error: code };
  }
}

const WHY: Record<BreakReason, (line: number) => string> = {
  not_json: () => 'not a JSON object: a write torn by a crash (the next writer ends it with a newline) or an edit',
  prev_hash_mismatch: (line) =>
    line === 1
      ? 'prev_hash is not the chain start (64 zeros): lines were removed from the start of the file'
      : `prev_hash does not match line ${line - 1}: line ${line - 1} was changed, lines were removed or inserted before line ${line}, or two processes appended at once without the lock (versions before it)`,
  torn_last_line: () => 'the last line is incomplete: a write torn by a crash, or the file was truncated',
};

/** One line per file, for people; the same facts as the JSON form. */
export function formatVerifyReport(report: VerifyReport): string {
  const out: string[] = [];
  for (const f of report.files) {
    if (f.status === 'unreadable') {
      out.push(`UNREADABLE ${f.file}: ${f.error === 'ENOENT' ? 'no such file' : (f.error ?? 'error')}`);
      continue;
    }
    const counts = `${f.lines} line${f.lines === 1 ? '' : 's'}, ${f.writers} writer${f.writers === 1 ? '' : 's'}`;
    const b = f.first_break;
    if (!b) {
      out.push(`OK ${f.file}: ${counts}, chain intact`);
      continue;
    }
    const id = [b.op_id !== undefined ? `op_id ${b.op_id}` : undefined, b.time].filter((x) => x !== undefined).join(', ');
    out.push(
      `BROKEN ${f.file}: ${counts}, ${f.breaks} break${f.breaks === 1 ? '' : 's'}; first at line ${b.line}${id ? ` (${id})` : ''}: ${WHY[b.reason](b.line)}`,
    );
  }
  const broken = report.files.filter((f) => f.status === 'broken').length;
  const unreadable = report.files.filter((f) => f.status === 'unreadable').length;
  out.push(
    report.ok
      ? `audit verify: ${report.files.length} file${report.files.length === 1 ? '' : 's'} intact`
      : `audit verify: ${broken} broken, ${unreadable} unreadable of ${report.files.length} file${report.files.length === 1 ? '' : 's'}`,
  );
  return out.join('\n') + '\n';
}

/** The JSON form: the report as is, one object. */
export function formatVerifyReportJson(report: VerifyReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

export interface AuditVerifyIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  /** The configured audit log, checked when no file is named. */
  defaultFile: string;
}

export const AUDIT_VERIFY_USAGE = `Usage: sales-access-mcp audit verify [--json] [file…]
Checks the hash chain of each audit file (default: the configured audit log).
Exit code: 0 every chain intact, 1 a chain is broken, 2 a file could not be read or bad arguments.
`;

/**
 * `sales-access-mcp audit verify [--json] [file…]`: `argv` is what follows `audit verify`. Writes the
 * report to `io.stdout` (usage errors to `io.stderr`) and resolves with the exit code: 1 when any chain is
 * broken (that matters more than a file that could not be read), else 2 when a file could not be read or
 * the arguments are wrong, else 0.
 */
export async function runAuditVerify(argv: readonly string[], io: AuditVerifyIo): Promise<number> {
  let json = false;
  const files: string[] = [];
  let options = true;
  for (const a of argv) {
    if (options && a === '--') options = false;
    else if (options && a === '--json') json = true;
    else if (options && (a === '-h' || a === '--help')) {
      io.stdout.write(AUDIT_VERIFY_USAGE);
      return 0;
    } else if (options && a.startsWith('-')) {
      io.stderr.write(`sales-access-mcp audit verify: unknown option ${a}\n${AUDIT_VERIFY_USAGE}`);
      return 2;
    } else files.push(a);
  }
  const report = await verifyAuditFiles(files.length ? files : [io.defaultFile]);
  io.stdout.write(json ? formatVerifyReportJson(report) : formatVerifyReport(report));
  if (report.files.some((f) => f.status === 'broken')) return 1;
  return report.ok ? 0 : 2;
}
