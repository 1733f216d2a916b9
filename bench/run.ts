/**
 * `npm run bench`: runs the benchmarks and prints one JSON summary on stdout (progress notes on stderr).
 * `npm run bench -- tool_call_latency` runs only the named benchmarks; `npm run -s bench` keeps npm's own
 * banner off stdout, so the output is pure JSON.
 *
 * This is a 2-core shared machine: the numbers are medians and ratios to read, never assertions.
 * To add a benchmark, write a module exporting a `Benchmark` and append it to BENCHMARKS.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { VERSION } from '../src/version.js';
import { listAllUsers10k } from './list-all-users.js';
import { salesloftList30k } from './salesloft-list.js';
import { apolloListWindows } from './apollo-list-windows.js';
import { apolloPatience } from './apollo-patience.js';
import { oauthVerify } from './oauth-verify.js';
import { offboardingTransfer5k } from './offboarding-transfer.js';
import { accessReview4x10k } from './access-review.js';
import { coldStartBench } from './cold-start.js';
import { round3 } from './stats.js';
import { toolLatency } from './tool-latency.js';
import { toolsListSize } from './tools-list-size.js';
import { limiterEngine } from './limiter-engine.js';
import { sharedState } from './shared-state.js';
import { httpReplicas } from './http-replicas.js';
import { sharedLimits } from './shared-limits.js';
import type { Benchmark } from './types.js';

const BENCHMARKS: Benchmark[] = [toolsListSize, coldStartBench, listAllUsers10k, toolLatency, salesloftList30k, apolloListWindows, accessReview4x10k, apolloPatience, offboardingTransfer5k, limiterEngine, sharedLimits, oauthVerify, sharedState, httpReplicas];

const MB = 1024 * 1024;

function note(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Samples RSS every 20 ms; maxRSS from the kernel backs it up (it also sees spikes between samples). */
function rssSampler(): { stop(): { peak_rss_mb_sampled: number; max_rss_mb: number }; section(): () => number } {
  let peak = process.memoryUsage().rss;
  let sectionPeak = peak;
  const timer = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    sectionPeak = Math.max(sectionPeak, rss);
  }, 20);
  timer.unref();
  return {
    /** Starts a section; the returned function gives the section's sampled peak RSS in MB. */
    section() {
      sectionPeak = process.memoryUsage().rss;
      return () => round3(Math.max(sectionPeak, process.memoryUsage().rss) / MB);
    },
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      return { peak_rss_mb_sampled: round3(peak / MB), max_rss_mb: round3((process.resourceUsage().maxRSS * 1024) / MB) };
    },
  };
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !BENCHMARKS.some((b) => b.name === w));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const selected = wanted.length > 0 ? BENCHMARKS.filter((b) => wanted.includes(b.name)) : BENCHMARKS;
  const rss = rssSampler();
  const started = performance.now();
  const results: Record<string, unknown> = {};
  let failed = 0;
  for (const b of selected) {
    note(`${b.name}: ${b.description}`);
    const t0 = performance.now();
    const peak = rss.section();
    try {
      const part = await b.run({ note: (m) => note(`${b.name}: ${m}`) });
      results[b.name] = { ...part, bench_ms: Math.round(performance.now() - t0), peak_rss_mb: peak() };
    } catch (err) {
      failed++;
      results[b.name] = { error: (err as Error)?.stack ?? String(err) };
      note(`${b.name} FAILED: ${(err as Error)?.message ?? String(err)}`);
    }
  }
  const cpu = cpus();
  const summary = {
    package: `sales-access-mcp ${VERSION}`,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: `${cpu.length} x ${cpu[0]?.model ?? 'unknown'}`,
    started_at: new Date(Date.now() - (performance.now() - started)).toISOString(),
    duration_ms: Math.round(performance.now() - started),
    results,
    memory: rss.stop(),
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
