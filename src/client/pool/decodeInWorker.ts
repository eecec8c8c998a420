import { TileError } from '../../protocol/errors.js';
import type { BlockFormat, BlockLevel, DecodeRequest, DecodeResult, WorkerReply } from './types.js';

/** The codec operations the worker needs; the WASM module provides them (src/wasm). */
export interface WorkerCodecs {
  parseDDS(bytes: Uint8Array): { format: BlockFormat; width: number; height: number; levels: BlockLevel[] };
  decodeBlocks(format: BlockFormat, blocks: Uint8Array, width: number, height: number): Uint8Array;
  encodeBlocks(
    format: BlockFormat,
    rgba: Uint8Array,
    width: number,
    height: number,
    quality: 'fast' | 'high',
    /** Every alpha is 255 (JPEG, or the caller says so): BC1 may use its black index freely. */
    opaque: boolean,
  ): Uint8Array;
}

export type SourceFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'dds' | 'unknown';

/** Identifies the file by its magic bytes (Content-Type is not trusted: the server falls back between formats). */
function sniffFormat(b: Uint8Array): SourceFormat {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (b.length >= 6 && ascii(b, 0, 4) === 'GIF8') return 'gif';
  if (b.length >= 4 && ascii(b, 0, 4) === 'DDS ') return 'dds';
  return 'unknown';
}

function ascii(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}

/**
 * Runs one decode job inside the worker. `loadCodecs` is called only when a
 * job needs BC or DDS work, so raster decoding works even where WASM does not.
 */
export class WorkerDecoder {
  #codecs: Promise<WorkerCodecs> | undefined;
  #canvas: OffscreenCanvas | undefined;
  readonly #loadCodecs: () => Promise<WorkerCodecs>;

  constructor(loadCodecs: () => Promise<WorkerCodecs>) {
    this.#loadCodecs = loadCodecs;
  }

  async decode(req: DecodeRequest): Promise<{ reply: WorkerReply; transfer: Transferable[] }> {
    try {
      const value = await this.#run(req);
      return { reply: { ok: true, value }, transfer: transferablesOf(value) };
    } catch (e) {
      return { reply: toErrorReply(e), transfer: [] };
    }
  }

