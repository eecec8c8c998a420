import { beforeAll, describe, expect, it } from 'vitest';
import { refBase64Decode, refBase64Encode } from '../../test/support/wasm/reference/base64.js';
import { isTileError } from '../protocol/errors.js';
import { base64Decode, base64DecodeBytes, base64Encode } from './base64.js';
import { decodeBatchJson } from './batchJson.js';
import { type CodecModule, instantiateCodecModule } from './codecModule.js';

function rand(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

function codeOf(fn: () => unknown): { code: string; offset: unknown; reason: unknown } {
  try {
    fn();
  } catch (e) {
    if (isTileError(e)) return { code: e.code, offset: e.details['offset'], reason: e.details['reason'] };
    throw e;
  }
  throw new Error('expected a TileError');
}

for (const flavour of ['simd', 'scalar'] as const) {
  describe(`base64 (${flavour} wasm)`, () => {
    let mod: CodecModule;
    beforeAll(async () => {
      mod = await instantiateCodecModule(flavour);
    });

    it('round-trips random data of every length 0..4096 like the reference, both alphabets', () => {
      for (let n = 0; n <= 4096; n++) {
        const data = rand(n, n + 7);
        const std = refBase64Encode(data);
        expect(base64Encode(data, { backend: 'wasm' }, mod)).toBe(std);
        const got = base64Decode(std, { backend: 'wasm' }, mod);
        if (got.length !== n || !got.every((v, i) => v === data[i]))
          throw new Error(`mismatch at length ${n}`);
        if (n % 61 === 0) {
          const url = refBase64Encode(data, true);
          expect(base64Encode(data, { alphabet: 'base64url', backend: 'wasm' }, mod)).toBe(url);
          expect(base64Decode(url, { alphabet: 'base64url', backend: 'wasm' }, mod)).toEqual(data);
          expect(base64Decode(refBase64Encode(data, true, true), { alphabet: 'base64url' }, mod)).toEqual(
            data,
          );
        }
      }
    });

    it('rejects an invalid character at every position with its exact offset', () => {
      const good = refBase64Encode(rand(90, 3));
      for (let i = 0; i < good.length - 2; i++) {
        for (const bad of ['*', '-', ' ', '\n', '=', '\u00e9']) {
          const s = good.slice(0, i) + bad + good.slice(i + 1);
          const e = codeOf(() => base64Decode(s, { backend: 'wasm' }, mod));
          expect([e.code, e.offset]).toEqual(['BAD_BASE64', refBase64Decode(s)]);
        }
      }
      expect(codeOf(() => base64Decode('ab+/', { alphabet: 'base64url' }, mod)).offset).toBe(2);
    });

    it('rejects bad length, bad padding and non-zero trailing bits', () => {
      const cases: [string, string, number][] = [
        ['QUJDR', 'bad-length', 5],
        ['QUI', 'bad-length', 3],
        ['QQ=', 'bad-padding', 2],
        ['QUJD=', 'bad-padding', 4],
        ['QUI==', 'bad-padding', 3],
        ['QQ===', 'bad-padding', 3],
        ['QR==', 'trailing-bits', 1],
        ['QUJ=', 'trailing-bits', 2],
      ];
      for (const [s, reason, offset] of cases) {
        for (const backend of ['auto', 'wasm'] as const) {
          expect(codeOf(() => base64Decode(s, { backend }, mod))).toEqual({
            code: 'BAD_BASE64',
            offset,
            reason,
          });
        }
        expect(refBase64Decode(s)).toBe(offset);
      }
      for (const s of ['QUJD QUJD', 'QUJD\nQUJD', 'QU JD']) {
        for (const backend of ['auto', 'native', 'wasm'] as const) {
          expect(codeOf(() => base64Decode(s, { backend }, mod)).code).toBe('BAD_BASE64');
        }
      }
      // still usable afterwards
      expect(base64Decode('QUJD', {}, mod)).toEqual(new Uint8Array([65, 66, 67]));
    });

    it('decodes bytes in place and keeps working after memory growth', () => {
      const big = rand(300_000, 9);
      const bytes = new TextEncoder().encode(refBase64Encode(big));
      const got = base64DecodeBytes(bytes, {}, mod);
      expect(got.length === big.length && got.every((v, i) => v === big[i])).toBe(true);
      const out = new Uint8Array(big.length + 5);
      const into = base64DecodeBytes(bytes, { out }, mod);
      expect(into.buffer).toBe(out.buffer);
      expect(into.length === big.length && into.every((v, i) => v === big[i])).toBe(true);
      expect(codeOf(() => base64DecodeBytes(bytes, { out: new Uint8Array(3) }, mod)).code).toBe(
        'BAD_REQUEST',
      );
      expect(codeOf(() => base64DecodeBytes(new TextEncoder().encode('QU*D'), { out }, mod)).offset).toBe(2);
      expect(base64Decode('AAEC', { backend: 'wasm' }, mod)).toEqual(new Uint8Array([0, 1, 2]));
    });

    it('decodes the batch JSON body straight from its bytes', () => {
      const a = rand(1000, 1);
      const b = rand(33, 2);
      const body = new TextEncoder().encode(
        JSON.stringify({
          dataset_id: 'sample',
          count: 3,
          tiles: { '1/0/0.jpg': refBase64Encode(a), '1/1/0.png': null, '1/0/1.jpg': refBase64Encode(b) },
          cache_stats: { hits: [1, 2, { x: true }], rate: '31.0%', n: -1.5e3 },
        }).replace(refBase64Encode(b), refBase64Encode(b).replaceAll('/', '\\/')),
      );
      const got = decodeBatchJson(body, mod);
      expect(got.datasetId).toBe('sample');
      expect([...got.tiles.keys()]).toEqual(['1/0/0.jpg', '1/1/0.png', '1/0/1.jpg']);
      expect(got.tiles.get('1/0/0.jpg')).toEqual(a);
      expect(got.tiles.get('1/1/0.png')).toBeNull();
      expect(got.tiles.get('1/0/1.jpg')).toEqual(b);
      // the small members are parsed on the same walk; absent ones stay undefined
      expect(got.cacheStats).toEqual({ hits: [1, 2, { x: true }], rate: '31.0%', n: -1.5e3 });
      expect(got.errors).toBeUndefined();
    });

    it('batch body: the wasm entry loop and the TS path hand over at escapes, odd spacing, odd keys and 300 entries', () => {
      const tiles: Record<string, string | null> = {};
      const want = new Map<string, Uint8Array | null>();
      for (let i = 0; i < 300; i++) {
        const key = i === 7 ? 'clé/é.jpg' : i === 9 ? `k"${i}` : `z/${i}.jpg`;
        const v = i % 11 === 5 ? null : rand((i * 37) % 200, i + 10);
        tiles[key] = v === null ? null : refBase64Encode(v);
        want.set(key, v);
      }
      // an escaped value at 3 (and the escaped key at 9) fall back to the TS path mid-object;
      // spacing around every token must not matter
      const text = JSON.stringify({ tiles }, null, '\t')
        .replace(tiles['z/3.jpg']!, tiles['z/3.jpg']!.replaceAll('/', '\\/'))
        .replaceAll('": ', '" \n :\r ');
      const got = decodeBatchJson(new TextEncoder().encode(text), mod);
      expect([...got.tiles.keys()]).toEqual([...want.keys()]);
      for (const [k, v] of want) expect(got.tiles.get(k)).toEqual(v);
      // a bad separator right after an entry the loop took, and a bad value it left
      for (const bad of [
        '{"tiles":{"a":null "b":null}}',
        '{"tiles":{"a":"QUJD";}}',
        '{"tiles":{"a":nul}}',
        '{"tiles":{"a":"QUJD"',
      ]) {
        expect(codeOf(() => decodeBatchJson(new TextEncoder().encode(bad), mod)).code).toBe('BAD_FRAME');
      }
      const bad = '{"tiles":{"a":null,"b":"QU=D"}}';
      const e = (() => {
        try {
          decodeBatchJson(new TextEncoder().encode(bad), mod);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(isTileError(e, 'BAD_BASE64') && e.details).toMatchObject({ key: 'b', offset: bad.indexOf('=') });
    });

    it('reports bad base64 in a batch body with its absolute offset and key, and malformed JSON', () => {
      const text = '{"tiles":{"0/0/0.jpg":"QUJD*UJD"}}';
      const e = (() => {
        try {
          decodeBatchJson(new TextEncoder().encode(text), mod);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(isTileError(e, 'BAD_BASE64') && e.details).toMatchObject({
        offset: text.indexOf('*'),
        key: '0/0/0.jpg',
      });
      for (const bad of ['{"tiles":{"a":"QUJD"', '{"tiles":[}', '{"tiles":{"a":nul}}', '{} x', '']) {
        expect(codeOf(() => decodeBatchJson(new TextEncoder().encode(bad), mod)).code).toBe('BAD_FRAME');
      }
      expect(decodeBatchJson(new TextEncoder().encode(' { "tiles" : { } } '), mod).tiles.size).toBe(0);
    });
  });
}
