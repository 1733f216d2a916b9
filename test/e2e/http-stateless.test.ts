import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INIT, MCP_HEADERS, startHttpStack, type HttpStack } from '../support/http-stack.js';
import { startIssuer, type TestIssuer } from '../support/issuer.js';
import { approvalUrlOf, loadApprovalPage, postApprovalDecision, structured, textOf } from '../support/stack.js';

/**
 * Issue 13 item 4: stateless Streamable HTTP (SALES_ACCESS_HTTP_STATELESS=1, the variable of --stateless).
 * Every request is answered without a session; jobs and approvals belong to the principal, so a second client
 * of the same principal (another connection, as through another replica) finds them. The checks of the
 * stateful transport still apply.
 */

const TOKEN = 'stateless-test-token-0123456789abcdef0123456789';

/** What an MCP Apps host declares (apps/capability.ts). */
const APPS = { extensions: { 'io.modelcontextprotocol/ui': { mimeTypes: ['text/html;profile=mcp-app'] } } };

async function connect(url: string, token?: string, capabilities: Record<string, unknown> = {}): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'stateless-e2e', version: '1.0.0' }, { capabilities });
  const transport = new StreamableHTTPClientTransport(new URL(url), token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : undefined);
  await client.connect(transport);
  return { client, transport };
}

