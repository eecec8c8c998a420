// Encoding of one 4x4 colour block (the BC1 block, and the colour half of BC3).
// Candidates are always scored against the exact integer palette the decoder builds
// (bcPalette.ts), so the rounding search optimises what is actually displayed.
import { expand5, expand6 } from './bcPalette';

/** The 16 pixels of the block as f32 channels (edge pixels already replicated). */
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

// optimal single-colour endpoints: for each 8-bit value v, the pair (hi, lo) whose
// 2/3 interpolant (2*e(hi) + e(lo)) / 3 is closest to v (stb_dxt's omatch idea,
// recomputed for our rounding).
const OM5: usize = memory.data(512);
const OM6: usize = memory.data(512);
function initSingle(tab: usize, bits: u32): void {
  const n: u32 = 1 << bits;
  for (let v: i32 = 0; v < 256; v++) {
    let best: i32 = 1 << 30;
    for (let a: u32 = 0; a < n; a++) {
      const ea = bits == 5 ? expand5(a) : expand6(a);
      for (let b: u32 = 0; b < n; b++) {
        const eb = bits == 5 ? expand5(b) : expand6(b);
        let e = <i32>((2 * ea + eb) / 3) - v;
        e = e < 0 ? -e : e;
        // small tie-break towards close endpoints, which survive later blending better
        const d = <i32>(a > b ? a - b : b - a);
        const score = e * 256 + d;
        if (score < best) {
          best = score;
          store<u8>(tab + 2 * v, a);
          store<u8>(tab + 2 * v + 1, b);
        }
      }
    }
  }
}
initSingle(OM5, 5);
initSingle(OM6, 6);

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
  let err: u32 = 0;
  let bits: u32 = 0;
  for (let i: u32 = 0; i < 16; i++) {
    if (transMask & (1 << i)) {
      bits |= 3 << (2 * i);
      continue;
    }
    const r = <i32>load<f32>(FR + (i << 2));
    const g = <i32>load<f32>(FG + (i << 2));
    const b = <i32>load<f32>(FB + (i << 2));
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

/**
 * Least-squares endpoints for the best candidate's index assignment (the cluster-fit
 * solve for a fixed partition). Returns false when the system is singular.
 */
function leastSquares(): bool {
  let aa: f32 = 0;
  let bbs: f32 = 0;
  let abs: f32 = 0;
  let axr: f32 = 0;
  let axg: f32 = 0;
  let axb: f32 = 0;
  let bxr: f32 = 0;
  let bxg: f32 = 0;
  let bxb: f32 = 0;
  const three = bestThree;
  for (let i: u32 = 0; i < 16; i++) {
    const idx = (bestBits >> (2 * i)) & 3;
    if (three && idx == 3) continue; // transparent or black: not on the line
    const w: f32 = idx == 0 ? 1.0 : idx == 1 ? 0.0 : three ? 0.5 : idx == 2 ? <f32>(2.0 / 3.0) : <f32>(1.0 / 3.0);
    const v: f32 = 1.0 - w;
    const r = load<f32>(FR + (i << 2));
    const g = load<f32>(FG + (i << 2));
    const b = load<f32>(FB + (i << 2));
    aa += w * w;
    bbs += v * v;
    abs += w * v;
    axr += w * r;
    axg += w * g;
    axb += w * b;
    bxr += v * r;
    bxg += v * g;
    bxb += v * b;
  }
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

/**
 * Principal-axis range fit over the opaque pixels: endpoints at the extreme projections,
 * inset by 1/16 of the range (the interpolants then cover the spread better).
 * Returns false for a single-colour block (handled by the lookup tables).
 */
function rangeFit(inset: bool): bool {
  let n: f32 = 0;
  let mr: f32 = 0;
  let mg: f32 = 0;
  let mb: f32 = 0;
  for (let i: u32 = 0; i < 16; i++) {
    if (transMask & (1 << i)) continue;
    mr += load<f32>(FR + (i << 2));
    mg += load<f32>(FG + (i << 2));
    mb += load<f32>(FB + (i << 2));
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
    const r = load<f32>(FR + (i << 2)) - mr;
    const g = load<f32>(FG + (i << 2)) - mg;
    const b = load<f32>(FB + (i << 2)) - mb;
    crr += r * r;
    crg += r * g;
    crb += r * b;
    cgg += g * g;
    cgb += g * b;
    cbb += b * b;
  }
  if (crr + cgg + cbb < 1e-3) return false;
  // power iteration from the covariance row with the largest diagonal
  let vr: f32, vg: f32, vb: f32;
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
  const len2 = vr * vr + vg * vg + vb * vb;
  if (len2 < 1e-12) {
    vr = 1;
    vg = 1;
    vb = 1;
  }
  let lo: f32 = f32.MAX_VALUE;
  let hi: f32 = -f32.MAX_VALUE;
  for (let i: u32 = 0; i < 16; i++) {
    if (transMask & (1 << i)) continue;
    const t =
      (load<f32>(FR + (i << 2)) - mr) * vr + (load<f32>(FG + (i << 2)) - mg) * vg + (load<f32>(FB + (i << 2)) - mb) * vb;
    lo = min(lo, t);
    hi = max(hi, t);
  }
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
  const r = <u32>load<f32>(FR);
  const g = <u32>load<f32>(FG);
  const b = <u32>load<f32>(FB);
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
    store<f32>(FR, load<f32>(FR + (first << 2)));
    store<f32>(FG, load<f32>(FG + (first << 2)));
    store<f32>(FB, load<f32>(FB + (first << 2)));
  }
  const useThree = allowThree && (high || transMask != 0);
  if (!rangeFit(!high)) {
    singleColour(blackOk && allowThree);
  } else {
    if (transMask == 0) tryEndpoints(pack(ar, ag, ab), pack(br, bg, bb), false, false);
    if (useThree) tryEndpoints(pack(ar, ag, ab), pack(br, bg, bb), true, blackOk);
    if (high && transMask == 0) {
      // the inset range fit as a second start
      if (rangeFit(true)) tryEndpoints(pack(ar, ag, ab), pack(br, bg, bb), false, false);
    }
    const iters = high ? 4 : 1;
    for (let it = 0; it < iters; it++) {
      const before = bestErr;
      if (!leastSquares()) break;
      tryEndpoints(pack(ar, ag, ab), pack(br, bg, bb), bestThree, blackOk && allowThree);
      if (bestErr >= before) break;
    }
    if (high) {
      refineRounding(blackOk && allowThree);
      // the nudged endpoints may move indices: one more least-squares solve from there
      if (leastSquares()) {
        tryEndpoints(pack(ar, ag, ab), pack(br, bg, bb), bestThree, blackOk && allowThree);
        refineRounding(blackOk && allowThree);
      }
    }
  }
  store<u16>(dst, <u16>bestC0);
  store<u16>(dst, <u16>bestC1, 2);
  store<u32>(dst, bestBits, 4);
}
