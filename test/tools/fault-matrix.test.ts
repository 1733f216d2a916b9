import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import type { FaultOptions } from '../../src/sandbox/http-util.js';
import { apolloAdapter } from '../../src/vendors/apollo/adapter.js';
import { withSettings } from '../../src/vendors/connection.js';
import { outreachAdapter } from '../../src/vendors/outreach/adapter.js';
import { salesloftAdapter } from '../../src/vendors/salesloft/adapter.js';
import { ACCEPT, callUntilDone, startStack, structured, textOf, type Stack } from '../support/stack.js';

/*
 * Issue 14, item 4: the fault matrix, per vendor, through the tools. Each vendor's simulator injects each
 * fault (FaultQueue in src/sandbox/http-util.ts) into one listing (on its second page: "mid-listing") and one
 * write, driven through the real tools over an SDK client. Every cell must end recovered (the right result)
 * or as an isError result saying what to do next; no write may take effect twice; every write that reached
 * the vendor has an audit intent and outcome, the outcome `ambiguous` when the vendor may have applied it.
 * EXPECTED below is the matrix itself: the test fails when a cell's outcome differs. The run prints the table
 * (Markdown, with each cell's message): `npx vitest run test/tools/fault-matrix.test.ts`.
 */

const HOUR = 3_600_000;
/** Short client timeouts, so a held or stalled answer costs about a second, not the default 30/60 s. */
const TIMEOUTS = { headersMs: 1_500, bodyMs: 1_500 };

type VendorId = 'outreach' | 'salesloft' | 'apollo' | 'zoominfo' | 'zoominfo-scim';
type Side = 'read' | 'write';
/** recovered: the correct result; error: isError saying what to do; ambiguous: error, and the audit says the write may have landed. */
type Outcome = 'recovered' | 'error' | 'ambiguous' | 'n/a';

interface SimLike {
  failNext(count: number, status: number, opts?: FaultOptions & { retryAfterSec?: number }): void;
  clearFaults(): number;
  readonly requests: readonly { method: string; path: string; status: number }[];
}

/**
 * A clock for the server and the simulators whose sleep does not wait: it moves time on by the amount slept,
 * so a 429 storm with real Retry-After windows passes in milliseconds, and the simulators (on the same clock,
 * plus `ahead`) see the window roll over. `ahead` moves the simulators' clock alone: a token the server
 * still believes valid is expired there.
 * Not vi.useFakeTimers: undici's headers/body timeouts and the loopback sockets must keep real time.
 */
class WarpClock implements Clock {
  private warped = 0;
  private ahead = 0;
  private jumpWhen: (() => void) | undefined;
  /** The simulators' clock moves `ms` ahead of the server's as soon as `when` holds (checked on each reading). */
  jumpAhead(ms: number, when: () => boolean): void {
    this.jumpWhen = () => {
      if (!when()) return;
      this.ahead += ms;
      this.jumpWhen = undefined;
    };
  }
  now(): number {
    return Date.now() + this.warped;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.warped += Math.max(0, ms);
    return new Promise((resolve) => setImmediate(resolve));
  }
  readonly sandbox: Clock = {
    now: () => {
      this.jumpWhen?.();
      return this.now() + this.ahead;
    },
    sleep: (ms, signal) => this.sleep(ms, signal),
  };
}

interface WriteTarget {
  args: Record<string, unknown>;
  /** The write request(s) for this target, as the simulator logs them. */
  isWrite(r: { method: string; path: string }): boolean;
  /** How many times the write took effect at the vendor (contacts created, credits-charging calls served, state changes). */
  effects(): number;
  /** The vendor's state is what the write makes. */
  done(): boolean;
}

