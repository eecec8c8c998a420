// `npm run bench`: every benchmark section in one run, side by side, written
// to BENCHMARKS.md with the machine and the command. `--quick` makes each
// section do fewer iterations (same code paths); `--only a,b` runs some areas.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// @ts-expect-error plain ESM helper shared with the test configs
import { chromiumArgs, findChromium } from '../scripts/chromium.mjs';
import type { BenchContext, BenchSection } from './types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const only = onlyArg ? new Set(onlyArg.split(',')) : undefined;
// The order sections appear in BENCHMARKS.md.
const ORDER = ['server', 'codecs', 'sw', 'firefox', 'session', 'datasets', 'guard', 'client', 'shared-cache'];

const areas = readdirSync(join(root, 'bench'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'bench', d.name, 'index.ts')))
  .map((d) => d.name)
  .filter((a) => !only || only.has(a))
  .sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99));

const ctx: BenchContext = {
  root,
  chromiumPath: await findChromium(),
  chromiumArgs,
  quick,
  log: (m) => process.stderr.write(`[bench] ${m}\n`),
};

// Each section is wrapped in markers so that `--only` replaces just its own
// sections in BENCHMARKS.md and keeps the others from their last full run.
const begin = (area: string) => `<!-- bench:${area} -->`;
const end = (area: string) => `<!-- /bench:${area} -->`;
const sections = new Map<string, string>();
let failed = 0;
for (const area of areas) {
  const t0 = performance.now();
  ctx.log(`${area}: start`);
  try {
    const mod = (await import(pathToFileURL(join(root, 'bench', area, 'index.ts')).href)) as {
      default: BenchSection;
    };
    sections.set(area, (await mod.default(ctx)).trim());
  } catch (e) {
    failed++;
    const msg = e instanceof Error ? e.message : String(e);
    sections.set(area, `## ${area}\n\nThis section failed in this run: \`${msg.split('\n')[0]}\``);
    ctx.log(`${area}: FAILED ${e instanceof Error ? e.stack : e}`);
  }
  ctx.log(`${area}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const machine = `Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}.`;
const date = new Date().toISOString().slice(0, 10);
const command = `npm run bench${quick ? ' -- --quick' : ''}${onlyArg ? ` -- --only=${onlyArg}` : ''}`;

/** The sections of the last BENCHMARKS.md, by area (empty when it has no markers). */
function previousSections(): Map<string, string> {
  const out = new Map<string, string>();
  const file = join(root, 'BENCHMARKS.md');
  if (!existsSync(file)) return out;
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/<!-- bench:([\w-]+) -->\n([\s\S]*?)\n<!-- \/bench:\1 -->/g)) {
    out.set(m[1] as string, (m[2] as string).trim());
  }
  return out;
}

const merged = only ? previousSections() : new Map<string, string>();
for (const [area, text] of sections) {
  merged.set(area, `${text}\n\n_Section written by \`${command}\` on ${date}; ${machine.toLowerCase()}_`);
}
const ordered = [...merged.keys()].sort(
  (a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99),
);
const header = `# Benchmarks

Written by \`${command}\` on ${date}${only ? ' (other sections keep the run that wrote them; each says which)' : ''}.
${machine}
Every table compares paths measured in the same run; read the ratios; absolute
times on a shared 2-core machine are noise.
`;
const body = ordered.map((a) => `${begin(a)}\n${merged.get(a)}\n${end(a)}`).join('\n\n');
writeFileSync(join(root, 'BENCHMARKS.md'), `${header}\n${body}\n`);
ctx.log(`wrote BENCHMARKS.md (${sections.size} sections run, ${merged.size} in the file, ${failed} failed)`);
process.exit(failed > 0 ? 1 : 0);
