// Throughput with 1 and 2 worker_threads, each running the codec on its own module instance.
import { Worker } from 'node:worker_threads';
import type { BenchContext } from '../types.js';
import { f1, loadPhoto } from './measure.js';

async function run(count: number, job: 'encode' | 'decode', data: object, ms: number): Promise<number> {
  const workers = Array.from(
    { length: count },
    () => new Worker(new URL('./workerEntry.mjs', import.meta.url), { workerData: { ...data, ms, job } }),
  );
  try {
    await Promise.all(workers.map((w) => new Promise((r, j) => w.once('message', r).once('error', j))));
    const results = workers.map((w) => new Promise<number>((r, j) => w.once('message', r).once('error', j)));
    for (const w of workers) w.postMessage('go');
    return (await Promise.all(results)).reduce((a, b) => a + b, 0);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export async function workerTable(ctx: BenchContext): Promise<string> {
  ctx.log('codecs: worker throughput');
  const p = await loadPhoto(ctx.root, 'astronaut.png');
  const data = { rgba: p.rgba, width: p.width, height: p.height };
  const ms = ctx.quick ? 300 : 1500;
  let md = `### Throughput with worker_threads (${p.name}, Mpix/s summed over workers)\n\n`;
  md += '| job | 1 worker | 2 workers | scaling |\n| --- | --- | --- | --- |\n';
  for (const job of ['encode', 'decode'] as const) {
    const one = await run(1, job, data, ms);
    const two = await run(2, job, data, ms);
    const label = job === 'encode' ? 'BC1 encode `fast`' : 'BC1 decode (reused buffer)';
    md += `| ${label} | ${f1(one)} | ${f1(two)} | ${(two / one).toFixed(2)}× |\n`;
  }
  return md;
}
