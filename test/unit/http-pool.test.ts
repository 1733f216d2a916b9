import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HttpCore } from '../../src/http/core.js';
import { VendorError } from '../../src/errors.js';
import { acquirePool, closeAllPools, DEFAULT_TIMEOUTS, releasePool } from '../../src/http/pool.js';

/** A real loopback server: the pool path cannot be exercised through MockAgent. */
let server: Server;
let origin: string;
const hits: Record<string, number> = {};
const sockets = new Set<string>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '';
    hits[path] = (hits[path] ?? 0) + 1;
    sockets.add(`${req.socket.remotePort}`);
    if (path.startsWith('/slow')) return; // never answers: the headers timeout must fire
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r-1' });
    res.end(JSON.stringify({ path }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await closeAllPools();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function core(timeouts?: { headersMs?: number }) {
  return new HttpCore({
    vendor: 'zoominfo',
    label: 'ZoomInfo',
    baseUrl: origin,
    auth: { kind: 'none', identity: `test:${randomUUID()}`, headers: async () => ({}), onUnauthorized: vi.fn(async () => false) },
    limits: { windows: [{ name: 'minute', intervalMs: 60_000, limit: 1000 }] },
    retry: { baseDelayMs: 1, maxDelayMs: 2, maxRetries: 1 },
    timeouts,
  });
}

describe('origin pools', () => {
  it('shares one pool per origin and closes it with its last user', async () => {
    const a = await acquirePool('http://pool-test.invalid', DEFAULT_TIMEOUTS);
    const b = await acquirePool('http://pool-test.invalid', DEFAULT_TIMEOUTS);
    expect(a).toBe(b);
    await releasePool('http://pool-test.invalid', a);
    expect(a.closed).toBe(false);
    await releasePool('http://pool-test.invalid', b);
    expect(a.closed).toBe(true);
    expect(await acquirePool('http://pool-test.invalid', DEFAULT_TIMEOUTS)).not.toBe(a);
  });

  it('sends requests through a keep-alive pool', async () => {
    const c1 = core();
    const c2 = core();
    sockets.clear();
    for (let i = 0; i < 3; i++) await c1.request({ method: 'GET', path: '/ok', query: { i } });
    await c2.request({ method: 'GET', path: '/ok' });
    const res = await c1.request<{ path: string }>({ method: 'GET', path: '/ok', query: { 'page[size]': 5 } });
    expect(res.body.path).toBe('/ok?page%5Bsize%5D=5');
    expect(res.requestId).toBe('r-1');
    expect(sockets.size).toBe(1); // sequential requests of both clients reused one connection
    await c1.close();
    await c2.close();
  });

  it('retries a GET after a headers timeout, and reports a timed-out POST as ambiguous', async () => {
    const c = core({ headersMs: 50 });
    const get = await c.request({ method: 'GET', path: '/slow-get' }).catch((e: unknown) => e);
    expect(get).toBeInstanceOf(VendorError);
    expect((get as VendorError).code).toBe('network');
    expect((get as VendorError).ambiguous).toBe(false);
    expect((get as VendorError).message).toContain('Timed out talking to ZoomInfo at http://127.0.0.1');
    expect(hits['/slow-get']).toBe(2); // first attempt + maxRetries 1

    const post = await c.request({ method: 'POST', path: '/slow-post', body: {} }).catch((e: unknown) => e);
    expect((post as VendorError).ambiguous).toBe(true);
    expect((post as VendorError).message).toContain('ZoomInfo may have applied it');
    expect(hits['/slow-post']).toBe(1);
    await c.close();
  });
});
