import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { OAuthProtectedResourceMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmacToken, startIssuer, unsignedToken, type TestIssuer } from '../support/issuer.js';
import { freePort, INIT, MCP_HEADERS, rawInitialize, startHttpStack, type HttpStack } from '../support/http-stack.js';
import { filesUnder, findLeaks } from '../support/secrets.js';
import { assertBuilt, cleanEnv, spawnServer, tempStateDir, waitForUrl } from '../support/spawn.js';
import { approvalUrlOf, callUntilDone, structured, textOf } from '../support/stack.js';
import { ordinaryEverywhere } from '../support/people.js';
import { APPROVAL_META_KEY } from '../../src/confirm/in-chat.js';
import { RESOURCE_MIME_TYPE } from '@modelcontextprotocol/ext-apps/app-bridge';

/**
 * Issue 13 item 5, "people, not one token": the HTTP transport accepts access tokens from the organisation's
 * identity provider (a real local issuer here: discovery document and JWKS over HTTP, keys made by jose),
 * serves Protected Resource Metadata (RFC 9728), and names the person in the audit log and on approvals.
 */

const RESOURCE = 'https://access.example.com/mcp';
const PRM_URL = 'https://access.example.com/.well-known/oauth-protected-resource/mcp';
const ALICE = { sub: '00u-alice-7f3a', email: 'alice@example.com', name: 'Alice Example' };
const BOB = { sub: '00u-bob-19c2', email: 'bob@example.com', name: 'Bob Example' };
const now = () => Math.floor(Date.now() / 1000);

function capture() {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
  return { log, lines };
}

async function connect(url: string, token: string | undefined, name = 'oauth-e2e'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { approve: true } }));
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

async function lockOne(client: Client, index: number): Promise<CallToolResult> {
  const page = (await client.callTool({ name: 'outreach_list_users', arguments: { locked: false, page_size: 100 } })) as CallToolResult;
  const users = (page.structuredContent as { users: { id: string }[] }).users;
  return (await client.callTool({ name: 'outreach_lock_user', arguments: { id: users[users.length - 1 - index].id } })) as CallToolResult;
}

