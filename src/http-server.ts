import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer as createNodeServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Actor } from './audit/audit-log.js';
import { isLoopbackHost } from './env.js';
import { ApprovalBroker, setApprovals } from './confirm/approvals.js';
import type { Deps } from './deps.js';
import { credentialFingerprint } from './http/identity.js';
import { createServer } from './server.js';

/**
 * Streamable HTTP at /mcp with stateful sessions, behind the MCP spec's transport security
 * (https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#security-warning):
 * Origin checked against an allowlist (requests without Origin come from non-browser clients and pass),
 * Host checked against DNS rebinding, and a bearer token when bound beyond loopback.
 *
 * The same server answers `/approve/<id>`, the approval page for destructive writes (confirm/approvals.ts),
 * ahead of those checks: a browser opening the page carries neither the MCP bearer token nor an allowlisted
 * Origin. The page does its own Host check (loopback names or SALES_ACCESS_ALLOWED_HOSTS) and is protected by
 * its 128-bit single-use id, a CSRF token bound to a SameSite=Strict cookie, and Origin / Sec-Fetch-Site.
 * The URL given out is http://127.0.0.1:<port>/approve/… (the bound loopback host, or 127.0.0.1 behind a
 * wildcard bind), so it opens in a browser on the server's machine; a server bound beyond loopback for
 * remote admins sets SALES_ACCESS_APPROVAL_BASE_URL to the origin their browsers use (ideally HTTPS).
 */

const SESSION_IDLE_MS = 30 * 60_000;

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
}

export interface HttpServerHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(deps: Deps): Promise<HttpServerHandle> {
  const { config, log } = deps;
  const sessions = new Map<string, Session>();
  const tokenDigest = config.httpToken === undefined ? undefined : sha256(config.httpToken);
  const actor: Actor | undefined = config.httpToken === undefined ? undefined : { kind: 'http_token', fingerprint: credentialFingerprint(config.httpToken) };
  const boundToLoopback = isLoopbackHost(config.host);

  const refuse = (res: ServerResponse, status: number, message: string, extraHeaders: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...extraHeaders });
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
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
    if (tokenDigest !== undefined) {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!m || !timingSafeEqual(sha256(m[1]), tokenDigest)) {
        return refuse(res, 401, 'Unauthorized: send Authorization: Bearer <SALES_ACCESS_HTTP_TOKEN>.', { 'www-authenticate': 'Bearer' });
      }
    }

    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (existing) {
      existing.lastSeen = Date.now();
      return existing.transport.handleRequest(req, res);
    }
    if (sessionId !== undefined) return refuse(res, 404, 'Session not found or expired: initialize a new session.');
    if (req.method !== 'POST') return refuse(res, 400, 'No session: start with a POST initialize request.');

    const body = await readJson(req);
    if (body === undefined) return refuse(res, 400, 'Body is not valid JSON (at most 1 MB).');
    if (!isInitializeRequest(body)) return refuse(res, 400, 'No session: the first request must be initialize.');

    const server = createServer(deps, { actor });
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, lastSeen: Date.now() });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const http: Server = createNodeServer((req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err }, 'HTTP request failed');
      if (!res.headersSent) refuse(res, 500, 'Internal error; the server log has details.');
      else res.end();
    });
  });

  // Idle sessions are closed so a long-running shared service does not accumulate them.
  const sweep = setInterval(() => {
    const cutoff = Date.now() - SESSION_IDLE_MS;
    for (const [id, s] of sessions) {
      if (s.lastSeen < cutoff) {
        sessions.delete(id);
        void s.transport.close();
      }
    }
  }, 60_000);
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}/mcp`;
  log.info({ url }, 'MCP Streamable HTTP listening');

  // Registered before any session exists, so every session's confirmation gate uses this route.
  const wildcard = config.host === '0.0.0.0' || config.host === '::' || config.host === '[::]';
  const approvalOrigin = config.approval.baseUrl ?? `http://${boundToLoopback ? hostForUrl : wildcard ? '127.0.0.1' : hostForUrl}:${port}`;
  approvals = new ApprovalBroker({ origin: approvalOrigin, allowedHosts: config.allowedHosts, now: () => deps.clock.now(), log });
  setApprovals(deps, approvals);

  return {
    url,
    port,
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((s) => s.transport.close()));
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

async function readJson(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
