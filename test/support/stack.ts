import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { request as httpRequest } from 'undici';
import { ElicitRequestSchema, type CallToolResult, type ClientCapabilities, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig, parseCliArgs, type Config, type ConfirmMode } from '../../src/config.js';
import { closeApprovals } from '../../src/confirm/approvals.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { sandboxConfig, startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { withSandboxRoster } from '../../src/sandbox-roster.js';
import { sampleRosterCsv } from '../../src/sandbox/roster.js';
import { createServer } from '../../src/server.js';
import type { Registry } from '../../src/vendors/registry.js';

export type ElicitAnswer = ElicitResult | ((message: string) => ElicitResult);

export interface StackOptions {
  /** undefined: the client declares no elicitation capability. */
  elicit?: ElicitAnswer;
  env?: Record<string, string>;
  /**
   * SALES_ACCESS_CONFIRM for this stack. Tool tests default to `elicit`, whose semantics they assert (a client
   * without elicitation is refused at once); `'server-default'` leaves it unset, so the server's default
   * (`auto`) applies. SALES_ACCESS_CONFIRM in `env` wins over both.
   */
  confirm?: ConfirmMode | 'server-default';
  flags?: string[];
  /**
   * `--toolsets` for this stack: tool tests call tools of every toolset, so `all` unless `flags` choose tools
   * themselves (`--tools` or `--toolsets`); `null` serves the default set.
   */
  toolsets?: string | null;
  clock?: Clock;
  /** The simulators' clock when it must differ from the server's (e.g. a token the server believes valid). */
  sandboxClock?: Clock;
  userCount?: number;
  /** Reuse a state directory (e.g. to test a restart). */
  stateDir?: string;
  /** Adjust the config after the sandbox is wired (e.g. switch Outreach to OAuth). */
  configure?: (config: Config, sandbox: Sandbox) => Config;
  /** The vendor adapters; default the built-in ones (a test adds a fake vendor here). */
  registry?: Registry;
  /** Simulator options beyond clock and userCount (e.g. Apollo's rate limits, a bigBook for one person). */
  sandbox?: Omit<SandboxOptions, 'clock' | 'userCount'>;
  /** The server's logger (default silent); a test reads what the server logged through it. */
  log?: Logger;
  /** Vendor request timeouts (connect, headers, body), e.g. short ones to meet a stalled answer quickly. */
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  /** Client capabilities to declare instead of those `elicit` implies (e.g. URL-mode elicitation only). */
  capabilities?: ClientCapabilities;
}

export interface Stack {
  client: Client;
  sandbox: Sandbox;
  deps: Deps;
  stateDir: string;
  elicitations: string[];
  call(
    name: string,
    args?: Record<string, unknown>,
    opts?: { onprogress?: (p: { progress: number; total?: number; message?: string }) => void; timeout?: number },
  ): Promise<CallToolResult>;
  /** Another MCP client (another session) on the same server process, with its own in-memory connection. */
  connect(name?: string, capabilities?: ClientCapabilities): Promise<Client>;
  auditLines(): Record<string, unknown>[];
  close(): Promise<void>;
}

/** The real server and a real SDK client over an in-memory transport, on the embedded sandbox. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'sam-test-'));
  const sandbox = await startSandbox({ ...opts.sandbox, clock: opts.sandboxClock ?? opts.clock, userCount: opts.userCount });
  const confirm = opts.confirm ?? 'elicit';
  const env = { SALES_ACCESS_STATE_DIR: stateDir, ...(confirm === 'server-default' ? {} : { SALES_ACCESS_CONFIRM: confirm }), ...opts.env };
  let config = sandboxConfig(loadConfig(parseCliArgs(['--sandbox', ...toolsetFlags(opts.flags, opts.toolsets), ...(opts.flags ?? [])]), env, opts.registry), sandbox);
  // As --sandbox does: the sample roster as roster.csv in a roster directory (unless the test set its own).
  config = await withSandboxRoster(config, sampleRosterCsv());
  if (opts.configure) config = opts.configure(config, sandbox);
  const deps = await createDeps(config, { log: opts.log ?? silentLogger, clock: opts.clock, retryBaseDelayMs: 2, registry: opts.registry, timeouts: opts.timeouts });
  const server = createServer(deps);
  const client = new Client({ name: 'test-client', version: '1.0.0' }, { capabilities: opts.capabilities ?? (opts.elicit ? { elicitation: { form: {} } } : {}) });
  const elicitations: string[] = [];
  if (opts.elicit) {
    const answer = opts.elicit;
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      const message = String(req.params.message);
      elicitations.push(message);
      return typeof answer === 'function' ? answer(message) : answer;
    });
  }
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.connect(clientSide);
  // The SDK client validates structuredContent against outputSchema only after listTools().
  await client.listTools();
  const others: { client: Client; server: ReturnType<typeof createServer> }[] = [];
  return {
    client,
    sandbox,
    deps,
    stateDir,
    elicitations,
    call: (name, args = {}, o = {}) =>
      client.callTool({ name, arguments: args }, undefined, { onprogress: o.onprogress, timeout: o.timeout ?? 60_000 }) as Promise<CallToolResult>,
    async connect(name = 'second-client', capabilities = {}) {
      const other = createServer(deps);
      const c = new Client({ name, version: '1.0.0' }, { capabilities });
      const [cs, ss] = InMemoryTransport.createLinkedPair();
      await other.connect(ss);
      await c.connect(cs);
      await c.listTools();
      others.push({ client: c, server: other });
      return c;
    },
    auditLines: () => {
      try {
        return readFileSync(config.auditLogPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        return [];
      }
    },
    async close() {
      for (const o of others) {
        await o.client.close();
        await o.server.close();
      }
      await client.close();
      await server.close();
      await closeApprovals(deps);
      await deps.close();
      await sandbox.close();
    },
  };
}

/** `--toolsets all` (or the stack's choice), unless the flags already select tools. */
export function toolsetFlags(flags: readonly string[] = [], toolsets: string | null = 'all'): string[] {
  if (toolsets === null || flags.some((f) => f === '--tools' || f === '--toolsets' || f.startsWith('--tools=') || f.startsWith('--toolsets='))) return [];
  return ['--toolsets', toolsets];
}

