// base64 on the path the mission uses (issue 16): one 64-tile JSON batch body (the seeds'
// format, 15 KiB tiles) from response bytes to 64 tile byte arrays in headless Chromium.
// Ours (the pool worker's decoder, `decodeBatchJson` on the body bytes, in a worker) vs
// `await res.json()` + `Uint8Array.fromBase64` per tile on the page (the best native path)
// vs the seeds' page code (`atob` + a copy loop), with the page's main-thread busy time
// (CDP Performance.TaskDuration / ThreadTime) for each.
import type { Server } from 'node:http';
import { build } from 'esbuild';
import { chromium, type Page } from 'playwright-core';
import type { BenchContext } from '../types.js';
import { f2, ratio } from './measure.js';
import { servePage } from './servePage.js';

const TILES = 64;
const TILE_BYTES = 15 * 1024;

/** The companion server's JSON batch answer (server/routes/batchRoute.ts) for 64 incompressible tiles. */
export function batchBody(): Buffer {
  const tiles: Record<string, string> = {};
  for (let t = 0; t < TILES; t++) {
    const b = Buffer.alloc(TILE_BYTES);
    // JPEG-like entropy: a multiplicative hash, different per tile
    for (let i = 0; i < b.length; i++) b[i] = Math.imul(i + t * 7919, 2654435761) >>> 24;
    tiles[`12/${1000 + (t % 8)}/${2000 + (t >> 3)}.jpg`] = b.toString('base64');
  }
  const body = {
    dataset_id: 'bench',
    count: TILES,
    tiles,
    cache_stats: { hits: 12, misses: 52, hit_rate: 0.1875, cache_size: 64, cache_max: 500 },
  };
  return Buffer.from(JSON.stringify(body));
}

async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    write: false,
    target: 'es2022',
  });
  return out.outputFiles[0]!.text;
}

async function serve(root: string): Promise<{ server: Server; url: string }> {
  return servePage(root, {
    '/': ['text/html', '<!doctype html><script type="module" src="/page.js"></script>'],
    '/page.js': ['text/javascript', await bundle(`${root}/bench/codecs/jsonBatch.page.ts`)],
    '/worker.js': ['text/javascript', await bundle(`${root}/bench/codecs/jsonBatchWorker.page.ts`)],
    '/batch.json': ['application/json', batchBody()],
  });
}

const MODES = ['ours', 'native', 'seeds', 'native-worker', 'ours-main'] as const;
type Mode = (typeof MODES)[number];
const LABEL: Record<Mode, string> = {
  ours: 'ours: `decodeBatchJson` on the body bytes, in a worker (pool decoder), tiles transferred',
  native: '`await res.json()` + `Uint8Array.fromBase64` per tile, main thread',
  seeds: "the seeds' page code: `await res.json()` + `atob` + copy loop, main thread",
  'native-worker': '`res.json()` + `fromBase64` in a worker, tiles transferred',
  'ours-main': 'ours on the main thread (for the stage costs)',
};

interface Api {
  setup(): Promise<{ flavour: string; bytes: number; native: boolean }>;
  run(mode: Mode, iters: number): Promise<{ ms: number[]; sum: number; tiles: number }>;
  stages(budget: number): Promise<Record<string, number>>;
}

