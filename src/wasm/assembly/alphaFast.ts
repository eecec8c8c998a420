// The `fast` BC3 alpha block (SIMD build): the 16 alpha values in one u8x16, the 8-value mode
// (a0 = max, a1 = min) with each value's index found by counting the palette midpoints it
// lies below (seven byte compares), indices packed from three bitmasks through a table.
// Blocks that mix 0 or 255 with values in between (antialiased edges, where the 6-value
// mode's exact 0 and 255 win) take the scalar encoder, which tries both modes.
import { BA, encodeAlphaBlock } from './alphaBlock';

/** Bit i of a byte -> bit 3i (u32), for packing 3-bit indices from bitmasks. */
const SPREAD3: usize = memory.data(256 * 4, 16);
for (let b: u32 = 0; b < 256; b++) {
  let v: u32 = 0;
  for (let i: u32 = 0; i < 8; i++) v |= ((b >> i) & 1) << (3 * i);
  store<u32>(SPREAD3 + (b << 2), v);
}

// @ts-ignore: decorator
@inline
function spread3(m: u32): u64 {
  return <u64>load<u32>(SPREAD3 + ((m & 255) << 2)) | (<u64>load<u32>(SPREAD3 + ((m >> 8) << 2)) << 24);
}

/** (x * 9363) >> 16 == x / 7 for 0 <= x <= 1785: the decoder's rounding-down sevenths. */
// @ts-ignore: decorator
@inline
function seventh(x: u32): u32 {
  return (x * 9363) >> 16;
}

/** Encode the alpha values `av` (u8x16, pixel order) to 8 bytes at `dst`. */
// @ts-ignore: decorator
@inline
export function encodeAlphaFast(dst: usize, av: v128): void {
  let mn = i8x16.min_u(av, i64x2.shuffle(av, av, 1, 0));
  let mx = i8x16.max_u(av, i64x2.shuffle(av, av, 1, 0));
  mn = i8x16.min_u(mn, i32x4.shuffle(mn, mn, 1, 0, 3, 2));
  mx = i8x16.max_u(mx, i32x4.shuffle(mx, mx, 1, 0, 3, 2));
  mn = i8x16.min_u(mn, i16x8.shuffle(mn, mn, 1, 0, 3, 2, 5, 4, 7, 6));
  mx = i8x16.max_u(mx, i16x8.shuffle(mx, mx, 1, 0, 3, 2, 5, 4, 7, 6));
  mn = i8x16.min_u(mn, i8x16.shuffle(mn, mn, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14));
  mx = i8x16.max_u(mx, i8x16.shuffle(mx, mx, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14));
  const lo = <u32>i8x16.extract_lane_u(mn, 0);
  const hi = <u32>i8x16.extract_lane_u(mx, 0);
  if (lo == hi) {
    // single value: a0 == a1 selects the 6-value mode with index 0 exact
    store<u64>(dst, <u64>lo | (<u64>lo << 8));
    return;
  }
  const ends = v128.or(i8x16.eq(av, i8x16.splat(0)), i8x16.eq(av, i8x16.splat(-1)));
  const e = i8x16.bitmask(ends);
  if (e != 0 && e != 0xffff) {
    v128.store(BA, av);
    encodeAlphaBlock(dst, false);
    return;
  }
  // palette from a0 = hi down to a1 = lo: hi, (6hi + lo)/7, ..., (hi + 6lo)/7, lo;
  // a value below midpoint j is nearer the (j+1)-th entry (ties go to the higher entry)
  const p1 = seventh(6 * hi + lo);
  const p2 = seventh(5 * hi + 2 * lo);
  const p3 = seventh(4 * hi + 3 * lo);
  const p4 = seventh(3 * hi + 4 * lo);
  const p5 = seventh(2 * hi + 5 * lo);
  const p6 = seventh(hi + 6 * lo);
  let pos = i8x16.gt_u(i8x16.splat(<i8>((hi + p1 + 1) >> 1)), av);
  pos = i8x16.add(pos, i8x16.gt_u(i8x16.splat(<i8>((p1 + p2 + 1) >> 1)), av));
  pos = i8x16.add(pos, i8x16.gt_u(i8x16.splat(<i8>((p2 + p3 + 1) >> 1)), av));
  pos = i8x16.add(pos, i8x16.gt_u(i8x16.splat(<i8>((p3 + p4 + 1) >> 1)), av));
  pos = i8x16.add(pos, i8x16.gt_u(i8x16.splat(<i8>((p4 + p5 + 1) >> 1)), av));
  pos = i8x16.add(pos, i8x16.gt_u(i8x16.splat(<i8>((p5 + p6 + 1) >> 1)), av));
  pos = i8x16.add(pos, i8x16.gt_u(i8x16.splat(<i8>((p6 + lo + 1) >> 1)), av));
  // pos = -count (masks are -1); position 0 -> index 0 (a0), 7 -> index 1 (a1), k -> k + 1
  const idx = i8x16.swizzle(
    i8x16(0, 2, 3, 4, 5, 6, 7, 1, 0, 0, 0, 0, 0, 0, 0, 0),
    i8x16.neg(pos),
  );
  const bits =
    spread3(i8x16.bitmask(i8x16.shl(idx, 7))) |
    (spread3(i8x16.bitmask(i8x16.shl(idx, 6))) << 1) |
    (spread3(i8x16.bitmask(i8x16.shl(idx, 5))) << 2);
  store<u64>(dst, <u64>hi | (<u64>lo << 8) | (bits << 16));
}
