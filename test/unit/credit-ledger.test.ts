import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ConfigError } from '../../src/env.js';
import { CreditBudgetError, CreditLedger, creditBudgetFromEnv, monthOf } from '../../src/credits/ledger.js';
import { ToolInputError } from '../../src/errors.js';

const dir = () => mkdtempSync(join(tmpdir(), 'sam-ledger-'));
const POSIX = process.platform !== 'win32';

describe('creditBudgetFromEnv', () => {
  it('defaults to 0, reads whole numbers and names the variable when malformed', () => {
    expect(creditBudgetFromEnv({})).toBe(0);
    expect(creditBudgetFromEnv({ SALES_ACCESS_CREDIT_BUDGET: '' })).toBe(0);
    expect(creditBudgetFromEnv({ SALES_ACCESS_CREDIT_BUDGET: ' 250 ' })).toBe(250);
    for (const bad of ['-1', '1.5', 'lots', '1e3']) {
      expect(() => creditBudgetFromEnv({ SALES_ACCESS_CREDIT_BUDGET: bad })).toThrow(ConfigError);
      expect(() => creditBudgetFromEnv({ SALES_ACCESS_CREDIT_BUDGET: bad })).toThrow(/SALES_ACCESS_CREDIT_BUDGET/);
    }
  });
});

