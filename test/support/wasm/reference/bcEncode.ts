// Plain-TS reference BC1/BC3 encoder (tests only): bounding-box endpoints, nearest-palette
// indices, no refinement. The wasm encoder must never be worse than this.
import { refAlphaPalette, refColourPalette } from './bcDecode.js';

function to565(r: number, g: number, b: number): number {
  return (Math.round((r * 31) / 255) << 11) | (Math.round((g * 63) / 255) << 5) | Math.round((b * 31) / 255);
}

function nearest(pal: number[][], p: number[], n: number): [number, number] {
  let best = Infinity;
  let idx = 0;
  for (let k = 0; k < n; k++) {
    const e = (p[0]! - pal[k]![0]!) ** 2 + (p[1]! - pal[k]![1]!) ** 2 + (p[2]! - pal[k]![2]!) ** 2;
    if (e < best) [best, idx] = [e, k];
  }
  return [idx, best];
}

export function refEncode(
  format: 'bc1' | 'bc3',
  rgba: Uint8Array,
  width: number,
  height: number,
): Uint8Array {
  const bw = Math.ceil(width / 4);
  const bh = Math.ceil(height / 4);
  const size = format === 'bc1' ? 8 : 16;
  const out = new Uint8Array(bw * bh * size);
  const dv = new DataView(out.buffer);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      const px: number[][] = [];
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) {
          const sx = Math.min(bx * 4 + x, width - 1);
          const sy = Math.min(by * 4 + y, height - 1);
          const o = (sy * width + sx) * 4;
          px.push([rgba[o]!, rgba[o + 1]!, rgba[o + 2]!, rgba[o + 3]!]);
        }
      }
      const at = (by * bw + bx) * size;
      const c = format === 'bc1' ? at : at + 8;
      const lo = [0, 1, 2].map((k) => Math.min(...px.map((p) => p[k]!)));
      const hi = [0, 1, 2].map((k) => Math.max(...px.map((p) => p[k]!)));
      let c0 = to565(hi[0]!, hi[1]!, hi[2]!);
      let c1 = to565(lo[0]!, lo[1]!, lo[2]!);
      if (c0 < c1) [c0, c1] = [c1, c0];
      const pal = refColourPalette(c0, c1, format === 'bc3');
      let bits = 0;
      px.forEach((p, i) => {
        bits |= nearest(pal, p, c0 === c1 ? 1 : 4)[0] << (2 * i);
      });
      dv.setUint16(c, c0, true);
      dv.setUint16(c + 2, c1, true);
      dv.setUint32(c + 4, bits >>> 0, true);
      if (format === 'bc3') {
        const a = px.map((p) => p[3]!);
        const a0 = Math.max(...a);
        const a1 = Math.min(...a);
        const apal = refAlphaPalette(a0, a1);
        let abits = 0n;
        a.forEach((v, i) => {
          let k = 0;
          for (let j = 1; j < 8; j++) if (Math.abs(apal[j]! - v) < Math.abs(apal[k]! - v)) k = j;
          abits |= BigInt(k) << BigInt(3 * i);
        });
        out[at] = a0;
        out[at + 1] = a1;
        for (let k = 0; k < 6; k++) out[at + 2 + k] = Number((abits >> BigInt(8 * k)) & 255n);
      }
    }
  }
  return out;
}
