import { Buffer } from 'node:buffer';
import { beforeAll, describe, expect, it } from 'vitest';
import { isTileError } from '../protocol/errors.js';
import { base64Decode, base64Encode } from './base64.js';
import { type CodecModule, initCodecs } from './codecModule.js';

describe('base64 against Node Buffer', () => {
  let mod: CodecModule;
  beforeAll(async () => {
    mod = await initCodecs();
  });

  it('matches Buffer on random data of every length 0..4096, for every backend', () => {
    let seed = 12345;
    for (let n = 0; n <= 4096; n++) {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        data[i] = seed >>> 24;
      }
      const b64 = Buffer.from(data).toString('base64');
      expect(base64Encode(data, { backend: 'wasm' }, mod)).toBe(b64);
      expect(base64Encode(data, {}, mod)).toBe(b64);
      for (const backend of ['wasm', 'buffer'] as const) {
        const got = base64Decode(b64, { backend }, mod);
        if (Buffer.compare(Buffer.from(got), Buffer.from(data)) !== 0)
          throw new Error(`${backend} length ${n}`);
        expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
      }
      if (n % 97 === 0) {
        const url = Buffer.from(data).toString('base64url');
        expect(base64Encode(data, { alphabet: 'base64url' }, mod)).toBe(url);
        expect(Buffer.from(base64Decode(url, { alphabet: 'base64url' }, mod)).equals(Buffer.from(data))).toBe(
          true,
        );
      }
    }
  });

  it('gives the same answer on the Buffer backend as ours for every one-character corruption', () => {
    const good = Buffer.from(Array.from({ length: 47 }, (_, i) => (i * 91) & 255)).toString('base64');
    const chars = ['=', ' ', '\n', '*', '-', '_', '\u00e9', '\u0000', 'A', '/', '+'];
    const outcome = (s: string, backend: 'wasm' | 'buffer') => {
      try {
        return Array.from(base64Decode(s, { backend }, mod)).join(',');
      } catch (e) {
        return isTileError(e, 'BAD_BASE64') ? `error@${String(e.details['offset'])}` : `leak ${String(e)}`;
      }
    };
    for (let i = 0; i < good.length; i++) {
      for (const c of chars) {
        for (const s of [good.slice(0, i) + c + good.slice(i + 1), good.slice(0, i) + c + good.slice(i)]) {
          expect(outcome(s, 'buffer')).toBe(outcome(s, 'wasm'));
        }
      }
    }
  });

  it('stays strict on the Buffer backend where Buffer itself is lenient', () => {
    for (const s of ['QUJD QUJD', 'QUJDQUI', 'QR==', 'QUJD\u00e9', 'QU=D', 'QQ==QUJD', 'QUJ=', 'QUJD====']) {
      let err: unknown;
      try {
        base64Decode(s, { backend: 'buffer' }, mod);
      } catch (e) {
        err = e;
      }
      expect(isTileError(err, 'BAD_BASE64')).toBe(true);
    }
  });
});
