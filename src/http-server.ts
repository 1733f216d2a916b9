import { randomUUID } from 'node:crypto';
import { createServer as createNodeServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { isLoopbackHost } from './env.js';
import { ApprovalBroker, approvalStoreFor, setApprovals } from './confirm/approvals.js';
import { CALLBACK_PATH, PageSignIn } from './confirm/page-signin.js';
import type { Deps } from './deps.js';
import { HttpAuthenticator, type AuthOutcome, protectedResourceMetadata, protectedResourceMetadataUrl, wwwAuthenticate } from './http-auth.js';
import { createServer, LOCAL_PRINCIPAL } from './server.js';

/**
 * Streamable HTTP at /mcp, with stateful sessions or (--stateless) none, behind the MCP spec's transport security
 * (https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#security-warning):
 * Origin checked against an allowlist (requests without Origin come from non-browser clients and pass),
 * Host checked against DNS rebinding, and a bearer token when bound beyond loopback: the static
 * SALES_ACCESS_HTTP_TOKEN, or the identity provider's access tokens (http-auth.ts), or either.
 *
 * With OAuth on, `/.well-known/oauth-protected-resource` (and the same + the resource URL's path, RFC 9728 §3.1)
 * serves the Protected Resource Metadata, and a 401 names it in WWW-Authenticate, so an MCP client can find the
 * authorization server and sign the person in. A session is bound to whoever opened it (the person, or the
 * static token): another credential cannot use its id.
 *
 * Stateless (--stateless): every POST is answered by its own transport and server, so any replica behind a load
 * balancer answers any request; GET and DELETE answer 405. Jobs and approvals belong to the principal instead
 * of a session (server.ts LOCAL_PRINCIPAL without authentication), and destructive writes are approved on the
 * approval page (no elicitation, no in-chat view: see confirm/gate.ts). The same checks and limits apply.
 *
 * The same server answers `/approve/<id>`, the approval page for destructive writes (confirm/approvals.ts),
 * ahead of those checks: a browser opening the page carries neither the MCP bearer token nor an allowlisted
 * Origin. The page does its own Host check (loopback names, SALES_ACCESS_ALLOWED_HOSTS, its own origin's host)
 * and is protected by its 128-bit single-use id, a CSRF token bound to a cookie, and Origin / Sec-Fetch-Site.
 * The URL given out is http://127.0.0.1:<port>/approve/… (the bound loopback host, or 127.0.0.1 behind a
 * wildcard bind), so it opens in a browser on the server's machine. Beyond loopback the page is offered only
 * when it signs people in with the identity provider (SALES_ACCESS_APPROVAL_CLIENT_ID, `/approve/callback`,
 * confirm/page-signin.ts), at SALES_ACCESS_APPROVAL_BASE_URL, the https origin their browsers use.
 */

/**
 * At the session cap, a new initialize may evict the least recently used session idle at least this long
 * (and with no request in flight); a session used within the last minute is never evicted for a newcomer.
 */
export const EVICTABLE_AFTER_MS = 60_000;

/** RFC 9728's well-known path; the resource URL's own path is appended for the path-specific form. */
const PRM_PATH = '/.well-known/oauth-protected-resource';

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
  /** POSTs in flight (tool calls waiting on a vendor or an approval). A standing GET stream is not work. */
  busy: number;
  /** Who opened it (`person:…` or `token:…`; undefined without authentication): only they may use it. */
  principal: string | undefined;
}

export interface HttpServerHandle {
  url: string;
  port: number;
  /** Live MCP sessions now (for tests and diagnostics). */
  sessionCount(): number;
  close(): Promise<void>;
}