interface VendorCase {
  id: VendorId;
  label: string;
  /** Token-based auth whose expiry the simulator can enforce (see configure). */
  configure?: (config: Config, sandbox: Sandbox) => Config;
  sim(s: Sandbox): SimLike;
  /** Retry-After on injected 429s: ZoomInfo sends none (vendor notes), so its storms are plain 429s. */
  retryAfter: boolean;
  /** Why a token cannot expire in the middle of a listing here (the cell then reads n/a). */
  noExpiry?: string;
  /** Which credential the token-expiry cell exercises. */
  expiry?: string;
  read: { tool: string; args: Record<string, unknown>; pages: RegExp; method: string; ids(stack: Stack, r: CallToolResult): Promise<string[]> };
  write: { tool: string; method: string; path: RegExp; target(stack: Stack, n: number): WriteTarget; /** a second call is a new, billed request: not repeated */ repeatable: boolean };
}

async function fullResult(stack: Stack, r: CallToolResult): Promise<any> {
  const s = structured(r);
  if (!s.truncated) return s;
  const full = await stack.client.readResource({ uri: s.full_result_uri });
  return JSON.parse((full.contents[0] as { text: string }).text);
}

const idsOf = (field: string) => async (stack: Stack, r: CallToolResult) =>
  ((await fullResult(stack, r))[field] as { id: string | number }[]).map((u) => String(u.id)).sort();

function oauthFor(adapter: typeof outreachAdapter | typeof salesloftAdapter | typeof apolloAdapter, sim: (s: Sandbox) => { clientId: string; clientSecret: string; issueRefreshToken(): string }) {
  return (config: Config, sandbox: Sandbox): Config =>
    withSettings(config, adapter as typeof outreachAdapter, (s) => ({
      ...s,
      auth: { kind: 'oauth_refresh' as const, clientId: sim(sandbox).clientId, clientSecret: sim(sandbox).clientSecret, refreshToken: sim(sandbox).issueRefreshToken() },
    }));
}

const served = (status: number) => status >= 200 && status < 300;

