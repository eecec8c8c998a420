// Timing helpers shared by the codec bench sections (Node side).
import sharp from 'sharp';

/**
 * ms per call, robust to a shared machine: one warm-up, then batches of calls for about
 * `budgetMs` in total; the fastest batch's mean is returned (preemption only adds time).
 */
export function timeIt(fn: () => unknown, budgetMs: number, min = 3): number {
  fn();
  const t0 = performance.now();
  let best = Number.POSITIVE_INFINITY;
  let calls = 0;
  while (calls < min || performance.now() - t0 < budgetMs) {
    const b0 = performance.now();
    let n = 0;
    do {
      fn();
      n++;
    } while (performance.now() - b0 < budgetMs / 8);
    best = Math.min(best, (performance.now() - b0) / n);
    calls += n;
  }
  return best;
}

/**
 * CPU ms per call (this process's user + system time, so preemption on a loaded machine
 * does not count): batches of calls for about `budgetMs` of wall time, the lowest mean.
 */
export function cpuTimeIt(fn: () => unknown, budgetMs: number, min = 3): number {
  fn();
  const t0 = performance.now();
  let best = Number.POSITIVE_INFINITY;
  let calls = 0;
  while (calls < min || performance.now() - t0 < budgetMs) {
    const c0 = process.cpuUsage();
    const b0 = performance.now();
    let n = 0;
    do {
      fn();
      n++;
    } while (performance.now() - b0 < budgetMs / 8);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000 / n);
    calls += n;
  }
  return best;
}

/**
 * The lowest CPU ms (this process's user + system time) of `runs` calls, the same count for
 * every encoder compared: preemption by other load on a shared machine does not count.
 */
export function bestOf(runs: number, fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  return best;
}

export interface Photo {
  name: string;
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** The five photos the encoders were developed on (the `.dds` tile table uses them too). */
export const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'hubble_deep_field.jpg', 'rocket.jpg'];
/** Tuning half of the corpus: the photos plus one texture, one microscopy slide, printed text. */
export const TUNING = [...PHOTOS, 'brick.png', 'ihc.png', 'text.png'];
/**
 * Held-out half: never looked at while tuning (fixtures/images/LICENSE.md): a texture, a
 * microscopy image, grey photos, flat graphics with alpha.
 */
export const HELD_OUT = ['grass.png', 'cell.png', 'coins.png', 'clock_motion.png', 'horse.png'];

export async function loadPhoto(root: string, name: string): Promise<Photo> {
  const { data, info } = await sharp(`${root}/fixtures/images/${name}`)
    .toColourspace('srgb') // grey images become RGB
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { name, width: info.width, height: info.height, rgba: new Uint8Array(data) };
}

/** Mean PSNR over R, G and B (the uniform metric libsquish's ColourMetricUniform optimises). */
export function psnrRgb(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i += 4) {
    const dr = a[i]! - b[i]!;
    const dg = a[i + 1]! - b[i + 1]!;
    const db = a[i + 2]! - b[i + 2]!;
    s += dr * dr + dg * dg + db * db;
  }
  return s === 0 ? 99 : 10 * Math.log10((255 * 255 * (a.length / 4) * 3) / s);
}

export const f1 = (v: number) => v.toFixed(1);
export const f2 = (v: number) => v.toFixed(2);
export const ratio = (v: number) => `${v.toFixed(1)}×`;
