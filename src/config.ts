import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { creditBudgetFromEnv } from './credits/ledger.js';
import { ConfigError, defaultStateDir, identifier, isLoopbackHost, list, nonNegativeInt, positiveInt, secret, type Env } from './env.js';
import { encryptionKeyFromEnv, type EncryptionKey } from './shared/envelope.js';
import { redisConfig, type RedisConfig } from './shared/redis-config.js';
import { parseToolsets, TOOLSETS_VARIABLE, type ToolsetSelection } from './toolsets.js';
import { readVendorSection, type VendorSection } from './vendors/connection.js';
import { BUILTIN_ADAPTERS, type Registry } from './vendors/registry.js';

/**
 * One place that reads flags and environment. Every problem stops start-up with a message naming the
 * flag or variable to fix; a secret's value is never part of a message. Each vendor's own variables are
 * read by its adapter (settings) and by vendors/connection.ts (its SCIM connection).
 */

/**
 * How destructive writes are confirmed (SALES_ACCESS_CONFIRM). `auto` (default): MCP elicitation when the
 * client declares it, otherwise the loopback approval page; `browser`: always the approval page; `elicit`:
 * only elicitation (a client without it cannot write); `token`: the `confirm` argument names the target.
 * The two original modes are listed first, so the error message keeps reading "elicit, token, …".
 */
export const CONFIRM_MODES = ['elicit', 'token', 'auto', 'browser'] as const;
export type ConfirmMode = (typeof CONFIRM_MODES)[number];

/** The approval page (modes `auto` and `browser`): on loopback, or beyond it with sign-in. */
export interface ApprovalConfig {
  /** Over stdio: open the page in the desktop's browser (SALES_ACCESS_OPEN_BROWSER=1). */
  openBrowser: boolean;
  /**
   * HTTP mode only: the origin the admin's browser uses (SALES_ACCESS_APPROVAL_BASE_URL), e.g.
   * http://localhost:3333, or with sign-in https://access.example.com. Default: http://127.0.0.1:<port> (or
   * the loopback host the server is bound to).
   */
  baseUrl: string | undefined;
  /**
   * Whether the approval page may be offered: on loopback, or beyond it with sign-in. A page reachable over the
   * network is reachable by the MCP clients themselves, and a non-browser client can forge Origin and
   * Sec-Fetch-Site, so without sign-in the link alone would let the agent approve its own change.
   */
  pageAvailable: boolean;
  /**
   * HTTP only (SALES_ACCESS_APPROVAL_CLIENT_ID, optional SALES_ACCESS_APPROVAL_CLIENT_SECRET): the page signs the
   * person in with the identity provider of SALES_ACCESS_OAUTH_ISSUER and accepts only the person who asked.
   */
  signIn: { clientId: string; clientSecret: string | undefined } | undefined;
}

/**
 * `onLoopback`: stdio, or HTTP bound to a loopback host. Beyond loopback the page is offered only with sign-in,
 * and then at the origin people's browsers use (SALES_ACCESS_APPROVAL_BASE_URL, https).
 */
