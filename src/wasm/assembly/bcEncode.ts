// RGBA8 images -> BC1 / BC3 blocks, any width and height: edge blocks replicate the last
// row and column, so the padding never pulls the endpoints away from the real pixels.
import { BA, encodeAlphaBlock } from './alphaBlock';
import { encodeColourBlock, FB, FG, FR, transMask } from './bc1Block';

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
  for (let by: u32 = 0; by < height; by += 4) {
    for (let bx: u32 = 0; bx < width; bx += 4) {
      gather(src, width, height, bx, by, alphaMode == 0);
      encodeColourBlock(dst, high, true, alphaMode == 1);
      dst += 8;
    }
  }
}

export function encodeBC3(src: usize, width: u32, height: u32, dst: usize, high: bool): void {
  for (let by: u32 = 0; by < height; by += 4) {
    for (let bx: u32 = 0; bx < width; bx += 4) {
      gather(src, width, height, bx, by, false);
      encodeAlphaBlock(dst, high);
      encodeColourBlock(dst + 8, high, false, false);
      dst += 16;
    }
  }
}
