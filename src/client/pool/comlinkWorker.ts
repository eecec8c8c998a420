import { type Remote, transfer, wrap } from 'comlink';
import { TileError } from '../../protocol/errors.js';
import type { PoolWorker } from './JobScheduler.js';
import type {
  CodecWorkerApi,
  DecodeRequest,
  DecodeResult,
  JsonBatchReply,
  JsonBatchRequest,
} from './types.js';

/** A job for one worker of the pool. */
export type WorkerJob = { kind: 'decode'; req: DecodeRequest } | { kind: 'jsonBatch'; req: JsonBatchRequest };

export type JsonBatchValue = Extract<JsonBatchReply, { ok: true }>['value'];
export type WorkerJobResult = DecodeResult | JsonBatchValue;

/**
 * Adapts a real Worker running src/client/codecWorker.ts to the scheduler.
 * Comlink never settles a call whose worker died, so crashes are caught from
 * the Worker's own `error` / `messageerror` events and reported to the pool.
 */
export function comlinkWorker(
  worker: Worker,
  onCrash: (cause: unknown) => void,
): PoolWorker<WorkerJob, WorkerJobResult> {
  const api: Remote<CodecWorkerApi> = wrap<CodecWorkerApi>(worker);
  const crashed = (ev: Event) => {
    // Uncaught errors inside the worker mean its state is unknown: replace it.
    ev.preventDefault();
    const message = ev instanceof ErrorEvent ? ev.message : ev.type;
    onCrash(new TileError('WORKER_CRASHED', `codec worker failed: ${message || 'load error'}`));
  };
  worker.addEventListener('error', crashed);
  worker.addEventListener('messageerror', crashed);
  return {
    async run(job, transferList) {
      const reply =
        job.kind === 'decode'
          ? await api.decode(transfer(job.req, transferList))
          : await api.fetchJsonBatch(job.req);
      if (!reply.ok) throw new TileError(reply.code, reply.message, reply.details);
      return reply.value;
    },
    terminate() {
      worker.removeEventListener('error', crashed);
      worker.removeEventListener('messageerror', crashed);
      worker.terminate();
    },
  };
}
