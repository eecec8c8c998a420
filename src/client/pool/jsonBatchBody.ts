import { concatBytes } from '../../protocol/batchFraming.js';
import { TileError } from '../../protocol/errors.js';

/** Why the server could not answer one tile of a JSON batch (its `errors` map). */
export interface JsonBatchTileError {
  code: string;
  message: string;
  [detail: string]: unknown;
}

export interface DecodedJsonBatch {
  tiles: Record<string, Uint8Array | null>;
  /** Tiles that are `null` because they failed (e.g. ORIGIN_TIMEOUT, BATCH_TOO_LARGE), not because they are missing. */
  errors: Record<string, JsonBatchTileError>;
  cacheStats: unknown;
  bytes: number;
}

/** The well-formed entries of a body's `errors` map (anything else is dropped: it is advisory). */
export function tileErrors(raw: unknown): Record<string, JsonBatchTileError> {
  const out: Record<string, JsonBatchTileError> = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return out;
  for (const [key, v] of Object.entries(raw)) {
    const e = v as { code?: unknown; message?: unknown } | null;
    if (typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.message === 'string') {
      out[key] = { ...(e as object), code: e.code, message: e.message };
    }
  }
  return out;
}

/** Decodes one base64 value given as the ASCII bytes between its quotes. */
export type Base64BytesDecoder = (ascii: Uint8Array) => Uint8Array;

/**
 * Parses the seeds' JSON batch body `{"dataset_id","count","tiles":{key: base64|null},"cache_stats"}`.
 * The body is parsed with the tile payloads still as bytes: each base64 value
 * goes from the UTF-8 body to the decoder without becoming a JS string.
 */
export function decodeJsonBatchBody(body: Uint8Array, decode: Base64BytesDecoder): DecodedJsonBatch {
  const tiles: Record<string, Uint8Array | null> = {};
  // Replace every long string value by a placeholder index so JSON.parse sees a small document.
  const spans: Array<[number, number]> = [];
  let last = 0;
  const n = body.length;
  let i = 0;
  const parts: Uint8Array[] = [];
  const utf8 = new TextEncoder();
  while (i < n) {
    if (body[i] !== 0x22) {
      i++;
      continue;
    }
    // A string: find its end (JSON escapes start with a backslash; base64 never has one).
    let j = i + 1;
    let escaped = false;
    while (j < n && body[j] !== 0x22) {
      if (body[j] === 0x5c) {
        escaped = true;
        j++;
      }
      j++;
    }
    if (j >= n) throw new TileError('BAD_FRAME', 'unterminated string in JSON batch body', { offset: i });
    // Long unescaped strings after a colon are tile payloads; everything else stays in the skeleton.
    if (!escaped && j - i - 1 >= 64 && prevNonSpace(body, i) === 0x3a) {
      parts.push(body.subarray(last, i));
      const marker = `"\\u0000${spans.length}"`;
      spans.push([i + 1, j]);
      parts.push(utf8.encode(marker));
      last = j + 1;
    }
    i = j + 1;
  }
  parts.push(body.subarray(last));
  const joined = concatBytes(parts);
  let doc: { tiles?: Record<string, unknown>; cache_stats?: unknown; errors?: unknown };
  try {
    doc = JSON.parse(new TextDecoder().decode(joined));
  } catch (cause) {
    throw new TileError('BAD_FRAME', 'JSON batch body is not valid JSON', {}, { cause });
  }
  if (!doc || typeof doc.tiles !== 'object' || doc.tiles === null) {
    throw new TileError('BAD_FRAME', 'JSON batch body has no "tiles" object');
  }
  for (const [key, v] of Object.entries(doc.tiles)) {
    if (v === null) tiles[key] = null;
    else if (typeof v === 'string' && v.startsWith('\u0000')) {
      const [s, e] = spans[Number(v.slice(1))]!;
      tiles[key] = decode(body.subarray(s, e));
    } else if (typeof v === 'string') {
      tiles[key] = decode(utf8.encode(v));
    } else {
      throw new TileError('BAD_FRAME', 'a tile value must be base64 text or null', { key });
    }
  }
  return { tiles, errors: tileErrors(doc.errors), cacheStats: doc.cache_stats, bytes: body.length };
}

function prevNonSpace(b: Uint8Array, i: number): number {
  let k = i - 1;
  while (k >= 0 && (b[k] === 0x20 || b[k] === 0x0a || b[k] === 0x0d || b[k] === 0x09)) k--;
  return k >= 0 ? b[k]! : -1;
}
