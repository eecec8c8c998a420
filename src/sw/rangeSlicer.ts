/**
 * Byte-range arithmetic for the video chunk cache (RFC 9110 §14). Written
 * here rather than taken from workbox-range-requests because that module
 * slices a whole Blob, and video must never be buffered whole.
 */

export type RangeSpec = { start: number; end: number | undefined } | { suffix: number };

/** Parses a single `bytes=` range; undefined means "ignore the header" (absent, other unit, several ranges, bad syntax). */
export function parseRange(header: string | null): RangeSpec | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') return { suffix: Number(m[2]) };
  const start = Number(m[1]);
  const end = m[2] === '' ? undefined : Number(m[2]);
  if (end !== undefined && end < start) return undefined;
  return { start, end };
}

/** The inclusive byte span a range selects in a resource of `total` bytes, or undefined when unsatisfiable (416). */
export function resolveRange(r: RangeSpec, total: number): { start: number; end: number } | undefined {
  if ('suffix' in r) {
    if (r.suffix === 0 || total === 0) return undefined;
    return { start: Math.max(0, total - r.suffix), end: total - 1 };
  }
  if (r.start >= total) return undefined;
  return { start: r.start, end: Math.min(r.end ?? total - 1, total - 1) };
}

/** First and last chunk index covering the inclusive span. */
export function chunkSpan(start: number, end: number, chunkBytes: number): { first: number; last: number } {
  return { first: Math.floor(start / chunkBytes), last: Math.floor(end / chunkBytes) };
}

/** The inclusive upstream byte range of chunk `i` (clamped to the resource when its size is known). */
export function chunkRange(i: number, chunkBytes: number, total?: number): { start: number; end: number } {
  const start = i * chunkBytes;
  const end = start + chunkBytes - 1;
  return { start, end: total === undefined ? end : Math.min(end, total - 1) };
}

/** The part of chunk `i` (its bytes in `chunk`) that falls inside the inclusive span `[start, end]`. */
export function sliceChunk(
  chunk: Uint8Array,
  i: number,
  chunkBytes: number,
  start: number,
  end: number,
): Uint8Array {
  const base = i * chunkBytes;
  const from = Math.max(0, start - base);
  const to = Math.min(chunk.byteLength, end - base + 1);
  return to > from ? chunk.subarray(from, to) : new Uint8Array(0);
}

/** Parses `Content-Range: bytes a-b/total` or `bytes *\/total`. */
export function parseContentRange(
  v: string | null,
): { start: number | undefined; end: number | undefined; total: number | undefined } | undefined {
  if (!v) return undefined;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\s*\/\s*(\d+|\*)\s*$/i.exec(v);
  if (!m) return undefined;
  return {
    start: m[1] === undefined ? undefined : Number(m[1]),
    end: m[2] === undefined ? undefined : Number(m[2]),
    total: m[3] === '*' ? undefined : Number(m[3]),
  };
}
