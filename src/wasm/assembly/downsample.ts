// 2x2 box filter for mip chains, averaging colour in linear light (sRGB decoded through a
// table, re-encoded through a 4096-entry table) and alpha as stored. Odd sizes: the output
// is floor(w/2) x floor(h/2) (at least 1), each output texel averaging its 2x2 source
// texels with coordinates clamped to the image, so a 1-wide level averages 1x2 -> 1x1.
import { TO_LINEAR, TO_SRGB } from './tables';

// the tables are generated (tables.gen.mjs) so instantiation does no set-up work

// @ts-ignore: decorator
@inline
function lin(p: u32, shift: u32): u32 {
  return <u32>load<u16>(TO_LINEAR + (((p >> shift) & 255) << 1));
}

/** RGBA8 width x height at `src` -> the next mip level at `dst`. */
export function downsample(src: usize, width: u32, height: u32, dst: usize): void {
  const ow = max<u32>(1, width >> 1);
  const oh = max<u32>(1, height >> 1);
  const stride = <usize>width << 2;
  for (let y: u32 = 0; y < oh; y++) {
    const r0 = src + <usize>min(2 * y, height - 1) * stride;
    const r1 = src + <usize>min(2 * y + 1, height - 1) * stride;
    for (let x: u32 = 0; x < ow; x++) {
      const x0 = <usize>min(2 * x, width - 1) << 2;
      const x1 = <usize>min(2 * x + 1, width - 1) << 2;
      const a = load<u32>(r0 + x0);
      const b = load<u32>(r0 + x1);
      const c = load<u32>(r1 + x0);
      const d = load<u32>(r1 + x1);
      const r = (lin(a, 0) + lin(b, 0) + lin(c, 0) + lin(d, 0)) >> 6; // /4 then >>4
      const g = (lin(a, 8) + lin(b, 8) + lin(c, 8) + lin(d, 8)) >> 6;
      const bl = (lin(a, 16) + lin(b, 16) + lin(c, 16) + lin(d, 16)) >> 6;
      const al = ((a >> 24) + (b >> 24) + (c >> 24) + (d >> 24) + 2) >> 2;
      store<u32>(
        dst,
        <u32>load<u8>(TO_SRGB + r) | (<u32>load<u8>(TO_SRGB + g) << 8) | (<u32>load<u8>(TO_SRGB + bl) << 16) | (al << 24),
      );
      dst += 4;
    }
  }
}
