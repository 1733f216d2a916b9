import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { VendorId } from '../domain/account.js';
import { ConfigError, type Env } from '../env.js';
import { readPrivateFile, writePrivateFile } from '../fs-private.js';
import { ToolInputError } from '../errors.js';

/*
 * Vendor-neutral credit ledger: how many vendor credits (Apollo enrichment, ZoomInfo records) this server
 * may still spend. One JSON file per vendor per calendar month (UTC) under `<state dir>/credits/`, so a
 * restart does not reset the count:
 *
 *   reserve(worst case) → vendor call → settle(what it really cost)
 *
 * The worst case is debited (as a reservation) BEFORE the vendor is called, so two concurrent calls cannot
 * both fit into the same remaining budget; settle() replaces the reservation by the real spend. A process
 * that dies between the two leaves its reservation in the file, and the next process counts it as spent:
 * the vendor may well have charged it.
 *
 * reconcile() compares the ledger with the vendor's own usage counter. The vendor counts the whole team
 * (or the key owner) over the vendor's billing cycle, not this process over a calendar month, so the first
 * report of a month only sets a baseline; afterwards anything the vendor counted beyond the ledger is
 * charged to the budget (the safe side: credits this process cannot account for are treated as spent).
 * A counter below the ledger (it lags, or an estimate was high) changes nothing; a counter below the
 * baseline itself (a new billing cycle) just moves the baseline. The ledger never gives credits back on
 * the vendor's word.
 *
 * Where the month records live is a LedgerStorage: files by default, Redis when SALES_ACCESS_REDIS_URL is set
 * (redis-ledger.ts). Operations are serialised within the process; each reads the record, decides, and writes
 * it back only if nobody wrote it meanwhile (else it reads again and decides again), so with Redis two replicas
 * cannot both fit into the same remaining budget. Files are written atomically (fs-private.ts: temp file,
 * fsync, rename, directory fsync, mode 0600), but several processes on one state directory are not locked
 * against each other: each operation re-reads the file, which narrows but does not close the race.
 */

export const CREDIT_BUDGET_VARIABLE = 'SALES_ACCESS_CREDIT_BUDGET';

/**
 * `SALES_ACCESS_CREDIT_BUDGET`: credits this process may spend per vendor per calendar month (UTC).
 * Default 0: no spending at all, every credit-spending tool refuses.
 */
export function creditBudgetFromEnv(env: Env): number {
  const raw = env[CREDIT_BUDGET_VARIABLE];
  if (raw === undefined || raw.trim() === '') return 0;
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigError(`${CREDIT_BUDGET_VARIABLE} must be a whole number of credits (0 or more), e.g. 100; 0 (the default) allows no spending.`);
  }
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n)) throw new ConfigError(`${CREDIT_BUDGET_VARIABLE} is too large.`);
  return n;
}

export type CreditBasis = 'measured' | 'estimated';

/** Proof of a reservation; pass it to settle() exactly once. */
export interface CreditReservation {
  readonly id: string;
  readonly vendor: VendorId;
  /** Calendar month (UTC) the credits are booked in, `YYYY-MM`. */
  readonly month: string;
  /** Worst case reserved. */
  readonly credits: number;
  readonly tool: string;
}

export interface SettleResult {
  /** Credits booked for this call. */
  spent: number;
  basis: CreditBasis;
  /** Budget left this month after the booking (never negative). */
  remaining: number;
  month: string;
}

export interface LedgerStatus {
  vendor: VendorId;
  month: string;
  budget: number;
  /** Settled spend this month (including reconciliation adjustments and reservations of dead processes). */
  spent: number;
  /** Worst cases of calls in progress. */
  reserved: number;
  /** budget - spent - reserved, never negative. */
  remaining: number;
  /** The vendor's counter at the first reconcile of the month minus the ledger's spend then; null before. */
  vendor_baseline: number | null;
  last_vendor_report: number | null;
  last_reconciled_at: string | null;
}

