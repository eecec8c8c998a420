// Strict base64 (RFC 4648 §4 standard and §5 URL-safe alphabets) over linear memory.
// Errors are returned as a negative number -(offset + 1); the kind is in `b64ErrorKind`.

/** 1 invalid character, 2 bad padding, 3 bad length, 4 non-zero trailing bits. */
export let b64ErrorKind: i32 = 0;

// 256-entry decode tables (0xff = not in the alphabet) and 64-entry encode tables.
const DEC_STD: usize = memory.data(256);
const DEC_URL: usize = memory.data(256);
const ENC_STD: usize = memory.data(64);
const ENC_URL: usize = memory.data(64);

function initTables(): void {
  memory.fill(DEC_STD, 0xff, 256);
  memory.fill(DEC_URL, 0xff, 256);
  for (let i: i32 = 0; i < 64; i++) {
    let c: i32;
    if (i < 26) c = 65 + i;
    else if (i < 52) c = 97 + i - 26;
    else if (i < 62) c = 48 + i - 52;
    else c = 0;
    let s = c;
    let u = c;
    if (i == 62) {
      s = 43; // '+'
      u = 45; // '-'
    } else if (i == 63) {
      s = 47; // '/'
      u = 95; // '_'
    }
    store<u8>(ENC_STD + i, s);
    store<u8>(ENC_URL + i, u);
    store<u8>(DEC_STD + s, i);
    store<u8>(DEC_URL + u, i);
  }
}
initTables();

function fail(kind: i32, offset: i32): i32 {
  b64ErrorKind = kind;
  return -(offset + 1);
}

/** Bytes produced by a valid input of `len` characters (after validation), or a negative error. */
function checkShape(src: usize, len: i32, url: bool): i32 {
  let pad: i32 = 0;
  if (len > 0 && load<u8>(src + len - 1) == 61) pad++;
  if (len > 1 && load<u8>(src + len - 2) == 61) pad++;
  const n = len - pad;
  const rem = n & 3;
  if (rem == 1) return pad > 0 ? fail(2, n) : fail(3, len);
  if (pad > 0) {
    if ((len & 3) != 0 || (rem == 0) || (rem == 2 && pad != 2) || (rem == 3 && pad != 1)) return fail(2, n);
  } else if (!url && rem != 0) {
    return fail(3, len);
  }
  return n;
}

/** Decode `len` chars at `src` into `dst` (needs 4 bytes of slack). Returns the byte count or -(offset+1). */
export function b64Decode(src: usize, len: i32, dst: usize, url: bool): i32 {
  b64ErrorKind = 0;
  const n = checkShape(src, len, url);
  if (n < 0) return n;
  const tab = url ? DEC_URL : DEC_STD;
  let i: i32 = 0;
  let o: usize = dst;
  if (ASC_FEATURE_SIMD) {
    o = decodeSimd(src, n, dst, url);
    i = <i32>((o - dst) / 3) * 4;
  }
  const full = n & ~3;
  for (; i < full; i += 4) {
    const p = src + i;
    const a = <u32>load<u8>(tab + load<u8>(p));
    const b = <u32>load<u8>(tab + load<u8>(p, 1));
    const c = <u32>load<u8>(tab + load<u8>(p, 2));
    const d = <u32>load<u8>(tab + load<u8>(p, 3));
    if ((a | b | c | d) & 0x80) return badChar(tab, src, i);
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    store<u8>(o, v >> 16);
    store<u8>(o, v >> 8, 1);
    store<u8>(o, v, 2);
    o += 3;
  }
  const rem = n - full;
  if (rem > 0) {
    const p = src + full;
    const a = <u32>load<u8>(tab + load<u8>(p));
    const b = <u32>load<u8>(tab + load<u8>(p, 1));
    const c = rem == 3 ? <u32>load<u8>(tab + load<u8>(p, 2)) : 0;
    if ((a | b | c) & 0x80) return badChar(tab, src, full);
    if (rem == 2) {
      if (b & 15) return fail(4, full + 1);
      store<u8>(o, (a << 2) | (b >> 4));
      o += 1;
    } else {
      if (c & 3) return fail(4, full + 2);
      store<u8>(o, (a << 2) | (b >> 4));
      store<u8>(o, ((b & 15) << 4) | (c >> 2), 1);
      o += 2;
    }
  }
  return <i32>(o - dst);
}

function badChar(tab: usize, src: usize, from: i32): i32 {
  let i = from;
  while (load<u8>(tab + load<u8>(src + i)) != 0xff) i++;
  return fail(1, i);
}

/**
 * 16 chars -> 12 bytes per step. Standard alphabet: Mula & Lemire's nibble lookups
 * (arXiv:1704.00605), one swizzle each for the validity classes and the offset; URL-safe:
 * range compares. Stops before the first block with an invalid byte so the scalar loop
 * reports its exact offset; returns the output end.
 */
