import type { ErrorCode } from '../../protocol/errors.js';
import type { JobPriority } from './JobScheduler.js';
import type { JsonBatchTileError } from './jsonBatchBody.js';

/**
 * What `decode` returns:
 * - `bitmap`: an ImageBitmap (JPEG/PNG/WebP, or DDS decoded to pixels);
 * - `rgba`: RGBA8 pixels, straight alpha, no colour-space conversion;
 * - `bc1` / `bc3`: compressed blocks (the input decoded to RGBA first, then encoded);
 * - `blocks`: the raw BC1/BC3 blocks of a DDS file (every mip level), for WebGL upload.
 */
export type DecodeAs = 'bitmap' | 'rgba' | 'bc1' | 'bc3' | 'blocks';

export interface DecodeOptions<A extends DecodeAs = DecodeAs> {
  as: A;
  signal?: AbortSignal;
  /** `visible` (default) jobs always run before queued `prefetch` jobs. */
  priority?: JobPriority;
  /** Milliseconds from the call to the result, queue wait included (default 30 000). */
  deadlineMs?: number;
  /** The input is raw RGBA8 pixels of this size rather than an encoded file (for `bc1`/`bc3`). */
  rgba?: { width: number; height: number };
  /** BC encoder effort; `fast` by default (tiles are decoded as they stream in). */
  quality?: 'fast' | 'high';
  /**
   * Transfer the input buffer to the worker (zero copy; the caller's view is
   * detached afterwards). Default true; false sends a copy.
   */
  transfer?: boolean;
}

export interface BitmapResult {
  kind: 'bitmap';
  width: number;
  height: number;
  bitmap: ImageBitmap;
}

export interface RgbaResult {
  kind: 'rgba';
  width: number;
  height: number;
  /** width * height * 4 bytes. */
  data: Uint8Array;
}

export type BlockFormat = 'bc1' | 'bc3';

export interface BlockLevel {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface BlocksResult {
  kind: 'blocks';
  format: BlockFormat;
  width: number;
  height: number;
  /** Level 0 blocks (same buffer as `levels[0].data`). */
  data: Uint8Array;
  /** Level 0 first; one entry unless the source was a DDS with mipmaps. */
  levels: BlockLevel[];
}

export type DecodeResult = BitmapResult | RgbaResult | BlocksResult;

export type DecodeResultFor<A extends DecodeAs> = A extends 'bitmap'
  ? BitmapResult
  : A extends 'rgba'
    ? RgbaResult
    : BlocksResult;

/** The message a job sends to the worker (structured-cloned, `bytes` transferred). */
export interface DecodeRequest {
  bytes: Uint8Array;
  as: DecodeAs;
  rgba?: { width: number; height: number } | undefined;
  quality?: 'fast' | 'high' | undefined;
}

/**
 * The worker's answer. Errors travel as data because comlink's error
 * serialisation keeps only `message`, and callers assert on `code`.
 */
export type WorkerReply =
  | { ok: true; value: DecodeResult }
  | { ok: false; code: ErrorCode; message: string; details: Record<string, unknown> };

/** The API the codec worker exposes through comlink. */
export interface CodecWorkerApi {
  decode(req: DecodeRequest): Promise<WorkerReply>;
  /** Fetches a JSON batch and decodes its base64 tiles with the codec's fast path. */
  fetchJsonBatch(req: JsonBatchRequest): Promise<JsonBatchReply>;
}

export interface JsonBatchRequest {
  /** Absolute URL of `/api/tiles/{dataset}/batch?tiles=...`. */
  url: string;
  headers?: Record<string, string>;
  /** Worker-side fetch timeout. */
  timeoutMs: number;
}

export type JsonBatchReply =
  | {
      ok: true;
      value: {
        tiles: Record<string, Uint8Array | null>;
        /** Absent from workers built before the field existed. */
        errors?: Record<string, JsonBatchTileError>;
        cacheStats: unknown;
        bytes: number;
      };
    }
  | { ok: false; code: ErrorCode; message: string; details: Record<string, unknown> };
