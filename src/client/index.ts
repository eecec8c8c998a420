export type {
  PrefetchResult,
  PrefetchTarget,
  PrefetchViewport,
  SwStats,
  SwTileSource,
} from '../protocol/swMessages.js';
export type { TileAcceleratorOptions } from '../sw/options.js';
// The worker pool and the seeds' JSON batch helper, for code that decodes or
// calls the base64 batch route itself (acc.decode uses the same pool).
export { fetchJsonBatch, type JsonBatchOptions, type JsonBatchResult } from './jsonBatch.js';
export { createWorkerPool, getWorkerPool, type WorkerPool, type WorkerPoolOptions } from './pool/index.js';
export type { DecodeAs, DecodeOptions, DecodeResult, DecodeResultFor } from './pool/types.js';
export {
  type CallOptions,
  type PendingUpdate,
  type RegisterOptions,
  registerTileAccelerator,
  scriptUrlWithOptions,
  type TileAccelerator,
} from './registerTileAccelerator.js';