// @ts-ignore: decorator
@inline
function decodeSimd(src: usize, n: i32, dst: usize, url: bool): usize {
  let o = dst;
  // keep 4 chars (the last quantum may be partial) for the scalar tail; the 16-byte store
  // writes 4 bytes of slack past the 12 valid ones, which the caller reserves.
  if (n < 20) return o;
  const end = src + <usize>(n - 20);
  let p = src;
  const m6 = i16x8.splat(0x3f);
  const m12 = i32x4.splat(0xfff);
  const order = i8x16(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  if (!url) {
    const lutLo = i8x16(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
    const lutHi = i8x16(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
    const lutRoll = i8x16(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
    const m4 = i8x16.splat(0x0f);
    const slash = i8x16.splat(0x2f);
    while (p <= end) {
      const v = v128.load(p);
      const hiN = v128.and(i16x8.shr_u(v, 4), m4);
      const loN = v128.and(v, m4);
      if (v128.any_true(v128.and(i8x16.swizzle(lutLo, loN), i8x16.swizzle(lutHi, hiN)))) break;
      const roll = i8x16.swizzle(lutRoll, i8x16.add(i8x16.eq(v, slash), hiN));
      const s = i8x16.add(v, roll);
      // bytes [a b c d] -> 16-bit lanes (a<<6|b), (c<<6|d) -> 32-bit lane (ab<<12|cd)
      const pairs = v128.or(i16x8.shl(v128.and(s, m6), 6), i16x8.shr_u(s, 8));
      const quads = v128.or(i32x4.shl(v128.and(pairs, m12), 12), i32x4.shr_u(pairs, 16));
      v128.store(o, i8x16.swizzle(quads, order));
      o += 12;
      p += 16;
    }
    return o;
  }
  const c62 = i8x16.splat(45); // '-'
  const c63 = i8x16.splat(95); // '_'
  const d62 = i8x16.splat(62 - 45);
  const d63 = i8x16.splat(63 - 95);
  const bA = i8x16.splat(65);
  const ba = i8x16.splat(97);
  const b0 = i8x16.splat(48);
  const n26 = i8x16.splat(26);
  const n10 = i8x16.splat(10);
  const offA = i8x16.splat(-65);
  const offa = i8x16.splat(-71);
  const off0 = i8x16.splat(4);
  while (p <= end) {
    const v = v128.load(p);
    const up = i8x16.lt_u(i8x16.sub(v, bA), n26);
    const lo = i8x16.lt_u(i8x16.sub(v, ba), n26);
    const di = i8x16.lt_u(i8x16.sub(v, b0), n10);
    const e62 = i8x16.eq(v, c62);
    const e63 = i8x16.eq(v, c63);
    const ok = v128.or(v128.or(v128.or(up, lo), v128.or(di, e62)), e63);
    if (!i8x16.all_true(ok)) break;
    const off = v128.or(
      v128.or(v128.or(v128.and(up, offA), v128.and(lo, offa)), v128.and(di, off0)),
      v128.or(v128.and(e62, d62), v128.and(e63, d63)),
    );
    const s = i8x16.add(v, off);
    const pairs = v128.or(i16x8.shl(v128.and(s, m6), 6), i16x8.shr_u(s, 8));
    const quads = v128.or(i32x4.shl(v128.and(pairs, m12), 12), i32x4.shr_u(pairs, 16));
    v128.store(o, i8x16.swizzle(quads, order));
    o += 12;
    p += 16;
  }
  return o;
}

/** Encode `len` bytes at `src` into `dst` (4*ceil(len/3) chars, or unpadded for `pad` false). */
export function b64Encode(src: usize, len: i32, dst: usize, url: bool, pad: bool): i32 {
  const tab = url ? ENC_URL : ENC_STD;
  let o = dst;
  const full = len - (len % 3);
  for (let i: i32 = 0; i < full; i += 3) {
    const p = src + i;
    const v = (<u32>load<u8>(p) << 16) | (<u32>load<u8>(p, 1) << 8) | <u32>load<u8>(p, 2);
    store<u32>(
      o,
      <u32>load<u8>(tab + (v >> 18)) |
        (<u32>load<u8>(tab + ((v >> 12) & 63)) << 8) |
        (<u32>load<u8>(tab + ((v >> 6) & 63)) << 16) |
        (<u32>load<u8>(tab + (v & 63)) << 24),
    );
    o += 4;
  }
  const rem = len - full;
  if (rem > 0) {
    const p = src + full;
    const a = <u32>load<u8>(p);
    const b = rem == 2 ? <u32>load<u8>(p, 1) : 0;
    store<u8>(o, load<u8>(tab + (a >> 2)));
    store<u8>(o, load<u8>(tab + (((a & 3) << 4) | (b >> 4))), 1);
    o += 2;
    if (rem == 2) {
      store<u8>(o, load<u8>(tab + ((b & 15) << 2)));
      o += 1;
    } else if (pad) {
      store<u8>(o, 61);
      o += 1;
    }
    if (pad) {
      store<u8>(o, 61);
      o += 1;
    }
  }
  return <i32>(o - dst);
}
