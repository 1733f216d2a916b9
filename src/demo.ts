/**
 * `npm run demo`: a scripted MCP client session against the built server on the embedded sandbox.
 *
 * It spawns `node dist/sales-access-mcp.mjs --sandbox` (the bundled server) over stdio exactly as an MCP client (Claude Desktop, an IDE)
 * would, answers the server's confirmation dialog itself, and prints a readable transcript to stdout.
 * This file is a CLI program, not the MCP server, so stdout is ours here.
 *
 * The walk-through is the STEPS list below: each step calls tools, prints what it saw and leaves what
 * later steps need in `facts`. To extend the story (access review, offboarding), add steps and facts.
 *
 * Environment: DEMO_VERBOSE=1 passes the server's JSON logs (stderr) through to this process's stderr.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, type CallToolResult, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { sampleRosterCsv } from './sandbox/roster.js';
import type { OutreachAccount } from './vendors/outreach/map.js';

// The bundled server, the file users run (npm run build makes it).
const SERVER_MAIN = fileURLToPath(new URL('../sales-access-mcp.mjs', import.meta.url));
const VERBOSE = process.env.DEMO_VERBOSE === '1';
const TOOL_TIMEOUT_MS = 60_000;
const WIDTH = 92;
const LABEL = 16;

// ---------------------------------------------------------------------------------------------------------
// Printing

const out = {
  line(text = ''): void {
    process.stdout.write(`${text.trimEnd()}\n`);
  },
  /** `  label           value`, continuation lines aligned under the value. */
  kv(label: string, value: string | number): void {
    const [first, ...rest] = String(value).split('\n');
    out.line(`  ${label.padEnd(LABEL)}${first}`);
    for (const r of rest) out.line(`  ${''.padEnd(LABEL)}${r}`);
  },
  /** A bullet list under a label, wrapped to the width. */
  bullets(label: string, items: string[]): void {
    items.forEach((item, i) => {
      const lines = wrap(item, WIDTH - LABEL - 4);
      out.line(`  ${(i === 0 ? label : '').padEnd(LABEL)}- ${lines[0]}`);
      for (const l of lines.slice(1)) out.line(`  ${''.padEnd(LABEL)}  ${l}`);
    });
  },
  /** Rows of cells, each column padded to its widest cell. */
  table(rows: string[][], indent = 2): void {
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
    for (const r of rows) out.line(`${' '.repeat(indent)}${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] + 2))).join('')}`.trimEnd());
  },
  heading(n: number, title: string, call?: string): void {
    out.line();
    const text = `── ${n}. ${title}${call ? `  ·  ${call}` : ''} `;
    out.line(text + '─'.repeat(Math.max(3, WIDTH - text.length)));
  },
};

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/)) {
    if (cur && cur.length + 1 + word.length > width) {
      lines.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines.length > 0 ? lines : [''];
}

const n = (x: number) => x.toLocaleString('en-US');
const short = (s: string | null | undefined, len = 8) => (s ? `${s.slice(0, len)}…` : 'null');
const args = (a: Record<string, unknown>) =>
  `{${Object.entries(a)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ')}}`;
const callLabel = (tool: string, a: Record<string, unknown> = {}) => `${tool} ${args(a)}`;

function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return m;
}

// ---------------------------------------------------------------------------------------------------------
// The session

class DemoError extends Error {
  override readonly name = 'DemoError';
}

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new DemoError(message);
}

/** What steps learn and later steps use. Add fields as the story grows. */
interface Facts {
  /** Every Outreach user, read from the complete-result resource of step 2. */
  allUsers?: OutreachAccount[];
  /** An address held by two seats that differ only in letter case. */
  duplicate?: { email: string; seats: OutreachAccount[] };
  /** The user step 5 locks. */
  lockTarget?: OutreachAccount;
  lockOpId?: string;
  /** A departed employee the review found with active accounts, offboarded in the last steps. */
  leaver?: string;
  /** The colleague who receives the leaver's records: active (one seat) in every vendor that hands them over. */
  colleague?: string;
  planId?: string;
}