const VENDORS: VendorCase[] = [
  {
    id: 'outreach',
    label: 'Outreach',
    configure: oauthFor(outreachAdapter, (s) => s.outreach),
    expiry: 'OAuth refresh',
    sim: (s) => s.outreach,
    retryAfter: true,
    read: { tool: 'outreach_list_users', args: { all: true }, pages: /^\/api\/v2\/users\?/, method: 'GET', ids: idsOf('users') },
    write: {
      tool: 'outreach_lock_user',
      method: 'PATCH',
      path: /^\/api\/v2\/users\/\d+$/,
      repeatable: true,
      target(stack, n) {
        const sim = stack.sandbox.outreach;
        const user = sim.users().filter((u) => !u.locked && u.active !== false)[n]!;
        const path = `/api/v2/users/${user.id}`;
        const isWrite = (r: { method: string; path: string }) => r.method === 'PATCH' && r.path === path;
        return {
          args: { id: String(user.id) },
          isWrite,
          // Locking is a state, not a count: repeating the PATCH leaves it as it was (the adapter may repeat it).
          effects: () => (sim.users().find((u) => u.id === user.id)!.locked ? 1 : 0),
          done: () => sim.users().find((u) => u.id === user.id)!.locked === true,
        };
      },
    },
  },
  {
    id: 'salesloft',
    label: 'SalesLoft',
    // OAuth (refresh tokens rotate), and no SCIM connection, so salesloft_deactivate_user takes the REST path.
    configure: (config, sandbox) => withSettings(oauthFor(salesloftAdapter, (s) => s.salesloft)(config, sandbox), salesloftAdapter, (s) => s, null),
    expiry: 'OAuth refresh; the API key does not expire',
    sim: (s) => s.salesloft,
    // The notes: "Retry-After header: No".
    retryAfter: false,
    read: { tool: 'salesloft_list_users', args: { all: true, include_deactivated: true }, pages: /^\/v2\/users\.json\?/, method: 'GET', ids: idsOf('users') },
    write: {
      tool: 'salesloft_deactivate_user',
      method: 'PUT',
      path: /^\/v2\/users\/\d+\.json$/,
      repeatable: true,
      target(stack, n) {
        const sim = stack.sandbox.salesloft;
        const user = sim.users().filter((u) => u.active && u.id !== sim.meId && (u as { seedKind?: string }).seedKind !== 'other-team')[n]!;
        const path = `/v2/users/${user.id}.json`;
        return {
          args: { id: String(user.id) },
          isWrite: (r) => r.method === 'PUT' && r.path === path,
          effects: () => (sim.users().find((u) => u.id === user.id)!.active ? 0 : 1),
          done: () => sim.users().find((u) => u.id === user.id)!.active === false,
        };
      },
    },
  },
  {
    id: 'apollo',
    label: 'Apollo',
    // The sandbox's master API key never expires; the OAuth app's access token does, so the matrix uses OAuth.
    configure: oauthFor(apolloAdapter, (s) => s.apollo),
    expiry: 'OAuth app; the API key does not expire',
    sim: (s) => s.apollo,
    retryAfter: true,
    read: { tool: 'apollo_list_users', args: {}, pages: /^\/api\/v1\/users\/search\?/, method: 'GET', ids: idsOf('users') },
    write: {
      tool: 'apollo_create_contact',
      method: 'POST',
      path: /^\/api\/v1\/contacts(\?|$)/,
      repeatable: true,
      target(stack, n) {
        const sim = stack.sandbox.apollo;
        const email = `fault.matrix.${n}@example.com`;
        const mine = () => sim.contacts().filter((c) => (c.email ?? '').toLowerCase() === email);
        return {
          args: { email, first_name: 'Fault', last_name: `Matrix ${n}` },
          isWrite: (r) => r.method === 'POST' && /^\/api\/v1\/contacts(\?|$)/.test(r.path),
          effects: () => mine().length,
          done: () => mine().length === 1,
        };
      },
    },
  },
  {
    id: 'zoominfo',
    label: 'ZoomInfo',
    expiry: 'JWT, re-login',
    sim: (s) => s.zoominfo,
    retryAfter: false,
    read: {
      tool: 'zoominfo_search_contacts',
      args: { company_name: 'Acme Corp', rpp: 10, pages: 2, output_fields: ['firstName'], confirm_credit_spend: true },
      pages: /^\/search\/contact/,
      method: 'POST',
      ids: async (_stack, r) => (structured(r).contacts as { id: string }[]).map((c) => String(c.id)).sort(),
    },
    write: {
      // ZoomInfo's REST API has no user writes: the write that must never happen twice is a credit-spending one.
      tool: 'zoominfo_enrich_contact',
      method: 'POST',
      path: /^\/enrich\/contact/,
      repeatable: false,
      target(stack, n) {
        const sim = stack.sandbox.zoominfo;
        const from = sim.requests.length;
        const enrich = (r: { method: string; path: string }) => r.method === 'POST' && r.path.startsWith('/enrich/contact');
        return {
          args: { contacts: [{ email: `fault.matrix.${n}@acme.example` }], output_fields: ['firstName'], confirm_credit_spend: true },
          isWrite: enrich,
          effects: () => sim.requests.slice(from).filter((r) => enrich(r) && served(r.status)).length,
          done: () => sim.requests.slice(from).some((r) => enrich(r) && served(r.status)),
        };
      },
    },
  },
  {
    // ZoomInfo seats are only reachable through SCIM (its REST API has no user list); its SCIM server is the one
    // not linked to a REST simulator.
    id: 'zoominfo-scim',
    label: 'ZoomInfo SCIM',
    sim: (s) => s.scim.zoominfo,
    retryAfter: true,
    noExpiry: 'static SCIM bearer token, no expiry',
    read: { tool: 'scim_list_users', args: { connection: 'zoominfo', all: true }, pages: /\/Users\?/, method: 'GET', ids: idsOf('users') },
    write: {
      tool: 'scim_deprovision_user',
      method: 'PATCH',
      path: /\/Users\/[^/?]+$/,
      repeatable: true,
      target(stack, n) {
        const sim = stack.sandbox.scim.zoominfo;
        const user = sim.users().filter((u) => u.active)[n]!;
        const active = () => sim.users().find((u) => u.id === user.id)!.active;
        return {
          args: { connection: 'zoominfo', id: user.id },
          isWrite: (r) => (r.method === 'PATCH' || r.method === 'PUT') && r.path.endsWith(`/Users/${user.id}`),
          effects: () => (active() ? 0 : 1),
          done: () => active() === false,
        };
      },
    },
  },
];

