// RGBA8 images -> BC1 / BC3 blocks, any width and height: edge blocks replicate the last
// row and column, so the padding never pulls the endpoints away from the real pixels.
import { BA, encodeAlphaBlock } from './alphaBlock';
import { encodeColourBlock, FB, FG, FR, transMask } from './bc1Block';
import { encodeAlphaFast } from './alphaFast';
import { encodeFastBlock } from './bc1Fast';

/** An edge block's 4 rows with the last row and column replicated (fast path). */
const EDGE: usize = memory.data(64, 16);

/** Start of the block's first row: in the image, or in EDGE (row stride 16) for an edge block. */
// @ts-ignore: decorator
@inline
function blockRows(src: usize, width: u32, height: u32, bx: u32, by: u32): usize {
  const stride = <usize>width << 2;
  if (bx + 4 <= width && by + 4 <= height) return src + <usize>by * stride + (<usize>bx << 2);
  for (let y: u32 = 0; y < 4; y++) {
    const row = src + <usize>min(by + y, height - 1) * stride;
    for (let x: u32 = 0; x < 4; x++) store<u32>(EDGE + (y << 4) + (x << 2), load<u32>(row + (<usize>min(bx + x, width - 1) << 2)));
  }
  return EDGE;
}

/**
 * The SIMD `fast` loop: rows straight into registers. BC1 (`bc3` false): blocks with a
 * texel of alpha < 128 take the scalar path (3-colour punch-through) when `punch`.
 */
function encodeFast(src: usize, width: u32, height: u32, dst: usize, bc3: bool, punch: bool): void {
  const stride = <usize>width << 2;
  for (let by: u32 = 0; by < height; by += 4) {
    const edgeRow = by + 4 > height;
    for (let bx: u32 = 0; bx < width; bx += 4) {
      const row = blockRows(src, width, height, bx, by);
      const rs: usize = edgeRow || bx + 4 > width ? 16 : stride;
      const p0 = v128.load(row);
      const p1 = v128.load(row + rs);
      const p2 = v128.load(row + 2 * rs);
      const p3 = v128.load(row + 3 * rs);
      if (bc3) {
        // the 16 alpha bytes (3, 7, 11, 15 of each row) in pixel order
        const a01 = i8x16.shuffle(p0, p1, 3, 7, 11, 15, 19, 23, 27, 31, 0, 0, 0, 0, 0, 0, 0, 0);
        const a23 = i8x16.shuffle(p2, p3, 3, 7, 11, 15, 19, 23, 27, 31, 0, 0, 0, 0, 0, 0, 0, 0);
        encodeAlphaFast(dst, i64x2.shuffle(a01, a23, 0, 2));
        encodeFastBlock(dst + 8, p0, p1, p2, p3);
        dst += 16;
        continue;
      }
      // any alpha < 128 (top bit clear) makes a 3-colour block with transparent texels
      if (punch && (i8x16.bitmask(v128.and(v128.and(p0, p1), v128.and(p2, p3))) & 0x8888) != 0x8888) {
        gather(src, width, height, bx, by, true);
        encodeColourBlock(dst, false, true, false);
      } else encodeFastBlock(dst, p0, p1, p2, p3);
      dst += 8;
    }
  }
}

// @ts-ignore: decorator
@inline
function gather(src: usize, width: u32, height: u32, bx: u32, by: u32, punch: bool): void {
  const stride = <usize>width << 2;
  if (ASC_FEATURE_SIMD) {
    if (bx + 4 <= width && by + 4 <= height) {
      // interior block: split 4 pixels per row into channels with lane ops
      const m8 = i32x4.splat(255);
      const half = i32x4.splat(128);
      let mask: u32 = 0;
      for (let y: u32 = 0; y < 4; y++) {
        const v = v128.load(src + <usize>(by + y) * stride + (<usize>bx << 2));
        v128.store(FR + (y << 4), v128.and(v, m8));
        v128.store(FG + (y << 4), v128.and(i32x4.shr_u(v, 8), m8));
        v128.store(FB + (y << 4), v128.and(i32x4.shr_u(v, 16), m8));
        const a = i32x4.shr_u(v, 24);
        // alpha bytes 3, 7, 11, 15 -> BA[4y .. 4y+3]
        store<u32>(BA + (y << 2), i32x4.extract_lane(i8x16.swizzle(v, i8x16(3, 7, 11, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)), 0));
        if (punch) mask |= i32x4.bitmask(i32x4.lt_s(a, half)) << (y << 2);
      }
      transMask = mask;
      return;
    }
  }
  let mask: u32 = 0;
  for (let y: u32 = 0; y < 4; y++) {
    const row = src + <usize>min(by + y, height - 1) * stride;
    for (let x: u32 = 0; x < 4; x++) {
      const p = load<u32>(row + (<usize>min(bx + x, width - 1) << 2));
      const i = (y << 2) + x;
      store<i32>(FR + (i << 2), p & 255);
      store<i32>(FG + (i << 2), (p >> 8) & 255);
      store<i32>(FB + (i << 2), (p >> 16) & 255);
      const a = p >> 24;
      store<u8>(BA + i, a);
      if (punch && a < 128) mask |= 1 << i;
    }
  }
  transMask = mask;
}

/**
 * alphaMode 0: pixels with alpha < 128 become transparent (3-colour blocks, index 3);
 * 1: alpha ignored, so index 3 (black) may serve dark opaque pixels.
 */
export function encodeBC1(src: usize, width: u32, height: u32, dst: usize, high: bool, alphaMode: u32): void {
  if (ASC_FEATURE_SIMD) {
    if (!high) {
      encodeFast(src, width, height, dst, false, alphaMode == 0);
      return;
    }
  }
  for (let by: u32 = 0; by < height; by += 4) {
    for (let bx: u32 = 0; bx < width; bx += 4) {
      gather(src, width, height, bx, by, alphaMode == 0);
      encodeColourBlock(dst, high, true, alphaMode == 1);
      dst += 8;
    }
  }
}

export function encodeBC3(src: usize, width: u32, height: u32, dst: usize, high: bool): void {
  if (ASC_FEATURE_SIMD) {
    if (!high) {
      encodeFast(src, width, height, dst, true, false);
      return;
    }
  }
  for (let by: u32 = 0; by < height; by += 4) {
    for (let bx: u32 = 0; bx < width; bx += 4) {
      gather(src, width, height, bx, by, false);
      encodeAlphaBlock(dst, high);
      encodeColourBlock(dst + 8, high, false, false);
      dst += 16;
    }
  }
}
