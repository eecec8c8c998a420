import { TileError } from '../protocol/errors.js';
import { runDecode } from './base64.js';
import { type CodecModule, codecs } from './codecModule.js';

/**
 * The seeds' JSON batch body, decoded: tile key -> bytes, or null for a missing tile. Tiles
 * are views that may share one ArrayBuffer (use byteOffset/byteLength, or `slice()` one to
 * keep it alone).
 */
export interface BatchJson {
  datasetId: string | undefined;
  tiles: Map<string, Uint8Array | null>;
  /** The `cache_stats` member as JSON.parse reads it; undefined when absent or not valid JSON. */
  cacheStats: unknown;
  /** The `errors` member (the companion server's per-tile failures), likewise. */
  errors: unknown;
}

const utf8 = new TextDecoder();

/**
 * Decode `{"dataset_id", ..., "tiles": {"z/x/y.ext": "<base64>" | null}, ...}` straight from
 * its UTF-8 bytes: the body is copied into linear memory once, a small scanner finds each
 * value's span and the wasm decoder reads it in place (no JS string per tile). A value with a
 * JSON escape (e.g. `\/`) takes a slow path through JSON.parse. Malformed JSON is BAD_FRAME,
 * bad base64 BAD_BASE64 with the absolute body offset and the key. `cache_stats` and `errors`
 * are parsed from their own spans during the same walk (a second search of a ~1 MB body for
 * them in JS cost more than decoding every tile).
 */
export function decodeBatchJson(body: Uint8Array, mod: CodecModule = codecs()): BatchJson {
  const len = body.length;
  const outAt = (len + 15) & ~15;
  // room for the body, then for the decoded values (or one unescaped string plus its
  // output), then the wasm loop's row table
  const tabAt = outAt + ((2 * len + 32 + 15) & ~15);
  const base = mod.ensure(tabAt + TAB_ROWS * 16);
  const u8 = mod.u8;
  u8.set(body, base);
  const s = new Scanner(u8, base, base + len);
  const out: BatchJson = { datasetId: undefined, tiles: new Map(), cacheStats: undefined, errors: undefined };
  const dst = base + outAt;
  s.expect(0x7b);
  if (!s.peekIs(0x7d)) {
    for (;;) {
      const key = s.string();
      s.expect(0x3a);
      if (key === 'dataset_id' && s.peekIs(0x22)) out.datasetId = s.string();
      else if (key === 'tiles') tilesObject(s, mod, dst, base + tabAt, out.tiles);
      else if (key === 'cache_stats') out.cacheStats = s.smallValue();
      else if (key === 'errors') out.errors = s.smallValue();
      else s.skipValue();
      if (!s.comma(0x7d)) break;
    }
  }
  s.end();
  return out;
}

/** Rows per jsonTiles call (16 bytes each); a batch route answers at most 100 tiles. */
const TAB_ROWS = 256;

function tilesObject(
  s: Scanner,
  mod: CodecModule,
  dst: number,
  tab: number,
  tiles: Map<string, Uint8Array | null>,
): void {
  s.expect(0x7b);
  if (s.peekIs(0x7d)) {
    s.pos++;
    return;
  }
  const ex = mod.exports;
  for (;;) {
    // the common entries in one wasm call; their outputs are copied out before the TS path
    // below may reuse `dst` for an entry it had to take
    const n = ex.jsonTiles(s.pos, s.limit, dst, tab, TAB_ROWS);
    if (n > 0) {
      const u8 = mod.u8;
      const rows = new Int32Array(u8.buffer, tab, n * 4);
      // One copy out for all of this call's outputs (packed from dst): each new ArrayBuffer
      // cost ~14 µs in Chromium, more than decoding a 15 KiB tile, so the tiles are views of it.
      let used = 0;
      for (let i = 0; i < n * 4; i += 4) if (rows[i + 3]! > 0) used = rows[i + 2]! + rows[i + 3]! - dst;
      const out = u8.buffer.slice(dst, dst + used);
      for (let i = 0; i < n * 4; i += 4) {
        const ks = rows[i]!;
        const kl = rows[i + 1]! & 0x7fffffff;
        const key =
          rows[i + 1]! >= 0 && kl <= 64
            ? String.fromCharCode.apply(null, u8.subarray(ks, ks + kl) as unknown as number[])
            : utf8.decode(u8.subarray(ks, ks + kl));
        const len = rows[i + 3]!;
        tiles.set(key, len < 0 ? null : new Uint8Array(out, rows[i + 2]! - dst, len));
      }
    }
    s.pos = ex.jsonTilesPos.value as number;
    const state = ex.jsonTilesState.value as number;
    if (state === 2) return;
    if (state === 0) entry(s, mod, dst, tiles);
    if (!s.comma(0x7d)) return;
  }
}

