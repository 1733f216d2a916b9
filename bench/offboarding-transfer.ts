import { performance } from 'node:perf_hooks';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { ordinaryEverywhere } from '../test/support/people.js';
import { expectOk, startBenchStack, type BenchStack } from './stack.js';
import type { Benchmark, BenchContext } from './types.js';

/** Records of each type the leaver owns in every vendor. */
const BOOK = 5_000;
/** Apollo's windows at 1/100 of their length (its one-record writes would take hours at 50 a minute). */
const APOLLO_SCALE = 0.01;
const HUGE = 100_000_000;

interface Entry {
  method: string;
  path: string;
  status: number;
}

/** What the vendor's bulk limits allow at best: per type, writes (n / batch) and listing rounds (n / page + the empty one). */
interface TypeMinimum {
  type: string;
  records: number;
  batch: number;
  page: number;
}

function minimum(types: TypeMinimum[]): { writes: number; listings: number } {
  return {
    writes: types.reduce((n, t) => n + Math.ceil(t.records / t.batch), 0),
    listings: types.reduce((n, t) => n + Math.ceil(t.records / t.page) + 1, 0),
  };
}

function count(log: readonly Entry[], from: number, write: RegExp, listing: RegExp) {
  const sent = log.slice(from);
  const writes = sent.filter((r) => write.test(`${r.method} ${r.path}`)).length;
  const listings = sent.filter((r) => listing.test(`${r.method} ${r.path}`)).length;
  return { total: sent.length, writes, listings, other: sent.length - writes - listings, status_429: sent.filter((r) => r.status === 429).length };
}

/**
 * Issue 10: a leaver who owns 5,000 records of every type in Outreach, SalesLoft and Apollo, handed over to a
 * colleague by plan_offboarding + execute_offboarding through the MCP client. Prints, per vendor, the
 * requests the execution sent (writes, owner listings, others such as batch polls) against the minimum the
 * vendor's bulk limits allow: per type, one write per batch (Outreach batch actions 1,000, Apollo
 * update_owners 100, one per record where the API has no bulk write) and one listing per page of what is
 * left plus the final empty one. Apollo has no owner filter, so its listings walk whole collections; its
 * minimum is one walk to find and one to prove nothing is left. Vendor budgets are raised out of the way:
 * this counts requests, not waits.
 */
export const offboardingTransfer5k: Benchmark = {
  name: 'offboarding_transfer_5k',
  description: `plan + execute an offboarding whose leaver owns ${BOOK} records of each type in Outreach, SalesLoft and Apollo: vendor requests vs the minimum the bulk limits allow`,
  async run(ctx: BenchContext) {
    const [leaver, colleague] = ordinaryEverywhere() as [string, string];
    let sandbox: Sandbox | undefined;
    let stack: BenchStack | undefined;
    try {
      sandbox = await startSandbox({
        bigBook: { email: leaver, count: BOOK },
        outreach: { rateLimit: { limit: HUGE, windowMs: 3_600_000 } },
        salesloft: { rateLimit: { cost: HUGE, windowMs: 60_000 } },
        apollo: { limits: { windowScale: APOLLO_SCALE, minute: HUGE, hour: HUGE, day: HUGE } },
      });
      stack = await startBenchStack({
        sandbox,
        approveWrites: true,
        env: { OUTREACH_RATE_LIMIT_PER_HOUR: String(HUGE), SALESLOFT_RATE_LIMIT_COST_PER_MINUTE: String(HUGE) },
      });
      const { outreach, salesloft, apollo } = sandbox;
      const marks = () => ({ outreach: outreach.requests.length, salesloft: salesloft.requests.length, apollo: apollo.requests.length });

      ctx.note(`planning the offboarding of ${leaver} (${BOOK} records of each type per vendor)`);
      const before = marks();
      const t0 = performance.now();
      const plan = expectOk(await stack.call('plan_offboarding', { emails: [leaver], transfer_to: colleague }), 'plan_offboarding') as {
        plan_id: string;
        steps: { vendor: string; kind: string; path: string; record_type: string | null; count: number | null }[];
      };
      const planMs = performance.now() - t0;
      const planned = marks();
      ctx.note('executing');
      const t1 = performance.now();
      const exec = expectOk(await stack.call('execute_offboarding', { plan_id: plan.plan_id }), 'execute_offboarding') as { summary: Record<string, number> };
      const execMs = performance.now() - t1;

      const records = (vendor: string) =>
        Object.fromEntries(plan.steps.filter((s) => s.vendor === vendor && s.kind === 'transfer' && s.path === 'rest').map((s) => [s.record_type!, s.count ?? 0]));
      const o = records('outreach');
      const s = records('salesloft');
      const a = records('apollo');
      const apolloCollection = (type: string) =>
        ({ contacts: apollo.contacts().length, accounts: apollo.accounts().length, sequences: apollo.sequences().length, tasks: apollo.tasks().length, deals: apollo.deals().length })[type] ?? 0;

      const outreachMin = minimum(Object.entries(o).map(([type, n]) => ({ type, records: n, batch: type === 'prospects' || type === 'accounts' ? 1_000 : 1, page: type === 'prospects' || type === 'accounts' ? 1_000 : 100 })));
      const salesloftMin = minimum(Object.entries(s).map(([type, n]) => ({ type, records: n, batch: 1, page: 100 })));
      const apolloWrites = Object.entries(a).reduce((n, [type, k]) => n + Math.ceil(k / (type === 'contacts' || type === 'accounts' ? 100 : 1)), 0);
      const apolloListings = Object.keys(a).reduce((n, type) => n + 2 * Math.ceil(apolloCollection(type) / 100), 0);

      const vendor = (name: string, log: readonly Entry[], write: RegExp, listing: RegExp, min: { writes: number; listings: number }, recs: Record<string, number>) => {
        const sent = count(log, planned[name as keyof typeof planned], write, listing);
        return {
          records: recs,
          plan_requests: planned[name as keyof typeof planned] - before[name as keyof typeof before],
          execute_requests: sent,
          minimum: { ...min, total: min.writes + min.listings },
          writes_vs_minimum: Number((sent.writes / Math.max(1, min.writes)).toFixed(3)),
          total_vs_minimum: Number((sent.total / Math.max(1, min.writes + min.listings)).toFixed(3)),
        };
      };
      return {
        leaver_records_per_type: BOOK,
        summary: exec.summary,
        plan_ms: Math.round(planMs),
        execute_ms: Math.round(execMs),
        outreach: vendor('outreach', outreach.requests, /^(POST .*\/batches\/actions\/|PATCH |POST .*\/reassignOwner|DELETE .*\/mailboxes\/)/, /^GET .*\/(prospects|accounts|sequences|opportunities|tasks|mailboxes)(\?|$)/, outreachMin, o),
        salesloft: vendor('salesloft', salesloft.requests, /^PUT .*\/(people|accounts)\//, /^GET .*\/(people|accounts)\.json/, salesloftMin, s),
        apollo: vendor('apollo', apollo.requests, /^(POST .*update_owners|PUT .*\/sequences\/|PATCH .*\/(tasks|opportunities)\/)/, /(search)/, { writes: apolloWrites, listings: apolloListings }, a),
      };
    } finally {
      await stack?.close();
      await sandbox?.close();
    }
  },
};
