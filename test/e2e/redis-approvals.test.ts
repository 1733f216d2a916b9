import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutreachSimulator, type OutreachSim } from '../../src/sandbox/outreach/index.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { findLeaks } from '../support/secrets.js';
import { assertBuilt, cleanEnv, spawnServer, tempStateDir, waitForUrl, type Spawned } from '../support/spawn.js';
import { approvalUrlOf, loadApprovalPage, postApprovalDecision, structured, textOf } from '../support/stack.js';

/**
 * Issue 13 item 3 (approvals): two built HTTP servers (separate processes and state directories) share the
 * approval page's requests and decisions through Redis, against ONE Outreach simulator. A lock asked through
 * A is approved on the page served by B (the browser reached the other replica), and A's next call applies it
 * once. MCP sessions are not shared, so the call that uses the decision is the asking session's, on A.
 */

const skip = await redisUnavailable();

describe.skipIf(skip)('two HTTP replicas share approval requests through Redis', () => {
  const prefix = testPrefix();
  let sim: OutreachSim;
  let accessToken = '';
  const servers: Spawned[] = [];
  const urls: string[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    assertBuilt();
    sim = await startOutreachSimulator();
    accessToken = sim.issueAccessToken(3_600_000);
    for (const id of ['a', 'b']) {
      const s = spawnServer(
        ['--vendors', 'outreach', '--http', '--port', '0'],
        cleanEnv({
          OUTREACH_BASE_URL: sim.baseUrl,
          OUTREACH_ACCESS_TOKEN: accessToken,
          SALES_ACCESS_STATE_DIR: tempStateDir(),
          SALES_ACCESS_REPLICA_ID: id,
          SALES_ACCESS_CONFIRM: 'browser',
          SALES_ACCESS_REDIS_URL: TEST_REDIS_URL,
          SALES_ACCESS_REDIS_PREFIX: prefix,
        }),
      );
      servers.push(s);
      urls.push(await waitForUrl(s));
    }
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    for (const s of servers) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    await sim?.close();
    await deletePrefix(prefix);
  });

  const lockWrites = (id: number) => sim.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/v2/users/${id}`);

  it('asked through A, approved on the page served by B, applied once by A\'s next call; nothing secret in Redis', async () => {
    const a = new Client({ name: 'redis-approvals-e2e', version: '1.0.0' });
    clients.push(a);
    await a.connect(new StreamableHTTPClientTransport(new URL(urls[0]!)));
    const target = sim.users().find((u) => u.active && !u.locked)!;
    const call = () => a.callTool({ name: 'outreach_lock_user', arguments: { id: String(target.id) } }, undefined, { timeout: 60_000 }) as Promise<CallToolResult>;

    const first = await call();
    expect(structured(first)).toMatchObject({ status: 'approval_required' });
    const url = approvalUrlOf(first);
    const onB = `${new URL(urls[1]!).origin}${new URL(url).pathname}`;
    expect(new URL(url).origin).not.toBe(new URL(onB).origin);

    const page = await loadApprovalPage(onB);
    expect(page.status, page.html).toBe(200);
    expect(page.html).toContain(target.email);
    expect((await postApprovalDecision(onB, page, 'approve')).status).toBe(200);
    expect(lockWrites(target.id)).toHaveLength(0);

    const applied = structured(await call());
    expect(applied, textOf(first)).toMatchObject({ status: 'done', changed: true, confirmation: 'browser', approval: { status: 'approved', method: 'browser' } });
    expect(lockWrites(target.id)).toHaveLength(1);
    expect(sim.users().find((u) => u.id === target.id)!.locked).toBe(true);
    // The decision was used: the next call changes nothing and writes nothing.
    const again = structured(await call());
    expect(again).toMatchObject({ changed: false });
    expect(lockWrites(target.id)).toHaveLength(1);

    const dump = await dumpPrefix(prefix);
    expect(dump.some((d) => d.key.includes(':approval:'))).toBe(true);
    const secrets = { accessToken, csrf: page.csrf!, cookie: page.cookie!.split('=')[1]! };
    expect(findLeaks(secrets, dump.map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` })))).toEqual([]);
  });
});
