// BC1/BC3 palettes exactly as every decoder here computes them ("ideal" D3D10 interpolation
// in 8-bit integers, rounding down, which is also what libsquish does):
//   565 -> 888 by bit replication: r8 = r5 << 3 | r5 >> 2, g8 = g6 << 2 | g6 >> 4
//   4-colour: c2 = (2*c0 + c1) / 3, c3 = (c0 + 2*c1) / 3        (integer division)
//   3-colour (BC1 with c0 <= c1): c2 = (c0 + c1) / 2, c3 = transparent black
//   alpha 8-value (a0 > a1): a_i = ((7 - i)*a0 + i*a1) / 7, i = 1..6
//   alpha 6-value: a_i = ((5 - i)*a0 + i*a1) / 5, i = 1..4, then 0 and 255

/** Four RGBA u32 entries, filled by `colourPalette`. */
export const PAL: usize = memory.data(16, 16);
/** Eight alpha bytes, filled by `alphaPalette`. */
export const APAL: usize = memory.data(16, 16);

// @ts-ignore: decorator
@inline
export function expand5(v: u32): u32 {
  return (v << 3) | (v >> 2);
}

// @ts-ignore: decorator
@inline
export function expand6(v: u32): u32 {
  return (v << 2) | (v >> 4);
}

// @ts-ignore: decorator
@inline
function third(x: u32): u32 {
  return (x * 683) >> 11; // == x / 3 for x <= 765
}

/** Fill PAL for endpoints c0, c1; `four` forces 4-colour mode (the BC3 colour block). */
// @ts-ignore: decorator
@inline
export function colourPalette(c0: u32, c1: u32, four: bool): void {
  const r0 = expand5(c0 >> 11);
  const g0 = expand6((c0 >> 5) & 63);
  const b0 = expand5(c0 & 31);
  const r1 = expand5(c1 >> 11);
  const g1 = expand6((c1 >> 5) & 63);
  const b1 = expand5(c1 & 31);
  store<u32>(PAL, r0 | (g0 << 8) | (b0 << 16) | 0xff000000);
  store<u32>(PAL, r1 | (g1 << 8) | (b1 << 16) | 0xff000000, 4);
  if (four || c0 > c1) {
    store<u32>(PAL, third(2 * r0 + r1) | (third(2 * g0 + g1) << 8) | (third(2 * b0 + b1) << 16) | 0xff000000, 8);
    store<u32>(PAL, third(r0 + 2 * r1) | (third(g0 + 2 * g1) << 8) | (third(b0 + 2 * b1) << 16) | 0xff000000, 12);
  } else {
    store<u32>(PAL, ((r0 + r1) >> 1) | (((g0 + g1) >> 1) << 8) | (((b0 + b1) >> 1) << 16) | 0xff000000, 8);
    store<u32>(PAL, 0, 12);
  }
}

/** The 8 alpha values for endpoints a0, a1, packed little-endian in a u64. */
// @ts-ignore: decorator
@inline
export function alphaPalette64(a0: u32, a1: u32): u64 {
  let p: u64 = <u64>a0 | (<u64>a1 << 8);
  if (a0 > a1) {
    for (let i: u32 = 1; i < 7; i++) p |= <u64>(((7 - i) * a0 + i * a1) / 7) << (8 * (i + 1));
  } else {
    for (let i: u32 = 1; i < 5; i++) p |= <u64>(((5 - i) * a0 + i * a1) / 5) << (8 * (i + 1));
    p |= <u64>255 << 56;
  }
  return p;
}

/** Fill APAL for alpha endpoints a0, a1. */
export function alphaPalette(a0: u32, a1: u32): void {
  store<u8>(APAL, a0);
  store<u8>(APAL, a1, 1);
  if (a0 > a1) {
    for (let i: u32 = 1; i < 7; i++) store<u8>(APAL + 1 + i, ((7 - i) * a0 + i * a1) / 7);
  } else {
    for (let i: u32 = 1; i < 5; i++) store<u8>(APAL + 1 + i, ((5 - i) * a0 + i * a1) / 5);
    store<u8>(APAL, 0, 6);
    store<u8>(APAL, 255, 7);
  }
}