/** The configuration without any SCIM connection (REST only). */
export function withoutScim(config: Config): Config {
  return { ...config, vendors: Object.fromEntries(Object.entries(config.vendors).map(([id, section]) => [id, { ...section, scim: undefined }])) };
}

export function structured<T = Record<string, any>>(r: CallToolResult): T {
  if (r.isError) throw new Error(`tool failed: ${textOf(r)}`);
  return r.structuredContent as T;
}

export function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

export const ACCEPT: ElicitResult = { action: 'accept', content: { approve: true } };
export const DECLINE: ElicitResult = { action: 'decline' };

/** The approval URL in a result text. */
export const APPROVAL_URL_RE = /https?:\/\/[^\s/]+\/approve\/[A-Za-z0-9_-]{22}/;

/** The approval link of an `approval_required` or `pending` result (throws when the result has none). */
export function approvalUrlOf(r: CallToolResult): string {
  const url = (r.structuredContent as { approval?: { url?: string | null } } | undefined)?.approval?.url;
  if (!url) throw new Error(`no approval link in ${textOf(r)}`);
  return url;
}

/**
 * Calls `name` until it answers something other than `running` (each call attaching to the same job), and
 * returns every answer in order. `timeout` is the client's own patience per call.
 */
export async function callUntilDone(
  call: (args: Record<string, unknown>) => Promise<CallToolResult>,
  args: Record<string, unknown>,
  maxCalls = 200,
): Promise<CallToolResult[]> {
  const answers: CallToolResult[] = [];
  for (let i = 0; i < maxCalls; i++) {
    const r = await call(args);
    answers.push(r);
    if ((r.structuredContent as { status?: string } | undefined)?.status !== 'running') return answers;
  }
  throw new Error(`still running after ${maxCalls} calls`);
}

/**
 * Seeded Outreach users a lock can target: active, unlocked, and the only user with their email
 * (case-insensitively), so a lookup by email finds exactly them.
 */
export function unlockedOutreachUsers(stack: Stack) {
  const users = stack.sandbox.outreach.users();
  const counts = new Map<string, number>();
  for (const u of users) counts.set(u.email.toLowerCase(), (counts.get(u.email.toLowerCase()) ?? 0) + 1);
  return users.filter((u) => !u.locked && u.active !== false && counts.get(u.email.toLowerCase()) === 1);
}

export interface ApprovalPageSession {
  status: number;
  /** The page's CSRF token (hidden form field), when it showed the form. */
  csrf: string | undefined;
  /** `name=value` of the cookie the page set. */
  cookie: string | undefined;
  html: string;
}

/** GETs an approval page the way a browser would and keeps what a browser would keep. */
export async function loadApprovalPage(url: string): Promise<ApprovalPageSession> {
  const r = await httpRequest(url, { method: 'GET', headers: { 'sec-fetch-site': 'none', 'user-agent': 'test-browser/1.0' } });
  const html = await r.body.text();
  const setCookie = r.headers['set-cookie'];
  const cookie = (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.split(';')[0];
  return { status: r.statusCode, csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1], cookie, html };
}

/**
 * POSTs a decision with the headers a browser sends from the page itself (Origin = the page's origin,
 * Sec-Fetch-Site: same-origin); `override` changes any of them to test a refusal.
 */
export async function postApprovalDecision(
  url: string,
  page: ApprovalPageSession,
  decision: 'approve' | 'reject',
  override: { csrf?: string; cookie?: string | null; origin?: string | null; secFetchSite?: string | null; userAgent?: string } = {},
): Promise<{ status: number; html: string }> {
  const origin = new URL(url).origin;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': override.userAgent ?? 'test-browser/1.0' };
  const o = override.origin === undefined ? origin : override.origin;
  if (o !== null) headers.origin = o;
  const site = override.secFetchSite === undefined ? 'same-origin' : override.secFetchSite;
  if (site !== null) headers['sec-fetch-site'] = site;
  const cookie = override.cookie === undefined ? page.cookie : override.cookie;
  if (cookie) headers.cookie = cookie;
  const body = new URLSearchParams({ csrf: override.csrf ?? page.csrf ?? '', decision }).toString();
  const r = await httpRequest(url, { method: 'POST', headers, body });
  return { status: r.statusCode, html: await r.body.text() };
}