function approvalConfig(env: Env, http: boolean, onLoopback: boolean, oauth: OAuthResourceConfig | undefined): ApprovalConfig {
  const open = env.SALES_ACCESS_OPEN_BROWSER ?? '';
  if (!['', '0', '1', 'true', 'false'].includes(open)) throw new ConfigError('SALES_ACCESS_OPEN_BROWSER must be 1 (open the approval page in the browser) or 0.');
  let baseUrl: string | undefined;
  if (env.SALES_ACCESS_APPROVAL_BASE_URL) {
    const raw = env.SALES_ACCESS_APPROVAL_BASE_URL.replace(/\/+$/, '');
    let u: URL | undefined;
    try {
      u = new URL(raw);
    } catch {
      u = undefined;
    }
    if (!u || u.origin !== raw || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      throw new ConfigError('SALES_ACCESS_APPROVAL_BASE_URL must be an origin like https://access.example.com (scheme, host, optional port; no path).');
    }
    baseUrl = u.origin;
  }
  const signIn = approvalSignIn(env, http, oauth);
  if (baseUrl !== undefined && !isLoopbackHost(new URL(baseUrl).hostname)) {
    if (!signIn) {
      throw new ConfigError(
        'SALES_ACCESS_APPROVAL_BASE_URL must be a loopback origin such as http://localhost:3333, unless the page signs people in (SALES_ACCESS_APPROVAL_CLIENT_ID): an approval page reachable over the network could otherwise be approved by the MCP client itself. For a shared server use clients with MCP elicitation, sign-in on the page, or SALES_ACCESS_CONFIRM=token.',
      );
    }
    if (!baseUrl.startsWith('https:')) throw new ConfigError('SALES_ACCESS_APPROVAL_BASE_URL must use https:// beyond loopback: people sign in on the approval page.');
  }
  if (signIn && !onLoopback && baseUrl === undefined) {
    throw new ConfigError(
      'SALES_ACCESS_APPROVAL_BASE_URL is required with SALES_ACCESS_APPROVAL_CLIENT_ID on a server bound beyond loopback: the https origin people\'s browsers use, e.g. https://access.example.com. Register <that origin>/approve/callback as the client\'s redirect URI.',
    );
  }
  return { openBrowser: open === '1' || open === 'true', baseUrl, pageAvailable: onLoopback || signIn !== undefined, signIn };
}

/** SALES_ACCESS_APPROVAL_CLIENT_ID (+ _SECRET): the OpenID Connect client of the approval page; ignored over stdio (startup-warnings.ts). */
function approvalSignIn(env: Env, http: boolean, oauth: OAuthResourceConfig | undefined): ApprovalConfig['signIn'] {
  const clientId = identifier(env, 'SALES_ACCESS_APPROVAL_CLIENT_ID');
  const clientSecret = secret(env, 'SALES_ACCESS_APPROVAL_CLIENT_SECRET');
  if (!clientId) {
    if (clientSecret !== undefined) throw new ConfigError('SALES_ACCESS_APPROVAL_CLIENT_SECRET applies only with SALES_ACCESS_APPROVAL_CLIENT_ID (the approval page\'s client at the identity provider).');
    return undefined;
  }
  if (!http) return undefined;
  if (!oauth) {
    throw new ConfigError(
      'SALES_ACCESS_APPROVAL_CLIENT_ID needs SALES_ACCESS_OAUTH_ISSUER: the approval page signs people in with the identity provider that issues the MCP clients\' access tokens, and accepts only the person (the same `sub`) who asked.',
    );
  }
  return { clientId, clientSecret };
}

/** A ceiling well beyond any client's patience (Claude Desktop on Windows waits ~4 minutes): a larger value is a typo. */
const MAX_CALL_DEADLINE_SECONDS = 3600;

function callDeadlineSeconds(env: Env): number {
  const s = positiveInt(env, 'SALES_ACCESS_CALL_DEADLINE_SECONDS', 45);
  if (s > MAX_CALL_DEADLINE_SECONDS) throw new ConfigError(`SALES_ACCESS_CALL_DEADLINE_SECONDS must be at most ${MAX_CALL_DEADLINE_SECONDS}.`);
  return s;
}

/**
 * What bounds the HTTP transport (issue 14): each session holds a server instance, so live sessions are
 * capped; bodies are read with a size limit; each client (its bearer token, or its address without one)
 * gets a request budget.
 */
export interface HttpLimits {
  /** Live MCP sessions at most (SALES_ACCESS_HTTP_MAX_SESSIONS, default 100). */
  maxSessions: number;
  /** A session unused this long is closed (SALES_ACCESS_HTTP_SESSION_IDLE_SECONDS, default 1800). */
  sessionIdleMs: number;
  /** Largest request body accepted (SALES_ACCESS_HTTP_MAX_BODY_BYTES, default 4 MiB, the SDK's own cap). */
  maxBodyBytes: number;
  /** Requests per minute per bearer token, or per remote address without one (SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE, default 600). */
  ratePerMinute: number;
}