export interface ReconcileResult extends LedgerStatus {
  /** What the vendor's counter says this ledger's spend is (report - baseline). */
  vendor_attributed: number;
  /** Credits added to `spent` by this reconciliation (0 when the ledger already covered the report). */
  adjustment: number;
  outcome: 'baseline' | 'in_line' | 'raised' | 'rebaselined';
}

/** A refusal: above the remaining budget, or spending is off. The message carries the numbers. */
export class CreditBudgetError extends ToolInputError {
  override readonly name: string = 'CreditBudgetError';
}

export interface ReservationRecord {
  credits: number;
  tool: string;
  at: string;
  /** Process and ledger instance that made it; a dead owner's reservation is counted as spent. */
  pid: number;
  run: string;
}

export interface SettledRecord {
  id: string;
  tool: string;
  reserved: number;
  spent: number;
  basis: CreditBasis | 'reconciled' | 'unsettled_at_restart';
  at: string;
}

export interface LedgerFile {
  version: 1;
  vendor: VendorId;
  month: string;
  spent: number;
  reservations: Record<string, ReservationRecord>;
  /** The latest bookings, newest last (at most HISTORY). */
  history: SettledRecord[];
  vendor_baseline: number | null;
  last_vendor_report: number | null;
  last_reconciled_at: string | null;
  /** The budget in force at the last write; informational (the configuration decides). */
  budget_at_last_write: number;
  updated_at: string;
}

const HISTORY = 200;

/** `YYYY-MM` of an epoch-ms instant, in UTC. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** Where the month records are kept. */
export interface LedgerStorage {
  /** Where a vendor's month is kept, for messages (a file path, a Redis key). */
  where(vendor: VendorId, month: string): string;
  /** The month's record as stored (undefined when there is none yet), and its version for write(). */
  read(vendor: VendorId, month: string): Promise<{ text: string | undefined; version: string }>;
  /** Stores the record if it is still at `version`; false when another writer changed it since it was read. */
  write(data: LedgerFile, text: string, version: string): Promise<boolean>;
  /** Whether the ledger that made a reservation is gone (its reservation then counts as spent). */
  ownerGone(r: ReservationRecord): Promise<boolean>;
  /** Ledger `run` is about to hold reservations: it must not be taken for gone while it runs. */
  hold(run: string): Promise<void>;
  close?(): Promise<void>;
}

/** The month records as files under `<stateDir>/credits/`, one per vendor and month. */
export class FileLedgerStorage implements LedgerStorage {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'credits');
  }

  where(vendor: VendorId, month: string): string {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(vendor)) throw new Error(`Invalid vendor name for the credit ledger: ${JSON.stringify(vendor)}`);
    if (!/^\d{4}-\d{2}$/.test(month)) throw new Error(`Invalid ledger month: ${JSON.stringify(month)}`);
    return path.join(this.dir, `${vendor}-${month}.json`);
  }

  async read(vendor: VendorId, month: string): Promise<{ text: string | undefined; version: string }> {
    return { text: await readPrivateFile(this.where(vendor, month), 'Credit ledger'), version: '' };
  }

  /** Always written: processes sharing a state directory are not locked against each other (see above). */
  async write(data: LedgerFile, text: string): Promise<boolean> {
    const file = this.where(data.vendor, data.month);
    try {
      await writePrivateFile(file, text);
    } catch (err) {
      throw new Error(`Could not write the credit ledger ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); nothing was sent to the vendor.`);
    }
    return true;
  }

  /** A process that is gone, or an earlier ledger in this process (a restart in tests). */
  async ownerGone(r: ReservationRecord): Promise<boolean> {
    return r.pid === process.pid || !processAlive(r.pid);
  }

  async hold(): Promise<void> {}
}

/** How often a month record is read again when another writer changed it between the read and the write. */
const MAX_CONFLICTS = 50;

