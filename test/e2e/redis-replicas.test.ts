import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTokenStore, type OpenedTokenStore } from '../../src/auth/open-token-store.js';
import { startOutreachSimulator, type OutreachSim } from '../../src/sandbox/outreach/index.js';
import { encryptionKey } from '../../src/shared/envelope.js';
import { redisConfig } from '../../src/shared/redis-config.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { freePort } from '../support/http-stack.js';
import { findLeaks } from '../support/secrets.js';
import { assertBuilt, cleanEnv, MAIN, spawnServer, tempStateDir } from '../support/spawn.js';

/**
 * Issue 13 item 2: two built servers (separate processes, separate state directories) share Outreach's OAuth
 * tokens through Redis, against ONE Outreach simulator started here, outside both. The stored access token
 * is already expired at the simulator, so concurrent calls on both replicas meet 401s at the same time.
 */


/** A replica's environment: Outreach through OAuth on the one simulator, its own state directory, and `redis`. */
function replicaEnv(sim: OutreachSim, redis: Record<string, string>): Record<string, string> {
  return cleanEnv({
    OUTREACH_BASE_URL: sim.baseUrl,
    OUTREACH_TOKEN_URL: sim.tokenUrl,
    OUTREACH_CLIENT_ID: sim.clientId,
    OUTREACH_CLIENT_SECRET: sim.clientSecret,
    SALES_ACCESS_STATE_DIR: tempStateDir(),
    ...redis,
  });
}

describe('Redis unreachable at start (spawned server)', () => {
  it('exits with a start-up error naming SALES_ACCESS_REDIS_URL, without the password', async () => {
    assertBuilt();
    const port = await freePort();
    const s = spawnServer(['--vendors', 'outreach'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), SALES_ACCESS_REDIS_URL: `redis://:hunter2-e2e-pw@127.0.0.1:${port}/0` }));
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(new RegExp(`SALES_ACCESS_REDIS_URL: Redis at 127\\.0\\.0\\.1:${port}/0 is unreachable at start-up \\(.*ECONNREFUSED`));
    expect(s.stderr()).not.toContain('hunter2-e2e-pw');
  });
});

const skip = await redisUnavailable();

