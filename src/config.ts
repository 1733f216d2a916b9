import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { VENDORS, type Vendor } from './domain/account.js';
import { creditBudgetFromEnv } from './credits/ledger.js';
import { zoominfoConfig, type ZoomInfoConfig } from './vendors/zoominfo/config.js';
import { apolloConfig, type ApolloConfig } from './vendors/apollo/config.js';
import { salesloftConfig, type SalesloftConfig } from './vendors/salesloft/config.js';

/**
 * One place that reads flags and environment. Every problem stops start-up with a message naming the
 * flag or variable to fix; a secret's value is never part of a message.
 */

/**
 * How destructive writes are confirmed (SALES_ACCESS_CONFIRM). `auto` (default): MCP elicitation when the
 * client declares it, otherwise the loopback approval page; `browser`: always the approval page; `elicit`:
 * only elicitation (a client without it cannot write); `token`: the `confirm` argument names the target.
 * The two original modes are listed first, so the error message keeps reading "elicit, token, …".
 */
export const CONFIRM_MODES = ['elicit', 'token', 'auto', 'browser'] as const;
export type ConfirmMode = (typeof CONFIRM_MODES)[number];

/** The loopback approval page (modes `auto` and `browser`). */
export interface ApprovalConfig {
  /** How long a tool call waits for a decision on the page (SALES_ACCESS_APPROVAL_TIMEOUT_SECONDS, default 300). */
  timeoutMs: number;
  /** Over stdio: open the page in the desktop's browser (SALES_ACCESS_OPEN_BROWSER=1). */
  openBrowser: boolean;
  /**
   * HTTP mode only: the loopback origin the admin's browser uses (SALES_ACCESS_APPROVAL_BASE_URL), e.g.
   * http://localhost:3333. Default: http://127.0.0.1:<port> (or the loopback host the server is bound to).
   */
  baseUrl: string | undefined;
  /**
   * Whether the approval page may be offered. Only on loopback: a page reachable over the network is
   * reachable by the MCP clients themselves, and a non-browser client can forge Origin and Sec-Fetch-Site,
   * so the link alone would let the agent approve its own change.
   */
  pageAvailable: boolean;
}

/** The approval page's URL is valid for 10 minutes, so a call cannot usefully wait longer. */
export const MAX_APPROVAL_TIMEOUT_SECONDS = 600;

/** `pageAvailable`: false when serving HTTP beyond loopback (see ApprovalConfig.pageAvailable). */
function approvalConfig(env: Env, pageAvailable: boolean): ApprovalConfig {
  const timeout = positiveInt(env, 'SALES_ACCESS_APPROVAL_TIMEOUT_SECONDS', 300);
  if (timeout > MAX_APPROVAL_TIMEOUT_SECONDS) {
    throw new ConfigError(`SALES_ACCESS_APPROVAL_TIMEOUT_SECONDS must be at most ${MAX_APPROVAL_TIMEOUT_SECONDS}: an approval page is valid for 10 minutes.`);
  }
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
    if (!isLoopbackHost(u.hostname)) {
      throw new ConfigError(
        'SALES_ACCESS_APPROVAL_BASE_URL must be a loopback origin such as http://localhost:3333: an approval page reachable over the network could be approved by the MCP client itself. For a shared server use clients with MCP elicitation, or SALES_ACCESS_CONFIRM=token.',
      );
    }
    baseUrl = u.origin;
  }
  return { timeoutMs: timeout * 1000, openBrowser: open === '1' || open === 'true', baseUrl, pageAvailable };
}

export type OutreachAuthConfig =
  | { kind: 'bearer'; accessToken: string }
  | { kind: 'oauth_refresh'; clientId: string; clientSecret: string; refreshToken: string | undefined }
  | { kind: 'oauth_client_credentials'; clientId: string; clientSecret: string };

export interface OutreachConfig {
  baseUrl: string;
  tokenUrl: string;
  authorizeUrl: string;
  redirectUri: string;
  auth: OutreachAuthConfig | undefined;
  /** Requests per hour per OAuth app per org (documented default 10,000). */
  rateLimitPerHour: number;
}

/** A vendor's SCIM 2.0 connection: present only when its token is set. */
export interface ScimConnectionConfig {
  url: string;
  token: string;
}

/** Documented SCIM base URLs; Apollo's and ZoomInfo's are tenant-specific and have no default. */
export const SCIM_DEFAULT_URLS: Partial<Record<Vendor, string>> = {
  outreach: 'https://api.outreach.io/scim/v2',
  salesloft: 'https://api.salesloft.com/scim/v2',
};