interface FaultCase {
  id: string;
  label: string;
  sides: Side[];
  /** Queues the fault on requests matching `path`/`method` (`skip` lets the first page through); returns how many. */
  inject(sim: SimLike, where: { path: RegExp; method: string; skip: number }, v: VendorCase, clock: WarpClock): number;
}

function queue(sim: SimLike, count: number, status: number, opts: FaultOptions & { retryAfterSec?: number }): number {
  sim.failNext(count, status, opts);
  return count;
}

const FAULTS: FaultCase[] = [
  {
    id: '5xx',
    label: '5xx burst (3 × 503)',
    sides: ['read', 'write'],
    inject: (sim, w) => queue(sim, 3, 503, w),
  },
  {
    id: 'reset',
    label: 'connection reset',
    sides: ['read', 'write'],
    inject: (sim, w) => queue(sim, 1, 0, { ...w, dropConnection: true }),
  },
  {
    // Served (a write applied) and answered after the client's headers timeout. An edge that holds the
    // request without serving it (holdHeaders) is the kinder case: test/unit/sandbox-faults.test.ts.
    id: 'headers-timeout',
    label: 'answer slower than the headers timeout (served)',
    sides: ['read', 'write'],
    inject: (sim, w) => queue(sim, 1, 200, { ...w, afterServe: 'late' }),
  },
  {
    id: 'body-stall',
    label: 'body stalls half-way (served)',
    sides: ['read', 'write'],
    inject: (sim, w) => queue(sim, 1, 200, { ...w, afterServe: 'stall-body' }),
  },
  {
    id: 'malformed-json',
    label: 'malformed JSON, JSON content type (served)',
    sides: ['read', 'write'],
    inject: (sim, w) => queue(sim, 1, 200, { ...w, afterServe: 'malformed-json' }),
  },
  {
    id: 'html-502',
    label: 'HTML 502 page from a proxy',
    sides: ['read', 'write'],
    inject: (sim, w) => queue(sim, 1, 502, { ...w, html: true }),
  },
  {
    id: 'response-lost',
    label: 'applied, response lost (reset)',
    sides: ['read', 'write'],
    inject: (sim, w) => queue(sim, 1, 200, { ...w, afterServe: 'drop' }),
  },
  {
    id: 'token-expiry',
    label: 'token expires mid-listing',
    sides: ['read'],
    inject: (sim, w, _v, clock) => {
      // The simulators' clock jumps two hours (past every access token's 1 h life) once the first page is
      // served; the server's does not, so it sends the token it believes valid and meets a 401.
      const from = sim.requests.length;
      clock.jumpAhead(2 * HOUR, () => sim.requests.slice(from).some((r) => w.path.test(r.path) && served(r.status)));
      return 0;
    },
  },
  {
    id: '429-storm',
    label: '429 storm: 3 × 429 (Retry-After 20 s where the vendor sends one)',
    sides: ['read', 'write'],
    inject: (sim, w, v) => queue(sim, 3, 429, { ...w, ...(v.retryAfter ? { retryAfterSec: 20 } : {}) }),
  },
  {
    id: '429-past-deadline',
    label: '429 storm past the retry budget (50 × 429, Retry-After 60 s where sent)',
    sides: ['read', 'write'],
    inject: (sim, w, v) => queue(sim, 50, 429, { ...w, ...(v.retryAfter ? { retryAfterSec: 60 } : {}) }),
  },
];

/**
 * Pages that are GETs and a write that sets an absolute state (an idempotent PATCH or PUT): both are asked again
 * after any transient failure, so every fault but a 429 storm past the retry budget ends recovered.
 */
