// Encoding of one 4x4 colour block (the BC1 block, and the colour half of BC3).
// Candidates are always scored against the exact integer palette the decoder builds
// (bcPalette.ts), so the rounding search optimises what is actually displayed.
import { expand5, expand6 } from './bcPalette';
import { OM5, OM6 } from './tables';

/** The 16 pixels of the block as i32 channels (edge pixels already replicated). */
export const FR: usize = memory.data(64, 16);
export const FG: usize = memory.data(64, 16);
export const FB: usize = memory.data(64, 16);
/** Bit i set: pixel i is transparent (alpha < 128) and must decode to index 3 (BC1). */
export let transMask: u32 = 0;

// best candidate so far
let bestErr: u32 = 0;
let bestC0: u32 = 0;
let bestC1: u32 = 0;
let bestBits: u32 = 0;
let bestThree: bool = false;

// endpoints produced by fits (unquantised, 0..255)
let ar: f32 = 0;
let ag: f32 = 0;
let ab: f32 = 0;
let br: f32 = 0;
let bg: f32 = 0;
let bb: f32 = 0;

// optimal single-colour endpoint tables (stb_dxt's omatch idea, recomputed for our rounding)

// @ts-ignore: decorator
@inline
function q5(v: f32): u32 {
  const q = <i32>nearest(v * (31.0 / 255.0));
  return <u32>(q < 0 ? 0 : q > 31 ? 31 : q);
}

// @ts-ignore: decorator
@inline
function q6(v: f32): u32 {
  const q = <i32>nearest(v * (63.0 / 255.0));
  return <u32>(q < 0 ? 0 : q > 63 ? 63 : q);
}

// @ts-ignore: decorator
@inline
function pack(r: f32, g: f32, b: f32): u32 {
  return (q5(r) << 11) | (q6(g) << 5) | q5(b);
}

/**
 * Score endpoints (c0, c1) in 4-colour (`three` false) or 3-colour mode and keep them if
 * best. `blackOk`: index 3 (transparent black) may stand for dark opaque pixels, only when
 * the caller ignores alpha. Transparent pixels force 3-colour mode and index 3.
 */
function tryEndpoints(c0: u32, c1: u32, three: bool, blackOk: bool): void {
  if (!three && transMask != 0) return;
  if (three ? c0 > c1 : c0 < c1) {
    const t = c0;
    c0 = c1;
    c1 = t;
  }
  if (c0 == c1) three = true; // the decoder sees 3-colour mode; index 0 still exact
  const r0 = <i32>expand5(c0 >> 11);
  const g0 = <i32>expand6((c0 >> 5) & 63);
  const b0 = <i32>expand5(c0 & 31);
  const r1 = <i32>expand5(c1 >> 11);
  const g1 = <i32>expand6((c1 >> 5) & 63);
  const b1 = <i32>expand5(c1 & 31);
  let r2: i32, g2: i32, b2: i32, r3: i32, g3: i32, b3: i32;
  if (three) {
    r2 = (r0 + r1) >> 1;
    g2 = (g0 + g1) >> 1;
    b2 = (b0 + b1) >> 1;
    r3 = 0;
    g3 = 0;
    b3 = 0;
  } else {
    r2 = (2 * r0 + r1) / 3;
    g2 = (2 * g0 + g1) / 3;
    b2 = (2 * b0 + b1) / 3;
    r3 = (r0 + 2 * r1) / 3;
    g3 = (g0 + 2 * g1) / 3;
    b3 = (b0 + 2 * b1) / 3;
  }
  const use3 = !three || blackOk;
  if (ASC_FEATURE_SIMD) {
    scoreSimd(c0, c1, three, use3, r0, g0, b0, r1, g1, b1, r2, g2, b2, r3, g3, b3);
    return;
  }
  let err: u32 = 0;
  let bits: u32 = 0;
  for (let i: u32 = 0; i < 16; i++) {
    if (transMask & (1 << i)) {
      bits |= 3 << (2 * i);
      continue;
    }
    const r = load<i32>(FR + (i << 2));
    const g = load<i32>(FG + (i << 2));
    const b = load<i32>(FB + (i << 2));
    let dr = r - r0;
    let dg = g - g0;
    let db = b - b0;
    let best = <u32>(dr * dr + dg * dg + db * db);
    let idx: u32 = 0;
    dr = r - r1;
    dg = g - g1;
    db = b - b1;
    let e = <u32>(dr * dr + dg * dg + db * db);
    if (e < best) {
      best = e;
      idx = 1;
    }
    dr = r - r2;
    dg = g - g2;
    db = b - b2;
    e = <u32>(dr * dr + dg * dg + db * db);
    if (e < best) {
      best = e;
      idx = 2;
    }
    if (use3) {
      dr = r - r3;
      dg = g - g3;
      db = b - b3;
      e = <u32>(dr * dr + dg * dg + db * db);
      if (e < best) {
        best = e;
        idx = 3;
      }
    }
    err += best;
    bits |= idx << (2 * i);
    if (err >= bestErr) return;
  }
  bestErr = err;
  bestC0 = c0;
  bestC1 = c1;
  bestBits = bits;
  bestThree = three;
}

