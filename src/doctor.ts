import { openTokenStore } from './auth/open-token-store.js';
import type { TokenStorage } from './auth/token-store.js';
import { systemClock } from './clock.js';
import type { Config, OAuthResourceConfig } from './config.js';
import { CreditLedger } from './credits/ledger.js';
import { RedisLedgerStorage } from './credits/redis-ledger.js';
import { ConfigError } from './env.js';
import { VendorError } from './errors.js';
import { TOOLSETS, type ToolsetSelection } from './toolsets.js';
import type { VendorAdapter } from './vendors/adapter.js';
import { connectVendor, type VendorConnection } from './vendors/connection.js';
import type { Logger } from './log.js';
import { BUILTIN_ADAPTERS } from './vendors/registry.js';
import type { CheckStatus, ProbeCheck, ProbeReport, ScopeReport } from './vendors/probe.js';
import { probeScim } from './vendors/scim/probe.js';

/**
 * `sales-access-mcp doctor` and the check_connections tool: for every enabled vendor, a live, read-only probe
 * of what is configured (the adapter's REST probe, the generic SCIM probe), the rate-limit headroom the vendor
 * reported in those answers, and the credit budget. Nothing is written to a vendor and no credit is spent. The
 * report holds public text only: vendor messages come through the HTTP core's redaction, and no credential,
 * token or key is ever part of it.
 */

export type VendorStatus = CheckStatus | 'not_configured';

export interface RateHeadroom {
  window: string;
  bucket: string;
  limit: number;
  remaining: number;
  resets_at: string | null;
}

export interface ConnectionReport {
  vendor: string;
  label: string;
  /** The worst of its checks; `not_configured` when neither REST nor SCIM is. */
  status: VendorStatus;
  rest: {
    auth_kind: string;
    key_kind: string | null;
    checks: ProbeCheck[];
    scopes: ScopeReport | null;
    /** Windows whose remaining budget is known after the probe (from the vendor's headers where it sends them). */
    rate_limit: RateHeadroom[];
  } | null;
  scim: { url: string; checks: ProbeCheck[] } | null;
  credits: {
    /** What the vendor reports for the account, when it does. */
    vendor: ProbeReport['credits'] | null;
    /** SALES_ACCESS_CREDIT_BUDGET and what is left of it this month. */
    budget: number;
    budget_remaining: number;
    month: string;
  } | null;
  /** For a vendor with nothing configured: which variables to set. */
  hint: string | null;
}

export interface DoctorReport {
  /** No problem anywhere (warnings allowed). */
  ok: boolean;
  sandbox: boolean;
  checked_at: string;
  /** The toolsets this configuration serves; a problem only other toolsets would hit is a warning. */
  toolsets: string[];
  vendors: ConnectionReport[];
  /** One line per problem, "<Vendor> <API> <check>: <detail>". */
  problems: string[];
  warnings: string[];
  /** `doctor` with SALES_ACCESS_OAUTH_ISSUER: whether people's access tokens can be verified (the IdP's keys read). */
  sign_in?: { issuer: string; status: CheckStatus; detail: string };
  /** With SALES_ACCESS_APPROVAL_CLIENT_ID: whether the approval page can sign people in with that provider. */
  approval_sign_in?: { issuer: string; status: CheckStatus; detail: string };
}

export interface DoctorDeps {
  config: Pick<Config, 'sandbox' | 'toolsets'>;
  vendors: readonly VendorConnection[];
  tokens: Pick<TokenStorage, 'read'>;
  credits?: Pick<CreditLedger, 'status'>;
  now(): number;
  /** Vendors whose connection could not even be built (e.g. OAuth without a stored token), with why. */
  unconnected?: readonly { adapter: VendorAdapter; message: string }[];
}

/** One vendor may take this long (the HTTP core would retry a failing vendor for up to two minutes). */
export const PROBE_TIMEOUT_MS = 30_000;

