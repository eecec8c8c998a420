// BC1 quality/speed against libsquish (dxt-js), and decode speed against dxt-js and decode-dxt.
import decodeDXT from 'decode-dxt';
import dxt from 'dxt-js';
import { decodeBC1, decodeBC3, encodeBC1, encodeBC3 } from '../../src/wasm/blockCodec.js';
import type { CodecModule } from '../../src/wasm/codecModule.js';
import type { BenchContext } from '../types.js';
import { ddsTileTable } from './ddsTileBench.js';
import {
  bestOf,
  cpuTimeIt,
  f1,
  f2,
  HELD_OUT,
  loadPhoto,
  PHOTOS,
  type Photo,
  psnrRgb,
  ratio,
  TUNING,
} from './measure.js';

const UNIFORM = dxt.flags.ColourMetricUniform;

interface Row {
  name: string;
  psnr: number;
  mpix: number;
}

function encodeRow(
  name: string,
  photos: Photo[],
  mod: CodecModule,
  runs: number,
  fn: (p: Photo) => Uint8Array,
): Row {
  let psnr = 0;
  let ms = 0;
  let pixels = 0;
  for (const p of photos) {
    let blocks: Uint8Array = new Uint8Array(0);
    ms += bestOf(runs, () => {
      blocks = fn(p);
    });
    pixels += p.width * p.height;
    // every candidate is decoded by our decoder, which is bit-exact with libsquish's
    psnr += psnrRgb(p.rgba, decodeBC1(blocks, p.width, p.height, undefined, mod));
  }
  return { name, psnr: psnr / photos.length, mpix: pixels / ms / 1000 };
}

function encoderRows(photos: Photo[], mod: CodecModule, runs: number): Row[] {
  return [
    encodeRow('ours `fast`', photos, mod, runs, (p) =>
      encodeBC1(p.rgba, p.width, p.height, { quality: 'fast' }, mod),
    ),
    encodeRow('ours `high`', photos, mod, runs, (p) =>
      encodeBC1(p.rgba, p.width, p.height, { quality: 'high' }, mod),
    ),
    encodeRow('libsquish RangeFit', photos, mod, runs, (p) =>
      dxt.compress(p.rgba, p.width, p.height, dxt.flags.DXT1 | dxt.flags.ColourRangeFit | UNIFORM).slice(),
    ),
    encodeRow('libsquish ClusterFit', photos, mod, runs, (p) =>
      dxt.compress(p.rgba, p.width, p.height, dxt.flags.DXT1 | dxt.flags.ColourClusterFit | UNIFORM).slice(),
    ),
  ];
}

const mpixOf = (photos: Photo[]) => f2(photos.reduce((a, p) => a + p.width * p.height, 0) / 1e6);

function encoderTable(title: string, photos: Photo[], rows: Row[]): string {
  const [fast, high, range, cluster] = rows as [Row, Row, Row, Row];
  let md = `### BC1 encode, ${title} (${photos.length} images, ${mpixOf(photos)} Mpix, one thread)\n\n`;
  md += `${photos.map((p) => p.name).join(', ')}\n\n`;
  md += '| encoder | mean RGB PSNR (dB) | Mpix/s |\n| --- | --- | --- |\n';
  for (const r of rows) md += `| ${r.name} | ${f2(r.psnr)} | ${f2(r.mpix)} |\n`;
  md += '\n| target | measured | met |\n| --- | --- | --- |\n';
  const t = (label: string, value: string, ok: boolean) =>
    `| ${label} | ${value} | ${ok ? 'yes' : '**no**'} |\n`;
  md += t(
    '`high` ≥ ClusterFit + 0.2 dB',
    `${f2(high.psnr - cluster.psnr)} dB`,
    high.psnr >= cluster.psnr + 0.2,
  );
  md += t('`high` ≥ 10× ClusterFit speed', ratio(high.mpix / cluster.mpix), high.mpix >= 10 * cluster.mpix);
  md += t('`fast` ≥ RangeFit + 1 dB', `+${f2(fast.psnr - range.psnr)} dB`, fast.psnr >= range.psnr + 1);
  md += t(
    '`fast` ≥ 500 Mpix/s (etcpak: 2,969–5,730 native AVX2)',
    `${f1(fast.mpix)} Mpix/s, ${ratio(fast.mpix / range.mpix)} RangeFit`,
    fast.mpix >= 500,
  );
  return md;
}