/** One entry the wasm loop left: escapes, bad base64 (reported here with offset and key), other values. */
function entry(s: Scanner, mod: CodecModule, dst: number, tiles: Map<string, Uint8Array | null>): void {
  const key = s.string();
  s.expect(0x3a);
  if (s.peekIs(0x22)) {
    const [start, end] = s.stringSpan();
    const at = start - s.base;
    let bytes: Uint8Array;
    try {
      bytes = runDecode(mod, start, end - start, dst, 'base64', at);
    } catch (e) {
      if (s.u8.subarray(start, end).includes(0x5c)) {
        bytes = unescaped(s, mod, start, end, dst);
      } else {
        (e as TileError).details['key'] = key;
        throw e;
      }
    }
    tiles.set(key, bytes);
  } else {
    s.literal('null');
    tiles.set(key, null);
  }
}

/** Slow path for a value with JSON escapes: unescape, write after the body, decode there. */
function unescaped(s: Scanner, mod: CodecModule, start: number, end: number, dst: number): Uint8Array {
  const text = s.parseEscaped(start, end);
  const { written } = ascii.encodeInto(text, s.u8.subarray(dst, dst + text.length));
  if (written !== text.length)
    throw new TileError('BAD_BASE64', 'non-ASCII in base64', { offset: start - s.base });
  return runDecode(mod, dst, text.length, dst + ((text.length + 15) & ~15), 'base64', start - s.base);
}

const ascii = new TextEncoder();

/** Just enough JSON to walk the batch body; positions are absolute in linear memory. */
class Scanner {
  pos: number;
  constructor(
    readonly u8: Uint8Array,
    readonly base: number,
    readonly limit: number,
  ) {
    this.pos = base;
  }

  fail(what: string): never {
    throw new TileError('BAD_FRAME', `malformed batch JSON: ${what}`, { offset: this.pos - this.base });
  }

  ws(): void {
    const u8 = this.u8;
    let p = this.pos;
    while (p < this.limit) {
      const c = u8[p]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    this.pos = p;
  }

  peekIs(c: number): boolean {
    this.ws();
    return this.pos < this.limit && this.u8[this.pos] === c;
  }

  expect(c: number): void {
    if (!this.peekIs(c)) this.fail(`expected '${String.fromCharCode(c)}'`);
    this.pos++;
  }

  /** After a member: true on ',', false on the closing bracket. */
  comma(close: number): boolean {
    this.ws();
    const c = this.pos < this.limit ? this.u8[this.pos] : -1;
    this.pos++;
    if (c === 0x2c) return true;
    if (c === close) return false;
    return this.fail("expected ',' or a closing bracket");
  }

  /** Span [start, end) of the next string's raw content; pos moves past the closing quote. */
  stringSpan(): [number, number] {
    this.expect(0x22);
    const start = this.pos;
    let q = start;
    for (;;) {
      q = this.u8.indexOf(0x22, q);
      if (q < 0 || q >= this.limit) this.fail('unterminated string');
      let bs = 0;
      while (this.u8[q - 1 - bs] === 0x5c) bs++;
      if ((bs & 1) === 0) break;
      q++;
    }
    this.pos = q + 1;
    return [start, q];
  }

  string(): string {
    const [start, end] = this.stringSpan();
    const raw = this.u8.subarray(start - 1, end + 1);
    return raw.includes(0x5c) ? this.parseEscaped(start, end) : utf8.decode(raw.subarray(1, -1));
  }

  /** A string with JSON escapes, unescaped by JSON.parse; a bad escape is BAD_FRAME. */
  parseEscaped(start: number, end: number): string {
    try {
      return JSON.parse(utf8.decode(this.u8.subarray(start - 1, end + 1))) as string;
    } catch {
      this.pos = start;
      return this.fail('bad escape in a string');
    }
  }

  literal(word: string): void {
    this.ws();
    for (let i = 0; i < word.length; i++) {
      if (this.u8[this.pos + i] !== word.charCodeAt(i)) this.fail(`expected ${word}`);
    }
    this.pos += word.length;
  }

  skipValue(): void {
    this.ws();
    const c = this.pos < this.limit ? this.u8[this.pos]! : -1;
    if (c === 0x22) {
      this.stringSpan();
    } else if (c === 0x7b || c === 0x5b) {
      const close = c + 2;
      this.pos++;
      if (this.peekIs(close)) {
        this.pos++;
        return;
      }
      for (;;) {
        if (c === 0x7b) {
          this.stringSpan();
          this.expect(0x3a);
        }
        this.skipValue();
        if (!this.comma(close)) return;
      }
    } else {
      const start = this.pos;
      while (this.pos < this.limit && /[-+.0-9a-zA-Z]/.test(String.fromCharCode(this.u8[this.pos]!)))
        this.pos++;
      if (this.pos === start) this.fail('expected a value');
    }
  }

  /** A small member skipped over, then parsed from its span; undefined if JSON.parse refuses it. */
  smallValue(): unknown {
    this.ws();
    const start = this.pos;
    this.skipValue();
    try {
      return JSON.parse(utf8.decode(this.u8.subarray(start, this.pos)));
    } catch {
      return undefined;
    }
  }

  end(): void {
    this.ws();
    if (this.pos !== this.limit) this.fail('trailing data');
  }
}