// @ts-ignore: decorator
@inline
function dist(r: v128, g: v128, b: v128, pr: i32, pg: i32, pb: i32): v128 {
  const dr = i32x4.sub(r, i32x4.splat(pr));
  const dg = i32x4.sub(g, i32x4.splat(pg));
  const db = i32x4.sub(b, i32x4.splat(pb));
  return i32x4.add(i32x4.add(i32x4.mul(dr, dr), i32x4.mul(dg, dg)), i32x4.mul(db, db));
}

/** tryEndpoints' scoring, 4 pixels per step (SIMD build). */
// @ts-ignore: decorator
@inline
function scoreSimd(
  c0: u32, c1: u32, three: bool, use3: bool,
  r0: i32, g0: i32, b0: i32, r1: i32, g1: i32, b1: i32,
  r2: i32, g2: i32, b2: i32, r3: i32, g3: i32, b3: i32,
): void {
  const lanes = i32x4(1, 2, 4, 8);
  const place = i32x4(1, 4, 16, 64);
  const one = i32x4.splat(1);
  const two = i32x4.splat(2);
  const idx3 = i32x4.splat(3);
  let errV = i32x4.splat(0);
  let bitsV = i32x4.splat(0);
  for (let k: u32 = 0; k < 4; k++) {
    const r = v128.load(FR + (k << 4));
    const g = v128.load(FG + (k << 4));
    const b = v128.load(FB + (k << 4));
    let best = dist(r, g, b, r0, g0, b0);
    let e = dist(r, g, b, r1, g1, b1);
    let m = i32x4.lt_s(e, best);
    best = i32x4.min_s(e, best);
    let idx = v128.and(m, one);
    e = dist(r, g, b, r2, g2, b2);
    m = i32x4.lt_s(e, best);
    best = i32x4.min_s(e, best);
    idx = v128.bitselect(two, idx, m);
    if (use3) {
      e = dist(r, g, b, r3, g3, b3);
      m = i32x4.lt_s(e, best);
      best = i32x4.min_s(e, best);
      idx = v128.bitselect(idx3, idx, m);
    }
    const tm = i32x4.ne(v128.and(i32x4.splat((transMask >> (k << 2)) & 15), lanes), i32x4.splat(0));
    best = v128.andnot(best, tm);
    idx = v128.bitselect(idx3, idx, tm);
    errV = i32x4.add(errV, best);
    bitsV = v128.or(bitsV, i32x4.shl(i32x4.mul(idx, place), k << 3));
  }
  const err = <u32>(
    i32x4.extract_lane(errV, 0) + i32x4.extract_lane(errV, 1) + i32x4.extract_lane(errV, 2) + i32x4.extract_lane(errV, 3)
  );
  if (err >= bestErr) return;
  bestErr = err;
  bestC0 = c0;
  bestC1 = c1;
  bestBits = <u32>(
    i32x4.extract_lane(bitsV, 0) | i32x4.extract_lane(bitsV, 1) | i32x4.extract_lane(bitsV, 2) | i32x4.extract_lane(bitsV, 3)
  );
  bestThree = three;
}

const SUMS: usize = memory.data(64, 16); // per index: count, sum r, sum g, sum b (i32)

/**
 * Least-squares endpoints for the best candidate's index assignment (the cluster-fit
 * solve for a fixed partition), from per-index counts and colour sums. Returns false when
 * the system is singular.
 */
