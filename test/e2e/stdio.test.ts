import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanEnv, MAIN, spawnServer, tempStateDir } from '../support/spawn.js';

describe('stdio server (spawned, --sandbox)', () => {
  const stateDir = tempStateDir();
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = '';

  beforeAll(async () => {
    assertBuilt();
    transport = new StdioClientTransport({
      command: process.execPath,
      args: [MAIN, '--sandbox'],
      env: cleanEnv({ SALES_ACCESS_STATE_DIR: stateDir }),
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d) => (stderr += d));
    client = new Client({ name: 'e2e-stdio', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { approve: true } }));
    await client.connect(transport);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('lists the default set (workflows and user-lifecycle tools) with annotations and output schemas', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const n of ['list_connections', 'access_review', 'plan_offboarding', 'execute_offboarding', 'outreach_list_users', 'outreach_get_user', 'outreach_create_user', 'outreach_update_user', 'outreach_lock_user', 'salesloft_deactivate_user', 'apollo_list_users', 'scim_deprovision_user']) {
      expect(names).toContain(n);
    }
    // Outside the default set: reachable with --toolsets (see test/tools/toolsets.test.ts).
    for (const n of ['outreach_list_roles', 'outreach_unlock_user', 'apollo_enrich_person', 'zoominfo_search_contacts', 'scim_delete_user']) expect(names).not.toContain(n);
    for (const t of tools) {
      expect(Object.keys(t.annotations ?? {})).toEqual(expect.arrayContaining(['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint']));
      expect(t.outputSchema).toBeDefined();
    }
  });

  it('locks a sandbox user, reports changed: false the second time, shows it locked, and audits each write', async () => {
    const page = (await client.callTool({ name: 'outreach_list_users', arguments: { locked: false, page_size: 50 } })) as CallToolResult;
    const users = (page.structuredContent as { users: { id: string; email: string }[] }).users;
    const target = users.find((u) => users.filter((v) => v.email.toLowerCase() === u.email.toLowerCase()).length === 1)!;

    const first = (await client.callTool({ name: 'outreach_lock_user', arguments: { id: target.id } })) as CallToolResult;
    expect(first.isError).toBeFalsy();
    expect(first.structuredContent).toMatchObject({ changed: true, after: { locked: true } });
    const second = (await client.callTool({ name: 'outreach_lock_user', arguments: { id: target.id } })) as CallToolResult;
    expect(second.structuredContent).toMatchObject({ changed: false });
    const got = (await client.callTool({ name: 'outreach_get_user', arguments: { id: target.id } })) as CallToolResult;
    expect(got.structuredContent).toMatchObject({ user: { locked: true, status: 'locked' } });

    const lines = readFileSync(join(stateDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'outcome')).toHaveLength(1);
    expect(lines.find((l) => l.type === 'outcome')).toMatchObject({ result: 'ok', tool: 'outreach_lock_user' });
  });

  it('logs only to stderr', () => {
    expect(stderr).toContain('"msg":"starting"');
  });
});

describe('stdio stdout hygiene', () => {
  it('every byte on stdout is JSON-RPC, through start-up, calls and shutdown', async () => {
    assertBuilt();
    const s = spawnServer(['--sandbox'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), LOG_LEVEL: 'debug' }));
    const send = (msg: object) => s.child.stdin!.write(JSON.stringify(msg) + '\n');
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'outreach_list_users', arguments: { page_size: 5 } } });
    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'outreach_get_user', arguments: { id: 'nope' } } });
    const deadline = Date.now() + 15_000;
    while (!(s.stdout().includes('"id":2') && s.stdout().includes('"id":3')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    s.child.stdin!.end();
    await s.exited;
    const lines = s.stdout().split('\n').filter((l) => l.length > 0);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) expect(JSON.parse(l)).toHaveProperty('jsonrpc', '2.0');
    expect(s.stderr()).toContain('"level":20');
  });

  it('an unknown --tools name stops start-up with the known names', async () => {
    assertBuilt();
    const s = spawnServer(['--sandbox', '--tools', 'outreach_lock_usr'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir() }));
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(/unknown tool "outreach_lock_usr". Known tools: .*outreach_lock_user/);
    expect(s.stdout()).toBe('');
  });

  it('a malformed variable names itself and never prints a secret', async () => {
    assertBuilt();
    const secret = 'sk_live_DO_NOT_PRINT_1234567890';
    const s = spawnServer([], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), OUTREACH_CLIENT_SECRET: secret }));
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(/OUTREACH_CLIENT_ID is required/);
    expect(s.stderr() + s.stdout()).not.toContain(secret);
    const bad = spawnServer([], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), OUTREACH_BASE_URL: 'not a url' }));
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/OUTREACH_BASE_URL is not a valid URL/);
  });
});
