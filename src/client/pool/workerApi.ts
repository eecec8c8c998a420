import { transfer } from 'comlink';
import { TileError } from '../../protocol/errors.js';
import { toErrorReply, type WorkerCodecs, WorkerDecoder } from './decodeInWorker.js';
import type { DecodedJsonBatch } from './jsonBatchBody.js';
import type { CodecWorkerApi, JsonBatchReply } from './types.js';

export interface WorkerCodecLoader {
  /** BC/DDS operations (WASM). */
  codecs(): Promise<WorkerCodecs>;
  /** The JSON batch body decoder (the codec's fast path from the body bytes). */
  jsonBatch(): Promise<(body: Uint8Array) => DecodedJsonBatch>;
}

/** The object the codec worker exposes through comlink; results go back as transferables. */
export function createCodecWorkerApi(loader: WorkerCodecLoader): CodecWorkerApi {
  const decoder = new WorkerDecoder(() => loader.codecs());
  return {
    async decode(req) {
      const { reply, transfer: list } = await decoder.decode(req);
      return transfer(reply, list);
    },
    async fetchJsonBatch(req): Promise<JsonBatchReply> {
      try {
        const res = await fetch(req.url, {
          headers: { accept: 'application/json', ...req.headers },
          signal: AbortSignal.timeout(req.timeoutMs),
        });
        if (!res.ok) {
          throw new TileError(
            res.status === 404 ? 'NOT_FOUND' : 'ORIGIN_ERROR',
            `batch answered ${res.status}`,
            {
              status: res.status,
            },
          );
        }
        const body = new Uint8Array(await res.arrayBuffer());
        const value = (await loader.jsonBatch())(body);
        const list = [
          ...new Set(Object.values(value.tiles).flatMap((t) => (t ? [t.buffer as ArrayBuffer] : []))),
        ];
        return transfer({ ok: true as const, value }, list);
      } catch (e) {
        if (e instanceof DOMException && e.name === 'TimeoutError') {
          return { ok: false, code: 'DEADLINE_EXCEEDED', message: 'JSON batch fetch timed out', details: {} };
        }
        if (e instanceof TypeError) {
          return {
            ok: false,
            code: 'ORIGIN_UNAVAILABLE',
            message: `JSON batch fetch failed: ${e.message}`,
            details: {},
          };
        }
        return toErrorReply(e);
      }
    },
  };
}
