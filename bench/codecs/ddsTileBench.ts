// The `.dds` route's synchronous cost: one 256-px tile with its full mip chain through
// encodeDDS (what rasterToDDS runs on the event loop after sharp has decoded off-thread),
// per quality mode, BC1 (opaque) and BC3 (alpha); the mode is chosen by this table.

import { decodeBC1 } from '../../src/wasm/blockCodec.js';
import type { CodecModule } from '../../src/wasm/codecModule.js';
import { encodeDDS, parseDDS } from '../../src/wasm/dds.js';
import type { BenchContext } from '../types.js';
import { cpuTimeIt, f2, type Photo, psnrRgb } from './measure.js';

const TILE = 256;

/** Up to `max` 256x256 tiles cut from the photos, row-major, whole tiles only. */
export function tilesOf(photos: Photo[], max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of photos) {
    for (let ty = 0; ty + TILE <= p.height; ty += TILE) {
      for (let tx = 0; tx + TILE <= p.width; tx += TILE) {
        const t = new Uint8Array(TILE * TILE * 4);
        for (let y = 0; y < TILE; y++) {
          const o = ((ty + y) * p.width + tx) * 4;
          t.set(p.rgba.subarray(o, o + TILE * 4), y * TILE * 4);
        }
        out.push(t);
        if (out.length === max) return out;
      }
    }
  }
  return out;
}

export function ddsTileTable(ctx: BenchContext, photos: Photo[], mod: CodecModule): string {
  ctx.log('codecs: .dds tile cost');
  const opaque = tilesOf(photos, ctx.quick ? 4 : 16);
  // the same tiles with an alpha ramp: the BC3 path
  const alpha = opaque.map((t) => t.map((v, i) => (i % 4 === 3 ? (i >> 2) & 255 : v)));
  const budget = ctx.quick ? 40 : 200;
  let md = `### \`.dds\` route: one ${TILE}-px tile with its mip chain (${opaque.length} tiles of the photos, one thread)\n\n`;
  md +=
    '| mode | BC1 CPU ms/tile | BC1 top-level PSNR (dB) | BC3 CPU ms/tile | ≤ 1 ms (BC1 / BC3) |\n| --- | --- | --- | --- | --- |\n';
  for (const quality of ['fast', 'high'] as const) {
    let ms1 = 0;
    let ms3 = 0;
    let psnr = 0;
    for (let i = 0; i < opaque.length; i++) {
      ms1 += cpuTimeIt(() => encodeDDS(opaque[i]!, TILE, TILE, { quality }, mod), budget / opaque.length, 2);
      ms3 += cpuTimeIt(() => encodeDDS(alpha[i]!, TILE, TILE, { quality }, mod), budget / opaque.length, 2);
      const top = parseDDS(encodeDDS(opaque[i]!, TILE, TILE, { quality }, mod)).levels[0]!.data;
      psnr += psnrRgb(opaque[i]!, decodeBC1(top, TILE, TILE, undefined, mod));
    }
    ms1 /= opaque.length;
    ms3 /= opaque.length;
    md += `| \`${quality}\` | ${f2(ms1)} | ${f2(psnr / opaque.length)} | ${f2(ms3)} | ${ms1 <= 1 ? 'yes' : '**no**'} / ${ms3 <= 1 ? 'yes' : '**no**'} |\n`;
  }
  md +=
    '\nThe route encodes with `fast` (server/dds/rasterToDDS.ts): sharp decodes on its own thread, ' +
    'so this synchronous encode is the event-loop time per tile. Measured as CPU time of the process ' +
    '(preemption by other load on the machine does not count), lowest batch mean.\n';
  return md;
}