function scimConfig(env: Env): Partial<Record<Vendor, ScimConnectionConfig>> {
  const out: Partial<Record<Vendor, ScimConnectionConfig>> = {};
  for (const vendor of VENDORS) {
    const V = vendor.toUpperCase();
    const base = env[`${V}_SCIM_URL`] ? url(env, `${V}_SCIM_URL`) : SCIM_DEFAULT_URLS[vendor];
    const token = secret(env, `${V}_SCIM_TOKEN`);
    if (token === undefined) continue;
    if (base === undefined) {
      throw new ConfigError(`${V}_SCIM_URL is required with ${V}_SCIM_TOKEN: the SCIM base URL is tenant-specific (shown where the SCIM token is generated).`);
    }
    out[vendor] = { url: base, token };
  }
  return out;
}

export interface Config {
  transport: 'stdio' | 'http';
  host: string;
  port: number;
  sandbox: boolean;
  readOnly: boolean;
  /** Allowlist of tool names (validated against the registry at start-up). */
  tools: string[] | undefined;
  vendors: Vendor[];
  stateDir: string;
  auditLogPath: string;
  httpToken: string | undefined;
  allowedOrigins: string[];
  allowedHosts: string[];
  logLevel: string;
  confirm: ConfirmMode;
  approval: ApprovalConfig;
  outreach: OutreachConfig;
  salesloft: SalesloftConfig;
  apollo: ApolloConfig;
  zoominfo: ZoomInfoConfig;
  /** SCIM connections by vendor (<VENDOR>_SCIM_URL / <VENDOR>_SCIM_TOKEN). */
  scim: Partial<Record<Vendor, ScimConnectionConfig>>;
  /** Directory a roster_path must resolve inside (SALES_ACCESS_ROSTER_DIR); undefined: no roster files. */
  rosterDir: string | undefined;
  /** Credits this process may spend per vendor per calendar month (SALES_ACCESS_CREDIT_BUDGET; 0 = none). */
  creditBudget: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

/** An optional URL variable without a default (e.g. a tenant-specific SCIM URL). */
export function optionalUrl(env: Env, name: string): string | undefined {
  return env[name] ? url(env, name) : undefined;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface ParsedArgs {
  command: 'serve' | 'auth';
  authVendor?: string;
  http: boolean;
  host?: string;
  port?: string;
  sandbox: boolean;
  readOnly: boolean;
  tools?: string;
  vendors?: string;
  help: boolean;
}

export function parseCliArgs(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        http: { type: 'boolean', default: false },
        host: { type: 'string' },
        port: { type: 'string' },
        sandbox: { type: 'boolean', default: false },
        'read-only': { type: 'boolean', default: false },
        tools: { type: 'string' },
        vendors: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}. Run \`sales-access-mcp --help\` for the flags.`);
  }
  const [first, second, ...rest] = parsed.positionals;
  if (first !== undefined && first !== 'auth') {
    throw new ConfigError(`Unknown command "${first}". Commands: (none) to serve MCP, "auth <vendor>".`);
  }
  if (first === 'auth' && (second === undefined || rest.length > 0)) {
    throw new ConfigError('Usage: sales-access-mcp auth <vendor>, e.g. `sales-access-mcp auth outreach`.');
  }
  const v = parsed.values;
  return {
    command: first === 'auth' ? 'auth' : 'serve',
    authVendor: second,
    http: v.http ?? false,
    host: v.host,
    port: v.port,
    sandbox: v.sandbox ?? false,
    readOnly: v['read-only'] ?? false,
    tools: v.tools,
    vendors: v.vendors,
    help: v.help ?? false,
  };
}

export function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** A required http(s) URL variable (with a default), without credentials and without a trailing slash. */
export function url(env: Env, name: string, fallback?: string): string {
  const raw = env[name] ?? fallback;
  if (raw === undefined || raw === '') throw new ConfigError(`${name} is required.`);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL; expected e.g. ${fallback ?? 'https://…'}.`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new ConfigError(`${name} must be an http(s) URL.`);
  }
  // Tokens and keys travel to these URLs: plain http only to this machine (a sandbox or a local proxy).
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
    throw new ConfigError(`${name} must use https:// (plain http is accepted only for 127.0.0.1 or localhost), since credentials are sent to it.`);
  }
  if (u.username || u.password) throw new ConfigError(`${name} must not carry credentials in the URL.`);
  return raw.replace(/\/+$/, '');
}

export function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new ConfigError(`${name} must be a positive integer.`);
  return Number(raw);
}

/** A secret must be non-empty and free of whitespace; the message names the variable, never the value. */
export function secret(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (/\s/.test(raw)) throw new ConfigError(`${name} contains whitespace; paste the value without spaces or newlines.`);
  return raw;
}

export function defaultStateDir(env: Env): string {
  const base = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'sales-access-mcp');
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