function leastSquares(): bool {
  memory.fill(SUMS, 0, 64);
  const three = bestThree;
  const bits = bestBits;
  for (let i: u32 = 0; i < 16; i++) {
    const k = (bits >> (2 * i)) & 3;
    const at = SUMS + (k << 4);
    store<i32>(at, load<i32>(at) + 1);
    store<i32>(at, load<i32>(at, 4) + load<i32>(FR + (i << 2)), 4);
    store<i32>(at, load<i32>(at, 8) + load<i32>(FG + (i << 2)), 8);
    store<i32>(at, load<i32>(at, 12) + load<i32>(FB + (i << 2)), 12);
  }
  // weight of endpoint A for indices 0..3 (index 3 in 3-colour mode is off the line)
  const w2: f32 = three ? 0.5 : <f32>(2.0 / 3.0);
  const w3: f32 = three ? 0.0 : <f32>(1.0 / 3.0);
  const n0 = <f32>load<i32>(SUMS);
  const n1 = <f32>load<i32>(SUMS, 16);
  const n2 = <f32>load<i32>(SUMS, 32);
  const n3: f32 = three ? 0 : <f32>load<i32>(SUMS, 48);
  const v2: f32 = 1.0 - w2;
  const v3: f32 = three ? 0.0 : <f32>(2.0 / 3.0);
  const aa = n0 + n2 * w2 * w2 + n3 * w3 * w3;
  const bbs = n1 + n2 * v2 * v2 + n3 * v3 * v3;
  const abs = n2 * w2 * v2 + n3 * w3 * v3;
  const k3: f32 = three ? 0.0 : 1.0;
  const r0 = <f32>load<i32>(SUMS, 4);
  const g0 = <f32>load<i32>(SUMS, 8);
  const b0 = <f32>load<i32>(SUMS, 12);
  const r1 = <f32>load<i32>(SUMS, 20);
  const g1 = <f32>load<i32>(SUMS, 24);
  const b1 = <f32>load<i32>(SUMS, 28);
  const r2 = <f32>load<i32>(SUMS, 36);
  const g2 = <f32>load<i32>(SUMS, 40);
  const b2 = <f32>load<i32>(SUMS, 44);
  const r3 = <f32>load<i32>(SUMS, 52) * k3;
  const g3 = <f32>load<i32>(SUMS, 56) * k3;
  const b3 = <f32>load<i32>(SUMS, 60) * k3;
  const axr = r0 + w2 * r2 + w3 * r3;
  const axg = g0 + w2 * g2 + w3 * g3;
  const axb = b0 + w2 * b2 + w3 * b3;
  const bxr = r1 + v2 * r2 + v3 * r3;
  const bxg = g1 + v2 * g2 + v3 * g3;
  const bxb = b1 + v2 * b2 + v3 * b3;
  const det = aa * bbs - abs * abs;
  if (Mathf.abs(det) < 1e-3) return false;
  const inv: f32 = 1.0 / det;
  ar = clamp255((bbs * axr - abs * bxr) * inv);
  ag = clamp255((bbs * axg - abs * bxg) * inv);
  ab = clamp255((bbs * axb - abs * bxb) * inv);
  br = clamp255((aa * bxr - abs * axr) * inv);
  bg = clamp255((aa * bxg - abs * axg) * inv);
  bb = clamp255((aa * bxb - abs * axb) * inv);
  return true;
}

