import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BatchFrame,
  BatchFrameDecoder,
  concatBytes,
  encodeBatchHeader,
  encodeFrame,
  FRAME_HEADER_BYTES,
} from './batchFraming.js';
import { isTileError } from './errors.js';

// Seeded and bounded so `npm test` stays fast; FUZZ_RUNS=100000 for a long run.
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 0x7e11);
const params = { numRuns: RUNS, seed: SEED };

const keyArb = fc
  .tuple(fc.nat(30), fc.nat(1 << 20), fc.nat(1 << 20), fc.constantFrom('jpg', 'png', 'webp', 'dds'))
  .map(([z, x, y, e]) => `${z}/${x}/${y}.${e}`);

const frameArb: fc.Arbitrary<BatchFrame> = fc.oneof(
  fc.record({
    kind: fc.constant('tile' as const),
    key: keyArb,
    meta: fc.record({ contentType: fc.constantFrom('image/jpeg', 'image/png'), etag: fc.string() }),
    body: fc.uint8Array({ maxLength: 300 }),
  }),
  fc.record({ kind: fc.constant('missing' as const), key: keyArb }),
  fc.record({
    kind: fc.constant('error' as const),
    key: keyArb,
    error: fc.record({ code: fc.constant('ORIGIN_ERROR'), message: fc.string(), status: fc.constant(502) }),
  }),
);

function encodeStream(frames: BatchFrame[], withEnd: boolean): Uint8Array {
  const parts: Uint8Array[] = [encodeBatchHeader()];
  for (const f of frames) parts.push(...encodeFrame(f));
  if (withEnd) parts.push(...encodeFrame({ kind: 'end', trailer: { count: frames.length } }));
  return concatBytes(parts);
}

/** Splits `bytes` at the given cut points (sorted, deduplicated, in range). */
function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const pts = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...pts, bytes.length]) {
    // a fresh copy per chunk: the decoder must not depend on chunks sharing a buffer
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  return out;
}

type Outcome = { frames: BatchFrame[]; error?: unknown; ended: boolean };

/** Feeds every chunk, then finish(); collects frames and the first error. */
function run(chunks: Uint8Array[]): Outcome {
  const d = new BatchFrameDecoder();
  const frames: BatchFrame[] = [];
  try {
    for (const c of chunks) frames.push(...d.push(c));
    d.finish();
  } catch (error) {
    return { frames, error, ended: d.ended };
  }
  return { frames, ended: d.ended };
}

function frameBytes(f: BatchFrame): number {
  return concatBytes(encodeFrame(f)).length;
}

