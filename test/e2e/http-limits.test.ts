import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type CallToolResult, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVICTABLE_AFTER_MS } from '../../src/http-server.js';
import { INIT, MCP_HEADERS, rawInitialize, startHttpStack, type HttpStack } from '../support/http-stack.js';
import { assertBuilt, cleanEnv, spawnServer, tempStateDir, waitForUrl, type Spawned } from '../support/spawn.js';
import { waitFor } from '../support/timing.js';

/**
 * Issue 14 item 1: the HTTP transport is bounded. Sessions are capped (the least recently used idle one is
 * evicted, else 503 with Retry-After), bodies have a size limit, and each client has a request budget.
 * Memory is asserted through the session count, never RSS.
 */

async function toolsListStatus(url: string, sessionId: string): Promise<number> {
  const r = await request(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
  });
  await r.body.text();
  return r.statusCode;
}

describe('session cap (in-process server, its clock moved by the test)', () => {
  let stack: HttpStack;
  const MAX = 3;
  beforeAll(async () => {
    stack = await startHttpStack({ SALES_ACCESS_HTTP_MAX_SESSIONS: String(MAX), SALES_ACCESS_HTTP_SESSION_IDLE_SECONDS: '600' });
  });
  afterAll(() => stack.close());

  it('evicts the least recently used idle session, never a busy one, and answers 503 with Retry-After when none is idle', async () => {
    // A real SDK client whose tool call stays in flight: the server waits for its answer to an elicitation.
    let answer!: (r: ElicitResult) => void;
    const answered = new Promise<ElicitResult>((r) => (answer = r));
    let asked = false;
    const busy = new Client({ name: 'busy', version: '1' }, { capabilities: { elicitation: { form: {} } } });
    busy.setRequestHandler(ElicitRequestSchema, async () => {
      asked = true;
      return answered;
    });
    await busy.connect(new StreamableHTTPClientTransport(new URL(stack.url)));
    const page = (await busy.callTool({ name: 'outreach_list_users', arguments: { locked: false, page_size: 5 } })) as CallToolResult;
    const target = (page.structuredContent as { users: { id: string }[] }).users[0];
    const call = busy.callTool({ name: 'outreach_lock_user', arguments: { id: target.id } }, undefined, { timeout: 60_000 });
    await waitFor(() => (asked ? true : undefined), 'the elicitation of the busy client', 10_000);

    const first = await rawInitialize(stack.url);
    const second = await rawInitialize(stack.url);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(stack.http.sessionCount()).toBe(MAX);

    // Every session was used within the last minute: nothing may be evicted.
    const refused = await rawInitialize(stack.url);
    expect(refused.status).toBe(503);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(refused.text).toMatch(/SALES_ACCESS_HTTP_MAX_SESSIONS/);
    expect(stack.http.sessionCount()).toBe(MAX);

    // A minute later the oldest idle session (first) makes room; the busy client's is kept.
    stack.clock.advance(EVICTABLE_AFTER_MS + 1_000);
    const third = await rawInitialize(stack.url);
    expect(third.status).toBe(200);
    expect(stack.http.sessionCount()).toBe(MAX);
    expect(await toolsListStatus(stack.url, first.sessionId!)).toBe(404);
    expect(await toolsListStatus(stack.url, second.sessionId!)).toBe(200);

    // Many more initializes, each a minute apart: the count never passes the cap, and the busy one survives.
    for (let i = 0; i < 12; i++) {
      stack.clock.advance(EVICTABLE_AFTER_MS + 1_000);
      expect((await rawInitialize(stack.url)).status).toBe(200);
      expect(stack.http.sessionCount()).toBeLessThanOrEqual(MAX);
    }
    answer({ action: 'decline' });
    const r = (await call) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r.content)).toMatch(/declin|not approved|refused/i);
    await busy.close();
  });

  it('closes sessions idle past SALES_ACCESS_HTTP_SESSION_IDLE_SECONDS', async () => {
    stack.clock.advance(601_000);
    const fresh = await rawInitialize(stack.url);
    expect(fresh.status).toBe(200);
    expect(stack.http.sessionCount()).toBe(1);
  });
});

