import { describe, expect, it } from 'vitest';
import {
  BatchFrameDecoder,
  concatBytes,
  encodeBatchHeader,
  encodeFrame,
  readBatchFrames,
} from './batchFraming.js';
import { isTileError } from './errors.js';

const stream = (): Uint8Array =>
  concatBytes([
    encodeBatchHeader(),
    ...encodeFrame({
      kind: 'tile',
      key: '1/0/1.jpg',
      meta: { contentType: 'image/jpeg', etag: '"a"' },
      body: new Uint8Array([1, 2, 3]),
    }),
    ...encodeFrame({ kind: 'missing', key: '1/1/1.jpg' }),
    ...encodeFrame({
      kind: 'error',
      key: '1/1/0.png',
      error: { code: 'ORIGIN_ERROR', message: 'x', status: 502 },
    }),
    ...encodeFrame({ kind: 'end', trailer: { count: 3 } }),
  ]);

describe('batch framing', () => {
  it('round-trips every frame kind when fed one byte at a time', () => {
    const bytes = stream();
    const d = new BatchFrameDecoder();
    const frames = [];
    for (let i = 0; i < bytes.length; i++) frames.push(...d.push(bytes.subarray(i, i + 1)));
    d.finish();
    expect(frames.map((f) => f.kind)).toEqual(['tile', 'missing', 'error', 'end']);
    const t = frames[0]!;
    expect(t.kind === 'tile' && [...t.body]).toEqual([1, 2, 3]);
    expect(t.kind === 'tile' && t.meta.etag).toBe('"a"');
  });

  it('reports a stream cut before END as TRUNCATED', () => {
    const bytes = stream();
    const d = new BatchFrameDecoder();
    d.push(bytes.subarray(0, bytes.length - 3));
    expect(() => d.finish()).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });

  it('rejects a wrong magic, an unknown kind and oversized lengths with BAD_FRAME', () => {
    const bad = stream();
    bad[0] = 0;
    expect(() => new BatchFrameDecoder().push(bad)).toThrow(expect.objectContaining({ code: 'BAD_FRAME' }));
    const kind = concatBytes([encodeBatchHeader(), new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]);
    expect(() => new BatchFrameDecoder().push(kind)).toThrow(expect.objectContaining({ code: 'BAD_FRAME' }));
    const huge = concatBytes([
      encodeBatchHeader(),
      new Uint8Array([1, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    ]);
    try {
      new BatchFrameDecoder().push(huge);
      expect.unreachable();
    } catch (e) {
      expect(isTileError(e, 'BAD_FRAME')).toBe(true);
    }
  });

  it('reads frames from a ReadableStream', async () => {
    const bytes = stream();
    const rs = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.subarray(0, 10));
        c.enqueue(bytes.subarray(10));
        c.close();
      },
    });
    const kinds = [];
    for await (const f of readBatchFrames(rs)) kinds.push(f.kind);
    expect(kinds).toEqual(['tile', 'missing', 'error', 'end']);
  });

  it('cancels the stream when the reader stops early, so the fetch behind it stops too', async () => {
    const bytes = stream();
    let cancelled = false;
    const rs = new ReadableStream<Uint8Array>({
      start(c) {
        // Everything but the END frame, and the stream stays open: a server still sending.
        c.enqueue(bytes.subarray(0, bytes.length - 20));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const f of readBatchFrames(rs)) {
      expect(f.kind).toBe('tile');
      break;
    }
    expect(cancelled).toBe(true);
  });
});
