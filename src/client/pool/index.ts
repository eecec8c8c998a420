import { createWorkerPool, type WorkerPool } from './createWorkerPool.js';

export type { JsonBatchValue } from './comlinkWorker.js';
export type { JsonBatchJobOptions, WorkerPool, WorkerPoolOptions } from './createWorkerPool.js';
export { createWorkerPool, defaultPoolSize } from './createWorkerPool.js';
export type { JobPriority, SchedulerStats as PoolStats } from './JobScheduler.js';
export type {
  BitmapResult,
  BlockFormat,
  BlockLevel,
  BlocksResult,
  DecodeAs,
  DecodeOptions,
  DecodeResult,
  DecodeResultFor,
  RgbaResult,
} from './types.js';

let shared: WorkerPool | undefined;

/** The page's one pool: created on first use, then reused by every caller. */
export function getWorkerPool(): WorkerPool {
  shared ??= createWorkerPool();
  return shared;
}
