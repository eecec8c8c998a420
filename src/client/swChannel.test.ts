import { describe, expect, it } from 'vitest';
import { isTileError } from '../protocol/errors.js';
import { SW_MESSAGE_TAG, type SwRequest } from '../protocol/swMessages.js';
import { askWorker } from './swChannel.js';

/** A stand-in for the controlling worker: records each request and its reply port. */
function fakeWorker() {
  const got: Array<{ msg: SwRequest; port: MessagePort }> = [];
  const worker = {
    postMessage(msg: SwRequest, ports: MessagePort[]) {
      got.push({ msg, port: ports[0]! });
    },
  } as unknown as ServiceWorker;
  const answer = (i: number, value: unknown) =>
    got[i]!.port.postMessage({ tag: SW_MESSAGE_TAG, id: got[i]!.msg.id, ok: true, value });
  return { worker, got, answer };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (isTileError(e) ? e.code : String(e)),
  );

describe('askWorker', () => {
  it('resolves with the answer carrying its id', async () => {
    const w = fakeWorker();
    const p = askWorker<number>(w.worker, { type: 'stats' }, 5_000);
    expect(w.got[0]!.msg).toMatchObject({ tag: SW_MESSAGE_TAG, type: 'stats' });
    w.answer(0, 42);
    await expect(p).resolves.toBe(42);
  });

  it('rejects ABORTED at once for an already aborted signal and does not ask the worker', async () => {
    const w = fakeWorker();
    const code = await codeOf(askWorker(w.worker, { type: 'clear' }, 5_000, AbortSignal.abort()));
    expect(code).toBe('ABORTED');
    expect(w.got).toHaveLength(0);
  });

  it('stops waiting when the signal aborts, and ignores the late answer', async () => {
    const w = fakeWorker();
    const ac = new AbortController();
    const p = askWorker(w.worker, { type: 'prefetch', targets: [] }, 60_000, ac.signal);
    expect(w.got).toHaveLength(1); // asked; the worker never answers in time
    ac.abort();
    expect(await codeOf(p)).toBe('ABORTED');
    w.answer(0, { accepted: 1, rejected: 0 }); // dropped: the port is closed
  });

  it('an abort after the answer changes nothing', async () => {
    const w = fakeWorker();
    const ac = new AbortController();
    const p = askWorker<string>(w.worker, { type: 'stats' }, 5_000, ac.signal);
    w.answer(0, 'ok');
    await expect(p).resolves.toBe('ok');
    ac.abort();
  });

  it('rejects DEADLINE_EXCEEDED when the worker never answers', async () => {
    const w = fakeWorker();
    expect(await codeOf(askWorker(w.worker, { type: 'stats' }, 10))).toBe('DEADLINE_EXCEEDED');
  });
});
