// Per-test outcomes out of the JSON reporters of Vitest and Playwright, and the
// tally of failures over the stress runner's rounds.
//
// Only the fields the tally needs are typed here (the reporters' full types
// live in vitest/playwright internals). A file that failed to load, a run-level
// error or a missing report count as failures of their own, so a round that
// crashed is never mistaken for a clean one.

export type OutcomeStatus = 'passed' | 'failed' | 'skipped';

export interface Outcome {
  /** Stable across rounds: file, then the test's title path. */
  readonly id: string;
  readonly status: OutcomeStatus;
  readonly message?: string;
}

interface VitestAssertion {
  readonly fullName: string;
  readonly status: string;
  readonly failureMessages?: readonly string[] | null;
}

interface VitestFile {
  readonly name: string;
  readonly status: string;
  readonly message?: string;
  readonly assertionResults: readonly VitestAssertion[];
}

export interface VitestReport {
  readonly testResults: readonly VitestFile[];
}

interface PlaywrightResult {
  readonly status?: string;
  readonly error?: { readonly message?: string };
  readonly errors?: readonly { readonly message?: string }[];
}

interface PlaywrightTest {
  readonly status: string;
  readonly projectName?: string;
  readonly results: readonly PlaywrightResult[];
}

interface PlaywrightSpec {
  readonly title: string;
  readonly file: string;
  readonly line: number;
  readonly tests: readonly PlaywrightTest[];
}

interface PlaywrightSuite {
  readonly title: string;
  readonly specs?: readonly PlaywrightSpec[];
  readonly suites?: readonly PlaywrightSuite[];
}

export interface PlaywrightReport {
  readonly suites: readonly PlaywrightSuite[];
  readonly errors?: readonly { readonly message?: string }[];
}

function relative(file: string, root: string): string {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return file.startsWith(prefix) ? file.slice(prefix.length) : file;
}

/** The first line of a failure message: enough to tell failures apart in a table. */
export function firstLine(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  // Reporter messages carry ANSI colours; the table is plain text.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes is the point
  const plain = message.replace(/\u001b\[[0-9;]*m/g, '');
  return plain
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
}

export function vitestOutcomes(report: VitestReport, root: string): Outcome[] {
  const out: Outcome[] = [];
  for (const file of report.testResults) {
    const name = relative(file.name, root);
    if (file.status === 'failed' && file.assertionResults.every((a) => a.status !== 'failed')) {
      // The file failed without a failing test: it did not load, or a hook or
      // an unhandled error failed it.
      out.push({ id: `${name} (file)`, status: 'failed', message: file.message || 'file failed' });
    }
    for (const a of file.assertionResults) {
      const status: OutcomeStatus =
        a.status === 'passed' ? 'passed' : a.status === 'failed' ? 'failed' : 'skipped';
      const message = status === 'failed' ? (a.failureMessages ?? []).join('\n') : undefined;
      out.push(
        message === undefined
          ? { id: `${name} > ${a.fullName}`, status }
          : { id: `${name} > ${a.fullName}`, status, message },
      );
    }
  }
  return out;
}

function walkSuite(suite: PlaywrightSuite, titles: readonly string[], out: Outcome[]): void {
  for (const spec of suite.specs ?? []) {
    for (const test of spec.tests) {
      const project = test.projectName ? `[${test.projectName}] ` : '';
      const id = `${project}${spec.file}:${spec.line} > ${[...titles, spec.title].join(' > ')}`;
      // retries are 0 in this repository; a 'flaky' (passed on retry) is still
      // a failure for the tally, since CI would have needed the retry.
      const status: OutcomeStatus =
        test.status === 'expected' ? 'passed' : test.status === 'skipped' ? 'skipped' : 'failed';
      if (status !== 'failed') {
        out.push({ id, status });
        continue;
      }
      const failed = test.results.find((r) => r.status !== 'passed' && r.status !== 'skipped');
      const message =
        failed?.error?.message ?? failed?.errors?.[0]?.message ?? `status ${failed?.status ?? test.status}`;
      out.push({ id, status, message: failed?.status === 'timedOut' ? `timed out: ${message}` : message });
    }
  }
  for (const child of suite.suites ?? []) walkSuite(child, [...titles, child.title], out);
}

export function playwrightOutcomes(report: PlaywrightReport): Outcome[] {
  const out: Outcome[] = [];
  // Top-level suites are the files (their title is the path, already in the id).
  for (const file of report.suites) walkSuite(file, [], out);
  for (const error of report.errors ?? []) {
    out.push({ id: '(playwright run error)', status: 'failed', message: error.message ?? 'error' });
  }
  return out;
}

export interface TallyRow {
  readonly id: string;
  /** Rounds in which the test ran (passed or failed). */
  readonly runs: number;
  readonly failures: number;
  /** First line of each distinct failure message, in order of appearance. */
  readonly messages: readonly string[];
}

export class FailureTally {
  private readonly rows = new Map<string, { runs: number; failures: number; messages: string[] }>();

  record(outcomes: readonly Outcome[]): void {
    for (const o of outcomes) {
      if (o.status === 'skipped') continue;
      let row = this.rows.get(o.id);
      if (row === undefined) {
        row = { runs: 0, failures: 0, messages: [] };
        this.rows.set(o.id, row);
      }
      row.runs++;
      if (o.status === 'failed') {
        row.failures++;
        const line = firstLine(o.message) ?? '(no message)';
        if (!row.messages.includes(line)) row.messages.push(line);
      }
    }
  }

  /** Tests that failed at least once, most failures first. */
  failing(): TallyRow[] {
    return [...this.rows.entries()]
      .filter(([, r]) => r.failures > 0)
      .map(([id, r]) => ({ id, ...r }))
      .sort((a, b) => b.failures - a.failures || a.id.localeCompare(b.id));
  }

  get tests(): number {
    return this.rows.size;
  }

  get totalFailures(): number {
    let n = 0;
    for (const r of this.rows.values()) n += r.failures;
    return n;
  }
}

export function formatTally(title: string, tally: FailureTally, rounds: number): string {
  const failing = tally.failing();
  const lines = [
    `${title}: ${tally.tests} tests over ${rounds} round(s), ${failing.length} failed at least once (${tally.totalFailures} failures)`,
  ];
  for (const row of failing) {
    lines.push(`  ${row.failures}/${row.runs}  ${row.id}`);
    for (const m of row.messages.slice(0, 3)) lines.push(`          ${m.slice(0, 200)}`);
  }
  return lines.join('\n');
}