const PAGES_AND_STATE_WRITE: Record<string, [read: Outcome, write: Outcome]> = {
  '5xx': ['recovered', 'recovered'],
  reset: ['recovered', 'recovered'],
  'headers-timeout': ['recovered', 'recovered'],
  'body-stall': ['recovered', 'recovered'],
  'malformed-json': ['recovered', 'recovered'],
  'html-502': ['recovered', 'recovered'],
  'response-lost': ['recovered', 'recovered'],
  'token-expiry': ['recovered', 'n/a'],
  '429-storm': ['recovered', 'recovered'],
  '429-past-deadline': ['error', 'error'],
};

/** The matrix: vendor → fault → [read, write]. */
const EXPECTED: Record<VendorId, Record<string, [read: Outcome, write: Outcome]>> = {
  // The lock is an idempotent PATCH.
  outreach: PAGES_AND_STATE_WRITE,
  // The deactivation is an idempotent PUT.
  salesloft: PAGES_AND_STATE_WRITE,
  // POST /contacts is not repeated: a 503 (refused) is an error, anything that may have landed is ambiguous.
  apollo: {
    '5xx': ['recovered', 'error'],
    reset: ['recovered', 'ambiguous'],
    'headers-timeout': ['recovered', 'ambiguous'],
    'body-stall': ['recovered', 'ambiguous'],
    'malformed-json': ['recovered', 'ambiguous'],
    'html-502': ['recovered', 'ambiguous'],
    'response-lost': ['recovered', 'ambiguous'],
    'token-expiry': ['recovered', 'n/a'],
    '429-storm': ['recovered', 'recovered'],
    '429-past-deadline': ['error', 'error'],
  },
  // Search and enrichment are credit-spending POSTs, never repeated except after a 429 (refused unprocessed).
  zoominfo: {
    '5xx': ['error', 'error'],
    reset: ['error', 'ambiguous'],
    'headers-timeout': ['error', 'ambiguous'],
    'body-stall': ['error', 'ambiguous'],
    'malformed-json': ['error', 'ambiguous'],
    'html-502': ['error', 'ambiguous'],
    'response-lost': ['error', 'ambiguous'],
    'token-expiry': ['recovered', 'n/a'],
    '429-storm': ['recovered', 'recovered'],
    '429-past-deadline': ['error', 'error'],
  },
  // The deprovisioning PATCH (active=false, no If-Match) is idempotent; the SCIM token is static (no expiry).
  'zoominfo-scim': { ...PAGES_AND_STATE_WRITE, 'token-expiry': ['n/a', 'n/a'] },
};

interface CellResult {
  vendor: string;
  fault: string;
  side: Side;
  outcome: Outcome;
  /** Writes: how many times the write request reached the vendor (answered or not). */
  sent?: number;
  note: string;
}
const results: CellResult[] = [];

