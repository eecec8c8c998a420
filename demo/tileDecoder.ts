import { WorkerDecoder } from '../src/client/pool/decodeInWorker.js';
import type { DecodeResult, JobPriority, WorkerPool } from '../src/client/pool/index.js';
import { loadWasmCodecs } from '../src/client/pool/wasmCodecs.js';
import { TileError } from '../src/protocol/errors.js';

export type DecodeTile = (
  bytes: Uint8Array,
  as: 'bc1' | 'rgba' | 'bitmap',
  signal: AbortSignal,
  priority: JobPriority,
  /** The input is raw RGBA8 of this size (the BC1 probe), not an encoded file. */
  rgba?: { width: number; height: number },
) => Promise<DecodeResult>;

/** Decoding in the worker pool: the page's main thread only uploads. */
export function workerDecode(pool: WorkerPool, quality: 'fast' | 'high' = 'fast'): DecodeTile {
  return (bytes, as, signal, priority, rgba) =>
    pool.decode(bytes, { as, signal, priority, quality, deadlineMs: 15_000, ...(rgba ? { rgba } : {}) });
}

/**
 * The same decoder code run on the main thread (`?decode=main`): what a viewer
 * without the pool pays. Used by the benchmark for the comparison.
 */
export function mainThreadDecode(quality: 'fast' | 'high' = 'fast'): DecodeTile {
  const decoder = new WorkerDecoder(loadWasmCodecs);
  return async (bytes, as, signal, _priority, rgba) => {
    const { reply } = await decoder.decode({ bytes, as, rgba, quality });
    if (signal.aborted) throw new TileError('ABORTED', 'decode aborted');
    if (!reply.ok) throw new TileError(reply.code, reply.message, reply.details);
    return reply.value;
  };
}
