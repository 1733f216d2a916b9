import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the proxy forwarded: to which upstream, and what it carried. */
export interface ProxyHit {
  upstream: number;
  method: string;
  /** The request's path and query. */
  path: string;
  /** The JSON-RPC method of a POST body (or its first message's), when there is one. */
  rpc: string | undefined;
  /** The tool name of a tools/call. */
  tool: string | undefined;
  sessionHeader: boolean;
}

export interface RoundRobinProxy {
  url: string;
  hits: ProxyHit[];
  close(): Promise<void>;
}

/**
 * A load balancer without affinity, for tests and benches: each HTTP request goes to the next upstream in turn
 * (a few lines of node:http rather than a proxy library: nothing else in the project needs one). Bodies are
 * buffered to record what they carry; responses (SSE included) are streamed back as they come.
 */
export async function startRoundRobinProxy(upstreams: string[], opts: { port?: number } = {}): Promise<RoundRobinProxy> {
  const targets = upstreams.map((u) => new URL(u));
  const hits: ProxyHit[] = [];
  let next = 0;
  const server: Server = createServer(async (req, res) => {
    const upstream = next++ % targets.length;
    const target = targets[upstream]!;
    const body = await readAll(req);
    const message = parse(body);
    hits.push({
      upstream,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      rpc: message?.method,
      tool: message?.method === 'tools/call' ? message.params?.name : undefined,
      sessionHeader: req.headers['mcp-session-id'] !== undefined,
    });
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.on('close', () => out.destroy());
    out.end(body);
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${targets[0]!.pathname}`,
    hits,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function parse(body: Buffer): { method?: string; params?: { name?: string } } | undefined {
  if (body.length === 0) return undefined;
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return (Array.isArray(v) ? v[0] : v) as { method?: string; params?: { name?: string } };
  } catch {
    return undefined;
  }
}