export async function startHttpServer(deps: Deps): Promise<HttpServerHandle> {
  const { config, log } = deps;
  const limits = config.httpLimits;
  const now = () => deps.clock.now();
  const sessions = new Map<string, Session>();
  /** Initializes in progress: they hold a slot before their session id exists. */
  let opening = 0;
  /** Stateless mode: requests being answered (each holds a server). */
  let inFlight = 0;
  const budget = new ClientBudget(limits.ratePerMinute, now);
  const auth = new HttpAuthenticator({ httpToken: config.httpToken, oauth: config.oauth }, log, now);
  const oauth = config.oauth;
  const boundToLoopback = isLoopbackHost(config.host);
  const prmPath = oauth ? new URL(protectedResourceMetadataUrl(oauth.resourceUrl)).pathname : undefined;

  const refuse = (res: ServerResponse, status: number, message: string, extraHeaders: Record<string, string> = {}, code = -32000) => {
    res.writeHead(status, { 'content-type': 'application/json', ...extraHeaders });
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
  };

  const hostAllowed = (hostHeader: string | undefined): boolean => {
    if (!hostHeader) return false;
    const host = hostHeader.toLowerCase();
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
    if (boundToLoopback) return isLoopbackHost(name);
    return config.allowedHosts.includes(host) || config.allowedHosts.includes(name);
  };

  let approvals: ApprovalBroker | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (approvals && path.startsWith('/approve/')) return approvals.handle(req, res);
    // Public metadata, readable by any client (and by browser-based ones, hence CORS): no credential, no Host check.
    if (oauth && (path === PRM_PATH || path === prmPath)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Only GET is answered here.', { allow: 'GET' });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300', 'access-control-allow-origin': '*' });
      return res.end(req.method === 'HEAD' ? undefined : JSON.stringify(protectedResourceMetadata(oauth)));
    }
    if (path !== '/mcp') return refuse(res, 404, 'Not found: the MCP endpoint is /mcp.');

    const origin = req.headers.origin;
    if (origin !== undefined && !config.allowedOrigins.includes(origin)) {
      log.warn({ origin }, 'refused request from a foreign origin');
      return refuse(res, 403, 'Forbidden: this Origin is not in SALES_ACCESS_ALLOWED_ORIGINS.');
    }
    if (!hostAllowed(req.headers.host)) {
      log.warn({ host: req.headers.host }, 'refused request with an unexpected Host header');
      return refuse(res, 403, boundToLoopback ? 'Forbidden: Host must be a loopback name.' : 'Forbidden: Host is not in SALES_ACCESS_ALLOWED_HOSTS.');
    }
    const who = await auth.authenticate(req);
    const authorized = who.kind === 'ok' || who.kind === 'open';
    // The budget is per client: the person (their issuer and subject) or the static token's fingerprint once
    // verified, else the remote address, so guessing tokens cannot mint fresh budgets. Refused requests count too.
    const client = who.kind === 'ok' ? who.label : `addr:${req.socket.remoteAddress ?? 'unknown'}`;
    const wait = budget.take(client);
    if (wait > 0) {
      log.warn({ client: who.kind === 'ok' ? client : 'address' }, 'HTTP request over the per-client rate limit');
      return refuse(res, 429, `Too many requests: at most ${limits.ratePerMinute} per minute per client (SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE). Retry after ${Math.ceil(wait / 1000)} s.`, {
        'retry-after': String(Math.ceil(wait / 1000)),
      });
    }
    if (!authorized) {
      if (who.kind === 'unavailable') {
        log.warn({ reason: who.reason }, 'OAuth: a token could not be checked');
        return refuse(res, 503, 'The identity provider could not be reached to check the access token; retry shortly (the server log says why).', { 'retry-after': '30' });
      }
      if (who.kind === 'insufficient_scope') {
        return refuse(res, 403, `Forbidden: the access token lacks the scope(s) ${who.missing.join(', ')} (SALES_ACCESS_OAUTH_SCOPES).`, {
          'www-authenticate': wwwAuthenticate(oauth, { code: 'insufficient_scope', description: `missing scope ${who.missing.join(' ')}` }),
        });
      }
      if (who.kind === 'invalid') {
        log.info({ reason: who.reason }, 'HTTP request refused: invalid bearer token');
        return refuse(res, 401, `Unauthorized: ${who.reason}.${oauth ? ' Sign in again with the identity provider.' : ''}`, {
          'www-authenticate': oauth ? wwwAuthenticate(oauth, { code: 'invalid_token', description: who.reason }) : 'Bearer',
        });
      }
      const how = [config.httpToken !== undefined ? 'Authorization: Bearer <SALES_ACCESS_HTTP_TOKEN>' : '', oauth ? "an access token from the identity provider (see the resource_metadata in WWW-Authenticate)" : '']
        .filter(Boolean)
        .join(', or ');
      return refuse(res, 401, `Unauthorized: send ${how}.`, { 'www-authenticate': wwwAuthenticate(oauth) });
    }
    const principal = who.kind === 'ok' ? who.principal : undefined;
    // What the transport hands to tool handlers as extra.authInfo (the person; never the token).
    if (who.kind === 'ok' && who.authInfo) (req as IncomingMessage & { auth?: AuthInfo }).auth = who.authInfo;

    if (config.stateless && req.method !== 'POST') {
      return refuse(res, 405, 'Method not allowed: this server runs stateless Streamable HTTP (--stateless), with no session to stream from or to end; send each JSON-RPC message as a POST to /mcp.', {
        allow: 'POST',
      });
    }

    // Bodies are read here, with the limit, and handed to the transport parsed (it then reads nothing).
    let body: unknown;
    if (req.method === 'POST') {
      const read = await readJson(req, limits.maxBodyBytes);
      if (read.kind === 'too_large') {
        return refuse(res, 413, `Request body over ${limits.maxBodyBytes} bytes (SALES_ACCESS_HTTP_MAX_BODY_BYTES).`);
      }
      if (read.kind === 'invalid') return refuse(res, 400, 'Body is not valid JSON.', {}, -32700);
      body = read.value;
    }

    if (config.stateless) return stateless(req, res, body, who.kind === 'ok' ? who : undefined);

    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (existing && existing.principal !== principal) {
      log.warn({ client }, 'HTTP request refused: a session used with another credential than the one that opened it');
      return refuse(res, 403, 'Forbidden: this session was opened by someone else; initialize a new session.');
    }
    if (existing) {
      existing.lastSeen = now();
      if (req.method === 'POST') {
        existing.busy += 1;
        res.once('close', () => {
          existing.busy -= 1;
          existing.lastSeen = now();
        });
      }
      return existing.transport.handleRequest(req, res, body);
    }
    if (sessionId !== undefined) return refuse(res, 404, 'Session not found or expired: initialize a new session.');
    if (req.method !== 'POST') return refuse(res, 400, 'No session: start with a POST initialize request.');
    if (!isInitializeRequest(body)) return refuse(res, 400, 'No session: the first request must be initialize.');

    const full = makeRoom();
    if (full !== undefined) {
      log.warn({ sessions: sessions.size, max: limits.maxSessions }, 'HTTP session cap reached; initialize refused');
      return refuse(res, 503, `Too many live sessions (${limits.maxSessions}, SALES_ACCESS_HTTP_MAX_SESSIONS) and none idle: retry after ${full} s.`, {
        'retry-after': String(full),
      });
    }

    opening += 1;
    // The static token's actor; a signed-in person is named per call from extra.authInfo (tool-runtime).
    const server = createServer(deps, { actor: who.kind === 'ok' && who.actor.kind === 'http_token' ? who.actor : undefined });
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, lastSeen: now(), busy: 0, principal });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    } finally {
      opening -= 1;
      // An initialize the transport refused never became a session: release its server now.
      if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) void server.close().catch(() => {});
    }
  };

  /**
   * Stateless mode, the SDK's pattern: a transport and a server per request, closed when the response is done;
   * the SDK refuses to reuse either (a server connects to one transport at a time, and a stateless transport
   * serves one request). Requests in progress are capped like sessions (SALES_ACCESS_HTTP_MAX_SESSIONS), since
   * each holds a server. Calls belong to the principal: the person or token, or LOCAL_PRINCIPAL on loopback
   * without authentication.
   */
  const stateless = async (req: IncomingMessage, res: ServerResponse, body: unknown, who: Extract<AuthOutcome, { kind: 'ok' }> | undefined) => {
    if (inFlight >= limits.maxSessions) {
      log.warn({ in_flight: inFlight, max: limits.maxSessions }, 'stateless HTTP: requests in progress at the cap; request refused');
      return refuse(res, 503, `Too many requests in progress (${limits.maxSessions}, SALES_ACCESS_HTTP_MAX_SESSIONS): retry after 1 s.`, { 'retry-after': '1' });
    }
    inFlight += 1;
    const server = createServer(deps, { actor: who?.actor.kind === 'http_token' ? who.actor : undefined, owner: who?.principal ?? LOCAL_PRINCIPAL });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight -= 1;
      void transport.close().catch(() => {});
      void server.close().catch(() => {});
    };
    res.once('close', release);
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    } catch (err) {
      release();
      throw err;
    }
  };

  /** Closes sessions idle past the timeout. */
  const sweepIdle = () => {
    const cutoff = now() - limits.sessionIdleMs;
    for (const [id, s] of sessions) {
      if (s.busy === 0 && s.lastSeen < cutoff) {
        sessions.delete(id);
        void s.transport.close();
      }
    }
  };

  /**
   * Makes room for one more session: sweeps, then at the cap evicts the least recently used session that is
   * evictable (no request in flight, idle EVICTABLE_AFTER_MS). Returns undefined when there is room, else the
   * seconds until a session could be evicted (the Retry-After).
   */
  const makeRoom = (): number | undefined => {
    sweepIdle();
    if (sessions.size + opening < limits.maxSessions) return undefined;
    const t = now();
    let victim: [string, Session] | undefined;
    let soonest = Infinity;
    for (const entry of sessions) {
      const s = entry[1];
      if (s.busy > 0) continue;
      if (t - s.lastSeen >= EVICTABLE_AFTER_MS) {
        if (!victim || s.lastSeen < victim[1].lastSeen) victim = entry;
      } else {
        soonest = Math.min(soonest, s.lastSeen + EVICTABLE_AFTER_MS - t);
      }
    }
    if (victim) {
      sessions.delete(victim[0]);
      log.info({ idle_ms: t - victim[1].lastSeen }, 'HTTP session cap reached; evicted the least recently used idle session');
      void victim[1].transport.close();
      return undefined;
    }
    return Math.max(1, Math.ceil((Number.isFinite(soonest) ? soonest : EVICTABLE_AFTER_MS) / 1000));
  };

  const http: Server = createNodeServer((req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err }, 'HTTP request failed');
      if (!res.headersSent) refuse(res, 500, 'Internal error; the server log has details.');
      else res.end();
    });
  });

  // Idle sessions are closed so a long-running shared service does not accumulate them; spent client
  // budgets are forgotten, so the budget table stays as small as the set of recent clients.
  const sweep = setInterval(() => {
    sweepIdle();
    budget.prune();
  }, 60_000);
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}/mcp`;
  log.info({ url, mode: config.stateless ? 'stateless' : 'sessions' }, 'MCP Streamable HTTP listening');
  // The identity provider's discovery document is read now, so the first signed-in request does not wait for it.
  auth.warmUp();

  // Registered before any session exists, so every session's confirmation gate uses this route.
  const wildcard = config.host === '0.0.0.0' || config.host === '::' || config.host === '[::]';
  const approvalOrigin = config.approval.baseUrl ?? `http://${boundToLoopback ? hostForUrl : wildcard ? '127.0.0.1' : hostForUrl}:${port}`;
  const signIn = config.approval.signIn && oauth ? new PageSignIn({ issuer: oauth.issuer, ...config.approval.signIn, redirectUri: `${approvalOrigin}${CALLBACK_PATH}` }, log, now) : undefined;
  approvals = new ApprovalBroker({
    origin: approvalOrigin,
    // The page answers to the host of its own origin (SALES_ACCESS_APPROVAL_BASE_URL) as well.
    allowedHosts: [...config.allowedHosts, new URL(approvalOrigin).host.toLowerCase()],
    now,
    log,
    store: approvalStoreFor(deps),
    signIn,
  });
  setApprovals(deps, approvals);

  return {
    url,
    port,
    sessionCount: () => sessions.size,
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((s) => s.transport.close()));
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