/** The built server over HTTP on the sandbox with `env`, for the describe block it is called in. */
function spawnedHttp(env: Record<string, string>): { server: () => Spawned; url: () => string } {
  let server: Spawned;
  let url: string;
  beforeAll(async () => {
    assertBuilt();
    server = spawnServer(['--sandbox', '--http', '--port', '0'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), ...env }));
    url = await waitForUrl(server);
  });
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
  });
  return { server: () => server, url: () => url };
}

describe('HTTP limits (spawned server)', () => {
  const spawned = spawnedHttp({ SALES_ACCESS_CONFIRM: 'elicit', SALES_ACCESS_HTTP_MAX_SESSIONS: '2', SALES_ACCESS_HTTP_MAX_BODY_BYTES: '65536' });
  let url: string;
  beforeAll(() => {
    url = spawned.url();
  });

  it('two SDK clients fill the cap; a third initialize gets 503 with Retry-After; a closed session frees its slot', async () => {
    const clients = [new Client({ name: 'a', version: '1' }), new Client({ name: 'b', version: '1' })];
    const transports = clients.map(() => new StreamableHTTPClientTransport(new URL(url)));
    for (let i = 0; i < 2; i++) {
      await clients[i].connect(transports[i]);
      expect((await clients[i].listTools()).tools.length).toBeGreaterThan(5);
    }
    const third = await rawInitialize(url);
    expect(third.status).toBe(503);
    expect(Number(third.retryAfter)).toBeGreaterThanOrEqual(1);
    // The SDK client ends its session with DELETE: the slot is free at once.
    await transports[0].terminateSession();
    await clients[0].close();
    expect((await rawInitialize(url)).status).toBe(200);
    await clients[1].close();
  });

  it('refuses a body over SALES_ACCESS_HTTP_MAX_BODY_BYTES with 413 and reads bad JSON as a parse error', async () => {
    const big = { ...INIT, params: { ...INIT.params, clientInfo: { name: 'x'.repeat(70_000), version: '0' } } };
    const r = await request(url, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(big) });
    expect(r.statusCode).toBe(413);
    expect(await r.body.text()).toMatch(/SALES_ACCESS_HTTP_MAX_BODY_BYTES/);
    const chunked = await request(url, {
      method: 'POST',
      headers: MCP_HEADERS,
      // No Content-Length: the limit applies to what is actually read.
      body: Readable.from(
        (function* () {
          for (let i = 0; i < 20; i++) yield Buffer.alloc(8192, 0x20);
        })(),
      ),
    });
    expect(chunked.statusCode).toBe(413);
    await chunked.body.text();
    const bad = await request(url, { method: 'POST', headers: MCP_HEADERS, body: '{"jsonrpc":' });
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(await bad.body.text())).toMatchObject({ error: { code: -32700 } });
    expect(spawned.server().stderr()).not.toMatch(/"level":50/);
  });
});

describe('per-client rate limit (spawned server with a token)', () => {
  const token = 'r'.repeat(20) + 's'.repeat(20);
  const spawned = spawnedHttp({ SALES_ACCESS_HTTP_TOKEN: token, SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE: '6' });
  let url: string;
  beforeAll(() => {
    url = spawned.url();
  });

  it('keys the budget by token fingerprint, and by address for requests without the right token', async () => {
    const auth = { authorization: `Bearer ${token}` };
    for (let i = 0; i < 6; i++) expect((await rawInitialize(url, auth)).status).toBe(200);
    const limited = await rawInitialize(url, auth);
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(limited.text).toMatch(/SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE/);
    // Without the token the address has its own budget: refused for the token, not for the rate.
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await rawInitialize(url, i % 2 ? { authorization: `Bearer ${'x'.repeat(40)}` } : {})).status);
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    // Guessing tokens does not mint fresh budgets: the seventh wrong guess is over the address's budget.
    expect(statuses[6]).toBe(429);
    expect(spawned.server().stderr()).not.toContain(token);
  });
});
