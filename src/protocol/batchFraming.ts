import { TileError } from './errors.js';

/**
 * Binary streamed batch (`Accept: application/vnd.tile-batch`).
 *
 * Layout (all integers big-endian):
 *
 *   stream  = header frame* end-frame
 *   header  = "TBAT" (4 bytes) version:u8 (=1) reserved:u8[3] (=0)
 *   frame   = kind:u8 flags:u8 keyLen:u16 metaLen:u32 bodyLen:u32   (12 bytes)
 *             key:utf8[keyLen] meta:utf8-json[metaLen] body:u8[bodyLen]
 *
 * Frame kinds:
 *   1 TILE     key = requested key ("z/x/y.ext"); meta = {contentType, etag?, source?}; body = tile bytes
 *   2 MISSING  key = requested key; no meta, no body (the tile does not exist: a 404)
 *   3 ERROR    key = requested key; meta = {code, message, status}; no body
 *   255 END    no key; meta = trailer JSON ({count, generation?, cache_stats?}); no body
 *
 * Frames are written in completion order, not request order. A stream that
 * stops before END is truncated: every key without a frame failed.
 * `flags` is reserved (0). Limits below keep a hostile stream from making the
 * decoder allocate without bound.
 */
export const BATCH_MEDIA_TYPE = 'application/vnd.tile-batch';
export const BATCH_MAGIC = 0x54424154; // "TBAT"
export const BATCH_VERSION = 1;
export const BATCH_HEADER_BYTES = 8;
export const FRAME_HEADER_BYTES = 12;
export const MAX_FRAME_KEY_BYTES = 256;
export const MAX_FRAME_META_BYTES = 64 * 1024;
export const MAX_FRAME_BODY_BYTES = 64 * 1024 * 1024;

export const FrameKind = { TILE: 1, MISSING: 2, ERROR: 3, END: 255 } as const;

export interface TileMeta {
  contentType: string;
  etag?: string;
  source?: string;
}
export interface FrameErrorMeta {
  code: string;
  message: string;
  status: number;
}

export type BatchFrame =
  | { kind: 'tile'; key: string; meta: TileMeta; body: Uint8Array }
  | { kind: 'missing'; key: string }
  | { kind: 'error'; key: string; error: FrameErrorMeta }
  | { kind: 'end'; trailer: Record<string, unknown> };

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function encodeBatchHeader(): Uint8Array {
  const b = new Uint8Array(BATCH_HEADER_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, BATCH_MAGIC);
  v.setUint8(4, BATCH_VERSION);
  return b;
}

function frameHeader(kind: number, keyLen: number, metaLen: number, bodyLen: number): Uint8Array {
  const b = new Uint8Array(FRAME_HEADER_BYTES);
  const v = new DataView(b.buffer);
  v.setUint8(0, kind);
  v.setUint16(2, keyLen);
  v.setUint32(4, metaLen);
  v.setUint32(8, bodyLen);
  return b;
}

/**
 * Encodes one frame as a list of chunks (header+key+meta, then the body as
 * is), so a large tile body is never copied: write each chunk in order.
 */
export function encodeFrame(frame: BatchFrame): Uint8Array[] {
  const key = frame.kind === 'end' ? new Uint8Array(0) : enc.encode(frame.key);
  if (key.length > MAX_FRAME_KEY_BYTES) throw new TileError('BAD_FRAME', 'frame key too long');
  let meta: Uint8Array = new Uint8Array(0);
  let body: Uint8Array = new Uint8Array(0);
  let kind: number;
  switch (frame.kind) {
    case 'tile':
      kind = FrameKind.TILE;
      meta = enc.encode(JSON.stringify(frame.meta));
      body = frame.body;
      break;
    case 'missing':
      kind = FrameKind.MISSING;
      break;
    case 'error':
      kind = FrameKind.ERROR;
      meta = enc.encode(JSON.stringify(frame.error));
      break;
    case 'end':
      kind = FrameKind.END;
      meta = enc.encode(JSON.stringify(frame.trailer));
      break;
  }
  if (meta.length > MAX_FRAME_META_BYTES) throw new TileError('BAD_FRAME', 'frame meta too long');
  const head = new Uint8Array(FRAME_HEADER_BYTES + key.length + meta.length);
  head.set(frameHeader(kind, key.length, meta.length, body.length), 0);
  head.set(key, FRAME_HEADER_BYTES);
  head.set(meta, FRAME_HEADER_BYTES + key.length);
  return body.length > 0 ? [head, body] : [head];
}

/** Concatenates chunks; for tests and small payloads. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(dec.decode(bytes));
  } catch (cause) {
    throw new TileError('BAD_FRAME', `frame ${what} is not valid UTF-8 JSON`, {}, { cause });
  }
}

/**
 * Incremental decoder: push network chunks as they come, get whole frames out.
 * Buffers at most one partial frame. After an error or END it refuses more input.
 */
export class BatchFrameDecoder {
  /** Received bytes not yet decoded, kept as chunks until a whole frame is there. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes needed before decoding can make progress (the next header or the whole next frame). */
  private need = BATCH_HEADER_BYTES;
  private sawHeader = false;
  private done = false;