export async function runChecks(deps: DoctorDeps, opts: { vendors?: readonly string[]; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<DoctorReport> {
  const served = servedToolsets(deps.config.toolsets);
  const connections = deps.vendors.filter((c) => opts.vendors === undefined || opts.vendors.includes(c.adapter.id));
  const vendors = await Promise.all(connections.map((c) => checkVendor(c, deps, served, opts)));
  for (const u of deps.unconnected ?? []) {
    vendors.push({
      vendor: u.adapter.id,
      label: u.adapter.label,
      status: 'problem',
      rest: { auth_kind: 'unknown', key_kind: null, checks: [{ name: 'credential', status: 'problem', detail: u.message }], scopes: null, rate_limit: [] },
      scim: null,
      credits: null,
      hint: null,
    });
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const v of vendors) {
    for (const [api, checks] of [['REST', v.rest?.checks ?? []], ['SCIM', v.scim?.checks ?? []]] as const) {
      for (const c of checks) {
        if (c.status === 'problem') problems.push(`${v.label} ${api} ${c.name}: ${c.detail}`);
        if (c.status === 'warning') warnings.push(`${v.label} ${api} ${c.name}: ${c.detail}`);
      }
    }
  }
  if (vendors.length > 0 && vendors.every((v) => v.status === 'not_configured')) {
    problems.push('No vendor is configured: set the credentials of at least one (docs/credentials.md), or try --sandbox.');
  }
  return {
    ok: problems.length === 0,
    sandbox: deps.config.sandbox,
    checked_at: new Date(deps.now()).toISOString(),
    toolsets: [...served],
    vendors,
    problems,
    warnings,
  };
}

/** The toolsets a selection serves; the default set serves every vendor's (user-lifecycle) part and SCIM's. */
export function servedToolsets(sel: ToolsetSelection): Set<string> {
  const out = new Set<string>(sel.named);
  if (sel.default) for (const t of TOOLSETS) if (t !== 'prospecting') out.add(t);
  return out;
}

async function checkVendor(c: VendorConnection, deps: DoctorDeps, served: Set<string>, opts: { signal?: AbortSignal; timeoutMs?: number }): Promise<ConnectionReport> {
  const { adapter } = c;
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? PROBE_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const report: ConnectionReport = { vendor: adapter.id, label: adapter.label, status: 'ok', rest: null, scim: null, credits: null, hint: null };
  if (!c.rest && !c.scim) {
    report.status = 'not_configured';
    report.hint = `set ${adapter.credentialVariables.join(' or ')} (REST), or ${adapter.envPrefix}_SCIM_TOKEN (SCIM)`;
    return report;
  }
  const [rest, scim] = await Promise.all([c.rest ? probeRest(c, deps, signal) : null, c.scim ? probeScimConnection(c, signal) : null]);
  if (rest && c.rest) {
    // After a refused credential the limiter has seen no real answer: no headroom to speak of.
    const failed = rest.checks.some((k) => k.name === 'credential' && k.status === 'problem');
    const rate = rest.rate_limit || failed ? [] : headroom(c);
    const checks = [...rest.checks, ...(failed ? [] : rest.rate_limit ? [rest.rate_limit] : rateChecks(rate, adapter.label))];
    report.rest = { auth_kind: c.rest.authKind, key_kind: rest.key_kind ?? null, checks, scopes: rest.scopes ?? null, rate_limit: rate };
    if (rest.credits !== undefined) report.credits = await creditStatus(c, deps, rest, served, report.rest.checks);
  }
  if (scim) report.scim = { url: c.scimUrl ?? '', checks: scim.checks };
  for (const check of [...(report.rest?.checks ?? []), ...(report.scim?.checks ?? [])]) {
    // A problem that only toolsets this server does not serve would hit is worth knowing, not failing on.
    if (check.status === 'problem' && check.needed_by && !check.needed_by.some((t) => served.has(t))) {
      check.status = 'warning';
      check.detail += ` (not served here: only ${check.needed_by.join(', ')} need it)`;
    }
  }
  report.status = worst([...(report.rest?.checks ?? []), ...(report.scim?.checks ?? [])].map((k) => k.status));
  return report;
}

async function probeRest(c: VendorConnection, deps: DoctorDeps, signal: AbortSignal): Promise<ProbeReport> {
  const rest = c.rest!;
  if (!c.adapter.probe) return { checks: [{ name: 'credential', status: 'skipped', detail: `${c.adapter.label} has no probe` }] };
  const granted = rest.authKind === 'oauth_refresh' ? ((await deps.tokens.read(c.adapter.id).catch(() => undefined))?.scope?.split(/\s+/).filter(Boolean) ?? null) : null;
  try {
    return await c.adapter.probe(rest, { signal, grantedScopes: granted });
  } catch (err) {
    return { checks: [{ name: 'credential', status: 'problem', detail: failure(err, signal) }] };
  }
}

async function probeScimConnection(c: VendorConnection, signal: AbortSignal): Promise<ProbeReport> {
  try {
    return await probeScim(c.scim!, { plan: c.adapter.capabilities.scim_plan, signal });
  } catch (err) {
    return { checks: [{ name: 'token', status: 'problem', detail: failure(err, signal) }] };
  }
}

/** A failed probe in public words: the vendor's (redacted) message, a rejected credential said plainly. */
function failure(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return `no answer within ${PROBE_TIMEOUT_MS / 1000} s: check the base URL and the network.`;
  if (err instanceof VendorError) return err.code === 'unauthorized' && !/\b401\b/.test(err.message) ? `rejected (401): ${err.toPublicText()}` : err.toPublicText();
  if (err instanceof ConfigError) return err.message;
  // Not a vendor answer (DNS, TLS, a refused connection): the message names the host at most.
  return `the probe failed: ${(err as Error)?.message ?? String(err)}`;
}

/** The windows whose remaining budget the vendor reported during the probe (learned from its headers). */
function headroom(c: VendorConnection): RateHeadroom[] {
  return c
    .rest!.budget()
    .windows.filter((w): w is typeof w & { remaining: number } => w.remaining !== null)
    .map((w) => ({ window: w.name, bucket: w.bucket, limit: w.limit, remaining: w.remaining, resets_at: w.resets_at }));
}

function rateChecks(rate: RateHeadroom[], label: string): ProbeCheck[] {
  if (rate.length === 0) return [{ name: 'rate limit', status: 'skipped', detail: `${label} reported no rate-limit headroom in its answers` }];
  // The tightest window decides; each window line would repeat the same story.
  const tight = [...rate].sort((a, b) => a.remaining / a.limit - b.remaining / b.limit)[0]!;
  const low = tight.remaining < tight.limit * 0.1;
  const where = tight.bucket && tight.bucket !== 'default' ? ` (${tight.bucket})` : '';
  return [
    {
      name: 'rate limit',
      status: low ? 'warning' : 'ok',
      detail: `${tight.remaining} of ${tight.limit} left this ${tight.window}${where}${tight.resets_at ? `, resets ${tight.resets_at}` : ''}${low ? ': other integrations may be using the budget' : ''}`,
    },
  ];
}

async function creditStatus(c: VendorConnection, deps: DoctorDeps, r: ProbeReport, served: Set<string>, checks: ProbeCheck[]): Promise<ConnectionReport['credits']> {
  if (!deps.credits) return null;
  const k = r.credits;
  if (k) {
    checks.push({
      name: 'credits',
      status: k.remaining === 0 ? 'warning' : 'ok',
      detail: `${k.remaining ?? '?'} left of ${k.limit ?? '?'}, ${k.source}${k.remaining === 0 ? ': searches and enrichment will return nothing' : ''}`,
    });
  }
  const s = await deps.credits.status(c.adapter.id);
  if (s.budget === 0) {
    checks.push({
      name: 'credit budget',
      status: served.has('prospecting') ? 'warning' : 'ok',
      detail: `SALES_ACCESS_CREDIT_BUDGET is 0: no tool of this server spends ${c.adapter.label} credits${served.has('prospecting') ? ', so the prospecting tools will refuse' : ''}`,
    });
  } else {
    checks.push({ name: 'credit budget', status: s.remaining === 0 ? 'warning' : 'ok', detail: `${s.remaining} of ${s.budget} credits left this month (${s.month}) for this server` });
  }
  return { vendor: r.credits ?? null, budget: s.budget, budget_remaining: s.remaining, month: s.month };
}

const ORDER: CheckStatus[] = ['skipped', 'ok', 'warning', 'problem'];

function worst(statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((w, s) => (ORDER.indexOf(s) > ORDER.indexOf(w) ? s : w), 'ok');
}

// ---------------------------------------------------------------------------------------------------------
// The command: `sales-access-mcp doctor [--json]`.

/**
 * Connects every enabled vendor as a server would (a connection that cannot be built is reported, not fatal),
 * checks them, prints the table or the JSON on stdout, and resolves with the exit code: 0 when there is no
 * problem, 1 otherwise. Under --sandbox the caller has already pointed the configuration at the simulators.
 */
export async function runDoctorCommand(config: Config, io: { stdout: { write(s: string): unknown }; log: Logger; json: boolean }): Promise<number> {
  const store = await openTokenStore(config);
  const { tokens } = store;
  const connectOpts = { tokens, clock: systemClock, log: io.log };
  const vendors: VendorConnection[] = [];
  const unconnected: { adapter: VendorAdapter; message: string }[] = [];
  for (const adapter of BUILTIN_ADAPTERS) {
    const section = config.vendors[adapter.id];
    if (!section) continue;
    try {
      vendors.push(await connectVendor(adapter, section, connectOpts));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      unconnected.push({ adapter, message: err.message });
    }
  }
  const labels = new Map(BUILTIN_ADAPTERS.map((a) => [a.id, a.label]));
  // The budget the replicas share, when Redis is configured.
  const storage = store.redis ? new RedisLedgerStorage(store.redis, { replicaId: config.replicaId }) : undefined;
  const credits = new CreditLedger({ stateDir: config.stateDir, storage, budget: config.creditBudget, clock: systemClock, labelOf: (v) => labels.get(v) ?? v });
  try {
    const report = await runChecks({ config, vendors, tokens, credits, now: () => systemClock.now(), unconnected });
    if (config.oauth) await checkSignIn(report, config.oauth, config.approval.signIn !== undefined);
    io.stdout.write(io.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorTable(report));
    return report.ok ? 0 : 1;
  } finally {
    await Promise.all(vendors.map((v) => v.close()));
    await store.close();
  }
}

/**
 * With SALES_ACCESS_OAUTH_ISSUER: whether the identity provider's signing keys can be read now. Loaded here
 * only: the vendor checks and the check_connections tool do not need jose.
 */
async function checkSignIn(report: DoctorReport, oauth: OAuthResourceConfig, approvalPage: boolean): Promise<void> {
  const { probeIdentityProvider } = await import('./http-auth.js');
  const r = await probeIdentityProvider(oauth);
  report.sign_in = { issuer: oauth.issuer, status: r.ok ? 'ok' : 'problem', detail: r.detail };
  if (!r.ok) {
    report.problems.push(`Sign-in (identity provider ${oauth.issuer}): ${r.detail}`);
    report.ok = false;
  }
  if (!approvalPage) return;
  // SALES_ACCESS_APPROVAL_CLIENT_ID: the approval page signs people in with the same provider.
  const { probePageSignIn } = await import('./confirm/page-signin.js');
  const p = await probePageSignIn(oauth.issuer);
  report.approval_sign_in = { issuer: oauth.issuer, status: p.ok ? 'ok' : 'problem', detail: p.detail };
  if (!p.ok) {
    report.problems.push(`Approval page sign-in (identity provider ${oauth.issuer}): ${p.detail}`);
    report.ok = false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// For people: one aligned table, a line per check.

export function formatDoctorTable(report: DoctorReport): string {
  const rows: string[][] = [['STATUS', 'VENDOR', 'API', 'CHECK', 'DETAIL']];
  for (const v of report.vendors) {
    if (v.status === 'not_configured') {
      rows.push(['-', v.label, '', 'not configured', v.hint ?? '']);
      continue;
    }
    if (v.rest) {
      rows.push(['', v.label, 'REST', 'auth', [v.rest.auth_kind, v.rest.key_kind].filter(Boolean).join(': ')]);
      for (const c of v.rest.checks) rows.push([c.status, v.label, 'REST', c.name, c.detail]);
    }
    if (v.scim) {
      rows.push(['', v.label, 'SCIM', 'url', v.scim.url]);
      for (const c of v.scim.checks) rows.push([c.status, v.label, 'SCIM', c.name, c.detail]);
    }
  }
  if (report.sign_in) rows.push([report.sign_in.status, 'Sign-in', 'OAuth', 'identity provider', report.sign_in.detail]);
  if (report.approval_sign_in) rows.push([report.approval_sign_in.status, 'Sign-in', 'OIDC', 'approval page', report.approval_sign_in.detail]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd());
  const mode = report.sandbox ? ' (sandbox)' : '';
  lines.unshift(`sales-access-mcp doctor${mode}, ${report.checked_at}; toolsets served: ${report.toolsets.join(', ')}`, '');
  lines.push('');
  for (const p of report.problems) lines.push(`PROBLEM  ${p}`);
  lines.push(
    report.ok
      ? `doctor: all checks passed${report.warnings.length ? ` (${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'})` : ''}`
      : `doctor: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}, ${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'}`,
  );
  return lines.join('\n') + '\n';
}
