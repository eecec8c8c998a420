// BC1 / BC3 blocks -> RGBA8, row-major, any width and height (edge blocks are clipped).
import { alphaPalette, APAL, colourPalette, PAL } from './bcPalette';
import { ROW_SWIZZLE } from './tables';

/** Colour indices of one block (at `src`) written through PAL to a bw x bh window of `dst`. */
// @ts-ignore: decorator
@inline
function writeColour(bits: u32, dst: usize, stride: usize, bw: u32, bh: u32): void {
  if (ASC_FEATURE_SIMD) {
    if (bw == 4 && bh == 4) {
      let pal = i64x2.splat(load<u64>(PAL));
      pal = i64x2.replace_lane(pal, 1, load<u64>(PAL, 8));
      for (let y: u32 = 0; y < 4; y++) {
        const m = v128.load(ROW_SWIZZLE + (((bits >> (8 * y)) & 255) << 4));
        v128.store(dst + <usize>y * stride, i8x16.swizzle(pal, m));
      }
      return;
    }
  }
  for (let y: u32 = 0; y < bh; y++) {
    const row = dst + <usize>y * stride;
    for (let x: u32 = 0; x < bw; x++) {
      store<u32>(row + (x << 2), load<u32>(PAL + (((bits >> (2 * (4 * y + x))) & 3) << 2)));
    }
  }

}

/** Decode BC1 blocks at `src` into RGBA8 at `dst` (width*height*4 bytes). */
export function decodeBC1(src: usize, width: u32, height: u32, dst: usize): void {
  const stride = <usize>width << 2;
  for (let by: u32 = 0; by < height; by += 4) {
    const bh = min<u32>(4, height - by);
    for (let bx: u32 = 0; bx < width; bx += 4) {
      const bw = min<u32>(4, width - bx);
      const c0 = <u32>load<u16>(src);
      const c1 = <u32>load<u16>(src, 2);
      colourPalette(c0, c1, false);
      writeColour(load<u32>(src, 4), dst + <usize>by * stride + (bx << 2), stride, bw, bh);
      src += 8;
    }
  }
}

/** Decode BC3 blocks (alpha block + 4-colour colour block) at `src` into RGBA8 at `dst`. */
export function decodeBC3(src: usize, width: u32, height: u32, dst: usize): void {
  const stride = <usize>width << 2;
  for (let by: u32 = 0; by < height; by += 4) {
    const bh = min<u32>(4, height - by);
    for (let bx: u32 = 0; bx < width; bx += 4) {
      const bw = min<u32>(4, width - bx);
      const out = dst + <usize>by * stride + (bx << 2);
      colourPalette(<u32>load<u16>(src, 8), <u32>load<u16>(src, 10), true);
      if (ASC_FEATURE_SIMD) {
        if (bw == 4 && bh == 4) {
          writeBC3Simd(src, out, stride);
          src += 16;
          continue;
        }
      }
      writeColour(load<u32>(src, 12), out, stride, bw, bh);
      alphaPalette(<u32>load<u8>(src), <u32>load<u8>(src, 1));
      const abits = load<u64>(src) >> 16;
      for (let y: u32 = 0; y < bh; y++) {
        const row = out + <usize>y * stride + 3;
        for (let x: u32 = 0; x < bw; x++) {
          store<u8>(row + (x << 2), load<u8>(APAL + <usize>((abits >> (3 * (4 * y + x))) & 7)));
        }
      }
      src += 16;
    }
  }
}