describe('CreditLedger', () => {
  it('budget 0 refuses every spend, names SALES_ACCESS_CREDIT_BUDGET and says how to allow it, and writes nothing', async () => {
    const stateDir = dir();
    const ledger = new CreditLedger({ stateDir, budget: 0 });
    const err = await ledger.reserve('apollo', 3, { tool: 't', detail: '3 people × 1 credit' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CreditBudgetError);
    expect(err).toBeInstanceOf(ToolInputError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/SALES_ACCESS_CREDIT_BUDGET is 0/);
    expect(msg).toMatch(/up to 3 credits \(3 people × 1 credit\)/);
    expect(msg).toMatch(/sets SALES_ACCESS_CREDIT_BUDGET to the number of credits/);
    expect(existsSync(join(stateDir, 'credits'))).toBe(false);
  });

  it('reserves the worst case, refuses above budget - spent - reserved with the numbers, and settle books the real cost', async () => {
    const clock = new ManualClock();
    const ledger = new CreditLedger({ stateDir: dir(), budget: 10, clock, labelOf: (v) => (v === 'apollo' ? 'Apollo.io' : v) });
    const a = await ledger.reserve('apollo', 6, { tool: 'enrich' });
    expect(await ledger.status('apollo')).toMatchObject({ budget: 10, spent: 0, reserved: 6, remaining: 4, month: '2026-11' });

    const refused = await ledger.reserve('apollo', 5, { tool: 'enrich', detail: '5 people × 1 credit' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CreditBudgetError);
    const msg = (refused as Error).message;
    expect(msg).toContain('up to 5 credits (5 people × 1 credit)');
    expect(msg).toContain('only 4 of this month\'s Apollo.io budget of 10 remain (0 spent, 6 reserved');
    expect(msg).toContain('SALES_ACCESS_CREDIT_BUDGET');
    expect((refused as CreditBudgetError).data).toMatchObject({ worst_case: 5, remaining: 4, budget: 10, reserved: 6 });

    const settled = await ledger.settle(a, { measured: 2, estimated: 6 });
    expect(settled).toEqual({ spent: 2, basis: 'measured', remaining: 8, month: '2026-11' });
    const b = await ledger.reserve('apollo', 5, { tool: 'enrich' });
    expect(await ledger.settle(b, { estimated: 3 })).toMatchObject({ spent: 3, basis: 'estimated', remaining: 5 });
    expect(await ledger.remaining('apollo')).toBe(5);
    await expect(ledger.settle(b, { estimated: 1 })).rejects.toThrow(/already settled/);
    // Vendors are separate budgets.
    expect(await ledger.remaining('zoominfo')).toBe(10);
  });

  it('serialises concurrent reservations: two calls cannot both fit into the same remaining budget', async () => {
    const ledger = new CreditLedger({ stateDir: dir(), budget: 10 });
    const results = await Promise.allSettled([ledger.reserve('apollo', 6, { tool: 'a' }), ledger.reserve('apollo', 6, { tool: 'b' })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
  });

  it('persists across a restart (mode 0600, no temp files left), and counts a reservation left open by a dead run as spent', async () => {
    const stateDir = dir();
    const clock = new ManualClock();
    const first = new CreditLedger({ stateDir, budget: 20, clock });
    const r = await first.reserve('apollo', 4, { tool: 'enrich' });
    await first.settle(r, { estimated: 4 });
    await first.reserve('apollo', 7, { tool: 'enrich' }); // the process "dies" before settling

    const file = first.filePath('apollo');
    expect(file.endsWith(join('credits', 'apollo-2026-11.json'))).toBe(true);
    if (POSIX) expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(stateDir, 'credits')).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const second = new CreditLedger({ stateDir, budget: 20, clock });
    expect(await second.status('apollo')).toMatchObject({ spent: 11, reserved: 0, remaining: 9 });
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved).toMatchObject({ vendor: 'apollo', month: '2026-11', spent: 4 });
  });

  it('starts a fresh budget at the UTC month boundary, on the injected clock', async () => {
    const clock = new ManualClock(Date.parse('2026-11-30T23:59:30Z'));
    const ledger = new CreditLedger({ stateDir: dir(), budget: 5, clock });
    const r = await ledger.reserve('apollo', 5, { tool: 'enrich' });
    await ledger.settle(r, { estimated: 5 });
    await expect(ledger.reserve('apollo', 1, { tool: 'enrich' })).rejects.toThrow(/only 0 of this month/);
    clock.advance(30_000);
    expect(monthOf(clock.now())).toBe('2026-12');
    expect(await ledger.status('apollo')).toMatchObject({ month: '2026-12', spent: 0, remaining: 5 });
    await expect(ledger.reserve('apollo', 5, { tool: 'enrich' })).resolves.toMatchObject({ month: '2026-12' });
    expect(existsSync(ledger.filePath('apollo', '2026-11'))).toBe(true);
  });

  it('a reservation made before midnight is settled into its own month', async () => {
    const clock = new ManualClock(Date.parse('2026-11-30T23:59:59Z'));
    const ledger = new CreditLedger({ stateDir: dir(), budget: 5, clock });
    const r = await ledger.reserve('apollo', 2, { tool: 'enrich' });
    clock.advance(2_000);
    expect((await ledger.settle(r, { estimated: 2 })).month).toBe('2026-11');
    expect(await ledger.status('apollo')).toMatchObject({ month: '2026-12', spent: 0 });
  });

  it('reconcile: the first report sets a baseline, more than the ledger is charged (beyond calls in progress), a restarted counter re-baselines', async () => {
    const ledger = new CreditLedger({ stateDir: dir(), budget: 100 });
    // The vendor already counted 1,250 credits (teammates in the UI) before this server spent any.
    expect(await ledger.reconcile('apollo', 1250)).toMatchObject({ outcome: 'baseline', spent: 0, vendor_baseline: 1250, adjustment: 0 });
    const r = await ledger.reserve('apollo', 4, { tool: 'enrich' });
    await ledger.settle(r, { estimated: 3 });
    expect(await ledger.reconcile('apollo', 1253)).toMatchObject({ outcome: 'in_line', spent: 3, adjustment: 0 });
    // Apollo counted 2 more than the ledger knows of (e.g. the estimate was low): charged to the budget.
    expect(await ledger.reconcile('apollo', 1255)).toMatchObject({ outcome: 'raised', spent: 5, adjustment: 2, remaining: 95 });
    // A call in progress may already be counted by the vendor: not charged twice.
    const open = await ledger.reserve('apollo', 2, { tool: 'enrich' });
    expect(await ledger.reconcile('apollo', 1257)).toMatchObject({ outcome: 'in_line', spent: 5, reserved: 2 });
    await ledger.settle(open, { estimated: 2 });
    // A lagging counter (or a high estimate) changes nothing, and catching up later is not charged twice.
    const lag = await ledger.reserve('apollo', 2, { tool: 'enrich' });
    await ledger.settle(lag, { estimated: 2 });
    expect(await ledger.reconcile('apollo', 1257)).toMatchObject({ outcome: 'in_line', spent: 9, vendor_baseline: 1250 });
    expect(await ledger.reconcile('apollo', 1259)).toMatchObject({ outcome: 'in_line', spent: 9, adjustment: 0 });
    // New billing cycle: the counter restarts below the baseline; the ledger keeps what it booked.
    expect(await ledger.reconcile('apollo', 1)).toMatchObject({ outcome: 'rebaselined', spent: 9, vendor_baseline: -8 });
    expect(await ledger.reconcile('apollo', 4)).toMatchObject({ outcome: 'raised', spent: 12, adjustment: 3 });
    await expect(ledger.reconcile('apollo', -1)).rejects.toThrow(RangeError);
  });

  it('refuses a ledger file readable by others, and a corrupt one, instead of guessing', async () => {
    const stateDir = dir();
    const ledger = new CreditLedger({ stateDir, budget: 10 });
    await ledger.settle(await ledger.reserve('apollo', 1, { tool: 't' }), { estimated: 1 });
    const file = ledger.filePath('apollo');
    if (POSIX) {
      chmodSync(file, 0o644);
      await expect(ledger.status('apollo')).rejects.toThrow(/chmod 600/);
      chmodSync(file, 0o600);
    }
    writeFileSync(file, '{"version":1,"vendor":"apollo","month":"xx"}', { mode: 0o600 });
    await expect(ledger.status('apollo')).rejects.toThrow(/corrupt/);
  });
});