// @ts-ignore: decorator
@inline
function clamp255(v: f32): f32 {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

// principal axis of the last range fit (power iteration), shared by the scalar and SIMD fits
let vr: f32 = 0;
let vg: f32 = 0;
let vb: f32 = 0;

/** Power iteration on the covariance, from its row with the largest diagonal; sets vr, vg, vb. */
function principalAxis(crr: f32, crg: f32, crb: f32, cgg: f32, cgb: f32, cbb: f32): void {
  if (crr >= cgg && crr >= cbb) {
    vr = crr;
    vg = crg;
    vb = crb;
  } else if (cgg >= cbb) {
    vr = crg;
    vg = cgg;
    vb = cgb;
  } else {
    vr = crb;
    vg = cgb;
    vb = cbb;
  }
  for (let k = 0; k < 4; k++) {
    const x = crr * vr + crg * vg + crb * vb;
    const y = crg * vr + cgg * vg + cgb * vb;
    const z = crb * vr + cgb * vg + cbb * vb;
    const m = max(Mathf.abs(x), max(Mathf.abs(y), Mathf.abs(z)));
    if (m < 1e-12) break;
    const im: f32 = 1.0 / m;
    vr = x * im;
    vg = y * im;
    vb = z * im;
  }
  if (vr * vr + vg * vg + vb * vb < 1e-12) {
    vr = 1;
    vg = 1;
    vb = 1;
  }
}

/** Endpoints at projections lo/hi (centred) on the axis through the mean, optionally inset by 1/16. */
function axisEndpoints(mr: f32, mg: f32, mb: f32, lo: f32, hi: f32, inset: bool): void {
  const il: f32 = 1.0 / (vr * vr + vg * vg + vb * vb);
  if (inset) {
    const d = (hi - lo) * (1.0 / 16.0);
    hi -= d;
    lo += d;
  }
  ar = clamp255(mr + vr * hi * il);
  ag = clamp255(mg + vg * hi * il);
  ab = clamp255(mb + vb * hi * il);
  br = clamp255(mr + vr * lo * il);
  bg = clamp255(mg + vg * lo * il);
  bb = clamp255(mb + vb * lo * il);
}

/**
 * Principal-axis range fit over the opaque pixels: endpoints at the extreme projections,
 * inset by 1/16 of the range (the interpolants then cover the spread better).
 * Returns false for a single-colour block (handled by the lookup tables).
 */
function rangeFit(inset: bool): bool {
  if (ASC_FEATURE_SIMD) {
    if (transMask == 0) return rangeFitSimd(inset);
  }
  let n: f32 = 0;
  let mr: f32 = 0;
  let mg: f32 = 0;
  let mb: f32 = 0;
  for (let i: u32 = 0; i < 16; i++) {
    if (transMask & (1 << i)) continue;
    mr += <f32>load<i32>(FR + (i << 2));
    mg += <f32>load<i32>(FG + (i << 2));
    mb += <f32>load<i32>(FB + (i << 2));
    n += 1;
  }
  const inv: f32 = 1.0 / n;
  mr *= inv;
  mg *= inv;
  mb *= inv;
  let crr: f32 = 0;
  let crg: f32 = 0;
  let crb: f32 = 0;
  let cgg: f32 = 0;
  let cgb: f32 = 0;
  let cbb: f32 = 0;
  for (let i: u32 = 0; i < 16; i++) {
    if (transMask & (1 << i)) continue;
    const r = <f32>load<i32>(FR + (i << 2)) - mr;
    const g = <f32>load<i32>(FG + (i << 2)) - mg;
    const b = <f32>load<i32>(FB + (i << 2)) - mb;
    crr += r * r;
    crg += r * g;
    crb += r * b;
    cgg += g * g;
    cgb += g * b;
    cbb += b * b;
  }
  if (crr + cgg + cbb < 1e-3) return false;
  principalAxis(crr, crg, crb, cgg, cgb, cbb);
  let lo: f32 = f32.MAX_VALUE;
  let hi: f32 = -f32.MAX_VALUE;
  for (let i: u32 = 0; i < 16; i++) {
    if (transMask & (1 << i)) continue;
    const t =
      (<f32>load<i32>(FR + (i << 2)) - mr) * vr + (<f32>load<i32>(FG + (i << 2)) - mg) * vg + (<f32>load<i32>(FB + (i << 2)) - mb) * vb;
    lo = min(lo, t);
    hi = max(hi, t);
  }
  axisEndpoints(mr, mg, mb, lo, hi, inset);
  return true;
}

// @ts-ignore: decorator
@inline
function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/** rangeFit for a block without transparent pixels, 4 pixels per step (SIMD build). */
function rangeFitSimd(inset: bool): bool {
  const r0 = v128.load(FR);
  const r1 = v128.load(FR, 16);
  const r2 = v128.load(FR, 32);
  const r3 = v128.load(FR, 48);
  const g0 = v128.load(FG);
  const g1 = v128.load(FG, 16);
  const g2 = v128.load(FG, 32);
  const g3 = v128.load(FG, 48);
  const b0 = v128.load(FB);
  const b1 = v128.load(FB, 16);
  const b2 = v128.load(FB, 32);
  const b3 = v128.load(FB, 48);
  // raw moments in integers (16 * 255 * 255 fits easily), then centred in float
  const sr = <f32>hsum(i32x4.add(i32x4.add(r0, r1), i32x4.add(r2, r3)));
  const sg = <f32>hsum(i32x4.add(i32x4.add(g0, g1), i32x4.add(g2, g3)));
  const sb = <f32>hsum(i32x4.add(i32x4.add(b0, b1), i32x4.add(b2, b3)));
  const mrr = i32x4.add(i32x4.add(i32x4.mul(r0, r0), i32x4.mul(r1, r1)), i32x4.add(i32x4.mul(r2, r2), i32x4.mul(r3, r3)));
  const mgg = i32x4.add(i32x4.add(i32x4.mul(g0, g0), i32x4.mul(g1, g1)), i32x4.add(i32x4.mul(g2, g2), i32x4.mul(g3, g3)));
  const mbb = i32x4.add(i32x4.add(i32x4.mul(b0, b0), i32x4.mul(b1, b1)), i32x4.add(i32x4.mul(b2, b2), i32x4.mul(b3, b3)));
  const mrg = i32x4.add(i32x4.add(i32x4.mul(r0, g0), i32x4.mul(r1, g1)), i32x4.add(i32x4.mul(r2, g2), i32x4.mul(r3, g3)));
  const mrb = i32x4.add(i32x4.add(i32x4.mul(r0, b0), i32x4.mul(r1, b1)), i32x4.add(i32x4.mul(r2, b2), i32x4.mul(r3, b3)));
  const mgb = i32x4.add(i32x4.add(i32x4.mul(g0, b0), i32x4.mul(g1, b1)), i32x4.add(i32x4.mul(g2, b2), i32x4.mul(g3, b3)));
  const inv: f32 = 1.0 / 16.0;
  const mr = sr * inv;
  const mg = sg * inv;
  const mb = sb * inv;
  const crr = <f32>hsum(mrr) - sr * mr;
  const cgg = <f32>hsum(mgg) - sg * mg;
  const cbb = <f32>hsum(mbb) - sb * mb;
  const crg = <f32>hsum(mrg) - sr * mg;
  const crb = <f32>hsum(mrb) - sr * mb;
  const cgb = <f32>hsum(mgb) - sg * mb;
  if (crr + cgg + cbb < 1e-3) return false;
  principalAxis(crr, crg, crb, cgg, cgb, cbb);
  // projections on the axis (uncentred: the mean's projection is subtracted after)
  const ax = f32x4.splat(vr);
  const ay = f32x4.splat(vg);
  const az = f32x4.splat(vb);
  const t0 = f32x4.add(f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(r0), ax), f32x4.mul(f32x4.convert_i32x4_s(g0), ay)), f32x4.mul(f32x4.convert_i32x4_s(b0), az));
  const t1 = f32x4.add(f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(r1), ax), f32x4.mul(f32x4.convert_i32x4_s(g1), ay)), f32x4.mul(f32x4.convert_i32x4_s(b1), az));
  const t2 = f32x4.add(f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(r2), ax), f32x4.mul(f32x4.convert_i32x4_s(g2), ay)), f32x4.mul(f32x4.convert_i32x4_s(b2), az));
  const t3 = f32x4.add(f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(r3), ax), f32x4.mul(f32x4.convert_i32x4_s(g3), ay)), f32x4.mul(f32x4.convert_i32x4_s(b3), az));
  const tmin = f32x4.min(f32x4.min(t0, t1), f32x4.min(t2, t3));
  const tmax = f32x4.max(f32x4.max(t0, t1), f32x4.max(t2, t3));
  const mean = mr * vr + mg * vg + mb * vb;
  let lo =
    min(min(f32x4.extract_lane(tmin, 0), f32x4.extract_lane(tmin, 1)), min(f32x4.extract_lane(tmin, 2), f32x4.extract_lane(tmin, 3))) - mean;
  let hi =
    max(max(f32x4.extract_lane(tmax, 0), f32x4.extract_lane(tmax, 1)), max(f32x4.extract_lane(tmax, 2), f32x4.extract_lane(tmax, 3))) - mean;
  axisEndpoints(mr, mg, mb, lo, hi, inset);
  return true;
}

