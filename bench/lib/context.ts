/** What every benchmark gets from bench/run.ts. */
export interface BenchContext {
  /** `127.0.0.1:39092` */
  brokers: string;
  /** Short durations and sizes: checks the harness, numbers are indicative only. */
  quick: boolean;
  /** Unique per run: topic prefixes and delivery ids never collide with an earlier run. */
  runId: string;
  say(line: string): void;
}

/** Seconds per measured load step. */
export function stepSeconds(ctx: BenchContext, full = 10): number {
  return ctx.quick ? Math.max(2, Math.round(full / 4)) : full;
}
