import { TileError } from '../../protocol/errors.js';
import type { WorkerCodecs } from './decodeInWorker.js';
import { type DecodedJsonBatch, decodeJsonBatchBody, tileErrors } from './jsonBatchBody.js';
import type { BlockLevel } from './types.js';

// Loaded on first use: a page that only decodes JPEGs never fetches the .wasm.
const wasm = () => import('../../wasm/index.js');

/** The WASM codecs (src/wasm) behind the worker's codec interface. Usable on the main thread too. */
export async function loadWasmCodecs(): Promise<WorkerCodecs> {
  const m = await wasm();
  await m.initCodecs();
  return {
    parseDDS(bytes) {
      const dds = m.parseDDS(bytes);
      const levels: BlockLevel[] = dds.levels.map((l) => ({
        width: l.width,
        height: l.height,
        data: l.data,
      }));
      if (levels.length === 0) throw new TileError('BAD_DDS', 'DDS file has no levels');
      return { format: dds.format, width: dds.width, height: dds.height, levels };
    },
    decodeBlocks: (format, blocks, width, height) =>
      format === 'bc1' ? m.decodeBC1(blocks, width, height) : m.decodeBC3(blocks, width, height),
    encodeBlocks: (format, rgba, width, height, quality, opaque) =>
      format === 'bc1'
        ? // An opaque source may use BC1's black index for dark texels (better quality, same bytes).
          m.encodeBC1(rgba, width, height, { quality, alpha: opaque ? 'ignore' : 'keep' })
        : m.encodeBC3(rgba, width, height, { quality }),
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
      const { tiles, errors, cacheStats } = m.decodeBatchJson(body);
      return { tiles: Object.fromEntries(tiles), errors: tileErrors(errors), cacheStats, bytes: body.length };
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