/** Nudge each 565 component of the best endpoints by one step while that lowers the error. */
function refineRounding(blackOk: bool): void {
  for (let pass = 0; pass < 3; pass++) {
    const e0 = bestErr;
    const c0 = bestC0;
    const c1 = bestC1;
    const three = bestThree;
    for (let k: u32 = 0; k < 6; k++) {
      const shift: u32 = k % 3 == 0 ? 11 : k % 3 == 1 ? 5 : 0;
      const mask: u32 = k % 3 == 1 ? 63 : 31;
      const base = k < 3 ? c0 : c1;
      const v = (base >> shift) & mask;
      for (let d: i32 = -1; d <= 1; d += 2) {
        const nv = <i32>v + d;
        if (nv < 0 || nv > <i32>mask) continue;
        const nb = (base & ~(mask << shift)) | (<u32>nv << shift);
        if (k < 3) tryEndpoints(nb, c1, three, blackOk);
        else tryEndpoints(c0, nb, three, blackOk);
      }
    }
    if (bestErr >= e0) break;
  }
}

function singleColour(blackOk: bool): void {
  const r = <u32>load<i32>(FR);
  const g = <u32>load<i32>(FG);
  const b = <u32>load<i32>(FB);
  if (transMask == 0) {
    const c0 = (<u32>load<u8>(OM5 + 2 * r) << 11) | (<u32>load<u8>(OM6 + 2 * g) << 5) | <u32>load<u8>(OM5 + 2 * b);
    const c1 = (<u32>load<u8>(OM5 + 2 * r + 1) << 11) | (<u32>load<u8>(OM6 + 2 * g + 1) << 5) | <u32>load<u8>(OM5 + 2 * b + 1);
    tryEndpoints(c0, c1, false, blackOk);
  }
  const c = pack(<f32>r, <f32>g, <f32>b);
  tryEndpoints(c, c, true, blackOk);
}

