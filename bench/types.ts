/** What every benchmark gets and gives back. */
export interface BenchContext {
  /** A progress note on stderr (stdout carries only the JSON summary). */
  note(message: string): void;
}

export interface Benchmark {
  /** Key of this benchmark's part of the summary, e.g. "list_all_users_10k". */
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Record<string, unknown>>;
}