describe('stateless Streamable HTTP, no authentication (loopback)', () => {
  let stack: HttpStack;
  const clients: Client[] = [];

  beforeAll(async () => {
    stack = await startHttpStack({ SALES_ACCESS_HTTP_STATELESS: '1', SALES_ACCESS_CONFIRM: 'auto' });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await stack?.close();
  });

  it('answers initialize, tools/list and tool calls with no session id; says so in its instructions', async () => {
    const raw = await request(stack.url, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INIT) });
    const text = await raw.body.text();
    expect(raw.statusCode, text).toBe(200);
    expect(raw.headers['mcp-session-id']).toBeUndefined();

    // A host that renders MCP Apps views and declares elicitation: neither is used without a session.
    const { client, transport } = await connect(stack.url, undefined, { ...APPS, elicitation: { form: {} } });
    clients.push(client);
    expect(transport.sessionId).toBeUndefined();
    expect(client.getInstructions()).toMatch(/stateless/);
    const { tools } = await client.listTools();
    expect(tools.some((t) => t.name === 'find_user')).toBe(true);
    // The in-chat views' app-only tools are not served: their nonce is kept by one replica.
    expect(tools.some((t) => t.name === 'offboarding_decide' || t._meta?.ui !== undefined)).toBe(false);
    const user = stack.sandbox.outreach.users().find((u) => u.active)!;
    const found = (await client.callTool({ name: 'find_user', arguments: { email: user.email } })) as CallToolResult;
    expect(found.isError, textOf(found)).toBeFalsy();
    expect(textOf(found)).toContain(user.email);
    expect(stack.http.sessionCount()).toBe(0);
  });

  it('answers GET and DELETE on /mcp with 405 and says why', async () => {
    for (const method of ['GET', 'DELETE'] as const) {
      const r = await request(stack.url, { method, headers: { accept: 'text/event-stream' } });
      const body = await r.body.text();
      expect(r.statusCode).toBe(405);
      expect(r.headers.allow).toBe('POST');
      expect(body).toMatch(/stateless.*POST/);
    }
  });

  it('keeps the Origin and Host checks', async () => {
    const foreign = await request(stack.url, { method: 'POST', headers: { ...MCP_HEADERS, origin: 'https://evil.example' }, body: JSON.stringify(INIT) });
    expect(foreign.statusCode).toBe(403);
    await foreign.body.text();
    const host = await request(stack.url, { method: 'POST', headers: { ...MCP_HEADERS, host: 'evil.example' }, body: JSON.stringify(INIT) });
    expect(host.statusCode).toBe(403);
    await host.body.text();
  });

  it('a lock asked by one client is approved on the page and applied once by another client of the same principal', async () => {
    // The first declares elicitation and MCP Apps: without a session the page is the way all the same.
    const [{ client: first }, { client: second }] = await Promise.all([connect(stack.url, undefined, { ...APPS, elicitation: { form: {} } }), connect(stack.url)]);
    clients.push(first, second);
    let elicited = 0;
    first.setRequestHandler(ElicitRequestSchema, async () => {
      elicited += 1;
      return { action: 'decline' };
    });
    const target = stack.sandbox.outreach.users().find((u) => u.active && !u.locked)!;
    const lockWrites = () => stack.sandbox.outreach.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/v2/users/${target.id}`).length;
    const call = (c: Client) => c.callTool({ name: 'outreach_lock_user', arguments: { id: String(target.id) } }) as Promise<CallToolResult>;

    const asked = await call(first);
    expect(structured(asked), textOf(asked)).toMatchObject({ status: 'approval_required', approval: { method: 'browser' } });
    const url = approvalUrlOf(asked);
    // The same change asked again (another connection, same principal) re-uses the request.
    const again = await call(second);
    expect(structured(again)).toMatchObject({ status: 'pending', approval: { id: structured(asked).approval.id } });

    const page = await loadApprovalPage(url);
    expect((await postApprovalDecision(url, page, 'approve')).status).toBe(200);
    expect(lockWrites()).toBe(0);
    const applied = await second.callTool({ name: 'outreach_lock_user', arguments: { id: String(target.id), approval_id: structured(asked).approval.id } }) as CallToolResult;
    expect(structured(applied), textOf(applied)).toMatchObject({ status: 'done', changed: true, approval: { status: 'approved', method: 'browser' } });
    expect(lockWrites()).toBe(1);
    expect(structured(await call(first))).toMatchObject({ changed: false });
    expect(lockWrites()).toBe(1);
    expect(elicited).toBe(0);
  });
});

describe('stateless Streamable HTTP with a bearer token', () => {
  let stack: HttpStack;

  beforeAll(async () => {
    stack = await startHttpStack({
      SALES_ACCESS_HTTP_STATELESS: '1',
      SALES_ACCESS_CONFIRM: 'auto',
      SALES_ACCESS_HTTP_TOKEN: TOKEN,
      SALES_ACCESS_HTTP_MAX_BODY_BYTES: '65536',
      SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE: '40',
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('refuses a request without the token or with another one (401), and serves the SDK client with it', async () => {
    const none = await request(stack.url, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INIT) });
    expect(none.statusCode).toBe(401);
    expect(await none.body.text()).toMatch(/Unauthorized/);
    const wrong = await request(stack.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${TOKEN.replace(/.$/, 'x')}` }, body: JSON.stringify(INIT) });
    expect(wrong.statusCode).toBe(401);
    await wrong.body.text();
    // A GET without the token is refused for the token first: 405 says nothing to an unauthenticated caller.
    const get = await request(stack.url, { method: 'GET' });
    expect(get.statusCode).toBe(401);
    await get.body.text();
    await expect(connect(stack.url)).rejects.toThrow(/401|Unauthorized/);

    const { client } = await connect(stack.url, TOKEN);
    const listed = (await client.callTool({ name: 'list_connections', arguments: {} })) as CallToolResult;
    expect(listed.isError, textOf(listed)).toBeFalsy();
    await client.close();
  });

  it('keeps the body limit (413) and the per-client budget (429 with Retry-After)', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const big = await request(stack.url, { method: 'POST', headers: { ...MCP_HEADERS, ...auth }, body: JSON.stringify({ ...INIT, pad: 'x'.repeat(70_000) }) });
    expect(big.statusCode).toBe(413);
    expect(await big.body.text()).toMatch(/SALES_ACCESS_HTTP_MAX_BODY_BYTES/);
    const statuses: number[] = [];
    for (let i = 0; i < 200 && !statuses.includes(429); i++) {
      const r = await request(stack.url, { method: 'POST', headers: { ...MCP_HEADERS, ...auth }, body: JSON.stringify(INIT) });
      const text = await r.body.text();
      statuses.push(r.statusCode);
      if (r.statusCode === 429) {
        expect(r.headers['retry-after']).toMatch(/^\d+$/);
        expect(text).toMatch(/SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE/);
      }
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 200)).toBe(true);
  });
});

