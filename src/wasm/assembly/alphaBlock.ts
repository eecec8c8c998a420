// BC3 alpha block: tries the 8-value mode (a0 > a1) and the 6-value mode (a0 <= a1, with
// explicit 0 and 255) and keeps whichever has the smaller squared error.
import { alphaPalette, APAL } from './bcPalette';

/** The 16 alpha values of the block. */
export const BA: usize = memory.data(16, 16);

let bestErr: u32 = 0;
let bestBits: u64 = 0;
let bestA0: u32 = 0;
let bestA1: u32 = 0;

function tryAlpha(a0: u32, a1: u32, n: i32): void {
  alphaPalette(a0, a1);
  let err: u32 = 0;
  let bits: u64 = 0;
  for (let i: u32 = 0; i < 16; i++) {
    const a = <i32>load<u8>(BA + i);
    let best: i32 = 1 << 20;
    let idx: u32 = 0;
    for (let k: i32 = 0; k < n; k++) {
      const d = a - <i32>load<u8>(APAL + k);
      const e = d * d;
      if (e < best) {
        best = e;
        idx = k;
      }
    }
    err += best;
    bits |= <u64>idx << (3 * i);
  }
  if (err < bestErr) {
    bestErr = err;
    bestBits = bits;
    bestA0 = a0;
    bestA1 = a1;
  }
}

/** Encode BA to 8 bytes at `dst`. `high` also tries endpoints one step inside the range. */
export function encodeAlphaBlock(dst: usize, high: bool): void {
  let lo: u32 = 255;
  let hi: u32 = 0;
  let lo6: u32 = 255; // range without the values the 6-value mode has for free
  let hi6: u32 = 0;
  for (let i: u32 = 0; i < 16; i++) {
    const a = <u32>load<u8>(BA + i);
    lo = min(lo, a);
    hi = max(hi, a);
    if (a != 0 && a != 255) {
      lo6 = min(lo6, a);
      hi6 = max(hi6, a);
    }
  }
  bestErr = 0xffffffff;
  if (lo == hi) {
    // single value: a0 == a1 selects the 6-value mode with index 0 exact
    store<u64>(dst, <u64>lo | (<u64>lo << 8));
    return;
  }
  tryAlpha(hi, lo, 8);
  if (lo6 > hi6) {
    lo6 = hi6 = lo; // only 0 and 255 present
  }
  tryAlpha(lo6, hi6, 8);
  if (high && bestErr > 0) {
    if (hi - lo > 2) tryAlpha(hi - 1, lo + 1, 8);
    if (hi6 > lo6 + 2) tryAlpha(lo6 + 1, hi6 - 1, 8);
  }
  store<u64>(dst, <u64>bestA0 | (<u64>bestA1 << 8) | (bestBits << 16));
}
