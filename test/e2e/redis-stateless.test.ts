import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutreachSimulator, type OutreachSim } from '../../src/sandbox/outreach/index.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin.js';
import { findLeaks } from '../support/secrets.js';
import { assertBuilt, cleanEnv, spawnServer, tempStateDir, waitForUrl, type Spawned } from '../support/spawn.js';
import { approvalUrlOf, callUntilDone, loadApprovalPage, postApprovalDecision, structured, textOf } from '../support/stack.js';

/**
 * Issue 13 item 4: two built servers with --stateless (separate processes and state directories, one audit
 * log, the same bearer token) share plans and approvals through Redis, against ONE Outreach simulator, behind a
 * load balancer without affinity (a round-robin proxy: each HTTP request goes to the other replica). The plan is
 * made on one replica, the approval given on the OTHER replica's approval page, and the execution lands on
 * whichever replica the next request reaches, and applies once.
 */

const skip = await redisUnavailable();
const TOKEN = 'stateless-replicas-token-0123456789abcdef0123';

describe.skipIf(skip)('two stateless replicas behind a round-robin balancer, sharing Redis', () => {
  const prefix = testPrefix();
  const auditLog = join(tempStateDir(), 'audit.log');
  let sim: OutreachSim;
  let accessToken = '';
  let proxy: RoundRobinProxy;
  const servers: Spawned[] = [];
  const urls: string[] = [];
  let client: Client;

  beforeAll(async () => {
    assertBuilt();
    sim = await startOutreachSimulator();
    accessToken = sim.issueAccessToken(3_600_000);
    for (const id of ['a', 'b']) {
      const s = spawnServer(
        ['--vendors', 'outreach', '--http', '--stateless', '--port', '0'],
        cleanEnv({
          OUTREACH_BASE_URL: sim.baseUrl,
          OUTREACH_ACCESS_TOKEN: accessToken,
          SALES_ACCESS_STATE_DIR: tempStateDir(),
          SALES_ACCESS_AUDIT_LOG: auditLog,
          SALES_ACCESS_REPLICA_ID: id,
          SALES_ACCESS_HTTP_TOKEN: TOKEN,
          SALES_ACCESS_REDIS_URL: TEST_REDIS_URL,
          SALES_ACCESS_REDIS_PREFIX: prefix,
        }),
      );
      servers.push(s);
      urls.push(await waitForUrl(s));
    }
    proxy = await startRoundRobinProxy(urls);
    client = new Client({ name: 'redis-stateless-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
  });
  afterAll(async () => {
    await client?.close().catch(() => {});
    await proxy?.close();
    for (const s of servers) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    await sim?.close();
    await deletePrefix(prefix);
  });

  const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 }) as Promise<CallToolResult>;
  /** The replica (0 or 1) that answered the latest tools/call. */
  const lastReplica = () => proxy.hits.filter((h) => h.rpc === 'tools/call').at(-1)!.upstream;
  const writes = () => sim.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/api/v2/'));

  it('both replicas log that they run stateless', () => {
    for (const s of servers) expect(s.stderr()).toMatch(/"mode":"stateless".*MCP Streamable HTTP listening/);
  });

  it('plan on one replica, approve on the other one\'s page, execute wherever the next request lands: applied once', async () => {
    const leaver = sim.users().find((u) => u.active && !u.locked)!;
    const plan = structured(await call('plan_offboarding', { emails: [leaver.email] }));
    expect(plan.plan_id, JSON.stringify(plan)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const planned = lastReplica();
    const automated = plan.steps.filter((s: any) => s.path !== 'manual' && s.path !== 'none');
    expect(automated.length).toBeGreaterThan(0);

    const before = writes().length;
    const asked = await call('execute_offboarding', { plan_id: plan.plan_id });
    expect(structured(asked), textOf(asked)).toMatchObject({ status: 'approval_required', approval: { method: 'browser' } });
    expect(writes().length).toBe(before);
    // The page of the replica that did not plan (the browser reached the other one).
    const other = 1 - planned;
    const onOther = `${new URL(urls[other]!).origin}${new URL(approvalUrlOf(asked)).pathname}`;
    const page = await loadApprovalPage(onOther);
    expect(page.status, page.html).toBe(200);
    expect(page.html).toContain(leaver.email);
    expect((await postApprovalDecision(onOther, page, 'approve')).status).toBe(200);
    expect(writes().length).toBe(before);

    const answers = await callUntilDone((args) => call('execute_offboarding', args), { plan_id: plan.plan_id });
    const done = structured(answers.at(-1)!);
    expect(done, textOf(answers.at(-1)!)).toMatchObject({ status: 'done', replayed: false, approval: { status: 'approved', method: 'browser' } });
    expect(done.summary).toMatchObject({ done: automated.length, failed: 0, ambiguous: 0 });
    const written = writes().length - before;
    expect(written).toBeGreaterThan(0);
    expect(sim.users().find((u) => u.id === leaver.id)!.locked).toBe(true);

    // Again, on whichever replica: the stored result, nothing written twice.
    const again = structured(await call('execute_offboarding', { plan_id: plan.plan_id }));
    expect(again.replayed, JSON.stringify(again)).toBe(true);
    expect(writes().length - before).toBe(written);

    // The calls really alternated, and none carried a session.
    const toolCalls = proxy.hits.filter((h) => h.rpc === 'tools/call');
    expect(new Set(toolCalls.map((h) => h.upstream))).toEqual(new Set([0, 1]));
    expect(proxy.hits.some((h) => h.sessionHeader)).toBe(false);

    const lines = readFileSync(auditLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>)
      .filter((l) => l.plan_id === plan.plan_id && l.type === 'outcome');
    expect(lines).toHaveLength(written);
    expect(new Set(lines.map((l) => l.op_id)).size).toBe(lines.length);

    const dump = await dumpPrefix(prefix);
    const secrets = { accessToken, httpToken: TOKEN, csrf: page.csrf!, cookie: page.cookie!.split('=')[1]! };
    expect(findLeaks(secrets, dump.map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` })))).toEqual([]);
  });

  it('a result too large to return inline is read through the other replica (stored in Redis)', async () => {
    const r = structured(await call('outreach_list_users', { page_size: 100 }));
    expect(r.truncated, 'a page of 100 users must exceed the inline cap for this test to mean anything').toBe(true);
    const stored = lastReplica();
    const read = await client.readResource({ uri: r.full_result_uri });
    const reader = proxy.hits.filter((h) => h.rpc === 'resources/read').at(-1)!.upstream;
    expect(reader).not.toBe(stored);
    expect(JSON.parse((read.contents[0] as { text: string }).text).users).toHaveLength(100);
    expect((await dumpPrefix(prefix)).map((d) => d.key)).toContain(`${prefix}result:${r.full_result_uri.split('/').pop()}`);
  });

  it('access review evidence written on one replica is read through the other (a copy in Redis)', async () => {
    const roster = sim.users().slice(0, 5).map((u) => u.email);
    const r = structured(await call('access_review', { roster }));
    const wrote = lastReplica();
    const read = await client.readResource({ uri: r.evidence.csv });
    expect(proxy.hits.filter((h) => h.rpc === 'resources/read').at(-1)!.upstream).not.toBe(wrote);
    const csv = (read.contents[0] as { text: string }).text;
    expect(csv.split('\n')[0]).toMatch(/review_id/);
    expect(csv).toContain(roster[0]);
    expect((await dumpPrefix(prefix)).map((d) => d.key)).toContain(`${prefix}evidence:${r.evidence.csv.split('/').pop()}`);
  });
});
