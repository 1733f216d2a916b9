import { afterEach, describe, expect, it } from 'vitest';
import { outreachAdapter } from '../../src/vendors/outreach/adapter.js';
import { withSettings } from '../../src/vendors/connection.js';
import { startStack, structured, type Stack } from '../support/stack.js';

describe('check_connections', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('is in the default set and finds every sandbox vendor in order', async () => {
    stack = await startStack({ toolsets: null });
    const r = structured(await stack.call('check_connections'));
    expect(r.ok).toBe(true);
    expect(r.vendors.map((v: { status: string }) => v.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(r.vendors[2].rest.key_kind).toBe('master API key');
    expect(r.vendors[0].rest.rate_limit[0]).toMatchObject({ window: 'hour', limit: 10_000 });
  });

  it('names a rejected credential, for the vendors asked for only, without printing it', async () => {
    const bad = 'oat_revoked_token_0123456789abcdef';
    stack = await startStack({ toolsets: null, configure: (config) => withSettings(config, outreachAdapter, (s) => ({ ...s, auth: { kind: 'bearer' as const, accessToken: bad } })) });
    const r = structured(await stack.call('check_connections', { vendors: ['outreach', 'apollo'] }));
    expect(r.ok).toBe(false);
    expect(r.vendors.map((v: { vendor: string; status: string }) => [v.vendor, v.status])).toEqual([
      ['outreach', 'problem'],
      ['apollo', 'ok'],
    ]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^Outreach REST credential: .*401/);
    // The Outreach SCIM connection has its own token, which still works.
    expect(r.vendors[0].scim.checks[0]).toMatchObject({ name: 'token', status: 'ok' });
    expect(JSON.stringify(r)).not.toContain(bad);
  });
});
