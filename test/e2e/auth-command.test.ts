import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTokenStore } from '../../src/auth/open-token-store.js';
import { startOutreachSimulator } from '../../src/sandbox/outreach/index.js';
import { encryptionKeyFromEnv } from '../../src/shared/envelope.js';
import { redisConfig } from '../../src/shared/redis-config.js';
import { startSalesloftSimulator } from '../../src/sandbox/salesloft/index.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { findLeaks } from '../support/secrets.js';
import { assertBuilt, cleanEnv, MAIN, spawnServer, tempStateDir, type Spawned } from '../support/spawn.js';
import { freePort } from '../support/timing.js';

interface OAuthSim {
  baseUrl: string;
  tokenUrl: string;
  authorizeUrl: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

const CASES = [
  { vendor: 'outreach', prefix: 'OUTREACH', start: () => startOutreachSimulator({ userCount: 20 }), readTool: 'outreach_list_roles', listKey: 'roles' },
  { vendor: 'salesloft', prefix: 'SALESLOFT', start: () => startSalesloftSimulator({ userCount: 20 }), readTool: 'salesloft_list_roles', listKey: 'roles' },
] as const;

/** Runs `sales-access-mcp auth <vendor>` and plays the browser: the simulator approves and redirects back. */
async function authorizeThroughSimulator(sim: OAuthSim, vendor: string, env: Record<string, string>): Promise<Spawned> {
  const auth = spawnServer(['auth', vendor], env);
  let authUrl: string | undefined;
  for (let i = 0; i < 200 && !authUrl; i++) {
    authUrl = auth.stderr().split('\n').find((l) => l.startsWith(sim.authorizeUrl));
    if (!authUrl) await new Promise((r) => setTimeout(r, 25));
  }
  expect(authUrl).toBeDefined();
  const u = new URL(authUrl!);
  expect(u.searchParams.get('code_challenge_method')).toBe('S256');
  expect(u.searchParams.get('state')).toMatch(/.{16,}/);
  expect(u.searchParams.get('redirect_uri')).toBe(env[Object.keys(env).find((k) => k.endsWith('_REDIRECT_URI'))!]);

  // The "browser": the simulator auto-approves and redirects to the loopback callback.
  const approve = await request(authUrl!, { method: 'GET' });
  expect(approve.statusCode).toBe(302);
  await approve.body.text();
  const callback = await request(approve.headers.location as string);
  expect(callback.statusCode).toBe(200);
  await callback.body.text();
  return auth;
}

describe.each(CASES)('sales-access-mcp auth $vendor (spawned) against the simulator', ({ vendor, prefix, start, readTool, listKey }) => {
  let sim: OAuthSim;
  const stateDir = tempStateDir();
  beforeAll(async () => {
    assertBuilt();
    sim = (await start()) as OAuthSim;
  });
  afterAll(() => sim.close());

  it('runs PKCE + state through a loopback redirect, stores the tokens 0600, and the server then uses them', async () => {
    const redirect = `http://127.0.0.1:${await freePort()}/callback`;
    const env = cleanEnv({
      SALES_ACCESS_STATE_DIR: stateDir,
      [`${prefix}_CLIENT_ID`]: sim.clientId,
      [`${prefix}_CLIENT_SECRET`]: sim.clientSecret,
      [`${prefix}_AUTHORIZE_URL`]: sim.authorizeUrl,
      [`${prefix}_TOKEN_URL`]: sim.tokenUrl,
      [`${prefix}_BASE_URL`]: sim.baseUrl,
      [`${prefix}_REDIRECT_URI`]: redirect,
    });
    const auth = await authorizeThroughSimulator(sim, vendor, env);
    expect(await auth.exited).toBe(0);
    expect(auth.stdout()).toBe('');

    const tokenFile = join(stateDir, 'tokens', `${vendor}.json`);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(auth.stderr()).not.toMatch(/"refresh_token"|access_token=/);

    // A server with the client id and secret but no refresh token in the environment runs on the stored token.
    const serverEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !k.endsWith('_AUTHORIZE_URL') && !k.endsWith('_REDIRECT_URI')));
    const client = new Client({ name: 'after-auth', version: '1' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, '--vendors', vendor, '--toolsets', vendor], env: serverEnv, stderr: 'ignore' }));
    const roles = (await client.callTool({ name: readTool, arguments: {} })) as CallToolResult;
    expect(roles.isError).toBeFalsy();
    expect((roles.structuredContent as Record<string, unknown[]>)[listKey].length).toBeGreaterThan(1);
    await client.close();
  });
});

