// Codec benchmarks (bench/run.ts runs this): BC1 quality and speed against libsquish,
// BC decode against dxt-js and decode-dxt, base64 in Node and Chromium, the 64-tile JSON
// batch on the mission path (Chromium), worker scaling.
import { instantiateCodecModule } from '../../src/wasm/codecModule.js';
import type { BenchContext } from '../types.js';
import { base64BrowserTable, base64NodeTable } from './base64Bench.js';
import { blockSection } from './blockBench.js';
import { jsonBatchTable } from './jsonBatchBench.js';
import { workerTable } from './workerBench.js';

export default async function codecs(ctx: BenchContext): Promise<string> {
  const mod = await instantiateCodecModule();
  const parts = [
    `## Codecs (WASM, ${mod.flavour} build)`,
    await blockSection(ctx, mod),
    await base64NodeTable(ctx, mod),
    await base64BrowserTable(ctx),
    await jsonBatchTable(ctx),
    await workerTable(ctx),
    'Method: every row is measured in the same process and run; images are the fixtures in ' +
      '`fixtures/images` decoded by sharp; PSNR is over R, G, B of the decoded result (our decoder, ' +
      'bit-exact with libsquish); libsquish runs with the uniform colour metric; encoders: fastest of ' +
      'the same number of runs each, lowest CPU time of the process (so preemption on a loaded machine ' +
      'does not count; equal to wall time on a quiet one); the held-out half is never used for tuning; other rows: fastest batch mean after a warm-up call (preemption on a ' +
      'shared machine only adds time); all include the copies into and out of WASM memory.',
  ];
  return parts.join('\n\n');
}