describe('stateless Streamable HTTP with sign-in: each person owns their approval requests', () => {
  const RESOURCE = 'https://access.example.com/mcp';
  let issuer: TestIssuer;
  let stack: HttpStack;

  beforeAll(async () => {
    issuer = await startIssuer({ audience: RESOURCE });
    stack = await startHttpStack({ SALES_ACCESS_HTTP_STATELESS: '1', SALES_ACCESS_CONFIRM: 'auto', SALES_ACCESS_OAUTH_ISSUER: issuer.issuer, SALES_ACCESS_RESOURCE_URL: RESOURCE });
  });
  afterAll(async () => {
    await stack?.close();
    await issuer?.close();
  });

  it('another person cannot use the first one\'s approval request (approval_id), and asking the same change gets their own', async () => {
    const alice = (await connect(stack.url, await issuer.mint({ sub: '00u-alice', email: 'alice@example.com' }))).client;
    const bob = (await connect(stack.url, await issuer.mint({ sub: '00u-bob', email: 'bob@example.com' }))).client;
    const target = stack.sandbox.outreach.users().find((u) => u.active && !u.locked)!;
    const asked = (await alice.callTool({ name: 'outreach_lock_user', arguments: { id: String(target.id) } })) as CallToolResult;
    expect(structured(asked), textOf(asked)).toMatchObject({ status: 'approval_required' });
    const id = structured(asked).approval.id as string;
    const url = approvalUrlOf(asked);
    const page = await loadApprovalPage(url);
    expect(page.html).toContain('alice@example.com');
    expect((await postApprovalDecision(url, page, 'approve')).status).toBe(200);

    const stolen = (await bob.callTool({ name: 'outreach_lock_user', arguments: { id: String(target.id), approval_id: id } })) as CallToolResult;
    expect(textOf(stolen)).toMatch(/is not an approval request of this session/);
    // Bob asking for the same change gets his own request; Alice's approval stays hers.
    const bobs = (await bob.callTool({ name: 'outreach_lock_user', arguments: { id: String(target.id) } })) as CallToolResult;
    expect(structured(bobs)).toMatchObject({ status: 'approval_required' });
    expect(structured(bobs).approval.id).not.toBe(id);
    expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)!.locked).toBe(false);

    const applied = (await alice.callTool({ name: 'outreach_lock_user', arguments: { id: String(target.id) } })) as CallToolResult;
    expect(structured(applied), textOf(applied)).toMatchObject({ status: 'done', changed: true });
    await Promise.all([alice.close(), bob.close()]);
  });
});

describe('stateless Streamable HTTP: requests in progress are capped (SALES_ACCESS_HTTP_MAX_SESSIONS)', () => {
  let stack: HttpStack;

  beforeAll(async () => {
    // A call waits for its vendors at most 3 s, then answers `running`: the held request below ends that way.
    stack = await startHttpStack({ SALES_ACCESS_HTTP_STATELESS: '1', SALES_ACCESS_CONFIRM: 'auto', SALES_ACCESS_HTTP_MAX_SESSIONS: '1', SALES_ACCESS_CALL_DEADLINE_SECONDS: '3' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('while one call is in progress, another request is answered 503 with Retry-After; then served again', async () => {
    const { client } = await connect(stack.url);
    const user = stack.sandbox.outreach.users().find((u) => u.active)!;
    // Outreach holds the lookup and never answers (until the client's headers timeout): the call stays in progress.
    stack.sandbox.outreach.failNext(1, 0, { holdHeaders: true, method: 'GET' });
    const slow = client.callTool({ name: 'find_user', arguments: { email: user.email } }) as Promise<CallToolResult>;
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' });
    let refused: { status: number; retryAfter: unknown; text: string } | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const r = await request(stack.url, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2025-06-18' }, body: ping });
      const text = await r.body.text();
      if (r.statusCode === 503) refused = { status: r.statusCode, retryAfter: r.headers['retry-after'], text };
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(refused, 'no request was refused while the call was in progress').toBeDefined();
    expect(refused!.retryAfter).toBe('1');
    expect(refused!.text).toMatch(/Too many requests in progress \(1, SALES_ACCESS_HTTP_MAX_SESSIONS\)/);
    expect(structured(await slow)).toMatchObject({ status: 'running' });
    const again = await request(stack.url, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2025-06-18' }, body: ping });
    expect(again.statusCode, await again.body.text()).toBe(200);
    await client.close();
  });
});
