import { TileError } from '../protocol/errors.js';
import { type CodecModule, codecs } from './codecModule.js';

export type Base64Alphabet = 'base64' | 'base64url';

export interface Base64Options {
  /** Default 'base64' (RFC 4648 §4, padding required); 'base64url' (§5) takes padding or none. */
  alphabet?: Base64Alphabet;
  /** Which decoder runs: 'auto' (the table in docs/codecs.md), or force one for tests/benches. */
  backend?: Base64Backend;
}

export type Base64Backend = 'auto' | 'wasm' | 'buffer' | 'native';

const KINDS = ['', 'invalid-character', 'bad-padding', 'bad-length', 'trailing-bits'] as const;

type NodeBuffer = Uint8Array & { toString(encoding: string): string };
interface BufferCtor {
  from(s: string, encoding: string): NodeBuffer;
  from(b: ArrayBufferLike, offset: number, length: number): NodeBuffer;
}
interface NativeBase64 {
  fromBase64?(s: string, o: { alphabet: string; lastChunkHandling: string }): Uint8Array;
}

const NodeBuf = (globalThis as { Buffer?: BufferCtor }).Buffer;
const nativeFrom = (Uint8Array as unknown as NativeBase64).fromBase64;
const encoder = new TextEncoder();
const latin1 = new TextDecoder('latin1');

let chosen: Exclude<Base64Backend, 'auto'> | undefined;

/**
 * The decoder 'auto' uses on this runtime, picked once by a one-time calibration (a few ms):
 * each strict candidate available here (our wasm; Node's Buffer with an exact-length and
 * last-quantum check; Uint8Array.fromBase64 in strict mode) decodes the same 96 KiB payload, best of 8
 * runs, and the fastest wins. So no runtime pays for our codec where its own is faster.
 */
