import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { assertBuilt, cleanEnv, MAIN, spawnServer, tempStateDir } from '../support/spawn.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;

describe('command line', () => {
  it('--version prints the package version on stdout', async () => {
    assertBuilt();
    for (const flag of ['--version', '-v']) {
      const s = spawnServer([flag], cleanEnv({}));
      expect(await s.exited).toBe(0);
      expect(s.stdout()).toBe(`${PACKAGE_VERSION}\n`);
    }
  });

  it('--help prints the commands, flags and toolsets on stdout', async () => {
    assertBuilt();
    const s = spawnServer(['--help'], cleanEnv({}));
    expect(await s.exited).toBe(0);
    expect(s.stdout()).toMatch(/sales-access-mcp doctor \[--json\]/);
    expect(s.stdout()).toMatch(/audit verify \[--json\] \[file…\]/);
    expect(s.stdout()).toMatch(/--toolsets a,b/);
    expect(s.stdout()).toMatch(/^  prospecting +Apollo\.io and ZoomInfo search/m);
    expect(s.stderr()).toBe('');
  });

  it('an unknown flag is named, with the closest known one, before anything starts', async () => {
    assertBuilt();
    const s = spawnServer(['--sandbox', '--toolset', 'all'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir() }));
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toBe('sales-access-mcp: unknown flag --toolset. Did you mean --toolsets? Run `sales-access-mcp --help` for the flags.\n');
    expect(s.stdout()).toBe('');
  });

  it('an unknown toolset stops start-up listing the known ones; no simulator is started', async () => {
    assertBuilt();
    const s = spawnServer(['--sandbox', '--toolsets', 'default,crm'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), LOG_LEVEL: 'debug' }));
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(/--toolsets: unknown toolset "crm". Known toolsets: workflows, outreach, salesloft, apollo, zoominfo, scim, prospecting, all, default/);
    expect(s.stderr()).not.toMatch(/sandbox simulators started/);
  });

  it('a flag the command does not take is refused', async () => {
    assertBuilt();
    const s = spawnServer(['doctor', '--http'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir() }));
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(/--http does not apply to `doctor`/);
  });

  it('start-up warns about a variable set but empty, an incomplete vendor, and no vendor at all, naming the variables', async () => {
    assertBuilt();
    const s = spawnServer([], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), OUTREACH_CLIENT_ID: '', APOLLO_SCIM_URL: 'https://app.apollo.example/scim/v2', SALESLOFT_BASE_URL: 'https://api.salesloft.com/v2' }));
    // Serving over stdio: closing stdin stops it.
    await new Promise((r) => setTimeout(r, 500));
    s.child.stdin!.end();
    expect(await s.exited).toBe(0);
    const err = s.stderr();
    expect(err).toMatch(/OUTREACH_CLIENT_ID is set but empty, so it is ignored/);
    expect(err).toMatch(/APOLLO_SCIM_URL is set but APOLLO_SCIM_TOKEN is not: Apollo.io SCIM is not configured/);
    expect(err).toMatch(/SALESLOFT_BASE_URL is set, but SalesLoft has no credential: set one of SALESLOFT_API_KEY, SALESLOFT_CLIENT_ID, SALESLOFT_CLIENT_SECRET/);
    expect(err).toMatch(/No vendor is configured/);
    expect(s.stdout()).toBe('');
  });

  it('LOG_FORMAT=pretty writes readable lines to stderr, not JSON', async () => {
    assertBuilt();
    const s = spawnServer([], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), LOG_FORMAT: 'pretty' }));
    await new Promise((r) => setTimeout(r, 500));
    s.child.stdin!.end();
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toMatch(/WARN.*No vendor is configured/);
    expect(s.stderr()).not.toMatch(/^\{"level"/m);
  });
});

