import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanEnv, spawnServer, tempStateDir, waitForUrl, type Spawned } from '../support/spawn.js';

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } };
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('Streamable HTTP server (spawned, --sandbox)', () => {
  let server: Spawned;
  let url: string;

  beforeAll(async () => {
    assertBuilt();
    // elicit: these tests assert that mode's semantics (a client without elicitation is refused at once); the
    // default mode (auto, with the approval page) over HTTP is tested in approval-browser.test.ts.
    server = spawnServer(['--sandbox', '--http', '--port', '0'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), SALES_ACCESS_CONFIRM: 'elicit' }));
    url = await waitForUrl(server);
  });
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('serves tools to the SDK client and locks a user after elicitation, idempotently', async () => {
    const client = new Client({ name: 'e2e-http', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { approve: true } }));
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === 'outreach_lock_user')?.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false, idempotentHint: true, openWorldHint: true });
    const page = (await client.callTool({ name: 'outreach_list_users', arguments: { locked: false, page_size: 100 } })) as CallToolResult;
    const users = (page.structuredContent as { users: { id: string; email: string }[] }).users;
    const target = users[users.length - 1];
    const first = (await client.callTool({ name: 'outreach_lock_user', arguments: { id: target.id } })) as CallToolResult;
    expect(first.structuredContent).toMatchObject({ changed: true });
    const second = (await client.callTool({ name: 'outreach_lock_user', arguments: { id: target.id } })) as CallToolResult;
    expect(second.structuredContent).toMatchObject({ changed: false });
    await client.close();
  });

  it('a client without elicitation cannot lock anyone', async () => {
    const client = new Client({ name: 'no-elicit', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    await client.listTools();
    const page = (await client.callTool({ name: 'outreach_list_users', arguments: { locked: false, page_size: 10 } })) as CallToolResult;
    const target = (page.structuredContent as { users: { id: string }[] }).users[0];
    const r = (await client.callTool({ name: 'outreach_lock_user', arguments: { id: target.id, confirm: target.id } })) as CallToolResult;
    expect(r.isError).toBe(true);
    const after = (await client.callTool({ name: 'outreach_get_user', arguments: { id: target.id } })) as CallToolResult;
    expect(after.structuredContent).toMatchObject({ user: { locked: false } });
    await client.close();
  });

  it('refuses a foreign Origin with 403 and accepts a request without Origin', async () => {
    const foreign = await request(url, { method: 'POST', headers: { ...HEADERS, origin: 'https://evil.example' }, body: JSON.stringify(INIT) });
    expect(foreign.statusCode).toBe(403);
    await foreign.body.text();
    const none = await request(url, { method: 'POST', headers: HEADERS, body: JSON.stringify(INIT) });
    expect(none.statusCode).toBe(200);
    await none.body.text();
  });

  it('refuses a non-loopback Host header (DNS rebinding) with 403', async () => {
    const r = await request(url, { method: 'POST', headers: { ...HEADERS, host: 'attacker.example:3333' }, body: JSON.stringify(INIT) });
    expect(r.statusCode).toBe(403);
    await r.body.text();
  });
});

describe('HTTP binding rules', () => {
  it('--host 0.0.0.0 without SALES_ACCESS_HTTP_TOKEN refuses to start', async () => {
    assertBuilt();
    const s = spawnServer(['--sandbox', '--http', '--host', '0.0.0.0', '--port', '0'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir() }));
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(/SALES_ACCESS_HTTP_TOKEN/);
  });

  it('with a token it requires Authorization: Bearer, and the Host allowlist applies', async () => {
    assertBuilt();
    const token = 'a'.repeat(24) + 'b'.repeat(24);
    const s = spawnServer(['--sandbox', '--http', '--host', '0.0.0.0', '--port', '0'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), SALES_ACCESS_HTTP_TOKEN: token, SALES_ACCESS_ALLOWED_HOSTS: '127.0.0.1' }));
    try {
      const url = (await waitForUrl(s)).replace('0.0.0.0', '127.0.0.1');
      const noToken = await request(url, { method: 'POST', headers: HEADERS, body: JSON.stringify(INIT) });
      expect(noToken.statusCode).toBe(401);
      await noToken.body.text();
      const wrong = await request(url, { method: 'POST', headers: { ...HEADERS, authorization: `Bearer ${token.slice(0, -1)}x` }, body: JSON.stringify(INIT) });
      expect(wrong.statusCode).toBe(401);
      await wrong.body.text();
      const badHost = await request(url, { method: 'POST', headers: { ...HEADERS, authorization: `Bearer ${token}`, host: 'other.example' }, body: JSON.stringify(INIT) });
      expect(badHost.statusCode).toBe(403);
      await badHost.body.text();
      const client = new Client({ name: 'tok', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      expect((await client.listTools()).tools.length).toBeGreaterThan(5);
      // Beyond loopback there is no approval page (a network client could approve its own change), so in the
      // default mode a client without elicitation is refused at once rather than handed a link.
      const page = (await client.callTool({ name: 'outreach_list_users', arguments: { locked: false, page_size: 5 } })) as CallToolResult;
      const target = (page.structuredContent as { users: { id: string }[] }).users[0];
      const lock = (await client.callTool({ name: 'outreach_lock_user', arguments: { id: target.id } })) as CallToolResult;
      expect(lock.isError).toBe(true);
      expect(JSON.stringify(lock.content)).toMatch(/elicitation/);
      expect(JSON.stringify(lock.content)).not.toMatch(/\/approve\//);
      await client.close();
      expect(s.stderr()).not.toContain(token);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });
});
