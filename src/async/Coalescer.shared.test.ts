import { describe, expect, it } from 'vitest';
import { isTileError, TileError } from '../protocol/errors.js';
import { Coalescer } from './Coalescer.js';

// The spec of both tiers' coalescing: the worker's tests (src/sw/Coalescer.test.ts,
// asserting `joined`) and the server's (server/engine/Coalescer.test.ts, counting
// joiners), moved here with their assertions when the two implementations became this one.

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The worker's view of a run: its promise and whether it joined a running job. */
function join<T>(c: Coalescer<T>, key: string, signal: AbortSignal, start: (s: AbortSignal) => Promise<T>) {
  let joined = false;
  const promise = c.run(key, signal, start, () => {
    joined = true;
  });
  return { promise, joined };
}

/** A fetch the test resolves by hand, recording the signal it was given. */
function manual<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const signals: AbortSignal[] = [];
  let calls = 0;
  const fetch = (s: AbortSignal) => {
    calls++;
    signals.push(s);
    return new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
      s.addEventListener('abort', () => rej(s.reason));
    });
  };
  return {
    fetch,
    resolve: (v: T) => resolve(v),
    reject: (e: unknown) => reject(e),
    signals,
    calls: () => calls,
  };
}
const live = () => new AbortController().signal;
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Coalescer (worker spec)', () => {
  it('runs one job for identical keys and answers every waiter', async () => {
    const c = new Coalescer<string>();
    let starts = 0;
    const d = deferred<string>();
    const start = () => {
      starts++;
      return d.promise;
    };
    const a = join(c, 'k', new AbortController().signal, start);
    const b = join(c, 'k', new AbortController().signal, start);
    expect(a.joined).toBe(false);
    expect(b.joined).toBe(true);
    expect(c.has('k')).toBe(true);
    d.resolve('v');
    expect(await a.promise).toBe('v');
    expect(await b.promise).toBe('v');
    expect(starts).toBe(1);
    expect(c.size).toBe(0);
    expect(c.has('k')).toBe(false);
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
    const a = join(c, 'k', ac1.signal, start);
    const b = join(c, 'k', new AbortController().signal, start);
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
    const a = join(c, 'k', ac1.signal, start);
    const b = join(c, 'k', ac2.signal, start);
    await Promise.resolve();
    ac1.abort();
    ac2.abort();
    await expect(a.promise).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    await expect(b.promise).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    expect(signals[0]?.aborted).toBe(true);
    expect(c.size).toBe(0);
    const d = join(c, 'k', new AbortController().signal, async () => 'fresh');
    expect(d.joined).toBe(false);
    expect(await d.promise).toBe('fresh');
  });

  it('passes the leader failure to every waiter', async () => {
    const c = new Coalescer<string>();
    const start = async () => {
      throw new Error('boom');
    };
    const a = join(c, 'k', new AbortController().signal, start);
    const b = join(c, 'k', new AbortController().signal, start);
    await expect(a.promise).rejects.toThrow('boom');
    await expect(b.promise).rejects.toThrow('boom');
    expect(c.size).toBe(0);
  });

  it('rejects at once for an already aborted signal without starting', async () => {
    const c = new Coalescer<string>();
    let starts = 0;
    const ac = new AbortController();
    ac.abort();
    const a = join(c, 'k', ac.signal, async () => {
      starts++;
      return 'x';
    });
    await expect(a.promise).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    expect(starts).toBe(0);
  });
});

describe('Coalescer (server spec)', () => {
  it('shares one fetch per key and counts joiners', async () => {
    const c = new Coalescer<string>();
    const f = manual<string>();
    let joined = 0;
    const ps = [1, 2, 3].map(() => c.run('k', live(), f.fetch, () => joined++));
    await tick();
    f.resolve('v');
    expect(await Promise.all(ps)).toEqual(['v', 'v', 'v']);
    expect(f.calls()).toBe(1);
    expect(joined).toBe(2);
    expect(c.size).toBe(0);
  });

  it('rejects only the waiter that aborts; the last one out aborts the shared fetch', async () => {
    const c = new Coalescer<string>();
    const f = manual<string>();
    const a = new AbortController();
    const b = new AbortController();
    const pa = c.run('k', a.signal, f.fetch).catch((e: unknown) => e);
    const pb = c.run('k', b.signal, f.fetch).catch((e: unknown) => e);
    await tick();
    a.abort();
    expect(isTileError(await pa, 'ABORTED')).toBe(true);
    expect(f.signals[0]!.aborted).toBe(false);
    b.abort();
    expect(isTileError(await pb, 'ABORTED')).toBe(true);
    expect(f.signals[0]!.aborted).toBe(true);
    expect(c.size).toBe(0);
  });

  it("passes the last waiter's reason on to the shared fetch (a deadline stays a deadline)", async () => {
    const c = new Coalescer<string>();
    const f = manual<string>();
    const a = new AbortController();
    const pa = c.run('k', a.signal, f.fetch).catch((e: unknown) => e);
    await tick();
    a.abort(new TileError('DEADLINE_EXCEEDED', 'deadline exceeded'));
    expect(isTileError(await pa, 'DEADLINE_EXCEEDED')).toBe(true);
    expect(isTileError(f.signals[0]!.reason, 'DEADLINE_EXCEEDED')).toBe(true);
  });

  it('rejects every waiter when the fetch fails and fetches again next time', async () => {
    const c = new Coalescer<string>();
    const f = manual<string>();
    const ps = [1, 2].map(() => c.run('k', live(), f.fetch).catch((e: unknown) => e));
    await tick();
    f.reject(new TileError('ORIGIN_ERROR', 'boom', { status: 500 }));
    for (const e of await Promise.all(ps)) expect(isTileError(e, 'ORIGIN_ERROR')).toBe(true);
    const again = c.run('k', live(), f.fetch);
    await tick();
    f.resolve('ok');
    expect(await again).toBe('ok');
    expect(f.calls()).toBe(2);
  });

  it('keeps keys apart', async () => {
    const c = new Coalescer<string>();
    const f = manual<string>();
    const g = manual<string>();
    const pa = c.run('a', live(), f.fetch);
    const pb = c.run('b', live(), g.fetch);
    await tick();
    f.resolve('A');
    g.resolve('B');
    expect([await pa, await pb]).toEqual(['A', 'B']);
  });

  it('abortAll aborts every shared fetch with the given reason and forgets them', async () => {
    const c = new Coalescer<string>();
    const f = manual<string>();
    const p = c.run('k', live(), f.fetch).catch((e: unknown) => e);
    await tick();
    c.abortAll(new TileError('ORIGIN_UNAVAILABLE', 'closing'));
    expect(c.size).toBe(0);
    expect(isTileError(await p, 'ORIGIN_UNAVAILABLE')).toBe(true);
    expect(f.signals[0]!.aborted).toBe(true);
  });
});
