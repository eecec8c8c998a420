// Stress runner: runs the node suite (`vitest run --project node`) and/or the
// e2e suite (`playwright test`) N rounds while a bounded CPU hog keeps one core
// busy, then prints how often each test failed. A verdict that depends on the
// scheduler's luck shows up here as 1/5 instead of a random red CI run.
// Not part of `npm test` (it takes rounds x the suites' time).
//
//   npm run stress -- --rounds 5 --suite both
//   npm run stress -- --rounds 10 --suite e2e e2e/sw/serviceWorker.spec.ts
//   npm run stress -- --rounds 3 server/engine --grep 'hedge'
//
// Options: --rounds N (3), --suite node|e2e|both (both), --grep PATTERN (vitest
// -t / playwright --grep), --hog N busy processes (2; 0 = none), --hog-cpu C
// (0), --suite-timeout MINUTES per suite run (30; the hog's bound too).
// File filters: a filter naming a `.spec.` goes to Playwright, one naming a
// `.test.` to Vitest, anything else to both; with filters, a suite that got
// none is skipped. Run `npm run build` first for the e2e suite.
// Logs and JSON reports: .cache/stress/<start time>-<pid>/ (summary.json has the tallies).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type CpuHog, startCpuHog } from './stress/cpuHog';
import {
  FailureTally,
  formatTally,
  type Outcome,
  type PlaywrightReport,
  playwrightOutcomes,
  type VitestReport,
  vitestOutcomes,
} from './stress/failureCounts';

type Suite = 'node' | 'e2e';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
// One folder per run: two runs in one worktree must not overwrite each other's reports.
const OUT = path.join(
  ROOT,
  '.cache',
  'stress',
  `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`,
);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    suite: { type: 'string', default: 'both' },
    grep: { type: 'string' },
    hog: { type: 'string', default: '2' },
    'hog-cpu': { type: 'string', default: '0' },
    'suite-timeout': { type: 'string', default: '30' },
  },
});