describe('sales-access-mcp audit verify', () => {
  it('0 for an intact chain (the configured log by default), 1 for a broken one, 2 for an unreadable file; --json', async () => {
    assertBuilt();
    const stateDir = tempStateDir();
    const log = new AuditLog(join(stateDir, 'audit.log'), { writer: 'replica-a' });
    const id = await log.intent({ tool: 'outreach_lock_user', vendor: 'outreach', target: { id: '1', email: 'jane@acme.example' }, args: { id: '1' }, allow: ['id'], actor: { kind: 'mcp_client', name: 'test', version: '1' }, confirmation: 'elicit', before: { locked: false } });
    await log.outcome(id, { result: 'ok', after: { locked: true } });
    await log.close();

    const ok = spawnServer(['audit', 'verify'], cleanEnv({ SALES_ACCESS_STATE_DIR: stateDir }));
    expect(await ok.exited).toBe(0);
    expect(ok.stdout()).toMatch(/^OK .*audit\.log: 2 lines, 1 writer, chain intact/m);

    const broken = join(stateDir, 'broken.log');
    const lines = readFileSync(join(stateDir, 'audit.log'), 'utf8').trim().split('\n');
    writeFileSync(broken, [lines[0]!.replace('jane@', 'john@'), lines[1]].join('\n') + '\n');
    const bad = spawnServer(['audit', 'verify', '--json', broken], cleanEnv({ SALES_ACCESS_STATE_DIR: stateDir }));
    expect(await bad.exited).toBe(1);
    expect(JSON.parse(bad.stdout())).toMatchObject({ ok: false, files: [{ status: 'broken', first_break: { line: 2, reason: 'prev_hash_mismatch' } }] });
    expect(bad.stdout()).not.toContain('john@');

    const missing = spawnServer(['audit', 'verify', join(stateDir, 'nope.log')], cleanEnv({ SALES_ACCESS_STATE_DIR: stateDir }));
    expect(await missing.exited).toBe(2);
    expect(missing.stdout()).toMatch(/UNREADABLE .*nope\.log: no such file/);
  });

  it('replicas on two hosts, each with its own log: one verify checks both chains and names a break in either', async () => {
    assertBuilt();
    const write = async (dir: string, writer: string, email: string) => {
      const log = new AuditLog(join(dir, 'audit.log'), { writer });
      for (const id of ['1', '2']) {
        const op = await log.intent({ tool: 'outreach_lock_user', vendor: 'outreach', target: { id, email }, args: { id }, allow: ['id'], actor: { kind: 'mcp_client', name: 'test', version: '1' }, confirmation: 'elicit', before: { locked: false } });
        await log.outcome(op, { result: 'ok', after: { locked: true } });
      }
      await log.close();
      return join(dir, 'audit.log');
    };
    const a = await write(tempStateDir(), 'host-a', 'ann@acme.example');
    const b = await write(tempStateDir(), 'host-b', 'bob@acme.example');
    const env = cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir() });

    const both = spawnServer(['audit', 'verify', '--json', a, b], env);
    expect(await both.exited).toBe(0);
    expect(JSON.parse(both.stdout())).toMatchObject({ ok: true, files: [{ file: a, status: 'ok', lines: 4, writers: 1 }, { file: b, status: 'ok', lines: 4, writers: 1 }] });

    // An edited line in replica B's log: B is reported broken at the line after it, A still intact.
    const lines = readFileSync(b, 'utf8').trim().split('\n');
    lines[1] = lines[1]!.replace('bob@', 'eve@');
    writeFileSync(b, lines.join('\n') + '\n');
    const edited = spawnServer(['audit', 'verify', a, b], env);
    expect(await edited.exited).toBe(1);
    expect(edited.stdout()).toMatch(/^OK .*audit\.log: 4 lines, 1 writer, chain intact/m);
    expect(edited.stdout()).toMatch(/BROKEN .*line 3/);
  });

  it('SALES_ACCESS_REPLICA_ID names the writer of the lines a server appends', async () => {
    assertBuilt();
    const stateDir = tempStateDir();
    const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, '--sandbox'], env: cleanEnv({ SALES_ACCESS_STATE_DIR: stateDir, SALES_ACCESS_REPLICA_ID: 'eu-west-1a', SALES_ACCESS_CONFIRM: 'token' }), stderr: 'pipe' });
    const client = new Client({ name: 'e2e-cli', version: '1.0.0' });
    await client.connect(transport);
    try {
      const page = (await client.callTool({ name: 'outreach_list_users', arguments: { locked: false, page_size: 50 } })) as CallToolResult;
      const users = (page.structuredContent as { users: { id: string; email: string }[] }).users;
      const target = users.find((u) => users.filter((v) => v.email.toLowerCase() === u.email.toLowerCase()).length === 1)!;
      const r = (await client.callTool({ name: 'outreach_lock_user', arguments: { id: target.id, confirm: target.id } })) as CallToolResult;
      expect(r.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    const writers = readFileSync(join(stateDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { writer: string }).writer);
    expect(new Set(writers)).toEqual(new Set(['eu-west-1a']));
  });
});

describe('--sandbox roster and evidence over stdio', () => {
  it('access_review with roster_path "roster.csv" reads the sandbox roster, and the evidence comes with its local paths', async () => {
    assertBuilt();
    const stateDir = tempStateDir();
    const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, '--sandbox'], env: cleanEnv({ SALES_ACCESS_STATE_DIR: stateDir }), stderr: 'pipe' });
    const client = new Client({ name: 'e2e-cli', version: '1.0.0' });
    await client.connect(transport);
    try {
      const r = (await client.callTool({ name: 'access_review', arguments: { roster_path: 'roster.csv', vendors: ['outreach'] } }, undefined, { timeout: 60_000 })) as CallToolResult;
      expect(r.isError).toBeFalsy();
      const out = r.structuredContent as { roster: { provided: boolean; entries: number }; evidence: { files?: { csv: string; html: string } } };
      expect(out.roster).toMatchObject({ provided: true });
      expect(out.roster.entries).toBeGreaterThan(100);
      expect(out.evidence.files?.csv).toBe(join(stateDir, 'evidence', `${out.evidence.files!.csv.split('/').pop()}`));
      expect(readFileSync(out.evidence.files!.html, 'utf8')).toMatch(/<html/);
    } finally {
      await client.close();
    }
  });
});
