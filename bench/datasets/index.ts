// Dataset kinds bench (issue 14), `npm run bench -- --only=datasets`, side by side:
// the same 341-tile pyramid (z 0..4, 2-6 KiB tiles) as a z/x/y tree of files
// and as one PMTiles v3 archive (leaf directories of 64 entries), behind an
// origin with 40 ms latency. Cold: a fresh server loads four 64-tile viewports
// (z=4) as batches; warm: the same batches again (memory hits). Reported:
// tiles/s, origin requests per tile, and the archive's directory reads.
import { randomBytes } from 'node:crypto';
import { TileType, tileIdToZxy } from 'pmtiles';
import { type Stack, startStack } from '../../e2e/harness/startStack.js';
import { type PmtilesInputTile, writePmtiles } from '../../server/tiler/writePmtiles.js';
import type { BenchContext } from '../types.js';

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function pyramid(): { files: Record<string, Uint8Array>; tiles: PmtilesInputTile[] } {
  const tiles: PmtilesInputTile[] = [];
  for (let id = 0; id < 341; id++) {
    const [z, x, y] = tileIdToZxy(id);
    tiles.push({ z, x, y, bytes: randomBytes(2048 + ((id * 97) % 4096)) });
  }
  const files: Record<string, Uint8Array> = {};
  for (const t of tiles) files[`tree/${t.z}/${t.x}/${t.y}.png`] = t.bytes;
  files['arch.pmtiles'] = writePmtiles(tiles, { tileType: TileType.Png, leafSize: 64 });
  return { files, tiles };
}

/** Four 64-tile viewports (8 x 8) of z=4, the whole level. */
const VIEWPORTS = [0, 8].flatMap((x0) =>
  [0, 8].map((y0) => Array.from({ length: 64 }, (_, i) => `4/${x0 + (i % 8)}/${y0 + Math.floor(i / 8)}.png`)),
);

async function loadAll(stack: Stack, dataset: string): Promise<number> {
  const t0 = performance.now();
  for (const keys of VIEWPORTS) {
    const r = await fetch(`${stack.serverUrl}/api/tiles/${dataset}/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tiles: keys }),
      signal: AbortSignal.timeout(60_000),
    });
    const body = (await r.json()) as { tiles: Record<string, string | null> };
    const got = Object.values(body.tiles).filter((t) => t !== null).length;
    if (got !== keys.length) throw new Error(`${dataset}: ${got} of ${keys.length} tiles`);
  }
  return performance.now() - t0;
}

interface Run {
  coldMs: number;
  warmMs: number;
  originRequests: number;
}

async function once(files: Record<string, Uint8Array>, dataset: string, prefix: string): Promise<Run> {
  const stack = await startStack({ origin: { files, latencyMs: 40 }, config: { datasetDiscovery: 'auto' } });
  try {
    const coldMs = await loadAll(stack, dataset);
    const originRequests = stack.origin.requests.filter((r) => r.key.startsWith(prefix)).length;
    const warmMs = await loadAll(stack, dataset);
    return { coldMs, warmMs, originRequests };
  } finally {
    await stack.close();
  }
}

export default async function datasetsBench(ctx: BenchContext): Promise<string> {
  const rounds = ctx.quick ? 1 : 5;
  const { files } = pyramid();
  const tiles = VIEWPORTS.flat().length;
  const tree: Run[] = [];
  const arch: Run[] = [];
  for (let r = 0; r < rounds; r++) {
    ctx.log(`datasets: round ${r + 1}/${rounds}`);
    // In turn: on a shared machine the load drifts over a run.
    // Every origin request naming the dataset: its tiles and its three probes.
    tree.push(await once(files, 'tree', 'tree'));
    arch.push(await once(files, 'arch', 'arch'));
  }
  const rate = (runs: Run[], k: 'coldMs' | 'warmMs') => median(runs.map((x) => (tiles * 1000) / x[k]));
  const reqs = (runs: Run[]) => median(runs.map((x) => x.originRequests));
  // Archive requests beyond one per tile: the header+root probe, the leaf directories, the 2 other probes (404).
  const dirReads = reqs(arch) - tiles - 2;
  const row = (name: string, runs: Run[]) =>
    `| ${name} | ${fmt(rate(runs, 'coldMs'))} | ${fmt(rate(runs, 'warmMs'))} | ${fmt(reqs(runs) / tiles, 3)} | ${fmt(reqs(runs))} |`;
  return [
    '## Dataset kinds (PMTiles vs files)',
    '',
    `The same 341-tile pyramid as files (\`tree/{z}/{x}/{y}.png\`) and as one PMTiles v3 archive (leaf directories of 64 entries, written by server/tiler/writePmtiles.ts), origin latency 40 ms, DATASET_DISCOVERY=auto. A fresh server per round loads the 256 tiles of z=4 as four JSON batches of 64 (cold), then again (warm, memory hits); ${rounds} round(s), medians.`,
    '',
    '| dataset | cold tiles/s | warm tiles/s | origin requests / tile (cold) | origin requests (cold) |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('z/x/y files', tree),
    row('PMTiles archive', arch),
    '',
    `Archive reads beyond one range per tile: ${fmt(dirReads)} (the 16 KiB header+root probe, which the reader reuses, and ${fmt(dirReads - 1)} leaf directories, each read once: concurrent misses share the read, then it is cached), plus the \`arch.dzi\` and \`arch/manifest.json\` probes (404). The tree's extra ${fmt(reqs(tree) - tiles)} requests are its three probes (\`tree.pmtiles\`, \`tree.dzi\`, \`tree/manifest.json\`, all 404), once per dataset. One quick run on a loaded machine: the warm rows are the same memory-hit path for both kinds, so their gap is noise here.`,
  ].join('\n');
}