export function base64Backend(mod: CodecModule = codecs()): Exclude<Base64Backend, 'auto'> {
  if (chosen) return chosen;
  const candidates: Exclude<Base64Backend, 'auto'>[] = ['wasm'];
  if (NodeBuf) candidates.push('buffer');
  if (nativeFrom) candidates.push('native');
  if (candidates.length === 1) {
    chosen = 'wasm';
    return chosen;
  }
  const bytes = new Uint8Array(96 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.imul(i, 2654435761) >>> 24;
  const text = base64Encode(bytes, { backend: 'wasm' }, mod);
  // rounds interleave the candidates so a noisy moment does not hit only one of them
  const best = candidates.map(() => Number.POSITIVE_INFINITY);
  for (let round = 0; round < 8; round++) {
    candidates.forEach((backend, i) => {
      const t0 = performance.now();
      base64Decode(text, { backend }, mod);
      best[i] = Math.min(best[i]!, performance.now() - t0);
    });
  }
  chosen = candidates[best.indexOf(Math.min(...best))]!;
  return chosen;
}

function decodeError(kind: number, offset: number, alphabet: Base64Alphabet): TileError {
  const reason = KINDS[kind] ?? 'invalid';
  return new TileError('BAD_BASE64', `invalid ${alphabet}: ${reason} at offset ${offset}`, {
    offset,
    reason,
  });
}

/** Strict decode of a string. Errors are TileError BAD_BASE64 with details.offset and details.reason. */
export function base64Decode(
  input: string,
  opts: Base64Options = {},
  mod: CodecModule = codecs(),
): Uint8Array {
  const alphabet = opts.alphabet ?? 'base64';
  let backend = opts.backend ?? 'auto';
  if (backend === 'auto') backend = alphabet === 'base64' ? base64Backend(mod) : 'wasm';
  if (backend === 'buffer' && NodeBuf && alphabet === 'base64') {
    const b = bufferStrict(NodeBuf, input);
    if (b) return b;
  } else if (backend === 'native' && nativeFrom) {
    try {
      const out = nativeFrom(input, {
        alphabet,
        lastChunkHandling: alphabet === 'base64' ? 'strict' : 'loose',
      });
      // fromBase64 skips ASCII whitespace: whole quanta and exactly this many bytes prove there was none
      const pad = input.endsWith('==') ? 2 : input.endsWith('=') ? 1 : 0;
      if (input.length % 4 === 0 && out.length === (input.length / 4) * 3 - pad) return out;
    } catch {
      // fall through: the wasm decoder reports the offset and the reason
    }
  }
  return wasmDecodeString(mod, input, alphabet);
}

/**
 * Buffer skips characters outside the alphabet (and stops or skips at a stray '='), so any of
 * them makes the output shorter than a valid input's exact length; that length plus a
 * canonical last quantum (no stray bits) proves strictness at Buffer's speed. undefined:
 * not proven, let our decoder find the error and its offset.
 */
function bufferStrict(Buf: BufferCtor, input: string): Uint8Array | undefined {
  const len = input.length;
  if (len % 4 !== 0) return undefined;
  const pad = input.endsWith('==') ? 2 : input.endsWith('=') ? 1 : 0;
  const b = Buf.from(input, 'base64');
  if (b.length !== (len / 4) * 3 - pad) return undefined;
  // Node's 'base64' also accepts the URL-safe '-' and '_' as 62 and 63
  if (input.includes('-') || input.includes('_')) return undefined;
  if (
    pad > 0 &&
    Buf.from(b.buffer, b.byteOffset + b.length - (3 - pad), 3 - pad).toString('base64') !== input.slice(-4)
  ) {
    return undefined;
  }
  return plain(b as Uint8Array);
}

/**
 * Always a plain Uint8Array; a Buffer from Node's shared pool is copied (callers may
 * transfer `.buffer`), an unpooled one is re-viewed without a copy.
 */
function plain(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.buffer.byteLength === b.length
    ? new Uint8Array(b.buffer, 0, b.length)
    : new Uint8Array(b);
}

function wasmDecodeString(mod: CodecModule, input: string, alphabet: Base64Alphabet): Uint8Array {
  const len = input.length;
  const outAt = (len + 15) & ~15;
  const base = mod.ensure(outAt + ((len * 3) >> 2) + 16);
  const u8 = mod.u8;
  const { written } = encoder.encodeInto(input, u8.subarray(base, base + len));
  if (written !== len) {
    // a non-ASCII character: UTF-8 would shift every offset, so report the first one
    let i = 0;
    while (input.charCodeAt(i) < 128) i++;
    throw decodeError(1, i, alphabet);
  }
  return runDecode(mod, base, len, base + outAt, alphabet, 0);
}

/** Decode base64 already in linear memory at `src`; `at` shifts reported offsets. */
export function runDecode(
  mod: CodecModule,
  src: number,
  len: number,
  dst: number,
  alphabet: Base64Alphabet,
  at: number,
): Uint8Array {
  const n = mod.exports.b64Decode(src, len, dst, alphabet === 'base64url' ? 1 : 0);
  if (n < 0) throw decodeError(mod.exports.b64ErrorKind.value as number, at - n - 1, alphabet);
  // ArrayBuffer#slice is a plain memcpy; TypedArray#slice over wasm memory measured slower in Chromium
  return new Uint8Array(mod.u8.buffer.slice(dst, dst + n));
}

export interface Base64BytesOptions extends Base64Options {
  /**
   * Decode into this buffer (a view of it is returned) instead of a new array: allocating
   * the result costs more than the decode itself for small payloads in Chromium.
   */
  out?: Uint8Array;
}

/** Strict decode of ASCII bytes (e.g. a slice of a JSON body) without making a string. */
export function base64DecodeBytes(
  input: Uint8Array,
  opts: Base64BytesOptions = {},
  mod: CodecModule = codecs(),
): Uint8Array {
  const len = input.length;
  const outAt = (len + 15) & ~15;
  const base = mod.ensure(outAt + ((len * 3) >> 2) + 16);
  mod.u8.set(input, base);
  const alphabet = opts.alphabet ?? 'base64';
  if (!opts.out) return runDecode(mod, base, len, base + outAt, alphabet, 0);
  const n = mod.exports.b64Decode(base, len, base + outAt, alphabet === 'base64url' ? 1 : 0);
  if (n < 0) throw decodeError(mod.exports.b64ErrorKind.value as number, -n - 1, alphabet);
  if (opts.out.length < n) throw new TileError('BAD_REQUEST', `output needs ${n} bytes`, { need: n });
  opts.out.set(mod.u8.subarray(base + outAt, base + outAt + n));
  return opts.out.subarray(0, n);
}

export interface Base64EncodeOptions {
  alphabet?: Base64Alphabet;
  /** Default true for 'base64', false for 'base64url'. */
  padding?: boolean;
  backend?: Base64Backend;
}

/** Encode bytes as base64 text. */
export function base64Encode(
  bytes: Uint8Array,
  opts: Base64EncodeOptions = {},
  mod: CodecModule = codecs(),
): string {
  const alphabet = opts.alphabet ?? 'base64';
  const padding = opts.padding ?? alphabet === 'base64';
  const backend = opts.backend ?? 'auto';
  if (NodeBuf && (backend === 'auto' || backend === 'buffer') && alphabet === 'base64' && padding) {
    return NodeBuf.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
  }
  const len = bytes.length;
  const outAt = (len + 15) & ~15;
  const base = mod.ensure(outAt + Math.ceil(len / 3) * 4 + 16);
  mod.u8.set(bytes, base);
  const n = mod.exports.b64Encode(base, len, base + outAt, alphabet === 'base64url' ? 1 : 0, padding ? 1 : 0);
  return latin1.decode(mod.u8.subarray(base + outAt, base + outAt + n));
}