/** A message that says what to do next. */
const ACTIONABLE = /retry|check|again|report|run `|set |wait|look .* up|find_user/i;

/** Unhandled rejections anywhere in the process fail the matrix (vitest reports them too; this names the cell). */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  // eslint-disable-next-line no-console
  console.log(`\n${renderMatrix(results)}\n`);
});

/**
 * The matrix as Markdown: one row per fault, a read and a write column per vendor, each cell the outcome (and,
 * for writes, how many times the write was sent); then each cell's detail (the message the agent got, what a
 * second call did).
 */
export function renderMatrix(rows: CellResult[]): string {
  const vendors = [...new Set(rows.map((r) => r.vendor))];
  const header = `| fault | ${vendors.map((v) => `${v} read | ${v} write`).join(' | ')} |`;
  const sep = `|---|${vendors.map(() => '---|---').join('|')}|`;
  const cell = (r: CellResult | undefined) => (r ? `${r.outcome}${r.sent !== undefined ? ` (sent ×${r.sent})` : ''}` : '—');
  const lines = FAULTS.map((f) => {
    const cells = vendors.flatMap((v) => (['read', 'write'] as Side[]).map((side) => cell(rows.find((x) => x.vendor === v && x.fault === f.label && x.side === side))));
    return `| ${f.label} | ${cells.join(' | ')} |`;
  });
  const details = rows.filter((r) => r.note).map((r) => `- ${r.vendor} ${r.side} × ${r.fault}: ${r.note}`);
  return [header, sep, ...lines, '', ...details].join('\n');
}

for (const v of VENDORS) {
  describe(`fault matrix: ${v.label}`, () => {
    let stack: Stack;
    const clock = new WarpClock();
    let baseline: string[];
    let writes = 0;

    beforeAll(async () => {
      stack = await startStack({
        elicit: ACCEPT,
        clock,
        sandboxClock: clock.sandbox,
        timeouts: TIMEOUTS,
        env: { SALES_ACCESS_CREDIT_BUDGET: '100000', ZOOMINFO_RATE_LIMIT_PER_MINUTE: '1000' },
        sandbox: {
          outreach: { userCount: 1200, tokenTtlMs: HOUR },
          salesloft: { tokenTtlMs: HOUR },
          apollo: { tokenTtlMs: HOUR },
          zoominfo: { tokenTtlMs: HOUR },
          // ZoomInfo's SCIM directory (66 people) in pages of 20, so a fault can meet a later page.
          scimMaxResults: 20,
        },
        configure: v.configure,
      });
      baseline = await v.read.ids(stack, await call(stack, v.read.tool, v.read.args));
      expect(baseline.length).toBeGreaterThan(0);
    }, 60_000);
    afterAll(async () => {
      await stack?.close();
    });

    for (const f of FAULTS) {
      if (f.sides.includes('read')) {
        it(`read (${v.read.tool}) — ${f.label}`, async () => {
          if (f.id === 'token-expiry' && v.noExpiry) {
            record(v, f, 'read', 'n/a', v.noExpiry);
            return;
          }
          const sim = v.sim(stack.sandbox);
          const from = sim.requests.length;
          const auditFrom = stack.auditLines().length;
          const queued = f.inject(sim, { path: v.read.pages, method: v.read.method, skip: 1 }, v, clock);
          const r = await call(stack, v.read.tool, v.read.args);
          const pages = sim.requests.slice(from).filter((q) => v.read.pages.test(q.path));
          expect(pages.length, 'the fault met a later page, not the first').toBeGreaterThan(1);
          const met = queued - sim.clearFaults();
          if (f.id === 'token-expiry') expect(pages.filter((q) => q.status === 401), 'the expired token met a 401').toHaveLength(1);
          else expect(met, 'the fault was met').toBeGreaterThan(0);
          // A read that spends credits (ZoomInfo) is audited like a write: every intent has its outcome, and
          // one whose answer was lost after the vendor served it is marked ambiguous (credits may be spent).
          const lines = stack.auditLines().slice(auditFrom);
          const intents = lines.filter((l) => l.type === 'intent');
          const outcomes = lines.filter((l) => l.type === 'outcome');
          expect(outcomes.map((o) => o.op_id)).toEqual(intents.map((i) => i.op_id));
          let outcome: Outcome;
          let note = '';
          if (r.isError) {
            outcome = 'error';
            expect(textOf(r)).toMatch(ACTIONABLE);
            note = brief(textOf(r));
            if (outcomes.length > 0) {
              const servedAndLost = ['response-lost', 'headers-timeout', 'body-stall', 'malformed-json'].includes(f.id);
              if (servedAndLost) expect(outcomes.map((o) => o.result)).toEqual(['ambiguous']);
              note += `; audit ${outcomes.map((o) => String(o.result)).join(', ')}`;
            }
          } else {
            outcome = 'recovered';
            expect(await v.read.ids(stack, r)).toEqual(baseline);
            note = f.id === 'token-expiry' ? '401 on page 2, credential renewed, page asked again' : `fault met ×${met}, page asked again`;
            if (f.id === 'token-expiry' && v.expiry) note = `${v.expiry}; ${note}`;
          }
          record(v, f, 'read', outcome, note);
          expect(unhandled).toEqual([]);
        }, 30_000);
      }
      if (f.sides.includes('write')) {
        it(`write (${v.write.tool}) — ${f.label}`, async () => {
          const sim = v.sim(stack.sandbox);
          const target = v.write.target(stack, writes++);
          const from = sim.requests.length;
          const auditFrom = stack.auditLines().length;
          const queued = f.inject(sim, { path: v.write.path, method: v.write.method, skip: 0 }, v, clock);
          const r = await call(stack, v.write.tool, target.args);
          expect(queued - sim.clearFaults(), 'the fault was met').toBeGreaterThan(0);
          const sent = sim.requests.slice(from).filter(target.isWrite);
          const lines = stack.auditLines().slice(auditFrom);
          const intents = lines.filter((l) => l.type === 'intent' && l.tool === v.write.tool);
          const outcomes = lines.filter((l) => l.type === 'outcome' && l.tool === v.write.tool);
          // Every write that reached the vendor (answered or not) is in the audit log, intent and outcome.
          if (sent.length > 0) expect(intents.length, 'an audit intent for the write').toBe(1);
          expect(outcomes.map((o) => o.op_id)).toEqual(intents.map((i) => i.op_id));
          expect(target.effects(), 'the write took effect at most once').toBeLessThanOrEqual(1);

          let outcome: Outcome;
          let note = '';
          if (r.isError) {
            const text = textOf(r);
            expect(text).toMatch(ACTIONABLE);
            const result = outcomes[0]?.result;
            outcome = result === 'ambiguous' ? 'ambiguous' : 'error';
            // A write that took effect but reported failure must be marked ambiguous (it may have landed).
            if (target.effects() > 0) expect(result, `${text}`).toBe('ambiguous');
            if (outcome === 'ambiguous') expect(text).toMatch(/may have|check the current state|check it/i);
            note = brief(text);
          } else {
            outcome = 'recovered';
            expect(target.done()).toBe(true);
            expect(sent.length, 'the fault was met and the write sent again').toBeGreaterThan(1);
            expect(outcomes.map((o) => o.result)).toEqual(['ok']);
          }

          // What the error told the agent to do: check, then call again. The second call must finish the job
          // without doing it twice (ZoomInfo's second call would be a second billed enrichment: not repeated).
          if (r.isError && v.write.repeatable) {
            const again = await call(stack, v.write.tool, target.args);
            expect(again.isError, textOf(again)).toBeFalsy();
            expect(target.done()).toBe(true);
            expect(target.effects()).toBe(1);
            note += `; again: changed ${String(structured(again).changed)}`;
          }
          record(v, f, 'write', outcome, note, sent.length);
          expect(unhandled).toEqual([]);
        }, 30_000);
      }
    }
  });
}

function call(stack: Stack, tool: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return callUntilDone((a) => stack.call(tool, a), args).then((answers) => answers.at(-1)!);
}

function record(v: VendorCase, f: FaultCase, side: Side, outcome: Outcome, note: string, sent?: number): void {
  results.push({ vendor: v.label, fault: f.label, side, outcome, note, sent });
  const expected = EXPECTED[v.id][f.id]?.[side === 'read' ? 0 : 1];
  if (expected !== undefined) expect(outcome, `${v.label} ${side} × ${f.label}: ${note}`).toBe(expected);
}

/** The message without what changes every run: the simulator's loopback port, request ids, clock times. */
function brief(text: string): string {
  const flat = text
    .replace(/\s+/g, ' ')
    .replace(/ at http:\/\/127\.0\.0\.1:\d+/g, '')
    .replace(/ \((?:vendor request id [^)]+|about [^)]+)\)/g, '')
    .trim();
  return `"${flat.length > 320 ? `${flat.slice(0, 319)}…` : flat}"`;
}