function outreachConfig(env: Env): OutreachConfig {
  const accessToken = secret(env, 'OUTREACH_ACCESS_TOKEN');
  const clientId = env.OUTREACH_CLIENT_ID || undefined;
  const clientSecret = secret(env, 'OUTREACH_CLIENT_SECRET');
  const refreshToken = secret(env, 'OUTREACH_REFRESH_TOKEN');
  const grant = env.OUTREACH_GRANT_TYPE || undefined;
  if (grant !== undefined && grant !== 'refresh_token' && grant !== 'client_credentials') {
    throw new ConfigError('OUTREACH_GRANT_TYPE must be "refresh_token" (default) or "client_credentials".');
  }
  let auth: OutreachAuthConfig | undefined;
  if (clientId || clientSecret || refreshToken) {
    if (!clientId) throw new ConfigError('OUTREACH_CLIENT_ID is required with OUTREACH_CLIENT_SECRET / OUTREACH_REFRESH_TOKEN.');
    if (!clientSecret) throw new ConfigError('OUTREACH_CLIENT_SECRET is required with OUTREACH_CLIENT_ID.');
    auth =
      grant === 'client_credentials'
        ? { kind: 'oauth_client_credentials', clientId, clientSecret }
        : // Without a refresh token the token store must already hold one from `sales-access-mcp auth outreach`;
          // the auth factory checks that and says so.
          { kind: 'oauth_refresh', clientId, clientSecret, refreshToken };
  } else if (accessToken) {
    auth = { kind: 'bearer', accessToken };
  }
  return {
    baseUrl: url(env, 'OUTREACH_BASE_URL', 'https://api.outreach.io/api/v2'),
    tokenUrl: url(env, 'OUTREACH_TOKEN_URL', 'https://api.outreach.io/oauth/token'),
    authorizeUrl: url(env, 'OUTREACH_AUTHORIZE_URL', 'https://api.outreach.io/oauth/authorize'),
    redirectUri: url(env, 'OUTREACH_REDIRECT_URI', 'http://127.0.0.1:8765/callback'),
    auth,
    rateLimitPerHour: positiveInt(env, 'OUTREACH_RATE_LIMIT_PER_HOUR', 10_000),
  };
}

export function loadConfig(args: ParsedArgs, env: Env = process.env): Config {
  const host = args.host ?? '127.0.0.1';
  const portRaw = args.port ?? '3333';
  if (!/^\d+$/.test(portRaw) || Number(portRaw) > 65535) throw new ConfigError('--port must be a number from 0 to 65535.');

  const vendorNames = args.vendors === undefined ? [...VENDORS] : list(args.vendors);
  for (const v of vendorNames) {
    if (!(VENDORS as readonly string[]).includes(v)) {
      throw new ConfigError(`--vendors: unknown vendor "${v}". Known vendors: ${VENDORS.join(', ')}.`);
    }
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}.`);

  const confirm = (env.SALES_ACCESS_CONFIRM || 'auto') as ConfirmMode;
  if (!CONFIRM_MODES.includes(confirm)) {
    throw new ConfigError(`SALES_ACCESS_CONFIRM must be one of ${CONFIRM_MODES.join(', ')}.`);
  }

  const httpToken = secret(env, 'SALES_ACCESS_HTTP_TOKEN');
  if (httpToken !== undefined && httpToken.length < 32) {
    throw new ConfigError('SALES_ACCESS_HTTP_TOKEN must be at least 32 characters (e.g. `openssl rand -hex 32`).');
  }
  const approval = approvalConfig(env, !(args.http && !isLoopbackHost(host)));
  if (confirm === 'browser' && !approval.pageAvailable) {
    throw new ConfigError(
      `SALES_ACCESS_CONFIRM=browser needs the approval page, which is served on loopback only, and this server binds ${host}: a network client holding the link could approve its own change. Use auto (MCP elicitation) or token.`,
    );
  }
  if (args.http && !isLoopbackHost(host) && httpToken === undefined) {
    throw new ConfigError(
      `Refusing to serve HTTP on non-loopback host ${host} without SALES_ACCESS_HTTP_TOKEN: anyone who can reach the port could change access. Set SALES_ACCESS_HTTP_TOKEN (at least 32 characters) or use --host 127.0.0.1.`,
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
    host,
    port: Number(portRaw),
    sandbox: args.sandbox,
    readOnly: args.readOnly,
    tools: args.tools === undefined ? undefined : list(args.tools),
    vendors: vendorNames as Vendor[],
    stateDir,
    auditLogPath,
    httpToken,
    allowedOrigins: origins,
    allowedHosts: list(env.SALES_ACCESS_ALLOWED_HOSTS).map((h) => h.toLowerCase()),
    logLevel,
    confirm,
    approval,
    outreach: outreachConfig(env),
    salesloft: salesloftConfig(env),
    apollo: apolloConfig(env),
    zoominfo: zoominfoConfig(env),
    scim: scimConfig(env),
    creditBudget: creditBudgetFromEnv(env),
    rosterDir: env.SALES_ACCESS_ROSTER_DIR ? resolve(env.SALES_ACCESS_ROSTER_DIR) : undefined,
  };
}