function auditLines(stack: HttpStack): Record<string, any>[] {
  return readFileSync(stack.deps.config.auditLogPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

async function get(url: string, headers: Record<string, string> = {}) {
  const r = await request(url, { headers });
  return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
}

describe('sign-in with the identity provider (discovery, RFC 8414 with the issuer path inserted)', () => {
  let issuer: TestIssuer;
  let stack: HttpStack;
  let prmBase: string;
  const logs = capture();
  const tokens: Record<string, string> = {};
  const texts: string[] = [];

  beforeAll(async () => {
    issuer = await startIssuer({ audience: RESOURCE });
    stack = await startHttpStack({ SALES_ACCESS_OAUTH_ISSUER: issuer.issuer, SALES_ACCESS_RESOURCE_URL: RESOURCE }, { log: logs.log });
    prmBase = stack.url.replace(/\/mcp$/, '');
  });
  afterAll(async () => {
    await stack.close();
    await issuer.close();
  });

  it('serves the Protected Resource Metadata at the path-specific and the root well-known URL', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const r = await get(`${prmBase}${path}`);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type']).toBe('application/json');
      const doc = OAuthProtectedResourceMetadataSchema.parse(JSON.parse(r.text));
      expect(doc).toEqual({ resource: RESOURCE, authorization_servers: [issuer.issuer], bearer_methods_supported: ['header'], resource_name: 'sales-access-mcp' });
    }
    expect((await get(`${prmBase}/.well-known/oauth-protected-resource/other`)).status).toBe(404);
  });

  it('answers a request without a token 401 with WWW-Authenticate naming the metadata, and no error code', async () => {
    const r = await rawInitialize(stack.url);
    expect(r.status).toBe(401);
    const again = await request(stack.url, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INIT) });
    await again.body.text();
    expect(again.headers['www-authenticate']).toBe(`Bearer resource_metadata="${PRM_URL}"`);
  });

  it('refuses wrong audience, expiry, wrong issuer, forged signatures, alg none and HS256 with 401 invalid_token', async () => {
    const base = { ...ALICE };
    const cases: [string, string, RegExp][] = [
      ['audience', await issuer.mint({ ...base, aud: 'https://other-service.example.com/mcp' }), /not issued for this server/],
      ['expired', await issuer.mint(base, { expiresIn: now() - 120 }), /expired/],
      ['not yet valid', await issuer.mint({ ...base, nbf: now() + 600 }), /not valid yet/],
      ['issuer', await issuer.mint(base, { iss: 'https://evil.example.com/realms/acme' }), /not issued by the configured identity provider/],
      ['forged signature (published kid)', await issuer.mint(base, { key: issuer.foreignKey }), /signature does not verify/],
      ['forged signature (unknown kid)', await issuer.mint(base, { key: issuer.foreignKey, kid: 'rsa-forged' }), /signature does not verify/],
      ['alg none', unsignedToken({ ...base, iss: issuer.issuer, aud: RESOURCE, exp: now() + 300 }), /not a valid JWT|algorithm/],
      ['HS256', await hmacToken({ ...base, iss: issuer.issuer, aud: RESOURCE, exp: now() + 300 }, 'guessable', 'rsa-1'), /algorithm this server does not accept/],
      ['not a JWT', 'opaque-token-value-0123456789', /not a JWT/],
    ];
    for (const [name, token, why] of cases) {
      tokens[`refused ${name}`] = token;
      const r = await request(stack.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: JSON.stringify(INIT) });
      const text = await r.body.text();
      texts.push(text);
      expect(r.statusCode, name).toBe(401);
      const www = String(r.headers['www-authenticate']);
      expect(www, name).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="/);
      expect(www, name).toContain(`resource_metadata="${PRM_URL}"`);
      expect(JSON.parse(text).error.message, name).toMatch(why);
    }
    expect(stack.http.sessionCount()).toBe(0);
  });

  it('with a valid token the tools work, and the audit lines of a write name the person', async () => {
    const token = await issuer.mint({ ...ALICE, client_id: 'claude-desktop' });
    tokens.alice = token;
    const client = await connect(stack.url, token);
    const r = await lockOne(client, 0);
    texts.push(textOf(r), JSON.stringify(r.structuredContent));
    expect(structured(r)).toMatchObject({ status: 'done', changed: true });
    const writes = auditLines(stack).filter((l) => l.tool === 'outreach_lock_user');
    expect(writes.map((l) => l.type)).toEqual(['intent', 'outcome']);
    for (const l of writes) {
      expect(l.actor).toEqual({ kind: 'person', iss: issuer.issuer, ...ALICE, client_id: 'claude-desktop', client: 'oauth-e2e 1.0.0' });
    }
    await client.close();
    // Discovery happened once, over the RFC 8414 path-inserted URL; the keys were fetched.
    expect(issuer.hits.get('/.well-known/oauth-authorization-server/realms/acme')).toBe(1);
    expect(issuer.hits.get('/realms/acme/keys')).toBeGreaterThanOrEqual(1);
  });

  it('accepts ES256 tokens too, and names a person by subject alone when the token carries no email', async () => {
    const token = await issuer.mint({ sub: 'svc-7781' }, { alg: 'ES256' });
    tokens.es256 = token;
    const client = await connect(stack.url, token, 'es-client');
    const r = await lockOne(client, 1);
    texts.push(textOf(r));
    expect(structured(r)).toMatchObject({ status: 'done', changed: true });
    const last = auditLines(stack).at(-1)!;
    expect(last.actor).toEqual({ kind: 'person', iss: issuer.issuer, sub: 'svc-7781', client: 'es-client 1.0.0' });
    await client.close();
  });

  it('binds a session to the person who opened it: another person\'s token cannot use its id', async () => {
    const alice = await rawInitialize(stack.url, { authorization: `Bearer ${await issuer.mint(ALICE)}` });
    expect(alice.status).toBe(200);
    const bobToken = await issuer.mint(BOB);
    tokens.bob = bobToken;
    const list = (auth: string) =>
      request(stack.url, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${auth}`, 'mcp-session-id': alice.sessionId!, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
      });
    const asBob = await list(bobToken);
    expect(asBob.statusCode).toBe(403);
    expect(await asBob.body.text()).toMatch(/opened by someone else/);
    // A fresh token of the same person (a refresh) keeps the session.
    const asAlice = await list(await issuer.mint(ALICE));
    expect(asAlice.statusCode).toBe(200);
    await asAlice.body.text();
  });

  it('never writes a token into the log, the audit log, the state directory or a result', () => {
    const haystacks = [
      { where: 'log', text: logs.lines.join('') },
      ...filesUnder(stack.deps.config.stateDir, 'state'),
      { where: 'results', text: texts.join('\n') },
    ];
    expect(Object.keys(tokens).length).toBeGreaterThan(5);
    expect(logs.lines.join('')).toMatch(/invalid bearer token/);
    expect(findLeaks(tokens, haystacks)).toEqual([]);
  });
});

describe('both: the static bearer and the identity provider (explicit JWKS URL), approval page naming the person', () => {
  const STATIC = 'static-bearer-for-tests-0123456789abcdef';
  let issuer: TestIssuer;
  let stack: HttpStack;

  beforeAll(async () => {
    issuer = await startIssuer({ audience: RESOURCE, discovery: 'oidc' });
    stack = await startHttpStack({
      SALES_ACCESS_OAUTH_ISSUER: issuer.issuer,
      SALES_ACCESS_OAUTH_JWKS_URL: issuer.jwksUrl,
      SALES_ACCESS_RESOURCE_URL: RESOURCE,
      SALES_ACCESS_HTTP_TOKEN: STATIC,
      SALES_ACCESS_CONFIRM: 'browser',
    });
  });
  afterAll(async () => {
    await stack.close();
    await issuer.close();
  });

  it('the static bearer still works alongside, and a request with neither gets 401 naming both ways in', async () => {
    const client = await connect(stack.url, STATIC, 'static-client');
    const r = (await client.callTool({ name: 'outreach_list_users', arguments: { page_size: 5 } })) as CallToolResult;
    expect(structured(r)).toMatchObject({ status: 'done' });
    await client.close();
    // A wrong token gets 401 with the metadata (OAuth is on), and the message names both ways in.
    const none = await request(stack.url, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INIT) });
    expect(none.statusCode).toBe(401);
    expect(await none.body.text()).toMatch(/SALES_ACCESS_HTTP_TOKEN.*identity provider/);
  });

  it('a signed-in person asking for a destructive change is named on the approval page', async () => {
    const client = await connect(stack.url, await issuer.mint(ALICE), 'page-client');
    const page = (await client.callTool({ name: 'outreach_list_users', arguments: { locked: false, page_size: 5 } })) as CallToolResult;
    const target = (page.structuredContent as { users: { id: string }[] }).users[0];
    const first = (await client.callTool({ name: 'outreach_lock_user', arguments: { id: target.id } })) as CallToolResult;
    expect(structured(first)).toMatchObject({ status: 'approval_required' });
    const html = await get(approvalUrlOf(first));
    expect(html.status).toBe(200);
    expect(html.text).toContain('Alice Example &lt;alice@example.com&gt; (identity provider subject 00u-alice-7f3a), signed in, using page-client 1.0.0 over HTTP');
    await client.close();
    // The keys came from SALES_ACCESS_OAUTH_JWKS_URL: no discovery document was read.
    expect([...issuer.hits.keys()].filter((p) => p.includes('.well-known'))).toEqual([]);
  });
});

describe('required scopes, per-person rate limit, OIDC discovery', () => {
  let issuer: TestIssuer;
  let stack: HttpStack;

  beforeAll(async () => {
    issuer = await startIssuer({ audience: RESOURCE, discovery: 'oidc' });
    stack = await startHttpStack({
      SALES_ACCESS_OAUTH_ISSUER: issuer.issuer,
      SALES_ACCESS_RESOURCE_URL: RESOURCE,
      SALES_ACCESS_OAUTH_SCOPES: 'sales-access',
      SALES_ACCESS_HTTP_RATE_LIMIT_PER_MINUTE: '3',
    });
  });
  afterAll(async () => {
    await stack.close();
    await issuer.close();
  });

  it('keys the request budget by the person, whatever token they present', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await rawInitialize(stack.url, { authorization: `Bearer ${await issuer.mint({ ...ALICE, scope: 'openid sales-access' })}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await rawInitialize(stack.url, { authorization: `Bearer ${await issuer.mint({ ...BOB, scp: ['sales-access'] })}` })).status).toBe(200);
    expect(issuer.hits.get('/realms/acme/.well-known/openid-configuration')).toBe(1);
  });

  it('answers a token without the required scope 403 insufficient_scope, and lists the scope in the metadata', async () => {
    const r = await request(stack.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${await issuer.mint({ sub: 'carol', scope: 'openid' })}` }, body: JSON.stringify(INIT) });
    expect(r.statusCode).toBe(403);
    expect(await r.body.text()).toMatch(/lacks the scope\(s\) sales-access/);
    expect(r.headers['www-authenticate']).toBe(`Bearer error="insufficient_scope", error_description="missing scope sales-access", scope="sales-access", resource_metadata="${PRM_URL}"`);
    const prm = JSON.parse((await get(`${stack.url.replace(/\/mcp$/, '')}/.well-known/oauth-protected-resource/mcp`)).text);
    expect(prm.scopes_supported).toEqual(['sales-access']);
  });
});

describe('identity provider unreachable', () => {
  const STATIC = 'static-bearer-for-tests-fedcba9876543210';
  let stack: HttpStack;
  beforeAll(async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    stack = await startHttpStack({ SALES_ACCESS_OAUTH_ISSUER: 'http://127.0.0.1:9/realms/none', SALES_ACCESS_RESOURCE_URL: RESOURCE, SALES_ACCESS_HTTP_TOKEN: STATIC });
  });
  afterAll(() => stack.close());

  it('answers a JWT 503 (neither accepted nor refused) while the static bearer still works', async () => {
    const jwt = unsignedToken({ sub: 'x' }).replace(/\.$/, '.c2ln');
    const r = await rawInitialize(stack.url, { authorization: `Bearer ${jwt}` });
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/identity provider could not be reached/);
    expect((await rawInitialize(stack.url, { authorization: `Bearer ${STATIC}` })).status).toBe(200);
  });
});

describe('in-chat approval (MCP Apps) by a signed-in person', () => {
  let issuer: TestIssuer;
  let stack: HttpStack;
  beforeAll(async () => {
    issuer = await startIssuer({ audience: RESOURCE });
    stack = await startHttpStack({ SALES_ACCESS_OAUTH_ISSUER: issuer.issuer, SALES_ACCESS_RESOURCE_URL: RESOURCE, SALES_ACCESS_CONFIRM: 'auto' });
  });
  afterAll(async () => {
    await stack.close();
    await issuer.close();
  });

  it('records who decided in the audit lines of the offboarding, beside who asked', { timeout: 120_000 }, async () => {
    const [leaver, colleague] = ordinaryEverywhere() as [string, string];
    // A host that renders views and cannot elicit: the gate asks in the conversation.
    const client = new Client({ name: 'oauth-apps', version: '1.0.0' }, { capabilities: { extensions: { 'io.modelcontextprotocol/ui': { mimeTypes: [RESOURCE_MIME_TYPE] } } } as never });
    await client.connect(new StreamableHTTPClientTransport(new URL(stack.url), { requestInit: { headers: { authorization: `Bearer ${await issuer.mint(ALICE)}` } } }));
    const call = (name: string) => (args: Record<string, unknown>) => client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 }) as Promise<CallToolResult>;
    const plan = structured((await callUntilDone(call('plan_offboarding'), { emails: [leaver], transfer_to: colleague })).at(-1)!);
    const ask = await call('execute_offboarding')({ plan_id: plan.plan_id });
    expect(structured(ask)).toMatchObject({ status: 'approval_required', approval: { method: 'app' } });
    const { id, nonce } = ask._meta?.[APPROVAL_META_KEY] as { id: string; nonce: string };
    const decided = await call('offboarding_decide')({ approval_id: id, nonce, decision: 'approve' });
    expect(structured(decided)).toMatchObject({ decision: 'approved' });
    const done = structured((await callUntilDone(call('execute_offboarding'), { plan_id: plan.plan_id })).at(-1)!);
    expect(done).toMatchObject({ status: 'done', confirmation: 'app' });
    expect(done.approval.approved_by).toMatch(/^alice@example.com, with Approve in the in-chat view of oauth-apps 1.0.0/);
    const lines = auditLines(stack).filter((l) => l.plan_id === plan.plan_id);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) {
      expect(l.actor).toMatchObject({ kind: 'person', sub: ALICE.sub, email: ALICE.email });
      expect(l.confirmation_detail).toEqual({ decided_at: expect.any(String), host: 'oauth-apps 1.0.0', decided_by: ALICE });
    }
    await client.close();
  });
});

describe('the built server (spawned dist bundle, bound beyond loopback with sign-in only)', () => {
  it('discovers the issuer, serves the metadata, accepts a person\'s token and refuses none', { timeout: 60_000 }, async () => {
    assertBuilt();
    const issuer = await startIssuer({ audience: RESOURCE });
    const s = spawnServer(
      ['--sandbox', '--http', '--host', '0.0.0.0', '--port', '0'],
      cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), SALES_ACCESS_OAUTH_ISSUER: issuer.issuer, SALES_ACCESS_RESOURCE_URL: RESOURCE, SALES_ACCESS_ALLOWED_HOSTS: '127.0.0.1' }),
    );
    try {
      const url = (await waitForUrl(s)).replace('0.0.0.0', '127.0.0.1');
      const prm = await get(url.replace(/\/mcp$/, '/.well-known/oauth-protected-resource/mcp'));
      expect(JSON.parse(prm.text)).toMatchObject({ resource: RESOURCE, authorization_servers: [issuer.issuer] });
      expect((await rawInitialize(url)).status).toBe(401);
      const token = await issuer.mint(ALICE);
      const client = await connect(url, token, 'spawned');
      expect((await client.listTools()).tools.length).toBeGreaterThan(5);
      await client.close();
      expect(s.stderr()).toMatch(/identity provider discovered/);
      expect(s.stderr()).not.toContain(token);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
      await issuer.close();
    }
  });
});

describe("an MCP client's own sign-in (the SDK's OAuth flow: 401, metadata, authorization code with PKCE and resource)", () => {
  let issuer: TestIssuer;
  let stack: HttpStack;
  let resource: string;
  beforeAll(async () => {
    issuer = await startIssuer({ audience: 'unused', signIn: ALICE });
    const port = await freePort();
    // The resource URL is the URL the client connects to, as in production behind a proxy with its public name.
    resource = `http://127.0.0.1:${port}/mcp`;
    stack = await startHttpStack({ SALES_ACCESS_OAUTH_ISSUER: issuer.issuer, SALES_ACCESS_RESOURCE_URL: resource, SALES_ACCESS_CONFIRM: 'elicit' }, { port });
  });
  afterAll(async () => {
    await stack.close();
    await issuer.close();
  });

  it('finds the authorization server from the 401, signs the person in, and the audit line names them', { timeout: 60_000 }, async () => {
    let tokens: OAuthTokens | undefined;
    let verifier = '';
    let authorizationUrl: URL | undefined;
    const provider: OAuthClientProvider = {
      redirectUrl: 'http://127.0.0.1:8765/callback',
      clientMetadata: { client_name: 'sdk-oauth', redirect_uris: ['http://127.0.0.1:8765/callback'], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' },
      clientInformation: (): OAuthClientInformationMixed => ({ client_id: 'mcp-desktop' }),
      tokens: () => tokens,
      saveTokens: (t) => {
        tokens = t;
      },
      redirectToAuthorization: (url) => {
        authorizationUrl = url;
      },
      saveCodeVerifier: (v) => {
        verifier = v;
      },
      codeVerifier: () => verifier,
    };
    const client = () => {
      const c = new Client({ name: 'sdk-oauth', version: '2.0.0' }, { capabilities: { elicitation: { form: {} } } });
      c.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { approve: true } }));
      return c;
    };
    const first = new StreamableHTTPClientTransport(new URL(stack.url), { authProvider: provider });
    await expect(client().connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    // The client read the metadata the 401 named, then the issuer's, and asked for a code for this resource.
    expect(authorizationUrl?.origin + authorizationUrl!.pathname).toBe(`${issuer.issuer}/authorize`);
    expect(authorizationUrl!.searchParams.get('resource')).toBe(resource);
    // The "browser": the issuer signs Alice in at once and redirects back with the code.
    const back = await request(authorizationUrl!.href);
    expect(back.statusCode).toBe(302);
    await back.body.text();
    const code = new URL(String(back.headers.location)).searchParams.get('code')!;
    await first.finishAuth(code);
    expect(tokens?.access_token).toBeTruthy();

    const c = client();
    await c.connect(new StreamableHTTPClientTransport(new URL(stack.url), { authProvider: provider }));
    const r = await lockOne(c, 0);
    expect(structured(r)).toMatchObject({ status: 'done', changed: true });
    const last = auditLines(stack).at(-1)!;
    expect(last.actor).toEqual({ kind: 'person', iss: issuer.issuer, ...ALICE, client_id: 'mcp-desktop', client: 'sdk-oauth 2.0.0' });
    await c.close();
    const haystacks = [...filesUnder(stack.deps.config.stateDir, 'state'), { where: 'result', text: JSON.stringify(r) }];
    expect(findLeaks({ access_token: tokens!.access_token }, haystacks)).toEqual([]);
  });
});
