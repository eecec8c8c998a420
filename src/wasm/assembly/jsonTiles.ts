// The hot loop of the JSON batch decoder (src/wasm/batchJson.ts): walks the entries of the
// body's "tiles" object, `"key": "<base64>"` or `"key": null`, decoding each value in place
// into consecutive output, and records one table row per entry. It stops, leaving the
// entry to the TS scanner, at anything unusual (an escape, bad base64, another value type,
// a malformed separator), so every error and edge case keeps one implementation there.
import { b64Decode } from './base64';

/** Where jsonTiles stopped (an absolute address in linear memory). */
export let jsonTilesPos: usize = 0;
/** 0: at an entry it did not take; 1: after an entry, at its separator; 2: past the closing '}'. */
export let jsonTilesState: i32 = 0;

// @ts-ignore: decorator
@inline
function isWs(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

function skipWs(p: usize, end: usize): usize {
  while (p < end && isWs(load<u8>(p))) p++;
  return p;
}

/** The closing quote of a string whose content starts at `p`; 0 at a backslash or the end. */
function strEnd(p: usize, end: usize): usize {
  if (ASC_FEATURE_SIMD) {
    const quote = i8x16.splat(0x22);
    const bs = i8x16.splat(0x5c);
    while (p + 16 <= end) {
      const v = v128.load(p);
      const m = i8x16.bitmask(v128.or(i8x16.eq(v, quote), i8x16.eq(v, bs)));
      if (m != 0) {
        p += <usize>ctz(m);
        return load<u8>(p) == 0x22 ? p : 0;
      }
      p += 16;
    }
  } else {
    // SWAR: a zero byte in (v ^ c) marks c (Mycroft's haszero), 8 bytes per step
    const lo: u64 = 0x0101010101010101;
    const hi: u64 = 0x8080808080808080;
    while (p + 8 <= end) {
      const v = load<u64>(p);
      const a = v ^ 0x2222222222222222;
      const b = v ^ 0x5c5c5c5c5c5c5c5c;
      if ((((a - lo) & ~a) | ((b - lo) & ~b)) & hi) break;
      p += 8;
    }
  }
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x22) return p;
    if (c == 0x5c) return 0;
    p++;
  }
  return 0;
}

/**
 * From `p` (inside the tiles object, at an entry) take entries until one it does not
 * handle, `max` rows, or the closing brace. Row i at `tab + 16 i`: key address, key length
 * (bit 31 set when a key byte is not ASCII), output address, output length (-1: null).
 * Outputs are packed from `dst` (4 bytes of slack past the last). Returns the row count;
 * `jsonTilesPos` / `jsonTilesState` say where the TS scanner resumes.
 */
export function jsonTiles(p: usize, end: usize, dst: usize, tab: usize, max: i32): i32 {
  let n: i32 = 0;
  let o = dst;
  jsonTilesState = 0;
  jsonTilesPos = p;
  while (n < max) {
    let q = skipWs(p, end);
    if (q >= end || load<u8>(q) != 0x22) break;
    const ks = q + 1;
    const ke = strEnd(ks, end);
    if (ke == 0) break;
    let wide: u32 = 0;
    for (let k = ks; k < ke; k++) wide |= load<u8>(k);
    q = skipWs(ke + 1, end);
    if (q >= end || load<u8>(q) != 0x3a) break;
    q = skipWs(q + 1, end);
    if (q >= end) break;
    const row = tab + (<usize>n << 4);
    const c = load<u8>(q);
    if (c == 0x22) {
      const vs = q + 1;
      const ve = strEnd(vs, end);
      if (ve == 0) break;
      const r = b64Decode(vs, <i32>(ve - vs), o, false);
      if (r < 0) break;
      store<u32>(row, <u32>o, 8);
      store<i32>(row, r, 12);
      o += <usize>r;
      q = ve + 1;
    } else if (c == 0x6e && q + 4 <= end && load<u32>(q) == 0x6c6c756e) {
      // "null"
      store<u32>(row, 0, 8);
      store<i32>(row, -1, 12);
      q += 4;
    } else {
      break;
    }
    store<u32>(row, <u32>ks);
    store<u32>(row, <u32>(ke - ks) | ((wide & 0x80) << 24), 4);
    n++;
    jsonTilesPos = q;
    jsonTilesState = 1;
    q = skipWs(q, end);
    if (q < end && load<u8>(q) == 0x2c) {
      p = q + 1;
      jsonTilesPos = p;
      jsonTilesState = 0;
      continue;
    }
    if (q < end && load<u8>(q) == 0x7d) {
      jsonTilesPos = q + 1;
      jsonTilesState = 2;
    }
    return n;
  }
  return n;
}