interface Review {
  review_id: string;
  roster: { entries: number; terminated: number };
  summary: {
    by_vendor: Record<string, { auditable: boolean; accounts?: number; by_status?: Record<string, number>; reason?: string }>;
    by_finding: Record<string, number>;
    findings_total: number;
    undetermined_total: number;
  };
  not_auditable: { vendor: string; reason: string }[];
  top_findings: { code: string; severity: string; vendor: string; message: string; accounts: { email: string | null }[]; accounts_total: number }[];
  evidence: { csv: string; json: string; html: string };
}

interface PlanStepOut {
  step_id: string;
  vendor: string;
  email: string | null;
  current_status: string;
  kind: string;
  action: string;
  path: string;
  seat_freed: boolean | null;
  record_type: string | null;
  count: number | null;
  count_is_lower_bound: boolean;
  transfer_to: string | null;
  depends_on: string[];
  irreversible: boolean;
  manual_instructions: string | null;
}

interface PlanOut {
  plan_id: string;
  expires_at: string;
  summary: { steps: number; automated: number; manual: number; already_done: number; records_to_transfer: number; seats_still_billed: number };
  steps: PlanStepOut[];
  warnings: string[];
}

interface ExecOut {
  replayed: boolean;
  confirmation: string;
  summary: Record<string, number>;
  steps: { step_id: string; vendor: string; kind: string; record_type: string | null; outcome: string; status_after: string | null; seat_freed: boolean | null; records_moved: number | null }[];
}

interface FindOut {
  found_in: string[];
  lookups: { vendor: string; source: string; state: string; accounts: { status: string; email: string | null }[] }[];
}

interface ListConnections {
  sandbox: boolean;
  confirmation_mode: string;
  read_only: boolean;
  vendors: {
    vendor: string;
    rest_available: boolean;
    auth_kind: string | null;
    scim_available: boolean;
    scim_plan: string;
    capabilities: Record<string, string[]>;
    caveats: string[];
    rate_limit: { windows: { name: string; limit: number; remaining: number | null }[] } | null;
  }[];
}

interface ListUsers {
  users: OutreachAccount[];
  total: number | null;
  returned: number;
  pages_fetched: number;
  truncated: boolean;
  full_result_uri: string | null;
}

interface WriteResult {
  changed: boolean;
  before: OutreachAccount | null;
  after: OutreachAccount;
  confirmation: string;
  audit_op_id: string | null;
  caveats: string[];
}

interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

interface Demo {
  client: Client;
  facts: Facts;
  stateDir: string;
  auditLogPath: string;
  /** Messages of every elicitation the server sent, in order. */
  elicitations: string[];
  call(tool: string, a?: Record<string, unknown>, onprogress?: (p: Progress) => void): Promise<CallToolResult>;
  /** Calls a tool that must succeed and returns its structured result. */
  ok<T>(tool: string, a?: Record<string, unknown>, onprogress?: (p: Progress) => void): Promise<T>;
}

function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

function statusLine(a: OutreachAccount): string {
  return `status ${a.status}, locked ${String(a.locked)}, active ${String(a.active)}`;
}

/** A plan step in a few words: what it hands over (and how many), or what it does. */
function stepWhat(s: PlanStepOut): string {
  if (s.kind === 'transfer') return `hand over ${s.count === null ? '' : `${n(s.count)}${s.count_is_lower_bound ? '+' : ''} `}${s.record_type}`;
  if (s.kind === 'unlink_mailbox') return 'unlink mailbox';
  if (s.kind === 'free_seat') return `free the seat${s.irreversible ? ' (irreversible)' : ''}`;
  return `deactivate (now ${s.current_status})`;
}

/**
 * A colleague to receive the leaver's records, as an admin would pick one: someone with exactly one active
 * seat in each vendor whose records the API hands over (Outreach, SalesLoft, Apollo). Found with find_user
 * among the active Outreach users, in id order.
 */
