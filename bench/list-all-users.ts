import { performance } from 'node:perf_hooks';
import { median, round3 } from './stats.js';
import { expectOk, startBenchStack, textOf } from './stack.js';
import type { Benchmark } from './types.js';

const USERS = 10_000;
const PAGE_SIZE = 1000;
const RUNS = 5;

/**
 * Requests needed to list every Outreach user with `all: true`. The floor is ceil(users / 1000) user-page
 * requests; role and profile names cost one request each on a cold cache (and nothing while it is warm).
 */
export const listAllUsers10k: Benchmark = {
  name: 'list_all_users_10k',
  description: `outreach_list_users {all: true} on a ${USERS.toLocaleString('en-US')}-user sandbox, ${RUNS} runs (the first with a cold role/profile name cache)`,
  async run(ctx) {
    const stack = await startBenchStack({ userCount: USERS });
    try {
      const sim = stack.sandbox.outreach;
      const runs: {
        wall_ms: number;
        user_list_requests: number;
        other: Record<string, number>;
        progress: number;
        result_bytes: number;
        full_result_bytes: number | null;
        structured: Record<string, unknown>;
      }[] = [];
      for (let i = 0; i < RUNS; i++) {
        const start = sim.requests.length;
        let progress = 0;
        const t0 = performance.now();
        const r = await stack.call('outreach_list_users', { all: true }, { onprogress: () => progress++ });
        const wall = performance.now() - t0;
        const s = expectOk(r, 'outreach_list_users {all: true}');
        const mine = sim.requests.slice(start);
        const userReqs = mine.filter((q) => /^\/api\/v2\/users(\?|$)/.test(q.path));
        const other: Record<string, number> = {};
        for (const q of mine) {
          if (userReqs.includes(q)) continue;
          const p = q.path.split('?')[0];
          other[p] = (other[p] ?? 0) + 1;
        }
        const link = r.content.find((c) => c.type === 'resource_link');
        const bytesMatch = link?.type === 'resource_link' ? /\((\d+) bytes\)/.exec(link.description ?? '') : null;
        runs.push({
          wall_ms: round3(wall),
          user_list_requests: userReqs.length,
          other,
          progress,
          result_bytes: Buffer.byteLength(textOf(r)),
          full_result_bytes: bytesMatch ? Number(bytesMatch[1]) : null,
          structured: s,
        });
        ctx.note(`run ${i + 1}/${RUNS}: ${wall.toFixed(0)} ms, ${userReqs.length} user-page requests, other ${JSON.stringify(other)}`);
      }
      const first = runs[0];
      const s = first.structured;
      const otherCount = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
      return {
        users: s.total,
        user_list_requests: first.user_list_requests,
        minimum: Math.ceil(USERS / PAGE_SIZE),
        other_requests: otherCount(first.other),
        other_requests_by_path: first.other,
        other_requests_warm_cache: otherCount(runs.at(-1)!.other),
        pages_fetched: s.pages_fetched,
        progress_notifications: first.progress,
        wall_ms: median(runs.map((r) => r.wall_ms)),
        wall_ms_first_run: first.wall_ms,
        wall_ms_runs: runs.map((r) => r.wall_ms),
        result_bytes: first.result_bytes,
        returned_inline: s.returned,
        truncated: s.truncated,
        full_result_bytes: first.full_result_bytes,
        rate_limit: stack.rateLimitCheck(),
      };
    } finally {
      await stack.close();
    }
  },
};