describe('sales-access-mcp auth without an OAuth app', () => {
  it('without a client id the command says what to set', async () => {
    const s = spawnServer(['auth', 'outreach'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir() }));
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(/OUTREACH_CLIENT_ID and OUTREACH_CLIENT_SECRET/);
    const sl = spawnServer(['auth', 'salesloft'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), SALESLOFT_API_KEY: 'key-without-oauth' }));
    expect(await sl.exited).toBe(2);
    expect(sl.stderr()).toMatch(/SALESLOFT_CLIENT_ID and SALESLOFT_CLIENT_SECRET/);
    expect(sl.stderr()).not.toContain('key-without-oauth');
    const other = spawnServer(['auth', 'apollo'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir() }));
    expect(await other.exited).toBe(2);
    expect(other.stderr()).toMatch(/Supported: outreach, salesloft/);
  });
});

const skip = await redisUnavailable();

describe.skipIf(skip)('sales-access-mcp auth outreach with SALES_ACCESS_REDIS_URL', () => {
  let sim: OAuthSim;
  const prefix = testPrefix();
  beforeAll(async () => {
    assertBuilt();
    sim = (await startOutreachSimulator({ userCount: 20 })) as OAuthSim;
  });
  afterAll(async () => {
    await sim.close();
    await deletePrefix(prefix);
  });

  it('stores the tokens sealed in Redis, not under the state directory, and a server on another host directory runs on them', async () => {
    const stateDir = tempStateDir();
    const keyText = randomBytes(32).toString('base64');
    const env = cleanEnv({
      SALES_ACCESS_STATE_DIR: stateDir,
      SALES_ACCESS_REDIS_URL: TEST_REDIS_URL,
      SALES_ACCESS_REDIS_PREFIX: prefix,
      SALES_ACCESS_ENCRYPTION_KEY: keyText,
      OUTREACH_CLIENT_ID: sim.clientId,
      OUTREACH_CLIENT_SECRET: sim.clientSecret,
      OUTREACH_AUTHORIZE_URL: sim.authorizeUrl,
      OUTREACH_TOKEN_URL: sim.tokenUrl,
      OUTREACH_BASE_URL: sim.baseUrl,
      OUTREACH_REDIRECT_URI: `http://127.0.0.1:${await freePort()}/callback`,
    });
    const auth = await authorizeThroughSimulator(sim, 'outreach', env);
    expect(await auth.exited).toBe(0);
    expect(auth.stderr()).toMatch(/Outreach tokens stored in Redis at [^ ]+ \(key [^ ]+token:outreach:[0-9a-f]{16}\)/);
    expect(existsSync(join(stateDir, 'tokens'))).toBe(false);
    const dump = await dumpPrefix(prefix);
    expect(dump.map((d) => d.key)).toEqual([expect.stringMatching(/token:outreach:[0-9a-f]{16}$/)]);
    const store = await openTokenStore({ stateDir, redis: redisConfig(env), encryptionKey: encryptionKeyFromEnv(env) });
    const record = await store.tokens.read('outreach', sim.clientId);
    await store.close();
    expect(record?.refresh_token).toBeDefined();
    const secrets = { refresh: record!.refresh_token!, access: record!.access_token!, clientSecret: sim.clientSecret };
    expect(findLeaks(secrets, dump.map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` })))).toEqual([]);

    const client = new Client({ name: 'after-auth-redis', version: '1' });
    const serverEnv = { ...env, SALES_ACCESS_STATE_DIR: tempStateDir() };
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, '--vendors', 'outreach', '--toolsets', 'outreach'], env: serverEnv, stderr: 'ignore' }));
    const roles = (await client.callTool({ name: 'outreach_list_roles', arguments: {} })) as CallToolResult;
    expect(roles.isError, JSON.stringify(roles)).toBeFalsy();
    await client.close();
  });
});
