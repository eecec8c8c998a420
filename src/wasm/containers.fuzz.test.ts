import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TileError } from '../protocol/errors.js';
import { base64Decode } from './base64.js';
import { decodeBatchJson } from './batchJson.js';
import { blockBytes, decodeBC1, decodeBC3, encodeBC1 } from './blockCodec.js';
import { type CodecModule, instantiateCodecModule } from './codecModule.js';
import { encodeDDS, parseDDS } from './dds.js';

// Containers around the codecs: DDS files and the seeds' JSON batch body. Seeded and bounded.
const params = {
  numRuns: Number(process.env.FUZZ_RUNS ?? 200),
  seed: Number(process.env.FUZZ_SEED ?? 0xdd5),
};

function coded(f: () => unknown, codes: string[]): TileError | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!(e instanceof TileError) || !codes.includes(e.code)) {
      throw new Error(`leaked a non-coded error: ${String(e)}`, { cause: e });
    }
    return e;
  }
}

const imageArb = fc
  .tuple(fc.integer({ min: 1, max: 19 }), fc.integer({ min: 1, max: 19 }), fc.boolean())
  .chain(([w, h, opaque]) =>
    fc.uint8Array({ minLength: w * h * 4, maxLength: w * h * 4 }).map((px) => {
      if (opaque) for (let i = 3; i < px.length; i += 4) px[i] = 255;
      return { w, h, px };
    }),
  );

/** A byte edit: flip one byte, cut the tail, or splice random bytes in. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    junk: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(b: Uint8Array, m: Mutation): Uint8Array {
  const i = m.at % (b.length + 1);
  if (m.kind === 'cut') return b.slice(0, i);
  if (m.kind === 'splice') return Buffer.concat([b.subarray(0, i), m.junk, b.subarray(i)]);
  const c = b.slice();
  if (i < c.length) c[i] = c[i]! ^ m.xor;
  return c;
}

describe.each(['simd', 'scalar'] as const)('containers under fuzzing (%s build)', (flavour) => {
  let mod: CodecModule;
  beforeAll(async () => {
    mod = await instantiateCodecModule(flavour);
  });
  const stillUsable = () =>
    expect(Buffer.from(base64Decode('aGVsbG8=', { backend: 'wasm' }, mod)).toString()).toBe('hello');

  it('parseDDS on mutated DDS files: levels inside the buffer and decodable, or TRUNCATED/BAD_DDS', () => {
    fc.assert(
      fc.property(imageArb, fc.array(mutation, { minLength: 1, maxLength: 3 }), ({ w, h, px }, ms) => {
        let file = encodeDDS(px, w, h, { quality: 'fast' }, mod);
        for (const m of ms) file = mutate(file, m);
        let parsed: ReturnType<typeof parseDDS> | undefined;
        coded(() => {
          parsed = parseDDS(file);
        }, ['TRUNCATED', 'BAD_DDS', 'BAD_IMAGE']);
        if (parsed) {
          for (const l of parsed.levels) {
            expect(l.data.buffer).toBe(file.buffer);
            expect(l.data.byteOffset + l.data.length).toBeLessThanOrEqual(file.byteOffset + file.length);
            expect(l.data.length).toBe(blockBytes(parsed.format, l.width, l.height));
          }
          const l0 = parsed.levels[0]!;
          // a parsed level must decode: parseDDS already proved its size
          if (l0.width * l0.height <= 1 << 20) {
            const dec = parsed.format === 'bc1' ? decodeBC1 : decodeBC3;
            expect(dec(l0.data, l0.width, l0.height, undefined, mod).length).toBe(l0.width * l0.height * 4);
          }
        }
        stillUsable();
      }),
      params,
    );
  });

  it('parseDDS on random bytes behind a DDS magic never throws anything but a coded error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
        const file = Buffer.concat([Buffer.from('DDS '), junk]);
        coded(() => parseDDS(file), ['TRUNCATED', 'BAD_DDS', 'BAD_IMAGE']);
      }),
      params,
    );
  });

  it('decodeBatchJson: the JSON.parse + Buffer answer, or BAD_FRAME/BAD_BASE64, on valid and mutated bodies', () => {
    const body = fc
      .dictionary(
        fc.string({
          unit: fc.constantFrom('0', '1', '/', '.', 'j', 'p', 'g', '\\', '"', 'é'),
          maxLength: 10,
        }),
        fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
        { maxKeys: 6 },
      )
      .map((tiles) =>
        JSON.stringify({
          dataset_id: 'ds',
          count: Object.keys(tiles).length,
          tiles: Object.fromEntries(
            Object.entries(tiles).map(([k, v]) => [k, v === null ? null : Buffer.from(v).toString('base64')]),
          ),
          cache_stats: { hit_rate: '1.0%', nested: [1, { a: null }] },
        }),
      );
    fc.assert(
      fc.property(body, fc.option(mutation, { nil: undefined }), (text, m) => {
        let bytes: Uint8Array = new TextEncoder().encode(text);
        if (m) bytes = mutate(bytes, m);
        let got: ReturnType<typeof decodeBatchJson> | undefined;
        const err = coded(() => {
          got = decodeBatchJson(bytes, mod);
        }, ['BAD_FRAME', 'BAD_BASE64']);
        let oracle: { tiles?: Record<string, string | null> } | undefined;
        try {
          oracle = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
        } catch {
          oracle = undefined;
        }
        if (!m) expect(err).toBeUndefined();
        if (got && oracle?.tiles && typeof oracle.tiles === 'object') {
          for (const [k, v] of Object.entries(oracle.tiles)) {
            if (v === null) expect(got.tiles.get(k)).toBeNull();
            else if (typeof v === 'string' && Buffer.from(v, 'base64').toString('base64') === v)
              expect(Buffer.from(got.tiles.get(k)!).equals(Buffer.from(v, 'base64'))).toBe(true);
          }
        }
        stillUsable();
      }),
      params,
    );
  });

  // Was a bug (JSON.parse on an escaped string without a try leaked a SyntaxError), found by
  // the property above with FUZZ_RUNS=3000; fixed in batchJson.ts (Scanner.parseEscaped).
  it.each([
    ['in a key', '{"tiles":{"0/0/0\\x.jpg":null}}'],
    ['in a value', '{"tiles":{"0/0/0.jpg":"QU\\xJD"}}'],
  ])('a bad JSON escape %s is BAD_FRAME', (_where, text) => {
    const err = coded(() => decodeBatchJson(new TextEncoder().encode(text), mod), ['BAD_FRAME']);
    expect(err?.code).toBe('BAD_FRAME');
  });

  it('a BC1 encode/decode round trip still works after a storm of bad input', () => {
    const px = new Uint8Array(8 * 8 * 4).fill(200);
    const blocks = encodeBC1(px, 8, 8, { quality: 'fast' }, mod);
    expect(decodeBC1(blocks, 8, 8, undefined, mod).length).toBe(256);
  });
});
