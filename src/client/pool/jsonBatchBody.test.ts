import { describe, expect, it } from 'vitest';
import { isTileError } from '../../protocol/errors.js';
import { decodeJsonBatchBody } from './jsonBatchBody.js';
import { loadJsonBatchDecoder } from './wasmCodecs.js';

const b64 = (ascii: Uint8Array) =>
  new Uint8Array(Buffer.from(Buffer.from(ascii).toString('latin1'), 'base64'));
const enc = (s: string) => new TextEncoder().encode(s);

describe('decodeJsonBatchBody', () => {
  it('decodes every tile of a seeds-shaped body, short and long, and keeps nulls and cache_stats', () => {
    const big = new Uint8Array(3000).map((_, i) => (i * 7) & 255);
    const small = new Uint8Array([1, 2, 3]);
    const body = enc(
      JSON.stringify({
        dataset_id: 'sample',
        count: 3,
        tiles: {
          '1/0/0.jpg': Buffer.from(big).toString('base64'),
          '1/1/0.jpg': Buffer.from(small).toString('base64'),
          '1/1/1.jpg': null,
        },
        cache_stats: {
          hit_rate: '31.0%',
          note: 'a "quoted" string that is long enough to pass sixty-four chars',
        },
      }),
    );
    const seen: number[] = [];
    const out = decodeJsonBatchBody(body, (a) => {
      seen.push(a.length);
      return b64(a);
    });
    expect(out.tiles['1/0/0.jpg']).toEqual(big);
    expect(out.tiles['1/1/0.jpg']).toEqual(small);
    expect(out.tiles['1/1/1.jpg']).toBeNull();
    expect(out.cacheStats).toMatchObject({ hit_rate: '31.0%' });
    expect(out.bytes).toBe(body.length);
    // the long payload reached the decoder as a view of the body, not re-encoded
    expect(seen).toContain(4000);
  });

  it('rejects bodies that are not the batch shape with BAD_FRAME', () => {
    for (const bad of ['{"tiles": 3}', 'not json', '{"tiles": {"0/0/0.jpg": 5}}', '{"tiles": {"a": "']) {
      expect(() => decodeJsonBatchBody(enc(bad), b64)).toThrow();
      try {
        decodeJsonBatchBody(enc(bad), b64);
      } catch (e) {
        expect(isTileError(e, 'BAD_FRAME')).toBe(true);
      }
    }
  });

  it('passes decoder errors through', () => {
    const body = enc(JSON.stringify({ tiles: { '0/0/0.jpg': 'A'.repeat(65) } }));
    expect(() =>
      decodeJsonBatchBody(body, () => {
        throw new Error('bad base64');
      }),
    ).toThrow('bad base64');
  });
});

describe('cache_stats through the codec fast path', () => {
  it('is the object after the tiles, braces inside strings included', async () => {
    const fast = await loadJsonBatchDecoder();
    const stats = { hit_rate: '31.0%', weird: 'a } { " string', nested: { a: [1, 2] } };
    const body = enc(JSON.stringify({ tiles: { '0/0/0.jpg': 'QUJD' }, cache_stats: stats }));
    expect(fast(body).cacheStats).toEqual(stats);
    expect(decodeJsonBatchBody(body, b64).cacheStats).toEqual(stats);
  });

  it('is undefined when absent, and a truncated body is BAD_FRAME', async () => {
    const fast = await loadJsonBatchDecoder();
    expect(fast(enc('{"tiles": {}}')).cacheStats).toBeUndefined();
    expect(() => fast(enc('{"tiles": {}, "cache_stats": {"a": 1'))).toThrow(
      expect.objectContaining({ code: 'BAD_FRAME' }),
    );
  });
});

describe('the errors map of a JSON batch', () => {
  const body = enc(
    JSON.stringify({
      dataset_id: 'sample',
      count: 1,
      tiles: { '1/0/0.jpg': Buffer.from('tile').toString('base64'), '1/1/0.jpg': null, '1/1/1.jpg': null },
      cache_stats: { hit_rate: '0.0%' },
      errors: {
        '1/1/0.jpg': { code: 'BATCH_TOO_LARGE', message: 'batch over {"limit"}', limit: 4 },
        '1/0/1.jpg': 'not an object',
        '1/1/1.jpg': { code: 7, message: 'bad code type' },
      },
    }),
  );

  it('is read by both decoders: well-formed entries with their details, the rest dropped', async () => {
    const fast = await loadJsonBatchDecoder();
    const want = { '1/1/0.jpg': { code: 'BATCH_TOO_LARGE', message: 'batch over {"limit"}', limit: 4 } };
    expect(decodeJsonBatchBody(body, b64).errors).toEqual(want);
    expect(fast(body).errors).toEqual(want);
    // a null without an entry is a missing tile
    expect(decodeJsonBatchBody(body, b64).tiles['1/1/1.jpg']).toBeNull();
  });

  it('is empty when the server sent none', async () => {
    const fast = await loadJsonBatchDecoder();
    const plain = enc('{"tiles": {"1/0/0.jpg": null}, "cache_stats": {}}');
    expect(decodeJsonBatchBody(plain, b64).errors).toEqual({});
    expect(fast(plain).errors).toEqual({});
  });
});