function httpLimits(env: Env): HttpLimits {
  return {
    maxSessions: positiveInt(env, 'SALES_ACCESS_HTTP_MAX_SESSIONS', 100),
    sessionIdleMs: positiveInt(env, 'SALES_ACCESS_HTTP_SESSION_IDLE_SECONDS', 1800) * 1000,
    maxBodyBytes: positiveInt(env, 'SALES_ACCESS_HTTP_MAX_BODY_BYTES', 4 * 1024 * 1024),
    ratePerMinute: positiveInt(env, 'SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE', 600),
  };
}

/**
 * Sign-in with the organisation's identity provider (issue 13 item 5): the HTTP transport accepts OAuth 2.1
 * access tokens (JWTs) that this issuer signed for this server's resource URL, and names the person in the
 * audit log. Undefined: only SALES_ACCESS_HTTP_TOKEN (or nothing, on loopback).
 */
export interface OAuthResourceConfig {
  /** SALES_ACCESS_OAUTH_ISSUER: the authorization server's issuer identifier, as its tokens' `iss` says it. */
  issuer: string;
  /** SALES_ACCESS_OAUTH_JWKS_URL: its signing keys; undefined = the `jwks_uri` of its discovery document. */
  jwksUrl: string | undefined;
  /** SALES_ACCESS_RESOURCE_URL: this MCP endpoint's public URL (RFC 8707), the audience every token must name. */
  resourceUrl: string;
  /** SALES_ACCESS_OAUTH_SCOPES: scopes every token must carry (also `scopes_supported` in the metadata). */
  scopes: string[];
}

/** `name` as an http(s) URL kept exactly as written (an issuer is compared as a string), https beyond loopback. */
function exactUrl(env: Env, name: string, example: string): string {
  const raw = env[name]!.trim();
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL; expected e.g. ${example}.`);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
    throw new ConfigError(`${name} must use https:// (plain http only for 127.0.0.1 or localhost), e.g. ${example}.`);
  }
  if (u.username || u.password || u.search || u.hash) throw new ConfigError(`${name} must have no credentials, query or fragment, e.g. ${example}.`);
  return raw;
}

function oauthConfig(env: Env): OAuthResourceConfig | undefined {
  const has = (n: string) => (env[n] ?? '').trim() !== '';
  if (!has('SALES_ACCESS_OAUTH_ISSUER')) {
    for (const n of ['SALES_ACCESS_RESOURCE_URL', 'SALES_ACCESS_OAUTH_JWKS_URL', 'SALES_ACCESS_OAUTH_SCOPES']) {
      if (has(n)) throw new ConfigError(`${n} applies only with SALES_ACCESS_OAUTH_ISSUER (the identity provider whose access tokens this server accepts).`);
    }
    return undefined;
  }
  const issuer = exactUrl(env, 'SALES_ACCESS_OAUTH_ISSUER', 'https://login.example.com/oauth2/default');
  if (!has('SALES_ACCESS_RESOURCE_URL')) {
    throw new ConfigError(
      'SALES_ACCESS_RESOURCE_URL is required with SALES_ACCESS_OAUTH_ISSUER: the public URL of this MCP endpoint, e.g. https://access.example.com/mcp. Tokens must be issued for it (their audience), so a token for another service is refused here.',
    );
  }
  const resourceUrl = exactUrl(env, 'SALES_ACCESS_RESOURCE_URL', 'https://access.example.com/mcp');
  const jwksUrl = has('SALES_ACCESS_OAUTH_JWKS_URL') ? exactUrl(env, 'SALES_ACCESS_OAUTH_JWKS_URL', 'https://login.example.com/oauth2/default/v1/keys') : undefined;
  const scopes = (env.SALES_ACCESS_OAUTH_SCOPES ?? '').split(/[\s,]+/).filter((s) => s.length > 0);
  for (const s of scopes) {
    // RFC 6749 3.3 scope-token: printable ASCII without space, `"` and `\`.
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)) throw new ConfigError(`SALES_ACCESS_OAUTH_SCOPES: "${s}" is not a scope name (printable ASCII, no quote or backslash).`);
  }
  return { issuer, jwksUrl, resourceUrl, scopes };
}