function positiveInt(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`[stress] --${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const rounds = positiveInt('rounds', values.rounds, 1);
const hogProcesses = positiveInt('hog', values.hog, 0);
const hogCpu = positiveInt('hog-cpu', values['hog-cpu'], 0);
const suiteTimeoutMs = positiveInt('suite-timeout', values['suite-timeout'], 1) * 60_000;
if (!['node', 'e2e', 'both'].includes(values.suite)) {
  console.error(`[stress] --suite must be node, e2e or both, got ${JSON.stringify(values.suite)}`);
  process.exit(2);
}

const filters: Record<Suite, string[]> = { node: [], e2e: [] };
for (const f of positionals) {
  if (f.includes('.spec.')) filters.e2e.push(f);
  else if (f.includes('.test.')) filters.node.push(f);
  else {
    filters.node.push(f);
    filters.e2e.push(f);
  }
}
const suites: Suite[] = (
  values.suite === 'both' ? (['node', 'e2e'] as const) : [values.suite as Suite]
).filter((s) => positionals.length === 0 || filters[s].length > 0);
if (suites.length === 0) {
  console.error(
    `[stress] no suite left: the filters ${positionals.join(' ')} name no file of --suite ${values.suite}`,
  );
  process.exit(2);
}
if (suites.includes('e2e') && !existsSync(path.join(ROOT, 'dist', 'public'))) {
  console.error('[stress] dist/public is missing: run `npm run build` before the e2e suite');
  process.exit(2);
}

function command(
  suite: Suite,
  report: string,
  round: number,
): { bin: string; args: string[]; env: NodeJS.ProcessEnv } {
  const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);
  if (suite === 'node') {
    const args = [
      'run',
      '--project',
      'node',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
    ];
    if (values.grep !== undefined) args.push('-t', values.grep);
    return { bin: bin('vitest'), args: [...args, ...filters.node], env: process.env };
  }
  // Its own output dir: Playwright empties the default test-results/ at start.
  const args = ['test', '--reporter=list,json', `--output=${path.join(OUT, `e2e-r${round}-results`)}`];
  if (values.grep !== undefined) args.push('--grep', values.grep);
  return {
    bin: bin('playwright'),
    args: [...args, ...filters.e2e],
    env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_FILE: report, PLAYWRIGHT_JSON_OUTPUT_NAME: report },
  };
}

let running: ReturnType<typeof spawn> | undefined;
let hog: CpuHog | undefined;

function cleanUp(): void {
  hog?.stop();
  // The suite runs in its own process group: take its browsers and servers too.
  if (running?.pid !== undefined && running.exitCode === null) {
    try {
      process.kill(-running.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`\n[stress] ${signal}: stopping the suite and the hog`);
    cleanUp();
    process.exit(130);
  });
}

interface RunResult {
  readonly outcomes: Outcome[];
  readonly exitCode: number | null;
  readonly seconds: number;
  readonly log: string;
}

async function runSuite(suite: Suite, round: number): Promise<RunResult> {
  const report = path.join(OUT, `${suite}-r${round}.json`);
  const log = path.join(OUT, `${suite}-r${round}.log`);
  rmSync(report, { force: true });
  const { bin, args, env } = command(suite, report, round);
  const started = Date.now();
  if (hogProcesses > 0) hog = startCpuHog({ processes: hogProcesses, boundMs: suiteTimeoutMs, cpu: hogCpu });
  const out = createWriteStream(log);
  const child = spawn(bin, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running = child;
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, suiteTimeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  hog?.stop();
  hog = undefined;
  running = undefined;
  await new Promise<void>((resolve) => out.end(resolve));

  const outcomes: Outcome[] = [];
  let parsed = false;
  if (existsSync(report)) {
    try {
      const json: unknown = JSON.parse(readFileSync(report, 'utf8'));
      outcomes.push(
        ...(suite === 'node'
          ? vitestOutcomes(json as VitestReport, ROOT)
          : playwrightOutcomes(json as PlaywrightReport)),
      );
      parsed = true;
    } catch (err) {
      outcomes.push({
        id: `(${suite} suite)`,
        status: 'failed',
        message: `unreadable report: ${String(err)}`,
      });
    }
  }
  if (timedOut) {
    outcomes.push({
      id: `(${suite} suite)`,
      status: 'failed',
      message: `killed after ${suiteTimeoutMs / 60_000} min`,
    });
  } else if (!parsed) {
    outcomes.push({ id: `(${suite} suite)`, status: 'failed', message: `no report, exit code ${exitCode}` });
  } else if (exitCode !== 0 && !outcomes.some((o) => o.status === 'failed')) {
    // e.g. an unhandled error outside any test: the suite is red, so is the tally.
    outcomes.push({ id: `(${suite} suite)`, status: 'failed', message: `exit code ${exitCode}, see ${log}` });
  }
  return { outcomes, exitCode, seconds: Math.round((Date.now() - started) / 1000), log };
}

mkdirSync(OUT, { recursive: true });
const tallies: Record<Suite, FailureTally> = { node: new FailureTally(), e2e: new FailureTally() };
const times: Record<Suite, number[]> = { node: [], e2e: [] };
console.log(
  `[stress] ${rounds} round(s) of ${suites.join(' + ')}${positionals.length ? ` (${positionals.join(' ')})` : ''}` +
    (hogProcesses > 0 ? `, CPU hog: ${hogProcesses} busy process(es) on core ${hogCpu}` : ', no CPU hog') +
    `; reports in ${path.relative(ROOT, OUT)}`,
);
for (let round = 1; round <= rounds; round++) {
  for (const suite of suites) {
    const r = await runSuite(suite, round);
    tallies[suite].record(r.outcomes);
    times[suite].push(r.seconds);
    const failed = r.outcomes.filter((o) => o.status === 'failed');
    console.log(
      `[stress] round ${round}/${rounds} ${suite}: ${failed.length} failed of ${r.outcomes.length} in ${r.seconds}s` +
        ` (exit ${r.exitCode}, log ${path.relative(ROOT, r.log)})`,
    );
    for (const f of failed) console.log(`           - ${f.id}`);
  }
}

console.log('');
for (const suite of suites) {
  console.log(formatTally(`[stress] ${suite}`, tallies[suite], rounds));
  console.log(`  wall time per round (s): ${times[suite].join(', ')}`);
}
const summary = Object.fromEntries(
  suites.map((s) => [
    s,
    { rounds, tests: tallies[s].tests, seconds: times[s], failing: tallies[s].failing() },
  ]),
);
writeFileSync(path.join(OUT, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
process.exitCode = suites.some((s) => tallies[s].totalFailures > 0) ? 1 : 0;