async function colleagueFor(demo: Demo, leaver: string): Promise<string> {
  const candidates = (demo.facts.allUsers ?? []).filter((u) => u.status === 'active' && u.email && u.email.toLowerCase() !== leaver && !u.is_admin);
  for (const u of candidates.slice(0, 40)) {
    const r = await demo.ok<FindOut>('find_user', { email: u.email! });
    const single = (vendor: string) => {
      const rest = r.lookups.filter((l) => l.vendor === vendor && l.source === 'rest');
      return rest.length === 1 && rest[0]!.accounts.length === 1 && rest[0]!.accounts[0]!.status === 'active';
    };
    if (['outreach', 'salesloft', 'apollo'].every(single)) return u.email!.toLowerCase();
  }
  throw new DemoError('no colleague active in Outreach, SalesLoft and Apollo was found among the first 40 active Outreach users');
}

// ---------------------------------------------------------------------------------------------------------
// Steps

interface Step {
  title: string;
  /** The main call, shown in the heading. */
  call?: (facts: Facts) => string;
  run(demo: Demo): Promise<void>;
}

const STEPS: Step[] = [
  {
    title: 'What is connected?',
    call: () => callLabel('list_connections'),
    async run(demo) {
      const c = await demo.ok<ListConnections>('list_connections');
      out.kv('mode', `${c.sandbox ? 'sandbox (embedded simulators)' : 'live'}, writes confirmed by ${c.confirmation_mode}, ${c.read_only ? 'read-only' : 'read-write'}`);
      out.line();
      const paths = (p: string[] | undefined) => (p ?? []).join('+') || '-';
      out.table([
        ['vendor', 'REST', 'SCIM', 'list users', 'deactivate', 'delete', 'rate limit'],
        ...c.vendors.map((v) => [
          v.vendor,
          v.rest_available ? `yes (${v.auth_kind})` : 'no',
          v.scim_available ? 'yes' : 'no',
          paths(v.capabilities.list_users),
          paths(v.capabilities.deactivate_user),
          paths(v.capabilities.delete_user),
          v.rate_limit
            ? v.rate_limit.windows.map((w) => (w.remaining === null ? `${n(w.limit)} per ${w.name} (none used yet)` : `${n(w.remaining)} of ${n(w.limit)} per ${w.name} left`)).join(', ')
            : '-',
        ]),
      ]);
      out.line(`  ${''.padEnd(LABEL)}(capability paths: rest | scim | ui = admin console only | none)`);
      const o = c.vendors.find((v) => v.vendor === 'outreach');
      assert(o?.rest_available, 'list_connections: Outreach is not connected, although the server runs with --sandbox');
      out.bullets('outreach notes', o.caveats);
    },
  },
  {
    title: 'Every Outreach user',
    call: () => callLabel('outreach_list_users', { all: true }),
    async run(demo) {
      const progress: Progress[] = [];
      const r = await demo.call('outreach_list_users', { all: true }, (p) => progress.push(p));
      assert(!r.isError, `outreach_list_users failed: ${textOf(r)}`);
      const s = r.structuredContent as unknown as ListUsers;
      const inlineBytes = Buffer.byteLength(textOf(r));
      out.kv('total', `${n(s.total ?? 0)} users, ${s.pages_fetched} page request(s) at 1,000 per page`);
      out.kv('progress', `${progress.length} notification(s), last: "${progress.at(-1)?.message ?? '-'}"`);
      out.kv('inline result', `${n(s.returned)} of ${n(s.total ?? 0)} users, ${n(inlineBytes)} bytes of JSON, truncated: ${String(s.truncated)}`);
      const link = r.content.find((c) => c.type === 'resource_link');
      if (!s.truncated || !link || link.type !== 'resource_link') {
        // Small orgs fit inline; the rest of the story still works.
        demo.facts.allUsers = s.users;
        out.kv('resource link', 'none (the result fitted in 25,000 bytes)');
      } else {
        out.kv('resource link', link.uri);
        const res = await demo.client.readResource({ uri: link.uri }, { timeout: TOOL_TIMEOUT_MS });
        const first = res.contents[0];
        assert(first && 'text' in first, `resources/read ${link.uri} returned no text`);
        const full = JSON.parse(first.text) as ListUsers;
        demo.facts.allUsers = full.users;
        out.kv('resources/read', `${n(full.users.length)} users, ${n(Buffer.byteLength(first.text))} bytes (the complete result, kept in the state dir)`);
      }
      const all = demo.facts.allUsers;
      const byStatus = countBy(all, (u) => u.status);
      out.kv('by status', [...byStatus].map(([k, v]) => `${k} ${n(v)}`).join(' · '));
      out.kv('admins', `${all.filter((u) => u.is_admin).length} (admin role or profile), ${all.filter((u) => u.profile === null).length} seats without a profile`);

      const byEmail = new Map<string, OutreachAccount[]>();
      for (const u of all) if (u.email) byEmail.set(u.email.toLowerCase(), [...(byEmail.get(u.email.toLowerCase()) ?? []), u]);
      const dups = [...byEmail.values()].filter((seats) => seats.length > 1);
      out.kv('same email', `${dups.length} address(es) held by two seats that differ only in letter case${dups.length > 0 ? `,\ne.g. ${dups[0].map((u) => u.email).join(' and ')}` : ''}`);
      if (dups.length > 0) demo.facts.duplicate = { email: dups[0][0].email!.toLowerCase(), seats: dups[0] };
    },
  },
  {
    title: 'Locked users',
    call: () => callLabel('outreach_list_users', { locked: true, page_size: 5 }),
    async run(demo) {
      const s = await demo.ok<ListUsers>('outreach_list_users', { locked: true, page_size: 5 });
      const total = s.total ?? s.returned;
      const all = demo.facts.allUsers?.filter((u) => u.locked) ?? [];
      const scimGone = all.filter((u) => u.active === false).length;
      out.kv('count', `${n(total)} locked users: locking blocks login but keeps the licensed seat`);
      if (all.length === total) {
        out.kv('seats', `${n(all.length - scimGone)} locked only (active: true): still hold a seat`);
        out.kv('', `${n(scimGone)} also deprovisioned by SCIM (active: false): deactivated, not just locked`);
      } else {
        out.kv('seats', 'locked users still hold a seat unless SCIM deprovisioned them (active: false)');
      }
      out.table(s.users.map((u, i) => [(i === 0 ? `first ${s.returned}` : '').padEnd(LABEL - 2), u.id, u.email ?? '-', u.status, u.role ?? '-']));
    },
  },
  {
    title: 'One address, two seats',
    call: (f) => callLabel('outreach_get_user', { email: f.duplicate?.email ?? '?' }),
    async run(demo) {
      const dup = demo.facts.duplicate;
      assert(dup, 'no email held by two seats was found in step 2; the sandbox seed should have some');
      const r = await demo.call('outreach_get_user', { email: dup.email });
      assert(r.isError, `outreach_get_user on ${dup.email} should have refused to pick one of ${dup.seats.length} seats`);
      const [message, data] = textOf(r).split('\n');
      out.kv('isError', 'true (by design: the server never guesses which seat is meant)');
      out.bullets('message', [message]);
      const candidates = (JSON.parse(data ?? '{}') as { candidates?: { id: string; email: string; name: string; status: string }[] }).candidates ?? [];
      assert(candidates.length >= 2, `expected candidates in the error, got: ${textOf(r)}`);
      const created = new Map(dup.seats.map((s) => [s.id, s.created_at ?? '']));
      out.table(candidates.map((c, i) => [(i === 0 ? 'candidates' : '').padEnd(LABEL - 2), c.id, c.email, c.name, c.status, `created ${(created.get(c.id) ?? '').slice(0, 10)}`]));
      // The older, hand-typed seat is the one to retire.
      const oldest = [...dup.seats].sort((a, b) => (a.created_at ?? '').localeCompare(b.created_at ?? ''))[0];
      if (oldest.status === 'active') demo.facts.lockTarget = oldest;
    },
  },
  {
    title: 'Lock the older duplicate seat',
    call: (f) => callLabel('outreach_lock_user', { id: f.lockTarget?.id ?? '?' }),
    async run(demo) {
      const target = demo.facts.lockTarget ?? demo.facts.allUsers?.find((u) => u.status === 'active' && !u.is_admin);
      assert(target, 'no active user to lock');
      demo.facts.lockTarget = target;
      const asked = demo.elicitations.length;
      const w = await demo.ok<WriteResult>('outreach_lock_user', { id: target.id });
      assert(demo.elicitations.length === asked + 1, 'the server locked without asking for confirmation');
      assert(w.changed && w.after.locked === true, `expected the lock to change the user, got changed=${String(w.changed)}`);
      demo.facts.lockOpId = w.audit_op_id ?? undefined;
      out.kv('changed', `${String(w.changed)}  (confirmation: ${w.confirmation})`);
      out.kv('before', w.before ? `${statusLine(w.before)}, updated ${w.before.updated_at}` : 'null');
      out.kv('after', `${statusLine(w.after)}, updated ${w.after.updated_at}`);
      out.kv('audit op_id', w.audit_op_id ?? 'null');
      out.bullets('caveats', w.caveats);
    },
  },
  {
    title: 'The same call again',
    call: (f) => callLabel('outreach_lock_user', { id: f.lockTarget?.id ?? '?' }),
    async run(demo) {
      const target = demo.facts.lockTarget!;
      const asked = demo.elicitations.length;
      const w = await demo.ok<WriteResult>('outreach_lock_user', { id: target.id });
      assert(!w.changed, 'locking an already locked user should be a no-op');
      out.kv('changed', `${String(w.changed)}  (confirmation: ${w.confirmation}, audit_op_id: ${String(w.audit_op_id)})`);
      out.kv('dialogs', `${demo.elicitations.length - asked} (nothing to approve: already locked, no write was sent)`);
    },
  },
  {
    title: 'Verify in Outreach',
    call: (f) => callLabel('outreach_get_user', { id: f.lockTarget?.id ?? '?' }),
    async run(demo) {
      const target = demo.facts.lockTarget!;
      const { user } = await demo.ok<{ user: OutreachAccount }>('outreach_get_user', { id: target.id });
      assert(user.locked === true, `user ${target.id} is not locked after the lock`);
      out.kv('user', `${user.id}  ${user.email}  ${user.name}  (${user.role ?? 'no role'} / ${user.profile ?? 'no profile'})`);
      out.kv('state', statusLine(user));
    },
  },
  {
    title: 'Access review against the HR roster',
    call: () => callLabel('access_review', { roster_path: 'roster/roster.csv' }),
    async run(demo) {
      let pages = 0;
      const r = await demo.ok<Review>('access_review', { roster_path: join(demo.stateDir, 'roster', 'roster.csv') }, () => void pages++);
      out.kv('roster', `${n(r.roster.entries)} people, ${n(r.roster.terminated)} marked terminated (the sandbox's sample HR export)`);
      out.kv('progress', `${pages} notification(s) while every vendor was listed (REST and SCIM in parallel)`);
      out.line();
      out.table([
        ['vendor', 'accounts', 'active', 'locked', 'deactivated', 'pending'],
        ...Object.entries(r.summary.by_vendor).map(([v, s]) =>
          s.auditable
            ? [v, n(s.accounts ?? 0), n(s.by_status?.active ?? 0), n(s.by_status?.locked ?? 0), n(s.by_status?.deactivated ?? 0), n(s.by_status?.pending ?? 0)]
            : [v, 'NOT_AUDITABLE', '', '', '', ''],
        ),
      ]);
      out.line();
      out.kv('findings', `${n(r.summary.findings_total)} in all; ${n(r.summary.undetermined_total)} checks undetermined`);
      for (const [code, count] of Object.entries(r.summary.by_finding).filter(([, c]) => c > 0)) out.kv('', `${code.padEnd(28)} ${n(count)}`);
      out.bullets(
        'top findings',
        r.top_findings.slice(0, 5).map((f) => `[${f.severity}] ${f.code} ${f.vendor}: ${f.accounts.map((a) => a.email).slice(0, 2).join(', ')}${f.accounts_total > 2 ? ` +${f.accounts_total - 2}` : ''}`),
      );
      const file = (uri: string) => join(demo.stateDir, 'evidence', uri.split('/').pop() ?? '');
      out.kv('evidence', file(r.evidence.html));
      out.kv('', file(r.evidence.csv));
      out.kv('', file(r.evidence.json));
      // The departed employee with active accounts in the most vendors is the one offboarded next.
      const json = JSON.parse(readFileSync(file(r.evidence.json), 'utf8')) as { result: { findings: { code: string; vendor: string; accounts: { email: string | null; roster: string | null }[] }[] } };
      const vendorsOf = new Map<string, Set<string>>();
      for (const f of json.result.findings.filter((x) => x.code === 'ORPHANED_ACCOUNT')) {
        for (const a of f.accounts.filter((x) => x.roster === 'terminated' && x.email)) {
          const e = a.email!.toLowerCase();
          vendorsOf.set(e, (vendorsOf.get(e) ?? new Set()).add(f.vendor));
        }
      }
      const [leaver] = [...vendorsOf].sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0]));
      assert(leaver, 'the review found no departed employee with an active account');
      demo.facts.leaver = leaver[0];
      out.kv('departed', `${leaver[0]}: terminated on the roster, still active in ${[...leaver[1]].join(', ')}`);
    },
  },
  {
    title: 'Where does the departed employee still have access?',
    call: (f) => callLabel('find_user', { email: f.leaver ?? '?' }),
    async run(demo) {
      const r = await demo.ok<FindOut>('find_user', { email: demo.facts.leaver! });
      out.table([
        ['vendor', 'api', 'result', 'accounts'],
        ...r.lookups.map((l) => [l.vendor, l.source, l.state, l.accounts.map((a) => a.status).join(', ') || '-']),
      ]);
      // Who takes the records over (find_user on colleagues, as an admin would check them).
      demo.facts.colleague = await colleagueFor(demo, demo.facts.leaver!);
      out.kv('records to', `${demo.facts.colleague}: one active seat each in Outreach, SalesLoft and Apollo`);
    },
  },
  {
    title: 'Plan the offboarding: hand over, unlink, deactivate, free the seat',
    call: (f) => callLabel('plan_offboarding', { emails: [f.leaver ?? '?'], transfer_to: f.colleague ?? '?', free_seat: true }),
    async run(demo) {
      const p = await demo.ok<PlanOut>('plan_offboarding', { emails: [demo.facts.leaver!], transfer_to: demo.facts.colleague!, free_seat: true });
      demo.facts.planId = p.plan_id;
      out.kv('plan', `${p.plan_id} (single use, valid until ${p.expires_at.slice(11, 19)} UTC)`);
      out.kv(
        'steps',
        `${p.summary.steps}: ${p.summary.automated} automated (${n(p.summary.records_to_transfer)} records to hand over), ${p.summary.manual} manual, ${p.summary.already_done} already done`,
      );
      out.line();
      out.table([
        ['step', 'vendor', 'what', 'path', 'after'],
        ...p.steps.map((s) => [s.step_id, s.vendor, stepWhat(s), s.path, s.depends_on.length ? s.depends_on.join('+') : '-']),
      ]);
      const manual = p.steps.filter((s) => s.path === 'manual');
      assert(p.steps.some((s) => s.kind === 'transfer' && s.path === 'rest'), 'the plan hands no records over');
      assert(p.steps.some((s) => s.kind === 'free_seat' && s.path !== 'manual'), 'the plan frees no seat');
      out.line();
      out.bullets('by hand', manual.map((s) => `${s.vendor}: ${s.manual_instructions ?? s.action}`));
      if (p.warnings.length > 0) out.bullets('warnings', p.warnings);
    },
  },
  {
    title: 'Execute the plan (the human approves)',
    call: (f) => callLabel('execute_offboarding', { plan_id: f.planId ?? '?' }),
    async run(demo) {
      const asked = demo.elicitations.length;
      const e = await demo.ok<ExecOut>('execute_offboarding', { plan_id: demo.facts.planId! });
      assert(demo.elicitations.length === asked + 1, 'execution did not ask the human');
      assert(e.summary.failed === 0 && e.summary.ambiguous === 0 && e.summary.blocked === 0, `execution failed: ${JSON.stringify(e.summary)}`);
      out.kv('confirmed by', e.confirmation);
      out.table([
        ['step', 'vendor', 'what', 'outcome', 'moved', 'seat freed'],
        ...e.steps.map((s) => [s.step_id, s.vendor, s.kind === 'transfer' ? `transfer ${s.record_type}` : s.kind, s.outcome, s.records_moved === null ? '-' : n(s.records_moved), s.seat_freed === null ? '-' : String(s.seat_freed)]),
      ]);
      const freed = e.steps.filter((s) => s.kind === 'free_seat' && s.seat_freed === true);
      assert(freed.length > 0, 'no seat was freed');
      out.kv('seats freed', freed.map((s) => s.vendor).join(', '));
    },
  },
  {
    title: 'Verify everywhere, and run the plan again',
    call: (f) => callLabel('find_user', { email: f.leaver ?? '?' }),
    async run(demo) {
      const r = await demo.ok<FindOut>('find_user', { email: demo.facts.leaver! });
      const statuses = r.lookups.flatMap((l) => l.accounts.map((a) => `${l.vendor} ${l.source}: ${a.status}`));
      assert(r.lookups.every((l) => l.accounts.every((a) => a.status === 'deactivated' || a.status === 'locked')), 'an account is still active after the offboarding');
      out.bullets('now', statuses);
      const asked = demo.elicitations.length;
      const again = await demo.ok<ExecOut>('execute_offboarding', { plan_id: demo.facts.planId! });
      assert(again.replayed && demo.elicitations.length === asked, 'a used plan ran again');
      out.kv('second run', 'replayed: the stored result came back; no vendor was called and no dialog shown');
      // A new plan for the same person: nothing is left for an API to do, only what was by hand anyway.
      const next = await demo.ok<PlanOut>('plan_offboarding', { emails: [demo.facts.leaver!], transfer_to: demo.facts.colleague!, free_seat: true });
      const left = next.steps.filter((s) => s.path !== 'manual' && s.path !== 'none');
      assert(left.length === 0, `a new plan still has work for the APIs: ${left.map((s) => `${s.vendor} ${stepWhat(s)}`).join('; ')}`);
      out.kv('new plan', `nothing left for the APIs (${next.summary.manual} manual step(s) remain, as planned)`);
    },
  },
  {
    title: 'The audit log',
    call: (f) => `tail ${f.lockOpId ? '(op ' + short(f.lockOpId) + ')' : ''}`,
    async run(demo) {
      assert(existsSync(demo.auditLogPath), `no audit log at ${demo.auditLogPath}`);
      const lines = readFileSync(demo.auditLogPath, 'utf8').trim().split('\n').filter(Boolean);
      const records = lines.map((l) => JSON.parse(l) as Record<string, any>);
      out.kv('file', `${demo.auditLogPath}`);
      out.kv('lines', `${records.length} (JSON lines; each carries the SHA-256 of the line before it)`);
      out.line();
      const last = records.slice(-4);
      out.table([
        ['type', 'time', 'op_id', 'prev_hash', 'tool', 'target', 'confirm', 'result'],
        ...last.map((r) => [
          r.type,
          String(r.time).slice(11, 23),
          short(r.op_id),
          short(r.prev_hash),
          r.tool,
          `${r.target?.id ?? '-'} ${r.target?.email ?? ''}`.trim(),
          r.confirmation,
          r.type === 'outcome' ? `${r.result} (${r.duration_ms} ms)` : '-',
        ]),
      ]);
      const mine = records.filter((r) => r.op_id === demo.facts.lockOpId);
      assert(mine.some((r) => r.type === 'intent') && mine.some((r) => r.type === 'outcome' && r.result === 'ok'), 'the lock has no intent + ok outcome pair in the audit log');
      const outcome = mine.find((r) => r.type === 'outcome')!;
      out.line();
      out.kv('actor', `${outcome.actor?.kind}: ${outcome.actor?.name} ${outcome.actor?.version}`);
      out.kv('before → after', `locked ${String(outcome.before?.locked)} → ${String(outcome.after?.locked)}`);
    },
  },
];

