// Plain-TS reference BC1/BC3 decoder (tests only). Same documented rounding as the wasm
// codec: bit-replicated 565, interpolants floor((2a+b)/3), floor((a+b)/2), floor(.../7), floor(.../5).
function rgb565(c: number): [number, number, number] {
  const r = (c >> 11) & 31;
  const g = (c >> 5) & 63;
  const b = c & 31;
  // bit replication (not round(v*255/31), which differs by one for some v), as libsquish
  return [r * 8 + Math.floor(r / 4), g * 4 + Math.floor(g / 16), b * 8 + Math.floor(b / 4)];
}

export function refColourPalette(c0: number, c1: number, four: boolean): number[][] {
  const a = rgb565(c0);
  const b = rgb565(c1);
  if (four || c0 > c1) {
    return [
      [...a, 255],
      [...b, 255],
      [0, 1, 2].map((i) => Math.floor((2 * a[i]! + b[i]!) / 3)).concat(255),
      [0, 1, 2].map((i) => Math.floor((a[i]! + 2 * b[i]!) / 3)).concat(255),
    ];
  }
  return [
    [...a, 255],
    [...b, 255],
    [0, 1, 2].map((i) => Math.floor((a[i]! + b[i]!) / 2)).concat(255),
    [0, 0, 0, 0],
  ];
}

export function refAlphaPalette(a0: number, a1: number): number[] {
  if (a0 > a1) return [a0, a1, ...[1, 2, 3, 4, 5, 6].map((i) => Math.floor(((7 - i) * a0 + i * a1) / 7))];
  return [a0, a1, ...[1, 2, 3, 4].map((i) => Math.floor(((5 - i) * a0 + i * a1) / 5)), 0, 255];
}

export function refDecode(
  format: 'bc1' | 'bc3',
  data: Uint8Array,
  width: number,
  height: number,
): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  const size = format === 'bc1' ? 8 : 16;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  for (let by = 0; by < height; by += 4) {
    for (let bx = 0; bx < width; bx += 4) {
      const c = format === 'bc1' ? at : at + 8;
      const pal = refColourPalette(dv.getUint16(c, true), dv.getUint16(c + 2, true), format === 'bc3');
      const bits = dv.getUint32(c + 4, true);
      const apal = format === 'bc3' ? refAlphaPalette(data[at]!, data[at + 1]!) : [];
      let abits = 0n;
      for (let k = 7; k >= 2; k--) abits = (abits << 8n) | BigInt(data[at + k]!);
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) {
          if (bx + x >= width || by + y >= height) continue;
          const i = 4 * y + x;
          const o = ((by + y) * width + bx + x) * 4;
          out.set(pal[(bits >>> (2 * i)) & 3]!, o);
          if (format === 'bc3') out[o + 3] = apal[Number((abits >> BigInt(3 * i)) & 7n)]!;
        }
      }
      at += size;
    }
  }
  return out;
}