export async function blockSection(ctx: BenchContext, mod: CodecModule): Promise<string> {
  const load = (names: string[]) => Promise.all(names.map((n) => loadPhoto(ctx.root, n)));
  const tuning = await load(ctx.quick ? TUNING.slice(0, 2) : TUNING);
  const heldOut = await load(ctx.quick ? HELD_OUT.slice(0, 2) : HELD_OUT);
  const photos = tuning.filter((p) => PHOTOS.includes(p.name));
  ctx.log(`codecs: BC1 encode on ${tuning.length} + ${heldOut.length} images`);
  // warm up the JIT on a small image so the first timed photo is not penalised
  encodeBC1(photos[0]!.rgba, photos[0]!.width, photos[0]!.height, { quality: 'high' }, mod);
  // every encoder gets the same number of timed runs per photo; the fastest counts
  const runs = ctx.quick ? 1 : 3;
  let md = encoderTable('tuning half', tuning, encoderRows(tuning, mod, runs));
  md += `\n${encoderTable('held-out half', heldOut, encoderRows(heldOut, mod, runs))}`;
  md += `\n${await decodeTable(ctx, photos[photos.length - 1]!, mod)}`;
  md += `\n${ddsTileTable(ctx, photos, mod)}`;
  return md;
}

async function decodeTable(ctx: BenchContext, p: Photo, mod: CodecModule): Promise<string> {
  ctx.log('codecs: BC decode');
  const { width: w, height: h } = p;
  const bc1 = encodeBC1(p.rgba, w, h, { quality: 'fast' }, mod);
  const bc3 = encodeBC3(p.rgba, w, h, { quality: 'fast' }, mod);
  const out = new Uint8Array(w * h * 4);
  const budget = ctx.quick ? 150 : 600;
  const mpix = (ms: number) => (w * h) / ms / 1000;
  // decode-dxt decodes whole blocks only: give it the 4-aligned part, count those pixels
  const w4 = w & ~3;
  const h4 = h & ~3;
  const dv1 = new DataView(encodeBC1(crop(p, w4, h4), w4, h4, { quality: 'fast' }, mod).buffer);
  const dv3 = new DataView(encodeBC3(crop(p, w4, h4), w4, h4, { quality: 'fast' }, mod).buffer);
  const m4 = (ms: number) => (w4 * h4) / ms / 1000;
  const rows: [string, number, number][] = [
    [
      'ours, into a reused buffer',
      mpix(cpuTimeIt(() => decodeBC1(bc1, w, h, out, mod), budget)),
      mpix(cpuTimeIt(() => decodeBC3(bc3, w, h, out, mod), budget)),
    ],
    [
      'ours, new array per call',
      mpix(cpuTimeIt(() => decodeBC1(bc1, w, h, undefined, mod), budget)),
      mpix(cpuTimeIt(() => decodeBC3(bc3, w, h, undefined, mod), budget)),
    ],
    [
      'libsquish (dxt-js)',
      mpix(cpuTimeIt(() => dxt.decompress(bc1, w, h, dxt.flags.DXT1), budget)),
      mpix(cpuTimeIt(() => dxt.decompress(bc3, w, h, dxt.flags.DXT5), budget)),
    ],
    [
      'decode-dxt',
      m4(cpuTimeIt(() => decodeDXT(dv1, w4, h4, 'dxt1'), budget)),
      m4(cpuTimeIt(() => decodeDXT(dv3, w4, h4, 'dxt5'), budget)),
    ],
  ];
  let md = `### BC decode (${p.name}, ${w}×${h}, one thread, Mpix/s of CPU time)\n\n| decoder | BC1 | BC3 |\n| --- | --- | --- |\n`;
  for (const [n, a, b] of rows) md += `| ${n} | ${f1(a)} | ${f1(b)} |\n`;
  const [into] = rows;
  md += `\nTargets: BC1 ≥ 1,000 Mpix/s: ${into[1] >= 1000 ? 'met' : '**missed**'} (${f1(into[1])}); `;
  md += `BC3 ≥ 300 Mpix/s: ${into[2] >= 300 ? 'met' : '**missed**'} (${f1(into[2])}).\n`;
  return md;
}

function crop(p: Photo, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) out.set(p.rgba.subarray(y * p.width * 4, y * p.width * 4 + w * 4), y * w * 4);
  return out;
}
