import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { startStack, structured, textOf, type Stack } from '../support/stack.js';
import { withSettings } from '../../src/vendors/connection.js';
import { outreachAdapter } from '../../src/vendors/outreach/adapter.js';

const HOUR = 3_600_000;

function oauth(seed: () => string) {
  return (config: Config, sandbox: Sandbox): Config =>
    withSettings(config, outreachAdapter, (s) => ({
      ...s,
      auth: { kind: 'oauth_refresh' as const, clientId: sandbox.outreach.clientId, clientSecret: sandbox.outreach.clientSecret, refreshToken: seed() },
    }));
}

describe('Outreach OAuth through the tools', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('a token that expires in the middle of an all-pages walk is refreshed once and the walk completes', async () => {
    // The simulator's clock jumps three hours as soon as the first page is served, so the access token the
    // server holds (and believes valid) is rejected with 401 on the second page.
    let sim: Sandbox | undefined;
    const jumping: Clock = {
      now: () => Date.now() + (sim && sim.outreach.requests.some((r) => r.path.startsWith('/api/v2/users?') && r.status === 200) ? 3 * HOUR : 0),
      sleep: systemClock.sleep,
    };
    let seed = '';
    stack = await startStack({
      userCount: 2500,
      sandboxClock: jumping,
      configure: (config, sandbox) => {
        sim = sandbox;
        seed = sandbox.outreach.issueRefreshToken();
        return oauth(() => seed)(config, sandbox);
      },
    });
    const r = structured(await stack.call('outreach_list_users', { all: true }));
    expect(r.total).toBe(2500);
    const reqs = stack.sandbox.outreach.requests;
    const tokenCalls = reqs.filter((q) => q.path.startsWith('/oauth/token'));
    const unauthorized = reqs.filter((q) => q.status === 401);
    // One refresh to get the first access token, one after the 401; the 401 request was retried once.
    expect(tokenCalls).toHaveLength(2);
    expect(unauthorized).toHaveLength(1);
    const userPages = reqs.filter((q) => q.path.startsWith('/api/v2/users?') && q.status === 200);
    expect(userPages).toHaveLength(3);

    // Rotation: the store holds the newest refresh token, and the seed is dead.
    const stored = JSON.parse(readFileSync(join(stack.stateDir, 'tokens', 'outreach.json'), 'utf8'));
    expect(stored.refresh_token).toEqual(expect.any(String));
    expect(stored.refresh_token).not.toBe(seed);
  });

  it('after a restart the stored refresh token wins over the (now dead) environment seed', async () => {
    let seed = '';
    stack = await startStack({
      configure: (config, sandbox) => {
        seed = sandbox.outreach.issueRefreshToken();
        return oauth(() => seed)(config, sandbox);
      },
    });
    structured(await stack.call('outreach_list_roles'));
    const stateDir = stack.stateDir;
    const sandbox = stack.sandbox;
    // Restart the server (not the simulator) on the same state directory, with the same env seed.
    await stack.client.close();
    await stack.deps.close();
    const second = await startStack({ stateDir, configure: oauth(() => seed) });
    try {
      // The second stack has its own simulator, so hand it the first one's stored token to prove which is sent:
      // the first simulator rejects the used seed, and the stored token is the one that works there.
      const stored = JSON.parse(readFileSync(join(stateDir, 'tokens', 'outreach.json'), 'utf8'));
      expect(stored.refresh_token).not.toBe(seed);
      const res = await fetch(sandbox.outreach.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: seed, client_id: sandbox.outreach.clientId, client_secret: sandbox.outreach.clientSecret }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
      // And a server seeded with the dead token but holding a stored one never sends the dead one.
      const r = await second.call('outreach_list_roles');
      const sentDead = second.sandbox.outreach.requests.filter((q) => q.path.startsWith('/oauth/token') && q.status === 400);
      expect(r.isError || sentDead.length === 0).toBe(true);
    } finally {
      await second.close();
      await sandbox.close();
      stack = undefined;
    }
  });

  it('an invalid refresh token tells the admin to run the auth command', async () => {
    stack = await startStack({ configure: oauth(() => 'not-a-real-refresh-token') });
    const r = await stack.call('outreach_list_roles');
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/sales-access-mcp auth outreach/);
    expect(textOf(r)).not.toContain('not-a-real-refresh-token');
  });
});
