// Plain-TS reference base64 (RFC 4648), used only by tests to cross-check the wasm codec.
const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function refBase64Encode(bytes: Uint8Array, url = false, pad = !url): string {
  const abc = url ? URL_SAFE : STD;
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = bytes.length - i;
    const v = (bytes[i]! << 16) | ((n > 1 ? bytes[i + 1]! : 0) << 8) | (n > 2 ? bytes[i + 2]! : 0);
    s += abc[v >> 18]! + abc[(v >> 12) & 63]!;
    s += n > 1 ? abc[(v >> 6) & 63]! : pad ? '=' : '';
    s += n > 2 ? abc[v & 63]! : pad ? '=' : '';
  }
  return s;
}

/** Strict decode; returns the error offset as a number instead of throwing. */
export function refBase64Decode(s: string, url = false): Uint8Array | number {
  const abc = url ? URL_SAFE : STD;
  let pad = 0;
  if (s.endsWith('=')) pad++;
  if (s.endsWith('==')) pad++;
  const n = s.length - pad;
  if (n % 4 === 1) return pad ? n : s.length;
  if (pad && (s.length % 4 !== 0 || pad !== (4 - (n % 4)) % 4)) return n;
  if (!pad && !url && n % 4 !== 0) return s.length;
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = abc.indexOf(s[i]!);
    if (v < 0) return i;
    vals.push(v);
  }
  const out: number[] = [];
  for (let i = 0; i < n; i += 4) {
    const q = vals.slice(i, i + 4);
    let bits = 0;
    for (const v of q) bits = bits * 64 + v;
    const extra = (q.length * 6) % 8; // bits left over after the whole bytes
    if (bits % 2 ** extra !== 0) return i + q.length - 1;
    bits = Math.floor(bits / 2 ** extra);
    const nbytes = (q.length * 6 - extra) / 8;
    for (let k = nbytes - 1; k >= 0; k--) out.push(Math.floor(bits / 256 ** k) % 256);
  }
  return new Uint8Array(out);
}