export interface Config {
  transport: 'stdio' | 'http';
  /**
   * HTTP only: `--stateless` or SALES_ACCESS_HTTP_STATELESS=1. No MCP session: every POST is answered on its
   * own (a transport and a server per request), so any replica answers any request; jobs and approvals belong
   * to the authenticated principal instead of a session, and approvals go through the approval page.
   */
  stateless: boolean;
  host: string;
  port: number;
  sandbox: boolean;
  readOnly: boolean;
  /** Tool names (--tools): alone an allowlist, with --toolsets added to them (validated at start-up). */
  tools: string[] | undefined;
  /** --toolsets or SALES_ACCESS_TOOLSETS: which toolsets are served (default: the admin's set). */
  toolsets: ToolsetSelection;
  /** --vendors: the adapters this server uses (default every registered one), in registry order. */
  enabledVendors: string[];
  stateDir: string;
  auditLogPath: string;
  httpToken: string | undefined;
  /** OAuth access tokens from the identity provider (HTTP transport); alongside or instead of httpToken. */
  oauth: OAuthResourceConfig | undefined;
  allowedOrigins: string[];
  allowedHosts: string[];
  /** Limits of the HTTP transport (read whatever the transport, so a typo stops any start-up). */
  httpLimits: HttpLimits;
  logLevel: string;
  logFormat: LogFormat;
  /** SALES_ACCESS_REPLICA_ID: names this server in the audit log's `writer` (default `<hostname>:<pid>`). */
  replicaId: string | undefined;
  /** How long files under the state directory are kept (pruned at start-up); 0 keeps them. */
  retention: { evidenceMs: number; resultsMs: number };
  confirm: ConfirmMode;
  approval: ApprovalConfig;
  /**
   * How long a tool call may take before it answers (SALES_ACCESS_CALL_DEADLINE_SECONDS, default 45): work not
   * done by then goes on as a job and the call returns `running`. Under Claude Desktop's ~60 s cancel.
   */
  callDeadlineMs: number;
  /** Each enabled adapter's settings and SCIM connection, by vendor id, read by the adapter itself. */
  vendors: Record<string, VendorSection>;
  /** Directory a roster_path must resolve inside (SALES_ACCESS_ROSTER_DIR); undefined: no roster files. */
  rosterDir: string | undefined;
  /** Credits this process may spend per vendor per calendar month (SALES_ACCESS_CREDIT_BUDGET; 0 = none). */
  creditBudget: number;
  /** SALES_ACCESS_REDIS_URL / SALES_ACCESS_REDIS_PREFIX: state shared by replicas (today the OAuth tokens). */
  redis: RedisConfig | undefined;
  /** SALES_ACCESS_ENCRYPTION_KEY: seals what is kept in Redis. */
  encryptionKey: EncryptionKey | undefined;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** LOG_FORMAT: `json` (default, for log collectors) or `pretty` (pino-pretty, for a human at a terminal). */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * What the command line asks for. `serve` speaks MCP on stdout (stdio) or HTTP; the other commands are not
 * serving and print their report on stdout.
 */
export type Command = 'serve' | 'auth' | 'doctor' | 'audit-verify';

export interface ParsedArgs {
  command: Command;
  authVendor?: string;
  /** `audit verify`: the files named (default: the configured audit log). */
  files?: string[];
  http: boolean;
  stateless: boolean;
  host?: string;
  port?: string;
  sandbox: boolean;
  readOnly: boolean;
  tools?: string;
  toolsets?: string;
  vendors?: string;
  /** `doctor --json`, `audit verify --json`. */
  json: boolean;
  help: boolean;
  version: boolean;
}

/**
 * The flags, with node:util parseArgs: the flag set is small and flat, and the built-in parser needs no
 * dependency; what a library would add (help text, suggestions) is a few lines here.
 */
const FLAGS = {
  http: { type: 'boolean', default: false },
  stateless: { type: 'boolean', default: false },
  host: { type: 'string' },
  port: { type: 'string' },
  sandbox: { type: 'boolean', default: false },
  'read-only': { type: 'boolean', default: false },
  tools: { type: 'string' },
  toolsets: { type: 'string' },
  vendors: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
} as const;

/** Flags that only shape a serving server (and `doctor`, which checks what that server would use). */
const SERVE_ONLY = ['http', 'stateless', 'host', 'port', 'read-only', 'tools', 'toolsets'] as const;

const COMMANDS_HINT = 'Commands: (none) to serve MCP, "doctor", "auth <vendor>", "audit verify [file…]". Run `sales-access-mcp --help`.';

export function parseCliArgs(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: FLAGS });
  } catch (err) {
    throw new ConfigError(friendlyFlagError(err));
  }
  const v = parsed.values;
  const [first, second, ...rest] = parsed.positionals;
  let command: Command = 'serve';
  if (first === 'auth') {
    if (second === undefined || rest.length > 0) throw new ConfigError('Usage: sales-access-mcp auth <vendor>, e.g. `sales-access-mcp auth outreach`.');
    command = 'auth';
  } else if (first === 'doctor') {
    if (second !== undefined) throw new ConfigError(`doctor takes no arguments (got "${second}"). Usage: sales-access-mcp doctor [--json] [--sandbox].`);
    command = 'doctor';
  } else if (first === 'audit') {
    if (second !== 'verify') throw new ConfigError('Usage: sales-access-mcp audit verify [--json] [file…]');
    command = 'audit-verify';
  } else if (first !== undefined) {
    throw new ConfigError(`Unknown command "${first}". ${COMMANDS_HINT}`);
  }
  // A flag that the command ignores is a mistake worth saying, not silently dropping.
  if (v.json && command !== 'doctor' && command !== 'audit-verify') throw new ConfigError('--json applies to `doctor` and `audit verify` only.');
  if (command === 'auth' || command === 'audit-verify') {
    const misplaced = [...SERVE_ONLY, 'sandbox'].filter((f) => v[f as keyof typeof v] !== undefined && v[f as keyof typeof v] !== false);
    if (misplaced.length > 0) throw new ConfigError(`--${misplaced[0]} does not apply to \`${first}${first === 'audit' ? ' verify' : ''}\`.`);
  }
  if (command === 'doctor') {
    const misplaced = (['http', 'stateless', 'host', 'port'] as const).filter((f) => v[f] !== undefined && v[f] !== false);
    if (misplaced.length > 0) throw new ConfigError(`--${misplaced[0]} does not apply to \`doctor\`, which checks the vendors and exits.`);
  }
  return {
    command,
    authVendor: command === 'auth' ? second : undefined,
    files: command === 'audit-verify' ? rest : undefined,
    http: v.http ?? false,
    stateless: v.stateless ?? false,
    host: v.host,
    port: v.port,
    sandbox: v.sandbox ?? false,
    readOnly: v['read-only'] ?? false,
    tools: v.tools,
    toolsets: v.toolsets,
    vendors: v.vendors,
    json: v.json ?? false,
    help: v.help ?? false,
    version: v.version ?? false,
  };
}

