import { mkdtempSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_RESULT_BYTES, RedisResultStore, ResultStore } from '../../src/results.js';
import { SharedRedis } from '../../src/shared/redis.js';
import { redisConfig } from '../../src/shared/redis-config.js';
import { deletePrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { fitResult } from '../../src/tool-runtime.js';
import type { Deps } from '../../src/deps.js';
import type { AnyTool } from '../../tools/types.js';

function deps(dir: string, transport: 'stdio' | 'http'): Deps {
  return { results: new ResultStore(dir), config: { transport } } as unknown as Deps;
}
const tool = { name: 'fake_list', pagedField: 'items' } as AnyTool;

describe('result size cap', () => {
  it('keeps a small result whole', async () => {
    const r = await fitResult(tool, { items: [1, 2, 3], truncated: false, full_result_uri: null }, deps(mkdtempSync(join(tmpdir(), 'res-')), 'stdio'));
    expect(r.structuredContent).toMatchObject({ items: [1, 2, 3], truncated: false });
    expect(r.content).toHaveLength(1);
  });

  it('cuts the paged field to the longest prefix under 25 KB, stores the whole, and links it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'res-'));
    // Items of uneven size, so a fixed per-item estimate would be wrong.
    const items = Array.from({ length: 3000 }, (_, i) => ({ id: i, note: 'x'.repeat(i % 37) }));
    const r = await fitResult(tool, { items, total: 3000, truncated: false, full_result_uri: null }, deps(dir, 'http'));
    const text = (r.content[0] as { text: string }).text;
    const s = r.structuredContent as { items: unknown[]; returned: number; truncated: boolean; full_result_uri: string };
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(s.truncated).toBe(true);
    // One more item would not have fitted.
    const oneMore = JSON.stringify({ ...s, items: items.slice(0, s.returned + 1), returned: s.returned + 1 });
    expect(Buffer.byteLength(oneMore)).toBeGreaterThan(MAX_RESULT_BYTES);
    expect(s.items).toEqual(items.slice(0, s.returned));
    const link = r.content[1] as { type: string; uri: string; description: string };
    expect(link).toMatchObject({ type: 'resource_link', uri: s.full_result_uri });
    // Over HTTP the server's own file path is not disclosed.
    expect(link.description).not.toContain(dir);
    const id = s.full_result_uri.split('/').pop()!;
    expect(JSON.parse((await new ResultStore(dir).read(id))!).items).toHaveLength(3000);
  });

  it('refuses ids that could name another file, and prunes results older than a day', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'res-'));
    const store = new ResultStore(dir);
    expect(await store.read('../../etc/passwd')).toBeUndefined();
    const old = await store.save('fake_list', { a: 1 });
    const day = Date.now() / 1000 - 25 * 3600;
    utimesSync(old.path, day, day);
    await store.save('fake_list', { b: 2 });
    expect(readdirSync(dir)).toHaveLength(1);
  });
});

const noRedis = await redisUnavailable();

describe.skipIf(noRedis)('results in Redis (SALES_ACCESS_REDIS_URL)', () => {
  const prefix = testPrefix();
  const open: SharedRedis[] = [];
  const connect = async () => {
    const r = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix })!);
    open.push(r);
    return r;
  };
  afterAll(async () => {
    await Promise.all(open.map((r) => r.close()));
    await deletePrefix(prefix);
  });

  it('a result saved by one replica is read by another, expires after the retention, and ids cannot name other keys', async () => {
    const a = new RedisResultStore(await connect(), 60_000);
    const b = new RedisResultStore(await connect(), 60_000);
    const saved = await a.save('fake_list', { items: [1, 2, 3] });
    expect(saved).not.toHaveProperty('path');
    const id = saved.uri.split('/').pop()!;
    expect(JSON.parse((await b.read(id))!)).toEqual({ items: [1, 2, 3] });
    const ttl = await open[0]!.client.pttl(`${prefix}result:${id}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await b.read('plan:x')).toBeUndefined();
    expect(await b.read('fake_list-2026-01-01T00-00-00-000Z-000000000000')).toBeUndefined();
  });
});