type ReadBody = { kind: 'ok'; value: unknown } | { kind: 'too_large' } | { kind: 'invalid' };

/**
 * Reads a JSON body of at most `limit` bytes; a larger one (declared or actual) is not buffered. The rest of
 * an oversized body is read and dropped rather than the socket destroyed, so the client gets the 413.
 */
function readJson(req: IncomingMessage, limit: number): Promise<ReadBody> {
  const declared = Number(req.headers['content-length']);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.once('error', reject);
    req.once('end', () => {
      if (tooLarge) return resolve({ kind: 'too_large' });
      try {
        resolve({ kind: 'ok', value: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch {
        resolve({ kind: 'invalid' });
      }
    });
  });
}

/**
 * A token bucket per client: `perMinute` requests, refilled continuously, bursting up to a minute's worth.
 * `take` answers 0 when the request may go ahead, else the milliseconds until it could.
 */
export class ClientBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Past this many clients, the ones with a full bucket (idle a minute or more) are forgotten first. */
  private static readonly MAX_CLIENTS = 10_000;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number,
  ) {}

  take(client: string): number {
    const t = this.now();
    const rate = this.perMinute / 60_000;
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= ClientBudget.MAX_CLIENTS) this.prune();
      b = { tokens: this.perMinute, at: t };
      this.buckets.set(client, b);
    }
    b.tokens = Math.min(this.perMinute, b.tokens + (t - b.at) * rate);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / rate);
  }

  /** Forgets clients whose bucket has refilled: they are indistinguishable from new ones. */
  prune(): void {
    const t = this.now();
    const rate = this.perMinute / 60_000;
    for (const [k, b] of this.buckets) if (b.tokens + (t - b.at) * rate >= this.perMinute) this.buckets.delete(k);
    // Still too many (a flood of distinct addresses): drop the oldest entries rather than grow.
    for (const k of this.buckets.keys()) {
      if (this.buckets.size < ClientBudget.MAX_CLIENTS) break;
      this.buckets.delete(k);
    }
  }

  size(): number {
    return this.buckets.size;
  }
}
