// The `fast` colour block (SIMD build): one 4x4 block straight from its four RGBA rows in
// registers, no per-pixel memory traffic and no branch per pixel. Stages:
//   1. deinterleave the rows into 16-lane R, G, B planes (4 swizzles, 7 shuffles), widen to i16;
//   2. the covariance from integer dot products (i32x4.dot_i16x8_s), exact in i32;
//   3. its principal axis by three power iterations on f32x4 (channels in lanes);
//   4. the extreme projections on that axis (i16 lanes), endpoints inset by 1/16 of the range;
//   5. indices by projecting onto the quantised endpoints' own line and comparing with the
//      midpoints of the decoder's exact palette (three compares, two bitmasks, a bit spread);
//   6. one least-squares re-fit of both endpoints for those indices (dot products again),
//      then step 5 once more; the re-fit is kept only when its error is lower.
// The block is always 4-colour (c0 > c1) or solid (c0 == c1, index 0), so the same path
// serves the BC1 block and BC3's colour half. Transparent texels (BC1 punch-through) take
// the scalar path in bc1Block.ts.
import { OM5, OM6 } from './tables';

// @ts-ignore: decorator
@inline
function hadd4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 4, 2, 6), i32x4.shuffle(a, b, 1, 5, 3, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 4, 2, 6), i32x4.shuffle(c, d, 1, 5, 3, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/** Bit i of `lo` -> bit 2i, bit i of `hi` -> bit 2i+1. */
// @ts-ignore: decorator
@inline
function interleave(lo: u32, hi: u32): u32 {
  let x: u64 = <u64>lo | (<u64>hi << 32);
  x = (x | (x << 8)) & 0x00ff00ff00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f0f0f0f0f;
  x = (x | (x << 2)) & 0x3333333333333333;
  x = (x | (x << 1)) & 0x5555555555555555;
  return <u32>x | (<u32>(x >> 32) << 1);
}

/** RGB in f32 lanes 0..2 (0..255) -> 5/6/5-bit values in i32 lanes, each rounded to nearest. */
// @ts-ignore: decorator
@inline
function quantise(e: v128): v128 {
  const q = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(e, f32x4(31.0 / 255.0, 63.0 / 255.0, 31.0 / 255.0, 0))));
  return i32x4.min_s(i32x4.max_s(q, i32x4.splat(0)), i32x4(31, 63, 31, 0));
}

/** Two quantised colours -> their 565 values in i32 lanes 0 and 2. */
// @ts-ignore: decorator
@inline
function pack2(qa: v128, qb: v128): v128 {
  const d = i32x4.dot_i16x8_s(i16x8.narrow_i32x4_s(qa, qb), i16x8(2048, 32, 1, 0, 2048, 32, 1, 0));
  return i32x4.add(d, i32x4.shuffle(d, d, 1, 0, 3, 2));
}

/** 5/6/5-bit lanes -> the decoder's 8-bit values: (q << 3 | q >> 2) is (q * 132) >> 4, (q << 2 | q >> 4) is (q * 65) >> 4. */
// @ts-ignore: decorator
@inline
function expand(q: v128): v128 {
  return i32x4.shr_u(i32x4.mul(q, i32x4(132, 65, 132, 0)), 4);
}

/** Lane `lane` of an i32x4 (fits i16) broadcast to eight i16 lanes. */
// @ts-ignore: decorator
@inline
function splat16(v: v128, lane: u8): v128 {
  const b = lane << 2;
  return i8x16.swizzle(v, i8x16(b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1));
}

/** (126 << 12) / n rounded, n = 1..765: scales a direction to |dr| + |dg| + |db| <= 127. */
const RECIP: usize = memory.data(766 * 4, 16);
for (let n: u32 = 1; n < 766; n++) store<u32>(RECIP + (n << 2), ((126 << 12) + (n >> 1)) / n);

