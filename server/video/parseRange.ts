/** Outcome of a `Range` header against an object of `size` bytes (RFC 9110 §14.1.2, §14.2). */
export type RangeDecision =
  /** No usable Range (absent, another unit, bad syntax, or several ranges): send the whole object with 200. */
  { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const SPEC_RE = /^(\d*)-(\d*)$/;

/**
 * Parses `bytes=` ranges. Several ranges are answered with the whole object
 * (200): RFC 9110 lets a server ignore Range, and it spares a multipart body.
 * Invalid syntax is ignored the same way (§14.2: "a server MAY ignore").
 */
export function parseRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return { kind: 'full' };
  const specs = m[1]!.split(',').map((s) => s.trim());
  if (specs.length !== 1) return { kind: 'full' };
  const s = SPEC_RE.exec(specs[0]!);
  if (!s) return { kind: 'full' };
  const [, a, b] = s;
  if (a === '' && b === '') return { kind: 'full' };
  if (a === '') {
    // Suffix: the last N bytes.
    const n = Number(b);
    if (!Number.isSafeInteger(n)) return { kind: 'full' };
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? Number.MAX_SAFE_INTEGER : Number(b);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