  /** True once the END frame has been decoded. */
  get ended(): boolean {
    return this.done;
  }

  push(chunk: Uint8Array): BatchFrame[] {
    if (this.done) {
      if (chunk.length === 0) return [];
      throw new TileError('BAD_FRAME', 'data after the END frame');
    }
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    // Joining only once a frame is complete keeps a large body arriving in
    // many small chunks linear, instead of re-copying the buffer per chunk.
    if (this.pendingBytes < this.need) return [];
    const buf = this.pending.length === 1 ? this.pending[0]! : concatBytes(this.pending);
    const out: BatchFrame[] = [];
    let off = 0;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (!this.sawHeader) {
      if (view.getUint32(0) !== BATCH_MAGIC) throw new TileError('BAD_FRAME', 'not a tile batch stream');
      const version = view.getUint8(4);
      if (version !== BATCH_VERSION) {
        throw new TileError('BAD_FRAME', `unsupported batch version ${version}`, { version });
      }
      this.sawHeader = true;
      off = BATCH_HEADER_BYTES;
    }
    this.need = FRAME_HEADER_BYTES;
    while (!this.done && buf.length - off >= FRAME_HEADER_BYTES) {
      const kind = view.getUint8(off);
      const keyLen = view.getUint16(off + 2);
      const metaLen = view.getUint32(off + 4);
      const bodyLen = view.getUint32(off + 8);
      if (keyLen > MAX_FRAME_KEY_BYTES || metaLen > MAX_FRAME_META_BYTES || bodyLen > MAX_FRAME_BODY_BYTES) {
        throw new TileError('BAD_FRAME', 'frame length over limit', { keyLen, metaLen, bodyLen });
      }
      const total = FRAME_HEADER_BYTES + keyLen + metaLen + bodyLen;
      if (buf.length - off < total) {
        this.need = total;
        break;
      }
      const p = off + FRAME_HEADER_BYTES;
      const keyBytes = buf.subarray(p, p + keyLen);
      const metaBytes = buf.subarray(p + keyLen, p + keyLen + metaLen);
      // slice(): the frame's body must not keep the whole network buffer alive.
      const body = buf.slice(p + keyLen + metaLen, p + total - FRAME_HEADER_BYTES);
      out.push(this.frame(kind, keyBytes, metaBytes, body));
      off += total;
    }
    const rest = off === 0 ? buf : buf.slice(off);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return out;
  }

  /** Call at end of input: throws TRUNCATED when the stream stopped before END. */
  finish(): void {
    if (!this.done) {
      throw new TileError('TRUNCATED', 'batch stream ended before its END frame', {
        buffered: this.pendingBytes,
      });
    }
  }

  private frame(kind: number, keyBytes: Uint8Array, metaBytes: Uint8Array, body: Uint8Array): BatchFrame {
    let key: string;
    try {
      key = dec.decode(keyBytes);
    } catch (cause) {
      throw new TileError('BAD_FRAME', 'frame key is not UTF-8', {}, { cause });
    }
    switch (kind) {
      case FrameKind.TILE: {
        const meta = parseJson(metaBytes, 'meta') as TileMeta;
        if (typeof meta?.contentType !== 'string')
          throw new TileError('BAD_FRAME', 'tile frame without contentType');
        return { kind: 'tile', key, meta, body };
      }
      case FrameKind.MISSING:
        return { kind: 'missing', key };
      case FrameKind.ERROR: {
        // Consumers read error.status straight into a Response: check the shape here.
        const error = parseJson(metaBytes, 'error') as FrameErrorMeta | null;
        const s = error?.status;
        if (typeof error?.code !== 'string' || !Number.isInteger(s) || s! < 400 || s! > 599)
          throw new TileError('BAD_FRAME', 'error frame without code and a 4xx/5xx status');
        return { kind: 'error', key, error };
      }
      case FrameKind.END: {
        const trailer = parseJson(metaBytes, 'trailer') ?? {};
        if (typeof trailer !== 'object' || Array.isArray(trailer))
          throw new TileError('BAD_FRAME', 'END trailer is not a JSON object');
        this.done = true;
        return { kind: 'end', trailer: trailer as Record<string, unknown> };
      }
      default:
        throw new TileError('BAD_FRAME', `unknown frame kind ${kind}`, { kind });
    }
  }
}

/** Reads a whole batch stream frame by frame (for the service worker and tests). */
export async function* readBatchFrames(
  stream: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<BatchFrame> {
  const reader = stream.getReader();
  const decoder = new BatchFrameDecoder();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  let drained = false;
  try {
    for (;;) {
      if (signal?.aborted) throw new TileError('ABORTED', 'batch read aborted');
      const { done, value } = await reader.read();
      if (done) break;
      for (const f of decoder.push(value)) yield f;
    }
    drained = true;
    decoder.finish();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Left early (a bad frame, a consumer that stopped iterating): cancel, so
    // the response body, and the fetch behind it, stop instead of downloading on.
    if (!drained) void reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
