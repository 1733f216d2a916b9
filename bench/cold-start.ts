import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { median, round3 } from './stats.js';
import type { Benchmark } from './types.js';

/**
 * Cold start to the first tools/list: a fresh `node` process, the MCP initialize handshake, then tools/list,
 * timed from spawn to the tools/list answer. sales-access-mcp runs as a production start would (every
 * vendor configured with credentials that need no network at start-up, no --sandbox), beside a minimal SDK
 * server (bench/minimal-server.ts), alternating A B A B so machine drift hits both alike.
 */

const ROUNDS = 11;
const here = fileURLToPath(new URL('.', import.meta.url));
const MAIN = join(here, '..', 'sales-access-mcp.mjs');
const MINIMAL = join(here, 'minimal-server.js');

/** Credentials in the shape each vendor expects; nothing is called with them before a tool runs. */
const PRODUCTION_ENV = {
  OUTREACH_ACCESS_TOKEN: 'bench-outreach-token',
  SALESLOFT_API_KEY: 'bench-salesloft-key',
  APOLLO_API_KEY: 'bench-apollo-key',
  ZOOMINFO_USERNAME: 'bench-user',
  ZOOMINFO_PASSWORD: 'bench-password',
  OUTREACH_SCIM_TOKEN: 'bench-scim-token',
  SALESLOFT_SCIM_TOKEN: 'bench-scim-token',
  LOG_LEVEL: 'silent',
};

async function coldStart(script: string, env: Record<string, string>): Promise<{ ms: number; tools: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'ignore'] });
  try {
    // One reader for the whole exchange: answers are matched to requests by id.
    const waiting = new Map<number, (m: { result?: { tools?: unknown[] } }) => void>();
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { id?: number; result?: { tools?: unknown[] } };
      if (m.id !== undefined) waiting.get(m.id)?.(m);
    });
    const closed = new Promise<never>((_, reject) => child.once('exit', () => reject(new Error(`${script} exited before answering`))));
    const send = (m: unknown) => child.stdin.write(`${JSON.stringify(m)}\n`);
    const answer = (id: number) => Promise.race([new Promise<{ result?: { tools?: unknown[] } }>((resolve) => waiting.set(id, resolve)), closed]);
    const initialized = answer(1);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
    await initialized;
    const listed = answer(2);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const list = await listed;
    return { ms: performance.now() - t0, tools: list.result?.tools?.length ?? 0 };
  } finally {
    child.kill();
  }
}

export const coldStartBench: Benchmark = {
  name: 'cold_start',
  description: `spawn to the first tools/list answer, sales-access-mcp (production start, every vendor configured) vs a minimal SDK server, ${ROUNDS} alternating rounds`,
  async run(ctx) {
    const stateDir = mkdtempSync(join(tmpdir(), 'sam-bench-cold-'));
    const env = { ...PRODUCTION_ENV, SALES_ACCESS_STATE_DIR: stateDir };
    try {
      // One of each first, not counted: the file system cache then holds both.
      await coldStart(MINIMAL, {});
      await coldStart(MAIN, env);
      const ours: number[] = [];
      const minimal: number[] = [];
      const ratios: number[] = [];
      let tools = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const m = await coldStart(MINIMAL, {});
        const o = await coldStart(MAIN, env);
        tools = o.tools;
        minimal.push(m.ms);
        ours.push(o.ms);
        ratios.push(o.ms / m.ms);
        ctx.note(`round ${i + 1}: ours ${o.ms.toFixed(0)} ms, minimal ${m.ms.toFixed(0)} ms`);
      }
      return {
        rounds: ROUNDS,
        tools_listed: tools,
        ours_ms_median: round3(median(ours)),
        minimal_sdk_ms_median: round3(median(minimal)),
        ratio_median_of_pairs: round3(median(ratios)),
        aim: 'ratio <= 1.3',
        ours_ms: ours.map(round3),
        minimal_sdk_ms: minimal.map(round3),
      };
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  },
};