describe.skipIf(skip)('two replicas share the OAuth refresh token through Redis', () => {
  const prefix = testPrefix();
  const keyText = randomBytes(32).toString('base64');
  const key = encryptionKey(Buffer.from(keyText, 'base64'));
  let sim: OutreachSim;
  let admin: OpenedTokenStore;
  const clients: Client[] = [];
  const stderr = new Map<Client, string>();
  let firstRefresh = '';
  let stale = '';

  const env = (extra: Record<string, string> = {}) =>
    replicaEnv(sim, { SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix, SALES_ACCESS_ENCRYPTION_KEY: keyText, LOG_LEVEL: 'debug', ...extra });

  async function replica(): Promise<Client> {
    const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, '--vendors', 'outreach'], env: env(), stderr: 'pipe' });
    const client = new Client({ name: 'redis-replica-e2e', version: '1.0.0' });
    stderr.set(client, '');
    transport.stderr?.on('data', (d) => stderr.set(client, stderr.get(client) + String(d)));
    await client.connect(transport);
    clients.push(client);
    return client;
  }
  const listUsers = (c: Client) => c.callTool({ name: 'outreach_list_users', arguments: { page_size: 5 } }, undefined, { timeout: 60_000 }) as Promise<CallToolResult>;
  const refreshGrants = () => sim.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/oauth/token') && r.status === 200).length;

  beforeAll(async () => {
    assertBuilt();
    // Each token request takes 300 ms, so the second replica's 401 arrives while the first one refreshes.
    sim = await startOutreachSimulator({ latencyMs: 300 });
    admin = await openTokenStore({ stateDir: tempStateDir(), redis: redisConfig({ SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix }), encryptionKey: key });
    firstRefresh = sim.issueRefreshToken();
    stale = sim.issueAccessToken(1); // expired at the simulator; the record still says it is good for an hour
    await admin.tokens.write('outreach', { refresh_token: firstRefresh, access_token: stale, access_expires_at: new Date(Date.now() + 3_600_000).toISOString() }, sim.clientId);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await admin?.close();
    await sim?.close();
    await deletePrefix(prefix);
  });

  it('concurrent 401s on both replicas: the refresh token rotates exactly once, both calls succeed; a restarted replica uses the stored token', async () => {
    const [a, b] = await Promise.all([replica(), replica()]);
    const before = refreshGrants();
    const [ra, rb] = await Promise.all([listUsers(a), listUsers(b)]);
    expect(ra.isError, JSON.stringify(ra)).toBeFalsy();
    expect(rb.isError, JSON.stringify(rb)).toBeFalsy();
    expect(refreshGrants() - before).toBe(1);
    // Both met the expired token (two 401s at the simulator) and one of them waited for the other's refresh.
    expect(sim.requests.filter((r) => r.path.startsWith('/api/v2/users') && r.status === 401)).toHaveLength(2);
    const waits = [...stderr.values()].flatMap((t) => [...t.matchAll(/"waited_ms":(\d+)/g)].map((m) => Number(m[1])));
    console.log(`refresh coordination: ${waits.length} replica(s) waited for the other's refresh, ${waits.join(', ')} ms`);

    const stored = await admin.tokens.read('outreach', sim.clientId);
    expect(stored?.refresh_token).toBeDefined();
    expect(stored?.refresh_token).not.toBe(firstRefresh);

    // Restart replica A: it starts from Redis (its state directory is new and empty) and needs no refresh.
    await a.close();
    const a2 = await replica();
    const r2 = await listUsers(a2);
    expect(r2.isError, JSON.stringify(r2)).toBeFalsy();
    expect(refreshGrants() - before).toBe(1);

    // Nothing secret in clear, URL-encoded or base64 in any key or value under the prefix.
    const dump = await dumpPrefix(prefix);
    expect(dump.length).toBeGreaterThan(0);
    const secrets = { firstRefresh, stale, refresh: stored!.refresh_token!, access: stored!.access_token!, clientSecret: sim.clientSecret, key: keyText };
    expect(findLeaks(secrets, dump.map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` })))).toEqual([]);
  });

  it('a replica with another SALES_ACCESS_ENCRYPTION_KEY stops at start-up with a clear error', async () => {
    const s = spawnServer(['--vendors', 'outreach'], env({ SALES_ACCESS_ENCRYPTION_KEY: randomBytes(32).toString('hex') }));
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(/The outreach token record in Redis at .* cannot be decrypted: sealed with key id [0-9a-f]{12}, but SALES_ACCESS_ENCRYPTION_KEY has key id [0-9a-f]{12}\. Give every replica the same SALES_ACCESS_ENCRYPTION_KEY/);
  });
});

/** Why a private TLS redis-server cannot be started here, or undefined. */
const noTls =
  spawnSync('redis-server', ['--version']).status !== 0
    ? 'redis-server is not installed'
    : spawnSync('openssl', ['version']).status !== 0
      ? 'openssl is not installed'
      : undefined;
if (noTls) console.warn(`Redis TLS (rediss://) tests skipped: ${noTls}`);

describe.skipIf(noTls)('rediss:// with AUTH (a private TLS redis-server, self-signed certificate)', () => {
  let dir = '';
  let port = 0;
  let sim: OutreachSim;
  const password = 'tls-redis-pw-7781';
  const keyText = randomBytes(32).toString('hex');
  const clients: Client[] = [];

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'sam-redis-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    port = await freePort();
    execFileSync('redis-server', [
      '--daemonize', 'yes', '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
      '--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'), '--tls-ca-cert-file', join(dir, 'cert.pem'), '--tls-auth-clients', 'no',
      '--requirepass', password, '--save', '', '--appendonly', 'no', '--dir', dir, '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'),
    ]);
    for (let i = 0; i < 100 && !/Ready to accept/.test(readFileSync(join(dir, 'redis.log'), 'utf8')); i++) await new Promise((r) => setTimeout(r, 50));
    sim = await startOutreachSimulator();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await sim?.close();
    try {
      process.kill(Number(readFileSync(join(dir, 'redis.pid'), 'utf8')));
    } catch {
      /* not started */
    }
  });

  const env = (extra: Record<string, string>) =>
    replicaEnv(sim, { SALES_ACCESS_REDIS_URL: `rediss://default:${password}@127.0.0.1:${port}/4`, SALES_ACCESS_ENCRYPTION_KEY: keyText, ...extra });
  async function replica(extra: Record<string, string>): Promise<Client> {
    const client = new Client({ name: 'redis-tls-e2e', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, '--vendors', 'outreach'], env: env(extra), stderr: 'ignore' }));
    clients.push(client);
    return client;
  }
  const refreshGrants = () => sim.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/oauth/token') && r.status === 200).length;

  it('stores the rotated token over TLS; a second server, with no refresh token of its own, starts from it', async () => {
    const ca = join(dir, 'cert.pem');
    const a = await replica({ NODE_EXTRA_CA_CERTS: ca, OUTREACH_REFRESH_TOKEN: sim.issueRefreshToken() });
    const ra = (await a.callTool({ name: 'outreach_list_users', arguments: { page_size: 5 } })) as CallToolResult;
    expect(ra.isError, JSON.stringify(ra)).toBeFalsy();
    expect(refreshGrants()).toBe(1);
    const b = await replica({ NODE_EXTRA_CA_CERTS: ca });
    const rb = (await b.callTool({ name: 'outreach_list_users', arguments: { page_size: 5 } })) as CallToolResult;
    expect(rb.isError, JSON.stringify(rb)).toBeFalsy();
    expect(refreshGrants()).toBe(1);
  });

  it('a certificate the server does not trust is a start-up error with the TLS reason, without the password', async () => {
    const s = spawnServer(['--vendors', 'outreach'], env({}));
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(/SALES_ACCESS_REDIS_URL: Redis at 127\.0\.0\.1:\d+\/4 is unreachable at start-up \(self-signed certificate/);
    expect(s.stderr()).not.toContain(password);
  });
});

