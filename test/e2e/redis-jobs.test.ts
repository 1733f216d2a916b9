import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutreachSimulator, type OutreachSim } from '../../src/sandbox/outreach/index.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { findLeaks } from '../support/secrets.js';
import { assertBuilt, cleanEnv, MAIN, spawnServer, tempStateDir, waitForUrl, type Spawned } from '../support/spawn.js';
import { structured } from '../support/stack.js';

/**
 * Issue 13 item 3 (jobs): built servers with Redis against ONE Outreach simulator started here, whose every
 * answer takes 2.5 s, under a call deadline of 1 s: a listing answers `running` with a job_id, and its job
 * lives in Redis. A job belongs to whoever started it: over stdio (one connection per process) that is the
 * process's connection, so replica B refuses A's job_id. With --stateless HTTP (issue 13 item 4: the owner
 * is the authenticated principal, the same on every replica) the job_id is collected through B, once.
 */

const skip = await redisUnavailable();

const LIST = { page_size: 5 };
type Running = { status: 'running'; job: { id: string; state: string } };

describe.skipIf(skip)('background jobs in Redis (spawned replicas)', () => {
  const prefix = testPrefix();
  let sim: OutreachSim;
  let accessToken = '';
  const clients: Client[] = [];
  const servers: Spawned[] = [];

  beforeAll(async () => {
    assertBuilt();
    sim = await startOutreachSimulator({ latencyMs: 2_500 });
    accessToken = sim.issueAccessToken(3_600_000);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    for (const s of servers) s.child.kill();
    await sim?.close();
    await deletePrefix(prefix);
  });

  const env = (id: string, extra: Record<string, string> = {}) =>
    cleanEnv({
      OUTREACH_BASE_URL: sim.baseUrl,
      OUTREACH_ACCESS_TOKEN: accessToken,
      SALES_ACCESS_STATE_DIR: tempStateDir(),
      SALES_ACCESS_REPLICA_ID: id,
      SALES_ACCESS_REDIS_URL: TEST_REDIS_URL,
      SALES_ACCESS_REDIS_PREFIX: prefix,
      SALES_ACCESS_CALL_DEADLINE_SECONDS: '1',
      ...extra,
    });
  const call = (c: Client, args: Record<string, unknown>) => c.callTool({ name: 'outreach_list_users', arguments: args }, undefined, { timeout: 60_000 }) as Promise<CallToolResult>;
  /** User pages the simulator served, of this page size only: a job of another test may still be running. */
  const userPages = (size = LIST.page_size) =>
    sim.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/v2/users') && r.query?.some(([k, v]) => k === 'page[size]' && v === String(size))).length;
  const noLeaks = async () => {
    const dump = await dumpPrefix(prefix);
    expect(findLeaks({ accessToken }, dump.map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` })))).toEqual([]);
    return dump;
  };

  async function stdioReplica(id: string): Promise<Client> {
    const client = new Client({ name: `redis-jobs-${id}`, version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, '--vendors', 'outreach'], env: env(id), stderr: 'ignore' }));
    clients.push(client);
    return client;
  }

  it('a slow listing on A answers running with a job_id kept in Redis; B refuses the job_id of A\'s connection; A collects it once', async () => {
    const [a, b] = await Promise.all([stdioReplica('a'), stdioReplica('b')]);
    const before = userPages();
    const first = structured<Running>(await call(a, LIST));
    expect(first).toMatchObject({ status: 'running', job: { state: 'running' } });
    const jobId = first.job.id;
    expect((await noLeaks()).map((d) => d.key)).toContain(`${prefix}job:${jobId}`);

    const refused = await call(b, { ...LIST, job_id: jobId });
    expect(refused.isError).toBe(true);
    expect((refused.content[0] as { text: string }).text).toMatch(new RegExp(`^No job ${jobId} of outreach_list_users in this session`));

    let r = await call(a, { ...LIST, job_id: jobId });
    while (structured(r).status === 'running') r = await call(a, { ...LIST, job_id: jobId });
    expect(structured(r)).toMatchObject({ status: 'done', returned: 5 });
    expect(userPages() - before).toBe(1);
    // Collected: the next call with the same arguments starts afresh (a new job).
    const again = structured<Running>(await call(a, LIST));
    expect(again.job.id).not.toBe(jobId);
    await noLeaks();
  });

  describe('--stateless HTTP: any replica answers', () => {
    const token = 'redis-jobs-e2e-bearer-0123456789abcdef';
    async function httpReplica(id: string): Promise<Client> {
      const s = spawnServer(['--http', '--stateless', '--port', '0', '--vendors', 'outreach'], env(id, { SALES_ACCESS_HTTP_TOKEN: token }));
      servers.push(s);
      const url = await waitForUrl(s);
      const client = new Client({ name: `redis-jobs-http-${id}`, version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      clients.push(client);
      return client;
    }

    it('started on A (running, job_id), collected through B once; the work ran once, on A', async () => {
      const [a, b] = await Promise.all([httpReplica('ha'), httpReplica('hb')]);
      // Its own page size: the job the stdio test started last may still be fetching pages.
      const LIST = { page_size: 4 };
      const before = userPages(LIST.page_size);
      const first = structured<Running>(await call(a, LIST));
      expect(first.status).toBe('running');
      let r = await call(b, { ...LIST, job_id: first.job.id });
      while (structured(r).status === 'running') r = await call(b, { ...LIST, job_id: first.job.id });
      expect(structured(r)).toMatchObject({ status: 'done', returned: 4 });
      expect(userPages(LIST.page_size) - before).toBe(1);
      // Delivered through B: the same arguments on A start afresh.
      expect(structured<Running>(await call(a, LIST)).job.id).not.toBe(first.job.id);
      const dump = await noLeaks();
      expect(findLeaks({ token }, dump.map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` })))).toEqual([]);
    });
  });
});
