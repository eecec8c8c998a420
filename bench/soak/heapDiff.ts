// Summarises V8 heap snapshots (.heapsnapshot, as HeapProfiler.takeHeapSnapshot writes them) by
// constructor / node type, self size and count, and diffs two of them:
//   node --import tsx bench/soak/heapDiff.ts START.heapsnapshot END.heapsnapshot [top=15]
// Self size only (no dominator tree): enough to tell objects our code keeps (constructors such as
// Map, Uint8Array, Response, closures of our modules) from the heap staying flat while Chromium's
// native memory grows. ArrayBuffer backing stores appear as `(native) system / JSArrayBufferData`.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  count: number;
  self: number;
}

export interface HeapSummary {
  total: number;
  nodes: number;
  groups: Map<string, HeapGroup>;
}

/** The grouping DevTools' summary view uses, roughly: constructors by name, the rest by node type. */
function groupKey(type: string, name: string): string {
  if (type === 'object' || type === 'closure') return name;
  if (type === 'native' || type === 'hidden' || type === 'object shape')
    return `(${type}) ${name.replace(/ ?[@/]? ?\d+$/, '').slice(0, 60)}`;
  return `(${type})`;
}

export function summarise(s: Snapshot): HeapSummary {
  const f = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0] as string[];
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const groups = new Map<string, HeapGroup>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const key = groupKey(types[s.nodes[i + iType]!] ?? '?', s.strings[s.nodes[i + iName]!] ?? '?');
    const size = s.nodes[i + iSize]!;
    const g = groups.get(key) ?? { count: 0, self: 0 };
    g.count++;
    g.self += size;
    groups.set(key, g);
    total += size;
  }
  return { total, nodes: s.nodes.length / width, groups };
}

export async function summariseFile(file: string): Promise<HeapSummary> {
  return summarise(JSON.parse(await readFile(file, 'utf8')) as Snapshot);
}

const mb = (b: number) => (b / 2 ** 20).toFixed(2);
const kb = (b: number) => `${b >= 0 ? '+' : ''}${(b / 1024).toFixed(0)}`;

/** A markdown table: the groups whose self size moved most, start → end. */
export function diffTable(a: HeapSummary, b: HeapSummary, top = 15): string {
  const keys = new Set([...a.groups.keys(), ...b.groups.keys()]);
  const rows = [...keys]
    .map((k) => {
      const x = a.groups.get(k) ?? { count: 0, self: 0 };
      const y = b.groups.get(k) ?? { count: 0, self: 0 };
      return { k, x, y, d: y.self - x.self };
    })
    .sort((p, q) => Math.abs(q.d) - Math.abs(p.d))
    .slice(0, top);
  return [
    `heap self size ${mb(a.total)} → ${mb(b.total)} MB (${kb(b.total - a.total)} KB), nodes ${a.nodes} → ${b.nodes}`,
    '',
    '| constructor / type | count start → end | self size start → end, KB | Δ KB |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.k.replaceAll('|', '\\|') || '(empty)'} | ${r.x.count} → ${r.y.count} | ${(r.x.self / 1024).toFixed(0)} → ${(r.y.self / 1024).toFixed(0)} | ${kb(r.d)} |`,
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [start, end, top] = process.argv.slice(2);
  if (!start || !end) {
    console.error(
      'usage: node --import tsx bench/soak/heapDiff.ts START.heapsnapshot END.heapsnapshot [top]',
    );
    process.exit(2);
  }
  console.log(diffTable(await summariseFile(start), await summariseFile(end), Number(top ?? 15)));
}
