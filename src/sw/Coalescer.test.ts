import { describe, expect, it } from 'vitest';
import { isTileError } from '../protocol/errors.js';
import { Coalescer } from './Coalescer.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Coalescer', () => {
  it('runs one job for identical keys and answers every waiter', async () => {
    const c = new Coalescer<string>();
    let starts = 0;
    const d = deferred<string>();
    const start = () => {
      starts++;
      return d.promise;
    };
    const a = c.run('k', new AbortController().signal, start);
    const b = c.run('k', new AbortController().signal, start);
    expect(a.joined).toBe(false);
    expect(b.joined).toBe(true);
    d.resolve('v');
    expect(await a.promise).toBe('v');
    expect(await b.promise).toBe('v');
    expect(starts).toBe(1);
    expect(c.size).toBe(0);
  });

  it('one waiter aborting does not cancel the others', async () => {
    const c = new Coalescer<string>();
    const d = deferred<string>();
    let jobSignal: AbortSignal | undefined;
    const start = (s: AbortSignal) => {
      jobSignal = s;
      return d.promise;
    };
    const ac1 = new AbortController();
    const a = c.run('k', ac1.signal, start);
    const b = c.run('k', new AbortController().signal, start);
    ac1.abort();
    await expect(a.promise).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    await Promise.resolve();
    expect(jobSignal?.aborted).toBe(false);
    d.resolve('v');
    expect(await b.promise).toBe('v');
  });

  it('aborts the shared job when the last waiter leaves, and a new caller starts afresh', async () => {
    const c = new Coalescer<string>();
    const signals: AbortSignal[] = [];
    const start = (s: AbortSignal) => {
      signals.push(s);
      return new Promise<string>((_, rej) => s.addEventListener('abort', () => rej(s.reason)));
    };
    const ac1 = new AbortController();
    const ac2 = new AbortController();
    const a = c.run('k', ac1.signal, start);
    const b = c.run('k', ac2.signal, start);
    await Promise.resolve();
    ac1.abort();
    ac2.abort();
    await expect(a.promise).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    await expect(b.promise).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    expect(signals[0]?.aborted).toBe(true);
    expect(c.size).toBe(0);
    const d = c.run('k', new AbortController().signal, async () => 'fresh');
    expect(d.joined).toBe(false);
    expect(await d.promise).toBe('fresh');
  });

  it('passes the leader failure to every waiter', async () => {
    const c = new Coalescer<string>();
    const start = async () => {
      throw new Error('boom');
    };
    const a = c.run('k', new AbortController().signal, start);
    const b = c.run('k', new AbortController().signal, start);
    await expect(a.promise).rejects.toThrow('boom');
    await expect(b.promise).rejects.toThrow('boom');
    expect(c.size).toBe(0);
  });

  it('rejects at once for an already aborted signal without starting', async () => {
    const c = new Coalescer<string>();
    let starts = 0;
    const ac = new AbortController();
    ac.abort();
    const a = c.run('k', ac.signal, async () => {
      starts++;
      return 'x';
    });
    await expect(a.promise).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    expect(starts).toBe(0);
  });
});
