import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutreachSimulator } from '../../src/sandbox/outreach/index.js';
import { startSalesloftSimulator } from '../../src/sandbox/salesloft/index.js';
import { assertBuilt, cleanEnv, MAIN, spawnServer, tempStateDir } from '../support/spawn.js';
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
    expect(u.searchParams.get('redirect_uri')).toBe(redirect);

    // The "browser": the simulator auto-approves and redirects to the loopback callback.
    const approve = await request(authUrl!, { method: 'GET' });
    expect(approve.statusCode).toBe(302);
    await approve.body.text();
    const callback = await request(approve.headers.location as string);
    expect(callback.statusCode).toBe(200);
    await callback.body.text();
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
