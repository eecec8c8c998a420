import { TileError } from '../protocol/errors.js';
import { isSwReply, SW_MESSAGE_TAG, type SwRequest } from '../protocol/swMessages.js';

type Body<T> = T extends unknown ? Omit<T, 'tag' | 'id'> : never;
export type SwRequestBody = Body<SwRequest>;

let nextId = 1;

/**
 * Sends one request to the controlling worker over a MessageChannel; rejects
 * with `DEADLINE_EXCEEDED` after `timeoutMs`, or `ABORTED` when `signal`
 * aborts (at once, without posting, if it already has). A late answer is dropped.
 */
export function askWorker<T>(
  worker: ServiceWorker,
  body: SwRequestBody,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(new TileError('ABORTED', `"${body.type}" aborted`));
  const id = nextId++;
  const channel = new MessageChannel();
  return new Promise<T>((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      channel.port1.close();
    };
    const timer = setTimeout(() => {
      finish();
      reject(
        new TileError('DEADLINE_EXCEEDED', `service worker did not answer "${body.type}" in ${timeoutMs} ms`),
      );
    }, timeoutMs);
    const onAbort = () => {
      finish();
      reject(new TileError('ABORTED', `"${body.type}" aborted`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    channel.port1.onmessage = (e: MessageEvent) => {
      const r = e.data;
      if (!isSwReply(r) || r.id !== id) return;
      finish();
      if (r.ok) resolve(r.value as T);
      else reject(new TileError(r.code as TileError['code'], r.message));
    };
    worker.postMessage({ ...body, tag: SW_MESSAGE_TAG, id }, [channel.port2]);
  });
}