async function call<T>(page: Page, fn: string, args: unknown[]): Promise<T> {
  return (await page.evaluate(
    ([f, a]) => {
      const api = (globalThis as unknown as { jsonBatchBench: Record<string, (...x: unknown[]) => unknown> })
        .jsonBatchBench;
      return api[f as string]!(...(a as unknown[]));
    },
    [fn, args] as const,
  )) as T;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function jsonBatchTable(ctx: BenchContext): Promise<string> {
  const head = '### base64 on the mission path: a 64-tile JSON batch in headless Chromium';
  if (!ctx.chromiumPath) return `${head}\n\nSkipped: no Chromium on this machine.\n`;
  ctx.log('codecs: 64-tile JSON batch in headless Chromium');
  const { server, url } = await serve(ctx.root);
  const browser = await chromium.launch({ executablePath: ctx.chromiumPath, args: ctx.chromiumArgs });
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => 'jsonBatchBench' in globalThis, undefined, { timeout: 20_000 });
    const info = await call<Awaited<ReturnType<Api['setup']>>>(page, 'setup', []);
    if (!info.native) return `${head}\n\nSkipped: this Chromium has no Uint8Array.fromBase64.\n`;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = async () => {
      const { metrics: m } = await cdp.send('Performance.getMetrics');
      const v = (n: string) => m.find((x) => x.name === n)?.value ?? 0;
      return { task: v('TaskDuration') * 1000, cpu: v('ThreadTime') * 1000 };
    };
    const rounds = ctx.quick ? 2 : 8;
    const iters = ctx.quick ? 3 : 10;
    const wall: Record<Mode, number[]> = {
      ours: [],
      native: [],
      seeds: [],
      'native-worker': [],
      'ours-main': [],
    };
    const busy: Record<Mode, number[]> = {
      ours: [],
      native: [],
      seeds: [],
      'native-worker': [],
      'ours-main': [],
    };
    const cpu: Record<Mode, number[]> = {
      ours: [],
      native: [],
      seeds: [],
      'native-worker': [],
      'ours-main': [],
    };
    const sums = new Map<Mode, number>();
    for (const m of MODES) await call(page, 'run', [m, 2]); // warm-up (JIT, wasm tier-up)
    // Interleaved rounds: the machine's load drifts, so no mode gets only the quiet moments.
    for (let r = 0; r < rounds; r++) {
      for (const m of MODES) {
        const m0 = await metrics();
        const res = await call<{ ms: number[]; sum: number; tiles: number }>(page, 'run', [m, iters]);
        const m1 = await metrics();
        if (res.tiles !== TILES) throw new Error(`${m}: ${res.tiles} tiles, expected ${TILES}`);
        const prev = sums.get(m);
        if (prev !== undefined && prev !== res.sum) throw new Error(`${m}: tile bytes changed between runs`);
        sums.set(m, res.sum);
        wall[m].push(Math.min(...res.ms));
        busy[m].push((m1.task - m0.task) / iters);
        cpu[m].push((m1.cpu - m0.cpu) / iters);
      }
    }
    const distinct = new Set(sums.values());
    if (distinct.size !== 1)
      throw new Error(`modes disagree on the tile bytes: ${JSON.stringify([...sums])}`);
    const stages = await call<Record<string, number>>(page, 'stages', [ctx.quick ? 100 : 400]);
    const best = (m: Mode) => Math.min(...wall[m]);
    const mb = info.bytes / 1e6;
    let md = `${head} (${info.flavour} build)\n\n`;
    md += `One body of ${(info.bytes / 1024).toFixed(0)} KiB (${TILES} tiles × ${TILE_BYTES / 1024} KiB, the companion server's format), from response bytes (a \`Response\` over bytes already fetched) to ${TILES} \`Uint8Array\`s on the page. Wall: fastest of ${rounds} interleaved rounds × ${iters} runs; main-thread busy: CDP TaskDuration (and ThreadTime, CPU) per batch, median over rounds.\n\n`;
    md +=
      '| path | wall ms per batch (best) | median of round bests | MB/s of body | main-thread task ms per batch | main-thread CPU ms per batch |\n';
    md += '| --- | ---: | ---: | ---: | ---: | ---: |\n';
    for (const m of MODES) {
      md += `| ${LABEL[m]} | ${f2(best(m))} | ${f2(median(wall[m]))} | ${(mb / (best(m) / 1000)).toFixed(0)} | ${f2(median(busy[m]))} | ${f2(median(cpu[m]))} |\n`;
    }
    const vsNative = best('native') / best('ours');
    const vsSeeds = best('seeds') / best('ours');
    const busyOurs = median(busy.ours);
    const busyNative = median(busy.native);
    md += `\nTargets: ours vs native ${ratio(vsNative)} wall (target ≥ 2×: ${vsNative >= 2 ? 'met' : '**missed**'}); vs the seeds ${ratio(vsSeeds)} (target ≥ 5×: ${vsSeeds >= 5 ? 'met' : '**missed**'}); main thread ${f2(busyOurs)} ms per batch vs ${f2(busyNative)} ms for native (${f2((100 * busyOurs) / busyNative)} %: the worker's receive only).\n\n`;
    md +=
      'Where the time goes (in the worker, fastest single call of each stage alone; the native rows are what `res.json()` + `fromBase64` spend from the same start):\n\n| stage | ms |\n| --- | ---: |\n';
    for (const [k, v] of Object.entries(stages)) md += `| ${k} | ${f2(v)} |\n`;
    return md;
  } finally {
    await browser.close();
    server.close();
  }
}
