// Timing helpers shared by the codec bench sections (Node side).
import sharp from 'sharp';

/** Mean ms per call: one warm-up, then calls until `budgetMs` has passed (at least `min`). */
export function timeIt(fn: () => unknown, budgetMs: number, min = 3): number {
  fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (n < min || t - t0 < budgetMs) {
    fn();
    n++;
    t = performance.now();
  }
  return (t - t0) / n;
}

export interface Photo {
  name: string;
  width: number;
  height: number;
  rgba: Uint8Array;
}

export const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'hubble_deep_field.jpg', 'rocket.jpg'];

export async function loadPhoto(root: string, name: string): Promise<Photo> {
  const { data, info } = await sharp(`${root}/fixtures/images/${name}`)
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
