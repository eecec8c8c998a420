// Reads a soak's memory evidence (bench/soak/out/<run>/) and prints markdown tables:
//   node --import tsx bench/soak/memorySeries.ts DIR [every-minutes=10]
// (1) PSS per Chromium process kind every N minutes (memory.csv), (2) per process kind, the
// memory-infra allocators that moved most between the first and the last dump, at every dump.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Dump = Record<string, Record<string, number>>;

/** Rows of memory.csv picked every `every` minutes (and the last one). */
export function pssTable(csv: string, every: number): string {
  const [head, ...lines] = csv.trim().split('\n');
  const cols = head!.split(',');
  const rows = lines.map((l) => l.split(',').map(Number));
  const picked: number[][] = [];
  let next = 0;
  for (const r of rows) {
    if (r[0]! >= next) {
      picked.push(r);
      next = Math.floor(r[0]! / every + 1) * every;
    }
  }
  if (rows.length > 0 && picked.at(-1) !== rows.at(-1)) picked.push(rows.at(-1)!);
  const show = cols
    .map((c, i) => [c, i] as const)
    .filter(([c]) => !['renderers', 'zygote', 'tabs_dom_nodes', 'sw_cache_size'].includes(c));
  return [
    `| ${show.map(([c]) => c).join(' | ')} |`,
    `| ${show.map(() => '---').join(' | ')} |`,
    ...picked.map((r) => `| ${show.map(([, i]) => r[i]!.toFixed(i === 0 ? 0 : 1)).join(' | ')} |`),
  ].join('\n');
}

/** Per process kind: the allocators that moved ≥ `min` MB first → last dump, their size at every dump. */
export function dumpTable(dumps: Array<{ min: number; label: string; dump: Dump }>, min = 5): string {
  if (dumps.length < 2) return '(fewer than two memory-infra dumps)';
  const first = dumps[0]!.dump;
  const last = dumps.at(-1)!.dump;
  const out = [
    `| kind / allocator (MB) | ${dumps.map((d) => `${d.min.toFixed(0)} min ${d.label === 'walk' ? '' : d.label}`.trim()).join(' | ')} |`,
    `| --- | ${dumps.map(() => '---').join(' | ')} |`,
  ];
  for (const kind of Object.keys(last).sort()) {
    const moved = Object.keys(last[kind]!)
      .filter((a) => Math.abs(last[kind]![a]! - (first[kind]?.[a] ?? 0)) >= min)
      .sort(
        (a, b) => last[kind]![b]! - (first[kind]?.[b] ?? 0) - (last[kind]![a]! - (first[kind]?.[a] ?? 0)),
      );
    for (const a of moved)
      out.push(`| ${kind} ${a} | ${dumps.map((d) => (d.dump[kind]?.[a] ?? 0).toFixed(1)).join(' | ')} |`);
  }
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node --import tsx bench/soak/memorySeries.ts DIR [every-minutes]');
    process.exit(2);
  }
  const every = Number(process.argv[3] ?? 10);
  console.log(pssTable(await readFile(path.join(dir, 'memory.csv'), 'utf8'), every));
  const dumps = (await readFile(path.join(dir, 'memdumps.jsonl'), 'utf8').catch(() => ''))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { min: number; label: string; dump: Dump });
  console.log(`\n${dumpTable(dumps)}`);
}