/** First opaque pixel moved to slot 0 so singleColour reads a real colour. */
function firstOpaque(): u32 {
  for (let i: u32 = 0; i < 16; i++) if (!(transMask & (1 << i))) return i;
  return 16;
}

/** Least-squares descent from (c0, c1) in its own mode; the global best keeps the winner. */
function descend(c0: u32, c1: u32, three: bool, blackOk: bool): void {
  const e = bestErr;
  const s0 = bestC0;
  const s1 = bestC1;
  const sb = bestBits;
  const st = bestThree;
  bestErr = 0xffffffff;
  tryEndpoints(c0, c1, three, blackOk);
  for (let it = 0; it < 4 && bestErr != 0xffffffff; it++) {
    const before = bestErr;
    if (!leastSquares()) break;
    tryEndpoints(pack(ar, ag, ab), pack(br, bg, bb), bestThree, blackOk);
    if (bestErr >= before) break;
  }
  if (e <= bestErr) {
    bestErr = e;
    bestC0 = s0;
    bestC1 = s1;
    bestBits = sb;
    bestThree = st;
  }
}

/**
 * Encode the block in FR/FG/FB (+ transMask) to 8 bytes at `dst`.
 * `allowThree`: BC1 (3-colour mode is legal); false for the BC3 colour block.
 */
export function encodeColourBlock(dst: usize, high: bool, allowThree: bool, blackOk: bool): void {
  bestErr = 0xffffffff;
  bestThree = false;
  const first = firstOpaque();
  if (first == 16) {
    // fully transparent: 3-colour mode, every index 3
    store<u32>(dst, 0);
    store<u32>(dst, 0xffffffff, 4);
    return;
  }
  if (first != 0) {
    // keep a real colour in slot 0 for the single-colour path
    store<i32>(FR, load<i32>(FR + (first << 2)));
    store<i32>(FG, load<i32>(FG + (first << 2)));
    store<i32>(FB, load<i32>(FB + (first << 2)));
  }
  const useThree = allowThree && (high || transMask != 0);
  const black = blackOk && allowThree;
  if (!rangeFit(!high)) {
    singleColour(black);
  } else if (!high) {
    if (transMask == 0) tryEndpoints(pack(ar, ag, ab), pack(br, bg, bb), false, false);
    if (useThree) tryEndpoints(pack(ar, ag, ab), pack(br, bg, bb), true, black);
    if (leastSquares()) tryEndpoints(pack(ar, ag, ab), pack(br, bg, bb), bestThree, black);
  } else {
    // several starts, each refined to its own local optimum, best kept
    const a = pack(ar, ag, ab);
    const b = pack(br, bg, bb);
    if (transMask == 0) descend(a, b, false, false);
    if (useThree) descend(a, b, true, black);
    if (transMask == 0 && rangeFit(true)) descend(pack(ar, ag, ab), pack(br, bg, bb), false, false);
    refineRounding(black);
    // the nudged endpoints may move indices: one more least-squares solve from there
    if (leastSquares()) {
      tryEndpoints(pack(ar, ag, ab), pack(br, bg, bb), bestThree, black);
      refineRounding(black);
    }
  }
  store<u16>(dst, <u16>bestC0);
  store<u16>(dst, <u16>bestC1, 2);
  store<u32>(dst, bestBits, 4);
}
