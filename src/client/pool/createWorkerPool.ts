import { TileError } from '../../protocol/errors.js';
import { comlinkWorker, type JsonBatchValue, type WorkerJob, type WorkerJobResult } from './comlinkWorker.js';
import { type JobPriority, JobScheduler, type SchedulerStats } from './JobScheduler.js';
import type { DecodeAs, DecodeOptions, DecodeResultFor } from './types.js';

export interface WorkerPoolOptions {
  /** Worker count; default `min(hardwareConcurrency - 1, 4)`, at least 1. */
  size?: number;
  /** Deadline of a job that names none (ms, default 30 000). */
  defaultDeadlineMs?: number;
  /** Builds one worker; default the bundled codec worker (src/client/codecWorker.ts). */
  createWorker?: () => Worker;
}

export interface JsonBatchJobOptions {
  signal?: AbortSignal;
  priority?: JobPriority;
  deadlineMs?: number;
  headers?: Record<string, string>;
}

export interface WorkerPool {
  readonly size: number;
  /** Decodes in a worker; the input buffer is transferred unless `transfer: false`. */
  decode<A extends DecodeAs>(
    bytes: Uint8Array | ArrayBuffer,
    opts: DecodeOptions<A>,
  ): Promise<DecodeResultFor<A>>;
  /** Fetches a JSON batch URL inside a worker and decodes its base64 tiles there. */
  fetchJsonBatch(url: string, opts?: JsonBatchJobOptions): Promise<JsonBatchValue>;
  stats(): SchedulerStats;
  /** Fails pending jobs with ABORTED and terminates the workers. */
  close(): void;
}

export function defaultPoolSize(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(1, Math.min(cores - 1, 4));
}

function defaultWorker(): Worker {
  // Written inline so Vite sees `new Worker(new URL(...))` and bundles the worker with its WASM.
  return new Worker(new URL('../codecWorker.ts', import.meta.url), { type: 'module', name: 'tile-codec' });
}

export function createWorkerPool(options: WorkerPoolOptions = {}): WorkerPool {
  const size = options.size ?? defaultPoolSize();
  const createWorker = options.createWorker ?? defaultWorker;
  const scheduler = new JobScheduler<WorkerJob, WorkerJobResult>({
    size,
    ...(options.defaultDeadlineMs !== undefined ? { defaultDeadlineMs: options.defaultDeadlineMs } : {}),
    spawn: (onCrash) => comlinkWorker(createWorker(), onCrash),
  });
  return {
    size,
    decode<A extends DecodeAs>(input: Uint8Array | ArrayBuffer, opts: DecodeOptions<A>) {
      let bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
      if (!(bytes instanceof Uint8Array)) {
        return Promise.reject(new TileError('BAD_REQUEST', 'decode takes a Uint8Array or an ArrayBuffer'));
      }
      // Only a view covering its whole buffer can be transferred without handing over unrelated bytes.
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      if (opts.transfer === false || !whole || !(bytes.buffer instanceof ArrayBuffer)) bytes = bytes.slice();
      const job: WorkerJob = {
        kind: 'decode',
        req: { bytes, as: opts.as, rgba: opts.rgba, quality: opts.quality },
      };
      return scheduler.submit(job, {
        transfer: [bytes.buffer as ArrayBuffer],
        ...(opts.priority ? { priority: opts.priority } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.deadlineMs !== undefined ? { deadlineMs: opts.deadlineMs } : {}),
      }) as Promise<DecodeResultFor<A>>;
    },
    fetchJsonBatch(url, opts = {}) {
      const deadlineMs = opts.deadlineMs ?? options.defaultDeadlineMs ?? 30_000;
      const abs = new URL(url, typeof location !== 'undefined' ? location.href : undefined).href;
      const job: WorkerJob = {
        kind: 'jsonBatch',
        req: { url: abs, timeoutMs: deadlineMs, ...(opts.headers ? { headers: opts.headers } : {}) },
      };
      return scheduler.submit(job, {
        deadlineMs,
        ...(opts.priority ? { priority: opts.priority } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }) as Promise<JsonBatchValue>;
    },
    stats: () => scheduler.stats(),
    close: () => scheduler.close(),
  };
}
