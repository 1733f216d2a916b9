/** Small statistics helpers for the benchmarks: nearest-rank percentiles over raw samples (ms). */

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface SampleSummary extends Percentiles {
  n: number;
  min: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Rounds to microseconds, which is as much as a millisecond timer on a noisy machine is worth. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function percentiles(samples: number[]): Percentiles {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: round3(percentile(s, 50)), p99: round3(percentile(s, 99)) };
}

export function summarize(samples: number[]): SampleSummary {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return {
    n: s.length,
    min: round3(s[0] ?? NaN),
    p50: round3(percentile(s, 50)),
    p99: round3(percentile(s, 99)),
    mean: round3(mean),
    max: round3(s.at(-1) ?? NaN),
  };
}

export function median(samples: number[]): number {
  return round3(percentile([...samples].sort((a, b) => a - b), 50));
}

/** b minus a, per percentile. */
export function diff(b: Percentiles, a: Percentiles): Percentiles {
  return { p50: round3(b.p50 - a.p50), p99: round3(b.p99 - a.p99) };
}
