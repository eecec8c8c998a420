/** Passed to every `bench/<area>/index.ts` default export by bench/run.ts. */
export interface BenchContext {
  /** Absolute repo root. */
  root: string;
  /** Chromium executable for browser benches. */
  chromiumPath: string | undefined;
  /** Chromium launch flags for this machine. */
  chromiumArgs: string[];
  /** true with `--quick`: fewer iterations (used by smoke tests), same code paths. */
  quick: boolean;
  /** Progress lines (stderr). */
  log(msg: string): void;
}

/** A bench section: Markdown with a heading and a table. */
export type BenchSection = (ctx: BenchContext) => Promise<string>;