describe('BatchFrameDecoder under fuzzing', () => {
  it('decodes any valid stream, however it is chunked, to exactly the frames encoded', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (frames, cuts) => {
          const bytes = encodeStream(frames, true);
          const out = run(chunk(bytes, cuts));
          expect(out.error).toBeUndefined();
          expect(out.ended).toBe(true);
          expect(out.frames.slice(0, -1)).toEqual(frames);
          expect(out.frames.at(-1)).toEqual({ kind: 'end', trailer: { count: frames.length } });
        },
      ),
      params,
    );
  });

  it('reports TRUNCATED (never a hang, never an invented frame) when a valid stream is cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        (frames, cutAt, split) => {
          const bytes = encodeStream(frames, true);
          const cut = cutAt % bytes.length; // strictly before the end of the END frame
          const prefix = bytes.subarray(0, cut);
          const out = run(chunk(prefix, [split]));
          expect(isTileError(out.error, 'TRUNCATED')).toBe(true);
          // Only whole frames that fit entirely in the prefix may come out, in order.
          expect(out.frames).toEqual(frames.slice(0, out.frames.length));
          let used = out.frames.length > 0 ? 8 : 0;
          for (const f of out.frames) used += frameBytes(f);
          expect(used).toBeLessThanOrEqual(cut);
        },
      ),
      params,
    );
  });

  it('answers random bytes with frames or BAD_FRAME/TRUNCATED, never another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 8 }), (junk, cuts) => {
        // Half the cases get a valid header so the frame parser itself is exercised.
        const bytes = junk.length % 2 === 0 ? concatBytes([encodeBatchHeader(), junk]) : junk;
        const out = run(chunk(bytes, cuts));
        if (out.error !== undefined) {
          expect(isTileError(out.error, 'BAD_FRAME') || isTileError(out.error, 'TRUNCATED')).toBe(true);
        }
        assertFramesWithinInput(out.frames, bytes.length);
      }),
      params,
    );
  });

  it('answers single-byte mutations of a valid stream with frames or a coded error', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (frames, at, xor, cuts) => {
          const bytes = encodeStream(frames, true);
          const i = at % bytes.length;
          bytes[i] = bytes[i]! ^ xor;
          const out = run(chunk(bytes, cuts));
          if (out.error !== undefined) {
            expect(isTileError(out.error, 'BAD_FRAME') || isTileError(out.error, 'TRUNCATED')).toBe(true);
          }
          assertFramesWithinInput(out.frames, bytes.length);
          for (const f of out.frames) assertWellTyped(f);
        },
      ),
      params,
    );
  });

  it('refuses a frame whose declared lengths exceed the limits before buffering it', () => {
    const head = new Uint8Array(FRAME_HEADER_BYTES);
    const v = new DataView(head.buffer);
    v.setUint8(0, 1);
    v.setUint32(8, 0xffffffff); // 4 GiB body
    const d = new BatchFrameDecoder();
    expect(() => d.push(concatBytes([encodeBatchHeader(), head]))).toThrow(
      expect.objectContaining({ code: 'BAD_FRAME' }),
    );
  });
});

/** Every decoded frame's bytes must have come from the input. */
function assertFramesWithinInput(frames: BatchFrame[], inputLength: number): void {
  let total = frames.length > 0 ? 8 : 0;
  for (const f of frames) {
    total += FRAME_HEADER_BYTES;
    if (f.kind !== 'end') total += new TextEncoder().encode(f.key).length;
    if (f.kind === 'tile') total += f.body.length;
  }
  expect(total).toBeLessThanOrEqual(inputLength);
}

/**
 * What a consumer (the service worker) relies on after decoding: an error
 * frame carries an object with a code, a trailer is an object.
 */
function assertWellTyped(f: BatchFrame): void {
  if (f.kind === 'error') expect(typeof f.error?.code).toBe('string');
  if (f.kind === 'end') expect(typeof f.trailer).toBe('object');
}

/** A frame with arbitrary meta bytes, bypassing the encoder's typing. */
function rawFrame(kind: number, key: string, meta: string): Uint8Array {
  const k = new TextEncoder().encode(key);
  const m = new TextEncoder().encode(meta);
  const head = new Uint8Array(FRAME_HEADER_BYTES);
  const v = new DataView(head.buffer);
  v.setUint8(0, kind);
  v.setUint16(2, k.length);
  v.setUint32(4, m.length);
  return concatBytes([head, k, m]);
}

describe('BatchFrameDecoder meta typing', () => {
  // The service worker reads `frame.error.code` and `frame.trailer.generation`
  // straight after decoding: a hostile or corrupt stream must not hand it a
  // null or a number typed as an object.
  it.each([
    ['error meta null', 3, 'null'],
    ['error meta a number', 3, '5'],
    ['end trailer a string', 255, '"x"'],
    ['end trailer an array', 255, '[1]'],
  ])('rejects %s with BAD_FRAME', (_name, kind, meta) => {
    const d = new BatchFrameDecoder();
    let err: unknown;
    let frames: BatchFrame[] = [];
    try {
      frames = d.push(
        concatBytes([encodeBatchHeader(), rawFrame(kind, kind === 255 ? '' : '0/0/0.jpg', meta)]),
      );
    } catch (e) {
      err = e;
    }
    expect({ frames, code: (err as { code?: string } | undefined)?.code }).toEqual({
      frames: [],
      code: 'BAD_FRAME',
    });
  });
});