  async #run(req: DecodeRequest): Promise<DecodeResult> {
    const { bytes, as } = req;
    if (req.rgba) {
      const { width, height } = req.rgba;
      if (bytes.length !== width * height * 4) {
        throw new TileError('BAD_REQUEST', 'rgba input must be width*height*4 bytes', {
          width,
          height,
          bytes: bytes.length,
        });
      }
      return this.#fromRgba(bytes, width, height, req);
    }
    const format = sniffFormat(bytes);
    if (format === 'unknown') throw new TileError('BAD_IMAGE', 'not a JPEG, PNG, WebP, GIF or DDS file');
    if (format === 'dds') {
      const codecs = await this.#codecsReady();
      const dds = codecs.parseDDS(bytes);
      if (as === 'blocks') return blocksResult(dds.format, dds.levels.map(ownLevel));
      const top = dds.levels[0]!;
      if (as === dds.format) return blocksResult(dds.format, [ownLevel(top)]);
      const rgba = codecs.decodeBlocks(dds.format, top.data, dds.width, dds.height);
      return this.#fromRgba(rgba, dds.width, dds.height, req);
    }
    if (as === 'blocks') {
      throw new TileError('BAD_REQUEST', "as: 'blocks' needs a DDS input; use 'bc1' or 'bc3' to encode", {
        format,
      });
    }
    const bitmap = await decodeRaster(bytes);
    if (as === 'bitmap') return { kind: 'bitmap', width: bitmap.width, height: bitmap.height, bitmap };
    const { width, height } = bitmap;
    const rgba = this.#pixels(bitmap);
    return this.#fromRgba(rgba, width, height, req);
  }

  async #fromRgba(
    rgba: Uint8Array,
    width: number,
    height: number,
    req: DecodeRequest,
  ): Promise<DecodeResult> {
    switch (req.as) {
      case 'rgba':
        return { kind: 'rgba', width, height, data: own(rgba) };
      case 'bitmap': {
        const data = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.byteLength);
        const bitmap = await createImageBitmap(new ImageData(data.slice(), width, height));
        return { kind: 'bitmap', width, height, bitmap };
      }
      case 'bc1':
      case 'bc3': {
        const codecs = await this.#codecsReady();
        const blocks = codecs.encodeBlocks(
          req.as,
          rgba,
          width,
          height,
          req.quality ?? 'fast',
          isOpaque(rgba),
        );
        return blocksResult(req.as, [{ width, height, data: own(blocks) }]);
      }
      default:
        throw new TileError('BAD_REQUEST', "as: 'blocks' needs a DDS input", {});
    }
  }

  #pixels(bitmap: ImageBitmap): Uint8Array {
    if (typeof OffscreenCanvas === 'undefined') {
      bitmap.close();
      throw new TileError('UNSUPPORTED', 'OffscreenCanvas is not available in this worker');
    }
    const { width, height } = bitmap;
    // One canvas per worker, resized as needed: creating a context per tile costs more than the draw.
    if (!this.#canvas) this.#canvas = new OffscreenCanvas(width, height);
    const canvas = this.#canvas;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new TileError('UNSUPPORTED', 'no 2D context on OffscreenCanvas');
    ctx.clearRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    const img = ctx.getImageData(0, 0, width, height);
    return new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  }

  #codecsReady(): Promise<WorkerCodecs> {
    if (!this.#codecs) {
      this.#codecs = this.#loadCodecs().catch((cause: unknown) => {
        this.#codecs = undefined;
        throw new TileError('UNSUPPORTED', 'the WASM codecs could not be loaded', {}, { cause });
      });
    }
    return this.#codecs;
  }
}

async function decodeRaster(bytes: Uint8Array): Promise<ImageBitmap> {
  if (typeof createImageBitmap !== 'function') {
    throw new TileError('UNSUPPORTED', 'createImageBitmap is not available in this worker');
  }
  try {
    // Straight alpha and no colour conversion: the pixels are data for a texture, not a display.
    return await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch (cause) {
    throw new TileError('BAD_IMAGE', 'the image could not be decoded', { bytes: bytes.length }, { cause });
  }
}

function blocksResult(format: BlockFormat, levels: BlockLevel[]): DecodeResult {
  const top = levels[0]!;
  return { kind: 'blocks', format, width: top.width, height: top.height, data: top.data, levels };
}

/** A view that owns its whole buffer, so it can be transferred (not WASM memory, not a slice of the input). */
function own(v: Uint8Array): Uint8Array {
  return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer
    ? v
    : v.slice();
}

function ownLevel(l: BlockLevel): BlockLevel {
  return { width: l.width, height: l.height, data: own(l.data) };
}

function transferablesOf(v: DecodeResult): Transferable[] {
  if (v.kind === 'bitmap') return [v.bitmap];
  if (v.kind === 'rgba') return [v.data.buffer as ArrayBuffer];
  return [...new Set(v.levels.map((l) => l.data.buffer as ArrayBuffer))];
}

export function toErrorReply(e: unknown): {
  ok: false;
  code: TileError['code'];
  message: string;
  details: Record<string, unknown>;
} {
  if (e instanceof TileError) return { ok: false, code: e.code, message: e.message, details: e.details };
  // Codec errors from another module may carry a code without being our class.
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) {
    return { ok: false, code: code as TileError['code'], message, details: {} };
  }
  return { ok: false, code: 'INTERNAL', message, details: {} };
}

/** Every alpha byte is 255 (a JPEG always; checked, not assumed, for everything else). */
function isOpaque(rgba: Uint8Array): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}