export interface CreditLedgerOptions {
  /** The state directory; files go to `<stateDir>/credits/` (unless `storage` says otherwise). */
  stateDir: string;
  /** Where the records are kept; default files under the state directory. */
  storage?: LedgerStorage;
  /** Credits per vendor per calendar month (SALES_ACCESS_CREDIT_BUDGET); 0 = no spending. */
  budget: number;
  clock?: Clock;
  /** How a vendor is named in messages (the registry's label); default its id. */
  labelOf?: (vendor: VendorId) => string;
}

export class CreditLedger {
  readonly storage: LedgerStorage;
  readonly budget: number;
  private readonly clock: Clock;
  private readonly labelOf: (vendor: VendorId) => string;
  private readonly run = randomUUID();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly settledIds = new Set<string>();

  constructor(opts: CreditLedgerOptions) {
    if (!Number.isSafeInteger(opts.budget) || opts.budget < 0) throw new RangeError('credit budget must be a non-negative integer');
    this.storage = opts.storage ?? new FileLedgerStorage(opts.stateDir);
    this.budget = opts.budget;
    this.clock = opts.clock ?? systemClock;
    this.labelOf = opts.labelOf ?? ((v) => v);
  }

  /** Where a vendor's month is kept: its file path, or its Redis key (for messages and tests). */
  filePath(vendor: VendorId, month: string = monthOf(this.clock.now())): string {
    return this.storage.where(vendor, month);
  }

  /**
   * Reserves the worst case of one call, or refuses with the numbers: spending is off (budget 0), or the
   * worst case is above `budget - spent - reserved` for the current month. `detail` explains the worst
   * case in the refusal (e.g. "10 people × 2 credits").
   */
  reserve(vendor: VendorId, worstCase: number, opts: { tool: string; detail?: string }): Promise<CreditReservation> {
    if (!Number.isFinite(worstCase) || worstCase < 0) return Promise.reject(new RangeError('worst case must be a non-negative number'));
    const credits = Math.ceil(worstCase);
    return this.enqueue(async () => {
      const month = monthOf(this.clock.now());
      const name = this.labelOf(vendor);
      const how = opts.detail ? ` (${opts.detail})` : '';
      if (this.budget === 0) {
        throw new CreditBudgetError(
          `Refused before calling ${name}: spending credits is off because ${CREDIT_BUDGET_VARIABLE} is 0 (the default). ` +
            `This call could spend up to ${credits} credit${credits === 1 ? '' : 's'}${how}. To allow it, the server's operator sets ` +
            `${CREDIT_BUDGET_VARIABLE} to the number of credits this server may spend per vendor per calendar month (e.g. 100) and restarts it.`,
          { worst_case: credits, budget: 0, month },
        );
      }
      await this.storage.hold(this.run);
      return this.transact(vendor, month, (file) => {
        const reserved = sumReserved(file);
        const remaining = this.budget - file.spent - reserved;
        if (credits > remaining) {
          throw new CreditBudgetError(
            `Refused before calling ${name}: this call could spend up to ${credits} credit${credits === 1 ? '' : 's'}${how}, but only ` +
              `${Math.max(0, remaining)} of this month's ${name} budget of ${this.budget} remain (${file.spent} spent, ${reserved} reserved by calls in progress; ` +
              `month ${month}, UTC). Ask for fewer records or fewer reveal options, or have the operator raise ${CREDIT_BUDGET_VARIABLE}.`,
            { worst_case: credits, budget: this.budget, spent: file.spent, reserved, remaining: Math.max(0, remaining), month },
          );
        }
        const id = randomUUID();
        file.reservations[id] = { credits, tool: opts.tool, at: this.iso(), pid: process.pid, run: this.run };
        return { value: { id, vendor, month, credits, tool: opts.tool }, write: true };
      });
    });
  }

