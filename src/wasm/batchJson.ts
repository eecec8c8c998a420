import { TileError } from '../protocol/errors.js';
import { runDecode } from './base64.js';
import { type CodecModule, codecs } from './codecModule.js';

/** The seeds' JSON batch body, decoded: tile key -> bytes, or null for a missing tile. */
export interface BatchJson {
  datasetId: string | undefined;
  tiles: Map<string, Uint8Array | null>;
}

const utf8 = new TextDecoder();

/**
 * Decode `{"dataset_id", ..., "tiles": {"z/x/y.ext": "<base64>" | null}, ...}` straight from
 * its UTF-8 bytes: the body is copied into linear memory once, a small scanner finds each
 * value's span and the wasm decoder reads it in place (no JS string per tile). A value with a
 * JSON escape (e.g. `\/`) takes a slow path through JSON.parse. Malformed JSON is BAD_FRAME,
 * bad base64 BAD_BASE64 with the absolute body offset and the key.
 */
export function decodeBatchJson(body: Uint8Array, mod: CodecModule = codecs()): BatchJson {
  const len = body.length;
  const outAt = (len + 15) & ~15;
  // room for the body, then for one decoded value or one unescaped string plus its output
  const base = mod.ensure(outAt + 2 * len + 32);
  const u8 = mod.u8;
  u8.set(body, base);
  const s = new Scanner(u8, base, base + len);
  const out: BatchJson = { datasetId: undefined, tiles: new Map() };
  const dst = base + outAt;
  s.expect(0x7b);
  if (!s.peekIs(0x7d)) {
    for (;;) {
      const key = s.string();
      s.expect(0x3a);
      if (key === 'dataset_id' && s.peekIs(0x22)) out.datasetId = s.string();
      else if (key === 'tiles') tilesObject(s, mod, dst, out.tiles);
      else s.skipValue();
      if (!s.comma(0x7d)) break;
    }
  }
  s.end();
  return out;
}

function tilesObject(s: Scanner, mod: CodecModule, dst: number, tiles: Map<string, Uint8Array | null>): void {
  s.expect(0x7b);
  if (s.peekIs(0x7d)) {
    s.pos++;
    return;
  }
  for (;;) {
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
    if (!s.comma(0x7d)) return;
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

  end(): void {
    this.ws();
    if (this.pos !== this.limit) this.fail('trailing data');
  }
}
