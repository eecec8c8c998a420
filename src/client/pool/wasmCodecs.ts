import { TileError } from '../../protocol/errors.js';
import type { WorkerCodecs } from './decodeInWorker.js';
import { type DecodedJsonBatch, decodeJsonBatchBody, extractCacheStats } from './jsonBatchBody.js';
import type { BlockFormat, BlockLevel } from './types.js';

/** The BC/DDS part of src/wasm as this module uses it (checked at run time, see `need`). */
interface BcApi {
  decodeBC1(blocks: Uint8Array, width: number, height: number): Uint8Array;
  decodeBC3(blocks: Uint8Array, width: number, height: number): Uint8Array;
  encodeBC1(
    rgba: Uint8Array,
    width: number,
    height: number,
    opts?: { quality?: 'fast' | 'high' },
  ): Uint8Array;
  encodeBC3(
    rgba: Uint8Array,
    width: number,
    height: number,
    opts?: { quality?: 'fast' | 'high' },
  ): Uint8Array;
  parseDDS(bytes: Uint8Array): {
    format: string;
    width: number;
    height: number;
    levels?: Array<{ width: number; height: number; data: Uint8Array }>;
    mipmaps?: Array<{ width: number; height: number; data: Uint8Array }>;
  };
}

// Loaded on first use: a page that only decodes JPEGs never fetches the .wasm.
const wasm = () => import('../../wasm/index.js');

function need<K extends keyof BcApi>(m: object, name: K): BcApi[K] {
  const f = (m as Partial<BcApi>)[name];
  if (typeof f !== 'function') throw new TileError('UNSUPPORTED', `the codec module has no ${name}`);
  return f.bind(m) as BcApi[K];
}

function blockFormat(f: string): BlockFormat {
  const v = f.toLowerCase();
  if (v === 'bc1' || v === 'dxt1') return 'bc1';
  if (v === 'bc3' || v === 'dxt5') return 'bc3';
  throw new TileError('BAD_DDS', `unsupported DDS format ${f}`, { format: f });
}

/** The WASM codecs (src/wasm) behind the worker's codec interface. Usable on the main thread too. */
export async function loadWasmCodecs(): Promise<WorkerCodecs> {
  const m = await wasm();
  await m.initCodecs();
  return {
    parseDDS(bytes) {
      const dds = need(m, 'parseDDS')(bytes);
      const levels: BlockLevel[] = (dds.levels ?? dds.mipmaps ?? []).map((l) => ({
        width: l.width,
        height: l.height,
        data: l.data,
      }));
      if (levels.length === 0) throw new TileError('BAD_DDS', 'DDS file has no levels');
      return { format: blockFormat(dds.format), width: dds.width, height: dds.height, levels };
    },
    decodeBlocks: (format, blocks, width, height) =>
      need(m, format === 'bc1' ? 'decodeBC1' : 'decodeBC3')(blocks, width, height),
    encodeBlocks: (format, rgba, width, height, quality) =>
      need(m, format === 'bc1' ? 'encodeBC1' : 'encodeBC3')(rgba, width, height, { quality }),
  };
}

/**
 * Decoder of the seeds' JSON batch body: the codec's fast path (the body
 * copied once into linear memory, each base64 value decoded in place); where
 * WASM does not load, a plain path through `Uint8Array.fromBase64` or `atob`.
 */
export async function loadJsonBatchDecoder(): Promise<(body: Uint8Array) => DecodedJsonBatch> {
  try {
    const m = await wasm();
    await m.initCodecs();
    return (body) => {
      const { tiles } = m.decodeBatchJson(body);
      return { tiles: Object.fromEntries(tiles), cacheStats: extractCacheStats(body), bytes: body.length };
    };
  } catch {
    return (body) => decodeJsonBatchBody(body, plainBase64);
  }
}

const latin1 = new TextDecoder('latin1');

function plainBase64(ascii: Uint8Array): Uint8Array {
  const s = latin1.decode(ascii);
  const from = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  try {
    if (from) return from(s);
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch (cause) {
    throw new TileError('BAD_BASE64', 'invalid base64 in a JSON batch', {}, { cause });
  }
}