  /**
   * Replaces a reservation by what the call cost: `measured` when the vendor reported it, else
   * `estimated`. A failed call that certainly reached nothing settles with `estimated: 0`; a call whose
   * outcome is unknown should settle with the worst case.
   */
  settle(reservation: CreditReservation, cost: { measured?: number; estimated: number }): Promise<SettleResult> {
    const measured = cost.measured;
    const value = measured !== undefined && Number.isFinite(measured) ? measured : cost.estimated;
    if (!Number.isFinite(value) || value < 0) return Promise.reject(new RangeError('credits spent must be a non-negative number'));
    const basis: CreditBasis = measured !== undefined && Number.isFinite(measured) ? 'measured' : 'estimated';
    return this.enqueue(async () => {
      if (this.settledIds.has(reservation.id)) throw new Error(`credit reservation ${reservation.id} was already settled`);
      const settled = await this.transact(reservation.vendor, reservation.month, (file) => {
        const held = file.reservations[reservation.id];
        delete file.reservations[reservation.id];
        file.spent += value;
        pushHistory(file, { id: reservation.id, tool: reservation.tool, reserved: held?.credits ?? reservation.credits, spent: value, basis, at: this.iso() });
        return { value: { spent: value, basis, remaining: Math.max(0, this.budget - file.spent - sumReserved(file)), month: reservation.month }, write: true };
      });
      this.settledIds.add(reservation.id);
      return settled;
    });
  }

  /**
   * Compares the ledger with the vendor's usage counter (`reported`: credits the vendor says were consumed
   * in its current cycle by the team or key owner). See the file comment for the rules.
   */
  reconcile(vendor: VendorId, reported: number): Promise<ReconcileResult> {
    if (!Number.isFinite(reported) || reported < 0) return Promise.reject(new RangeError('reported credits must be a non-negative number'));
    return this.enqueue(async () => {
      const month = monthOf(this.clock.now());
      return this.transact(vendor, month, (file) => {
        const reserved = sumReserved(file);
        let outcome: ReconcileResult['outcome'];
        let adjustment = 0;
        if (file.vendor_baseline === null) {
          file.vendor_baseline = reported - file.spent;
          outcome = 'baseline';
        } else if (reported < file.vendor_baseline) {
          // The vendor's counter restarted (a new billing cycle): keep what was booked and measure from here.
          file.vendor_baseline = reported - file.spent;
          outcome = 'rebaselined';
        } else {
          const attributed = reported - file.vendor_baseline;
          if (attributed > file.spent + reserved) {
            // Calls in progress may already be counted by the vendor; only what exceeds them is new.
            adjustment = attributed - file.spent - reserved;
            file.spent += adjustment;
            pushHistory(file, { id: randomUUID(), tool: 'reconcile', reserved: 0, spent: adjustment, basis: 'reconciled', at: this.iso() });
            outcome = 'raised';
          } else {
            // The vendor counts no more than the ledger: its counter lags (Apollo: "within seconds"), or an
            // estimate was high. Either way nothing is given back and the baseline stays, so a lagging
            // counter that catches up later is not charged twice.
            outcome = 'in_line';
          }
        }
        file.last_vendor_report = reported;
        file.last_reconciled_at = this.iso();
        return { value: { ...this.statusOf(file), vendor_attributed: reported - (file.vendor_baseline ?? 0), adjustment, outcome }, write: true };
      });
    });
  }

  /** Credits still available to this vendor this month (never negative). */
  async remaining(vendor: VendorId): Promise<number> {
    return (await this.status(vendor)).remaining;
  }

  status(vendor: VendorId): Promise<LedgerStatus> {
    return this.enqueue(async () => this.transact(vendor, monthOf(this.clock.now()), (file) => ({ value: this.statusOf(file), write: false })));
  }