// ---------------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  if (!existsSync(SERVER_MAIN)) {
    throw new DemoError(`${SERVER_MAIN} is missing: run \`npm run build\` first (\`npm run demo\` does).`);
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'sales-access-demo-'));
  const auditLogPath = join(stateDir, 'audit.log');
  // The sample HR export the sandbox ships, placed where the server may read rosters.
  mkdirSync(join(stateDir, 'roster'), { mode: 0o700 });
  writeFileSync(join(stateDir, 'roster', 'roster.csv'), sampleRosterCsv(), { mode: 0o600 });

  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER_MAIN, '--sandbox'],
    // Only the SDK's safe defaults (PATH, HOME, ...) are inherited: no real vendor credential leaks in.
    env: { SALES_ACCESS_STATE_DIR: stateDir, SALES_ACCESS_ROSTER_DIR: join(stateDir, 'roster'), LOG_LEVEL: 'info' },
    stderr: 'pipe',
  });
  // Always drain the pipe (a full pipe would block the server's synchronous log writes); keep a tail
  // for the failure report.
  const stderrTail: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => {
    if (VERBOSE) process.stderr.write(chunk);
    stderrTail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (stderrTail.length > 20) stderrTail.splice(0, stderrTail.length - 20);
  });

  const client = new Client({ name: 'sales-access-demo', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
  const elicitations: string[] = [];
  client.setRequestHandler(ElicitRequestSchema, async (req): Promise<ElicitResult> => {
    const message = String(req.params.message);
    elicitations.push(message);
    out.kv('dialog', '┌ The server asks for confirmation (elicitation). A human would see this');
    out.kv('', '│ dialog in their MCP client; this demo answers it by itself.');
    for (const l of message.split('\n')) {
      // Keep bullet continuations under their text.
      const [first, ...rest] = wrap(l, WIDTH - LABEL - 8);
      out.kv('', `│   ${first}`);
      for (const w of rest) out.kv('', `│   ${l.startsWith('- ') ? '  ' : ''}${w}`);
    }
    out.kv('', '└ demo answers: accept, approve = true');
    return { action: 'accept', content: { approve: true } };
  });

  const facts: Facts = {};
  const demo: Demo = {
    client,
    facts,
    stateDir,
    auditLogPath,
    elicitations,
    async call(tool, a = {}, onprogress) {
      // As an agent does: a call that answers `running` is made again (same arguments) until the work is done.
      for (;;) {
        const r = (await client.callTool({ name: tool, arguments: a }, undefined, { timeout: TOOL_TIMEOUT_MS, onprogress })) as CallToolResult;
        if ((r.structuredContent as { status?: string } | undefined)?.status !== 'running') return r;
      }
    },
    async ok<T>(tool: string, a: Record<string, unknown> = {}, onprogress?: (p: Progress) => void) {
      const r = await demo.call(tool, a, onprogress);
      if (r.isError) throw new DemoError(`${tool} failed: ${textOf(r)}`);
      return r.structuredContent as T;
    },
  };

  let step = 'connecting to the server';
  const started = performance.now();
  try {
    await client.connect(transport);
    const { tools } = await client.listTools(); // also lets the SDK client check structuredContent against outputSchema
    const server = client.getServerVersion();
    out.line('sales-access-mcp demo: access across Outreach, SalesLoft, Apollo and ZoomInfo on the embedded sandbox (no credentials, no real vendor)');
    out.line();
    out.kv('server', `${server?.name} ${server?.version}: node dist/sales-access-mcp.mjs --sandbox over stdio (pid ${transport.pid})`);
    out.kv('tools', `${tools.length}: ${wrap(tools.map((t) => t.name).join(', '), WIDTH - LABEL - 4).join('\n')}`);
    out.kv('state dir', stateDir);
    out.kv('audit log', auditLogPath);
    out.kv('server logs', VERBOSE ? 'shown on stderr (DEMO_VERBOSE=1)' : 'discarded (DEMO_VERBOSE=1 shows them)');

    for (const [i, s] of STEPS.entries()) {
      step = `step ${i + 1} (${s.title})`;
      out.heading(i + 1, s.title, s.call?.(facts));
      await s.run(demo);
    }
    out.line();
    out.line(`Done: ${STEPS.length} steps in ${((performance.now() - started) / 1000).toFixed(1)} s. The audit log stays at ${auditLogPath}.`);
    return 0;
  } catch (err) {
    process.stderr.write(`\ndemo failed during ${step}: ${(err as Error)?.message ?? String(err)}\n`);
    if (!VERBOSE && stderrTail.length > 0) {
      process.stderr.write(`last server log lines:\n${stderrTail.map((l) => `  ${l}`).join('\n')}\n`);
    }
    return 1;
  } finally {
    // Closing the client closes the server's stdin, which ends the server.
    await client.close().catch(() => undefined);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo failed: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