describe.skipIf(noTls)('Redis lost while serving (a private redis-server, stopped mid-run)', () => {
  let dir = '';
  let port = 0;
  let sim: OutreachSim;
  let client: Client | undefined;
  const pid = () => Number(readFileSync(join(dir, 'redis.pid'), 'utf8'));

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'sam-redis-down-'));
    port = await freePort();
    execFileSync('redis-server', ['--daemonize', 'yes', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log')]);
    for (let i = 0; i < 100 && !/Ready to accept/.test(readFileSync(join(dir, 'redis.log'), 'utf8')); i++) await new Promise((r) => setTimeout(r, 50));
    sim = await startOutreachSimulator();
  });
  afterAll(async () => {
    await client?.close().catch(() => {});
    await sim?.close();
    try {
      process.kill(pid());
    } catch {
      /* already stopped */
    }
  });

  it('a call that needs the token store fails with isError saying Redis is unreachable and that there is no per-replica fallback', async () => {
    const key = randomBytes(32).toString('hex');
    const redisUrl = `redis://127.0.0.1:${port}/0`;
    const admin = await openTokenStore({ stateDir: tempStateDir(), redis: redisConfig({ SALES_ACCESS_REDIS_URL: redisUrl }), encryptionKey: encryptionKey(Buffer.from(key, 'hex')) });
    // An access token already past its expiry: the first call must refresh, through Redis.
    await admin.tokens.write('outreach', { refresh_token: sim.issueRefreshToken(), access_token: sim.issueAccessToken(1), access_expires_at: new Date(Date.now() - 1000).toISOString() }, sim.clientId);
    await admin.close();
    client = new Client({ name: 'redis-down-e2e', version: '1.0.0' });
    const env = cleanEnv({
      OUTREACH_BASE_URL: sim.baseUrl,
      OUTREACH_TOKEN_URL: sim.tokenUrl,
      OUTREACH_CLIENT_ID: sim.clientId,
      OUTREACH_CLIENT_SECRET: sim.clientSecret,
      SALES_ACCESS_STATE_DIR: tempStateDir(),
      SALES_ACCESS_REDIS_URL: redisUrl,
      SALES_ACCESS_ENCRYPTION_KEY: key,
    });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, '--vendors', 'outreach'], env, stderr: 'ignore' }));
    process.kill(pid());
    for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(port), 'ping']).status === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const before = sim.requests.length;
    const r = (await client.callTool({ name: 'outreach_list_users', arguments: { page_size: 5 } }, undefined, { timeout: 60_000 })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r.content)).toMatch(new RegExp(`Redis at 127\\.0\\.0\\.1:${port}/0 is unreachable \\(.+\\) while .+; the server does not fall back to per-replica state`));
    // Nothing reached Outreach: no refresh without the lock, no call without a token.
    expect(sim.requests.slice(before)).toEqual([]);
  });
});