  private statusOf(file: LedgerFile): LedgerStatus {
    const reserved = sumReserved(file);
    return {
      vendor: file.vendor,
      month: file.month,
      budget: this.budget,
      spent: file.spent,
      reserved,
      remaining: Math.max(0, this.budget - file.spent - reserved),
      vendor_baseline: file.vendor_baseline,
      last_vendor_report: file.last_vendor_report,
      last_reconciled_at: file.last_reconciled_at,
    };
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /**
   * Reads the month's record (a fresh one when absent), books the reservations of ledgers that are gone as
   * spent, and lets `decide` look at it and change it; writes it back when `decide` asks to, unless another
   * writer changed it since the read: then all of it again. `decide` is synchronous and may throw (a refusal
   * writes nothing).
   */
  private async transact<T>(vendor: VendorId, month: string, decide: (file: LedgerFile) => { value: T; write: boolean }): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const { text, version } = await this.storage.read(vendor, month);
      const data = text === undefined ? this.fresh(vendor, month) : parseLedger(text, this.storage.where(vendor, month), vendor, month);
      for (const [id, r] of Object.entries(data.reservations)) {
        if (r.run === this.run || !(await this.storage.ownerGone(r))) continue;
        delete data.reservations[id];
        data.spent += r.credits;
        pushHistory(data, { id, tool: r.tool, reserved: r.credits, spent: r.credits, basis: 'unsettled_at_restart', at: this.iso() });
      }
      const { value, write } = decide(data);
      if (!write) return value;
      data.budget_at_last_write = this.budget;
      data.updated_at = this.iso();
      if (await this.storage.write(data, JSON.stringify(data, null, 2) + '\n', version)) return value;
      if (attempt >= MAX_CONFLICTS) {
        throw new Error(`The credit ledger ${this.storage.where(vendor, month)} kept changing under this call (${MAX_CONFLICTS} tries); nothing was sent to the vendor. Try again.`);
      }
    }
  }

  private fresh(vendor: VendorId, month: string): LedgerFile {
    return {
      version: 1,
      vendor,
      month,
      spent: 0,
      reservations: {},
      history: [],
      vendor_baseline: null,
      last_vendor_report: null,
      last_reconciled_at: null,
      budget_at_last_write: this.budget,
      updated_at: this.iso(),
    };
  }
}

function sumReserved(file: LedgerFile): number {
  return Object.values(file.reservations).reduce((s, r) => s + r.credits, 0);
}

function pushHistory(file: LedgerFile, entry: SettledRecord): void {
  file.history.push(entry);
  if (file.history.length > HISTORY) file.history.splice(0, file.history.length - HISTORY);
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseLedger(text: string, file: string, vendor: VendorId, month: string): LedgerFile {
  const corrupt = (why: string) =>
    new Error(`Credit ledger ${file} is corrupt (${why}); fix or remove it. Removing it forgets this month's spending, so check the vendor's usage first.`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt('not an object');
  const o = v as Record<string, unknown>;
  if (o.version !== 1) throw corrupt('unknown version');
  if (o.vendor !== vendor || o.month !== month) throw corrupt('vendor or month does not match the file name');
  if (typeof o.spent !== 'number' || !Number.isFinite(o.spent) || o.spent < 0) throw corrupt('bad spent');
  if (typeof o.reservations !== 'object' || o.reservations === null || Array.isArray(o.reservations)) throw corrupt('bad reservations');
  for (const r of Object.values(o.reservations as Record<string, unknown>)) {
    const rr = r as Partial<ReservationRecord> | null;
    if (!rr || typeof rr.credits !== 'number' || !(rr.credits >= 0) || typeof rr.run !== 'string' || typeof rr.pid !== 'number') throw corrupt('bad reservation');
  }
  const numOrNull = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  return {
    version: 1,
    vendor,
    month,
    spent: o.spent,
    reservations: { ...(o.reservations as Record<string, ReservationRecord>) },
    history: Array.isArray(o.history) ? (o.history as SettledRecord[]).slice(-HISTORY) : [],
    vendor_baseline: numOrNull(o.vendor_baseline),
    last_vendor_report: numOrNull(o.last_vendor_report),
    last_reconciled_at: typeof o.last_reconciled_at === 'string' ? o.last_reconciled_at : null,
    budget_at_last_write: typeof o.budget_at_last_write === 'number' ? o.budget_at_last_write : 0,
    updated_at: typeof o.updated_at === 'string' ? o.updated_at : '',
  };
}