/** parseArgs' messages, said the way a person at a terminal needs them, with the closest known flag. */
function friendlyFlagError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const name = /'(-{1,2}[^' ]+)/.exec(e.message ?? '')?.[1];
  const help = 'Run `sales-access-mcp --help` for the flags.';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && name) {
    const guess = closestFlag(name.replace(/^-+/, ''));
    return `unknown flag ${name}.${guess ? ` Did you mean --${guess}?` : ''} ${help}`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && name) {
    return FLAGS[name.replace(/^-+/, '') as keyof typeof FLAGS]?.type === 'string' ? `${name} needs a value, e.g. ${name}=… ${help}` : `${name} takes no value. ${help}`;
  }
  return `${e.message ?? String(err)} ${help}`;
}

function closestFlag(name: string): string | undefined {
  let best: { flag: string; d: number } | undefined;
  for (const flag of Object.keys(FLAGS)) {
    const d = editDistance(name, flag);
    if (d <= 2 && (!best || d < best.d)) best = { flag, d };
  }
  return best?.flag;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * `--stateless` (needs --http) or SALES_ACCESS_HTTP_STATELESS=1/true; the variable is ignored without --http
 * (startup-warnings.ts says so), so one environment can serve both transports.
 */
function statelessMode(args: ParsedArgs, env: Env): boolean {
  if (args.stateless && !args.http) throw new ConfigError('--stateless applies to the HTTP transport: add --http.');
  const raw = (env.SALES_ACCESS_HTTP_STATELESS ?? '').trim();
  if (!['', '0', '1', 'true', 'false'].includes(raw)) throw new ConfigError('SALES_ACCESS_HTTP_STATELESS must be 1 (stateless Streamable HTTP, as --stateless) or 0.');
  return args.http && (args.stateless || raw === '1' || raw === 'true');
}

export function loadConfig(args: ParsedArgs, env: Env = process.env, registry: Registry = BUILTIN_ADAPTERS): Config {
  const host = args.host ?? '127.0.0.1';
  const portRaw = args.port ?? '3333';
  if (!/^\d+$/.test(portRaw) || Number(portRaw) > 65535) throw new ConfigError('--port must be a number from 0 to 65535.');

  const known = registry.map((a) => a.id);
  const wanted = args.vendors === undefined ? known : list(args.vendors);
  for (const v of wanted) {
    if (!known.includes(v)) throw new ConfigError(`--vendors: unknown vendor "${v}". Known vendors: ${known.join(', ')}.`);
  }
  const enabled = registry.filter((a) => wanted.includes(a.id));
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}.`);
  const logFormat = (env.LOG_FORMAT || 'json') as LogFormat;
  if (!LOG_FORMATS.includes(logFormat)) throw new ConfigError(`LOG_FORMAT must be ${LOG_FORMATS.join(' or ')} (pretty: readable lines for a terminal).`);
  const toolsets = parseToolsets(args.toolsets, env[TOOLSETS_VARIABLE]);
  const replicaId = env.SALES_ACCESS_REPLICA_ID?.trim() || undefined;
  // It is written into every audit line and names the replica in `audit verify`: keep it a plain name.
  if (replicaId !== undefined && !/^[A-Za-z0-9._:-]{1,64}$/.test(replicaId)) {
    throw new ConfigError('SALES_ACCESS_REPLICA_ID must be 1 to 64 letters, digits, ".", "_", ":" or "-", e.g. "eu-west-1a".');
  }

  const confirm = (env.SALES_ACCESS_CONFIRM || 'auto') as ConfirmMode;
  if (!CONFIRM_MODES.includes(confirm)) {
    throw new ConfigError(`SALES_ACCESS_CONFIRM must be one of ${CONFIRM_MODES.join(', ')}.`);
  }

  const httpToken = secret(env, 'SALES_ACCESS_HTTP_TOKEN');
  if (httpToken !== undefined && httpToken.length < 32) {
    throw new ConfigError('SALES_ACCESS_HTTP_TOKEN must be at least 32 characters (e.g. `openssl rand -hex 32`).');
  }
  const oauth = oauthConfig(env);
  const stateless = statelessMode(args, env);
  if (stateless && confirm === 'elicit') {
    throw new ConfigError(
      'SALES_ACCESS_CONFIRM=elicit cannot work with --stateless: MCP elicitation needs a session to carry the question and the answer. Use auto (the approval page) or token.',
    );
  }
  // `doctor` reads the page's sign-in too, to check it (it serves nothing, so on loopback).
  const approval = approvalConfig(env, args.http || args.command === 'doctor', !(args.http && !isLoopbackHost(host)), oauth);
  if (confirm === 'browser' && !approval.pageAvailable) {
    throw new ConfigError(
      `SALES_ACCESS_CONFIRM=browser needs the approval page, which is served on loopback only unless it signs people in (SALES_ACCESS_APPROVAL_CLIENT_ID), and this server binds ${host}: a network client holding the link could approve its own change. Use auto (MCP elicitation), sign-in on the page, or token.`,
    );
  }
  if (args.http && !isLoopbackHost(host) && httpToken === undefined && oauth === undefined) {
    throw new ConfigError(
      `Refusing to serve HTTP on non-loopback host ${host} without SALES_ACCESS_HTTP_TOKEN or SALES_ACCESS_OAUTH_ISSUER: anyone who can reach the port could change access. Set SALES_ACCESS_HTTP_TOKEN (at least 32 characters), sign-in with your identity provider (SALES_ACCESS_OAUTH_ISSUER and SALES_ACCESS_RESOURCE_URL), or use --host 127.0.0.1.`,
    );
  }

  const stateDirRaw = env.SALES_ACCESS_STATE_DIR || join(defaultStateDir(env), args.sandbox ? 'sandbox' : '');
  const stateDir = resolve(stateDirRaw);
  const auditLogPath = resolve(env.SALES_ACCESS_AUDIT_LOG || join(stateDir, 'audit.log'));

  const origins = list(env.SALES_ACCESS_ALLOWED_ORIGINS);
  for (const o of origins) {
    try {
      if (new URL(o).origin !== o) throw new Error();
    } catch {
      throw new ConfigError(`SALES_ACCESS_ALLOWED_ORIGINS: "${o}" is not an origin like https://admin.example.com (scheme, host, optional port; no path).`);
    }
  }

  return {
    transport: args.http ? 'http' : 'stdio',
    stateless,
    host,
    port: Number(portRaw),
    sandbox: args.sandbox,
    readOnly: args.readOnly,
    tools: args.tools === undefined ? undefined : list(args.tools),
    toolsets,
    enabledVendors: enabled.map((a) => a.id),
    stateDir,
    auditLogPath,
    httpToken,
    oauth,
    allowedOrigins: origins,
    allowedHosts: list(env.SALES_ACCESS_ALLOWED_HOSTS).map((h) => h.toLowerCase()),
    httpLimits: httpLimits(env),
    logLevel,
    logFormat,
    replicaId,
    retention: {
      evidenceMs: nonNegativeInt(env, 'SALES_ACCESS_EVIDENCE_RETENTION_DAYS', 90) * 86_400_000,
      resultsMs: nonNegativeInt(env, 'SALES_ACCESS_RESULT_RETENTION_HOURS', 24) * 3_600_000,
    },
    confirm,
    approval,
    callDeadlineMs: callDeadlineSeconds(env) * 1000,
    vendors: Object.fromEntries(enabled.map((a) => [a.id, readVendorSection(a, env)])),
    creditBudget: creditBudgetFromEnv(env),
    redis: redisConfig(env),
    encryptionKey: encryptionKeyFromEnv(env),
    rosterDir: env.SALES_ACCESS_ROSTER_DIR ? resolve(env.SALES_ACCESS_ROSTER_DIR) : undefined,
  };
}