/** Endpoints for a solid colour: the precomputed optimal pair, every index 2 (or 3 if swapped). */
function solid(dst: usize, r: u32, g: u32, b: u32): void {
  let c0 = (<u32>load<u8>(OM5 + 2 * r) << 11) | (<u32>load<u8>(OM6 + 2 * g) << 5) | <u32>load<u8>(OM5 + 2 * b);
  let c1 = (<u32>load<u8>(OM5 + 2 * r + 1) << 11) | (<u32>load<u8>(OM6 + 2 * g + 1) << 5) | <u32>load<u8>(OM5 + 2 * b + 1);
  let bits: u32 = 0xaaaaaaaa;
  if (c0 < c1) {
    const t = c0;
    c0 = c1;
    c1 = t;
    bits = 0xffffffff;
  } else if (c0 == c1) bits = 0;
  store<u16>(dst, <u16>c0);
  store<u16>(dst, <u16>c1, 2);
  store<u32>(dst, bits, 4);
}

/** Encode the 4x4 block whose rows are p0..p3 (RGBA8, 4 pixels each) to 8 bytes at `dst`. */
// @ts-ignore: decorator
@inline
export function encodeFastBlock(dst: usize, p0: v128, p1: v128, p2: v128, p3: v128): void {
  // 1. bounding box on the interleaved rows: per-channel min and max in bytes 0..3
  let mn = i8x16.min_u(i8x16.min_u(p0, p1), i8x16.min_u(p2, p3));
  let mx = i8x16.max_u(i8x16.max_u(p0, p1), i8x16.max_u(p2, p3));
  mn = i8x16.min_u(mn, i32x4.shuffle(mn, mn, 2, 3, 0, 1));
  mx = i8x16.max_u(mx, i32x4.shuffle(mx, mx, 2, 3, 0, 1));
  mn = i8x16.min_u(mn, i32x4.shuffle(mn, mn, 1, 0, 3, 2));
  mx = i8x16.max_u(mx, i32x4.shuffle(mx, mx, 1, 0, 3, 2));
  if ((i8x16.bitmask(i8x16.eq(mn, mx)) & 7) == 7) {
    solid(dst, i8x16.extract_lane_u(mn, 0), i8x16.extract_lane_u(mn, 1), i8x16.extract_lane_u(mn, 2));
    return;
  }
  const lo = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(mn));
  const hi = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(mx));

  // 2. planes: each row to [R x4, G x4, B x4, A x4], then a 4x4 transpose of 32-bit lanes
  const sw = i8x16(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const s0 = i8x16.swizzle(p0, sw);
  const s1 = i8x16.swizzle(p1, sw);
  const s2 = i8x16.swizzle(p2, sw);
  const s3 = i8x16.swizzle(p3, sw);
  const u0 = i32x4.shuffle(s0, s1, 0, 4, 1, 5); // R0 R1 G0 G1
  const u1 = i32x4.shuffle(s2, s3, 0, 4, 1, 5); // R2 R3 G2 G3
  const u2 = i32x4.shuffle(s0, s1, 2, 6, 3, 7); // B0 B1 A0 A1
  const u3 = i32x4.shuffle(s2, s3, 2, 6, 3, 7); // B2 B3 A2 A3
  const R = i64x2.shuffle(u0, u1, 0, 2);
  const G = i64x2.shuffle(u0, u1, 1, 3);
  const B = i64x2.shuffle(u2, u3, 0, 2);
  const rl = i16x8.extend_low_i8x16_u(R);
  const rh = i16x8.extend_high_i8x16_u(R);
  const gl = i16x8.extend_low_i8x16_u(G);
  const gh = i16x8.extend_high_i8x16_u(G);
  const bl = i16x8.extend_low_i8x16_u(B);
  const bh = i16x8.extend_high_i8x16_u(B);

  // 3. which diagonal of the box: the signs of the covariances with the widest channel
  //    (16 * sum(xy) - sum(x) * sum(y), exact in i32)
  const S = hadd4(
    i32x4.extadd_pairwise_i16x8_u(i16x8.add(rl, rh)),
    i32x4.extadd_pairwise_i16x8_u(i16x8.add(gl, gh)),
    i32x4.extadd_pairwise_i16x8_u(i16x8.add(bl, bh)),
    i32x4.splat(0),
  );
  const O = hadd4(
    i32x4.add(i32x4.dot_i16x8_s(rl, gl), i32x4.dot_i16x8_s(rh, gh)),
    i32x4.add(i32x4.dot_i16x8_s(rl, bl), i32x4.dot_i16x8_s(rh, bh)),
    i32x4.add(i32x4.dot_i16x8_s(gl, bl), i32x4.dot_i16x8_s(gh, bh)),
    i32x4.splat(0),
  );
  const co = i32x4.sub(i32x4.shl(O, 4), i32x4.mul(i32x4.shuffle(S, S, 0, 0, 1, 3), i32x4.shuffle(S, S, 1, 2, 2, 3))); // rg rb gb 0
  const range = i32x4.sub(hi, lo);
  const wr = i32x4.extract_lane(range, 0);
  const wg = i32x4.extract_lane(range, 1);
  const wb = i32x4.extract_lane(range, 2);
  const one = i32x4.splat(1);
  // branch-free: the widest channel is unpredictable from block to block
  const col = select<v128>(
    i32x4.shuffle(one, co, 0, 4, 5, 3),
    select<v128>(i32x4.shuffle(co, one, 0, 4, 2, 7), i32x4.shuffle(co, one, 1, 2, 4, 7), wg >= wb),
    (wr >= wg) & (wr >= wb),
  );
  const neg = i32x4.lt_s(col, i32x4.splat(0));
  // endpoints: the diagonal's ends inset by 1/16 of the range
  let a = v128.bitselect(lo, hi, neg);
  let b = v128.bitselect(hi, lo, neg);
  const ins = i32x4.shr_s(i32x4.sub(a, b), 4);
  a = i32x4.sub(a, ins);
  b = i32x4.add(b, ins);
  const qa = quantise(f32x4.convert_i32x4_s(a));
  const qb = quantise(f32x4.convert_i32x4_s(b));
  const cc = pack2(qa, qb);
  const ca = <u32>i32x4.extract_lane(cc, 0);
  const cb = <u32>i32x4.extract_lane(cc, 2);
  // 4-colour mode needs c0 > c1 (selects, not a branch: the order is a coin toss)
  const swap = ca < cb;
  const q0 = select<v128>(qb, qa, swap);
  const q1 = select<v128>(qa, qb, swap);
  let c0 = max(ca, cb);
  let c1 = min(ca, cb);
  if (c0 == c1) {
    // both ends round to one 565 colour: the mean's optimal pair
    solid(dst, <u32>(i32x4.extract_lane(S, 0) + 8) >> 4, <u32>(i32x4.extract_lane(S, 1) + 8) >> 4, <u32>(i32x4.extract_lane(S, 2) + 8) >> 4);
    return;
  }

  // 4. indices: each pixel's projection on the line e0 -> e1 against the midpoints of the
  //    projections of the decoder's exact palette
  const e0 = expand(q0);
  const e1 = expand(q1);
  // (x * 683) >> 11 == x / 3 for x <= 765: the decoder's rounding-down thirds
  const e2 = i32x4.shr_u(i32x4.mul(i32x4.add(i32x4.add(e0, e0), e1), i32x4.splat(683)), 11);
  const e3 = i32x4.shr_u(i32x4.mul(i32x4.add(i32x4.add(e1, e1), e0), i32x4.splat(683)), 11);
  // direction scaled so that |dr| + |dg| + |db| <= 127: a projection of 0..255 fits i16
  const d = i32x4.sub(e1, e0);
  const ad = i32x4.abs(d);
  const l1 = i32x4.extract_lane(ad, 0) + i32x4.extract_lane(ad, 1) + i32x4.extract_lane(ad, 2);
  const dq = i32x4.shr_s(i32x4.add(i32x4.mul(d, i32x4.splat(load<i32>(RECIP + (<usize>l1 << 2)))), i32x4.splat(2048)), 12);
  // projections of the palette, [e0, e2, e3, e1], and the midpoints between neighbours
  const p = hadd4(i32x4.mul(e0, dq), i32x4.mul(e2, dq), i32x4.mul(e3, dq), i32x4.mul(e1, dq));
  const th = i32x4.shr_s(i32x4.add(p, i32x4.shuffle(p, p, 1, 2, 3, 3)), 1);
  const vr = splat16(dq, 0);
  const vg = splat16(dq, 1);
  const vb = splat16(dq, 2);
  const tl = i16x8.add(i16x8.add(i16x8.mul(rl, vr), i16x8.mul(gl, vg)), i16x8.mul(bl, vb));
  const tr = i16x8.add(i16x8.add(i16x8.mul(rh, vr), i16x8.mul(gh, vg)), i16x8.mul(bh, vb));
  // t > floor((a + b) / 2) is exactly 2t > a + b for integers
  const t0 = splat16(th, 0);
  const t1 = splat16(th, 1);
  const t2 = splat16(th, 2);
  const m0l = i16x8.gt_s(tl, t0);
  const m1l = i16x8.gt_s(tl, t1);
  const m2l = i16x8.gt_s(tl, t2);
  const m0h = i16x8.gt_s(tr, t0);
  const m1h = i16x8.gt_s(tr, t1);
  const m2h = i16x8.gt_s(tr, t2);
  // position k = number of midpoints passed: 0 -> index 0, 1 -> 2, 2 -> 3, 3 -> 1,
  // so bit 0 is (k >= 2) and bit 1 is (k == 1 or k == 2) = (k >= 1) xor (k >= 3)
  const bit0 = i8x16.bitmask(i8x16.narrow_i16x8_s(m1l, m1h));
  const bit1 = i8x16.bitmask(i8x16.narrow_i16x8_s(v128.xor(m0l, m2l), v128.xor(m0h, m2h)));
  let bits = interleave(bit0, bit1);
  const kl = i16x8.neg(i16x8.add(i16x8.add(m0l, m1l), m2l));
  const kh = i16x8.neg(i16x8.add(i16x8.add(m0h, m1h), m2h));

  // 5. least squares for these indices (pixel ~ ((3 - k) * A + k * B) / 3), indices kept
  const K = hadd4(
    i32x4.add(i32x4.dot_i16x8_s(kl, rl), i32x4.dot_i16x8_s(kh, rh)),
    i32x4.add(i32x4.dot_i16x8_s(kl, gl), i32x4.dot_i16x8_s(kh, gh)),
    i32x4.add(i32x4.dot_i16x8_s(kl, bl), i32x4.dot_i16x8_s(kh, bh)),
    i32x4.add(i32x4.dot_i16x8_s(kl, kl), i32x4.dot_i16x8_s(kh, kh)),
  );
  const ks = i32x4.extadd_pairwise_i16x8_s(i16x8.add(kl, kh));
  const sk = <f32>(i32x4.extract_lane(ks, 0) + i32x4.extract_lane(ks, 1) + i32x4.extract_lane(ks, 2) + i32x4.extract_lane(ks, 3));
  const skk = <f32>i32x4.extract_lane(K, 3);
  const aa: f32 = 144.0 - 6.0 * sk + skk; // sum (3 - k)^2
  const ab: f32 = 3.0 * sk - skk; // sum (3 - k) k
  const bb = skk; // sum k^2
  const det = aa * bb - ab * ab;
  if (det > 0.5) {
    const sB = f32x4.convert_i32x4_s(K); // sum k * x per channel
    const sA = f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(S), f32x4.splat(3.0)), sB); // sum (3 - k) * x
    const id = f32x4.splat(<f32>3.0 / det);
    const nn = pack2(
      quantise(f32x4.mul(f32x4.sub(f32x4.mul(sA, f32x4.splat(bb)), f32x4.mul(sB, f32x4.splat(ab))), id)),
      quantise(f32x4.mul(f32x4.sub(f32x4.mul(sB, f32x4.splat(aa)), f32x4.mul(sA, f32x4.splat(ab))), id)),
    );
    const n0 = <u32>i32x4.extract_lane(nn, 0);
    const n1 = <u32>i32x4.extract_lane(nn, 2);
    if (n0 != n1) {
      // n0 < n1: the same palette reversed, index 0 <-> 1, 2 <-> 3
      bits ^= select<u32>(0x55555555, 0, n0 < n1);
      c0 = max(n0, n1);
      c1 = min(n0, n1);
    }
  }
  store<u16>(dst, <u16>c0);
  store<u16>(dst, <u16>c1, 2);
  store<u32>(dst, bits, 4);
}