// @ts-ignore: decorator
@inline
function writeBC3Simd(src: usize, out: usize, stride: usize): void {
  const blk = v128.load(src);
  // 16-bit words holding each 3-bit index (bits start at byte 2; 8 indices per 3 bytes),
  // shifted by a per-lane multiply since wasm has no per-lane shift.
  const w0 = i8x16.swizzle(blk, i8x16(2, 3, 2, 3, 2, 3, 3, 4, 3, 4, 3, 4, 4, 5, 4, 5));
  const w1 = i8x16.swizzle(blk, i8x16(5, 6, 5, 6, 5, 6, 6, 7, 6, 7, 6, 7, 7, 8, 7, 8));
  const mul = i16x8(256, 32, 4, 128, 16, 2, 64, 8);
  const m7 = i16x8.splat(7);
  const i0 = v128.and(i16x8.shr_u(i16x8.mul(w0, mul), 8), m7);
  const i1 = v128.and(i16x8.shr_u(i16x8.mul(w1, mul), 8), m7);
  const idx = i8x16.narrow_i16x8_u(i0, i1);
  const apal = alphaPaletteSimd(<u32>load<u8>(src), <u32>load<u8>(src, 1));
  const alpha = i8x16.swizzle(apal, idx);
  const keepRgb = i32x4.splat(0x00ffffff);
  const a0 = i8x16.shuffle(alpha, alpha, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3);
  const a1 = i8x16.shuffle(alpha, alpha, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7);
  const a2 = i8x16.shuffle(alpha, alpha, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 10, 0, 0, 0, 11);
  const a3 = i8x16.shuffle(alpha, alpha, 0, 0, 0, 12, 0, 0, 0, 13, 0, 0, 0, 14, 0, 0, 0, 15);
  let pal = i64x2.splat(load<u64>(PAL));
  pal = i64x2.replace_lane(pal, 1, load<u64>(PAL, 8));
  const bits = load<u32>(src, 12);
  const c0 = i8x16.swizzle(pal, v128.load(ROW_SWIZZLE + ((bits & 255) << 4)));
  const c1 = i8x16.swizzle(pal, v128.load(ROW_SWIZZLE + (((bits >> 8) & 255) << 4)));
  const c2 = i8x16.swizzle(pal, v128.load(ROW_SWIZZLE + (((bits >> 16) & 255) << 4)));
  const c3 = i8x16.swizzle(pal, v128.load(ROW_SWIZZLE + ((bits >> 24) << 4)));
  v128.store(out, v128.bitselect(c0, a0, keepRgb));
  v128.store(out + stride, v128.bitselect(c1, a1, keepRgb));
  v128.store(out + 2 * stride, v128.bitselect(c2, a2, keepRgb));
  v128.store(out + 3 * stride, v128.bitselect(c3, a3, keepRgb));
}

/**
 * The 8 alpha values in lanes 0..7, same integers as alphaPalette: weighted sums in 16-bit
 * lanes, then x/7 as (x * 9363) >> 16 and x/5 as (x * 13108) >> 16 (exact for x <= 1785).
 */
// @ts-ignore: decorator
@inline
function alphaPaletteSimd(a0: u32, a1: u32): v128 {
  const v0 = i16x8.splat(<i16>a0);
  const v1 = i16x8.splat(<i16>a1);
  let num: v128;
  let mul: v128;
  if (a0 > a1) {
    num = i16x8.add(i16x8.mul(v0, i16x8(7, 0, 6, 5, 4, 3, 2, 1)), i16x8.mul(v1, i16x8(0, 7, 1, 2, 3, 4, 5, 6)));
    mul = i16x8.splat(9363);
  } else {
    num = i16x8.add(i16x8.mul(v0, i16x8(5, 0, 4, 3, 2, 1, 0, 0)), i16x8.mul(v1, i16x8(0, 5, 1, 2, 3, 4, 0, 0)));
    mul = i16x8.splat(13108);
  }
  const lo = i32x4.shr_u(i32x4.extmul_low_i16x8_u(num, mul), 16);
  const hi = i32x4.shr_u(i32x4.extmul_high_i16x8_u(num, mul), 16);
  let bytes = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(lo, hi), i16x8.splat(0));
  if (a0 <= a1) bytes = v128.or(bytes, i8x16(0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0));
  return bytes;
}
