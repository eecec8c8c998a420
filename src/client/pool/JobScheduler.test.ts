import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isTileError } from '../../protocol/errors.js';
import { JobScheduler, type PoolWorker } from './JobScheduler.js';

/** A worker whose jobs finish only when the test says so. */
class FakeWorker implements PoolWorker<string, string> {
  readonly started: string[] = [];
  readonly pending = new Map<string, { resolve: (v: string) => void; reject: (e: unknown) => void }>();
  terminated = false;
  constructor(readonly crash: (cause: unknown) => void) {}
  run(req: string): Promise<string> {
    this.started.push(req);
    return new Promise((resolve, reject) => this.pending.set(req, { resolve, reject }));
  }
  finish(req: string, value = `done:${req}`): void {
    this.pending.get(req)!.resolve(value);
    this.pending.delete(req);
  }
  terminate(): void {
    this.terminated = true;
  }
}

function setup(size: number, defaultDeadlineMs = 1000) {
  const workers: FakeWorker[] = [];
  const order: string[] = [];
  const sched = new JobScheduler<string, string>({
    size,
    defaultDeadlineMs,
    spawn: (onCrash) => {
      const w = new FakeWorker(onCrash);
      const run = w.run.bind(w);
      w.run = (req) => {
        order.push(req);
        return run(req);
      };
      workers.push(w);
      return w;
    },
  });
  return { sched, workers, order };
}

const tick = () => new Promise<void>((r) => queueMicrotask(r)).then(() => undefined);
async function flush() {
  for (let i = 0; i < 5; i++) await tick();
}

describe('JobScheduler', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reuses workers and never spawns more than its size', async () => {
    const { sched, workers } = setup(2);
    const results = ['a', 'b', 'c', 'd'].map((r) => sched.submit(r));
    expect(workers).toHaveLength(2);
    for (let i = 0; i < 4; i++) {
      await flush();
      const w = workers.find((x) => x.pending.size > 0)!;
      w.finish([...w.pending.keys()][0]!);
    }
    expect(await Promise.all(results)).toEqual(['done:a', 'done:b', 'done:c', 'done:d']);
    expect(workers).toHaveLength(2);
    expect(sched.stats()).toMatchObject({ workers: 2, busy: 0, completed: 4, submitted: 4 });
  });

  it('runs visible jobs before queued prefetch jobs, FIFO within a priority', async () => {
    const { sched, workers, order } = setup(1);
    const all = [
      sched.submit('first'),
      sched.submit('p1', { priority: 'prefetch' }),
      sched.submit('p2', { priority: 'prefetch' }),
      sched.submit('v1'),
      sched.submit('v2', { priority: 'visible' }),
    ];
    expect(sched.stats()).toMatchObject({ queuedVisible: 2, queuedPrefetch: 2, busy: 1 });
    const w = workers[0]!;
    for (const name of ['first', 'v1', 'v2', 'p1', 'p2']) {
      await flush();
      w.finish(name);
    }
    await Promise.all(all);
    expect(order).toEqual(['first', 'v1', 'v2', 'p1', 'p2']);
  });

  it('removes an aborted queued job from the queue without running it', async () => {
    const { sched, workers, order } = setup(1);
    const first = sched.submit('first');
    const ac = new AbortController();
    const cancelled = sched.submit('cancel-me', { signal: ac.signal });
    const last = sched.submit('last');
    ac.abort();
    await expect(cancelled).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    expect(sched.stats().queuedVisible).toBe(1);
    workers[0]!.finish('first');
    await flush();
    workers[0]!.finish('last');
    await Promise.all([first, last]);
    expect(order).toEqual(['first', 'last']);
    expect(sched.stats()).toMatchObject({ cancelled: 1, completed: 2 });
  });

  it('rejects at once when aborted while running, drops the late result, and keeps the worker', async () => {
    const { sched, workers } = setup(1);
    const ac = new AbortController();
    const running = sched.submit('slow', { signal: ac.signal });
    const next = sched.submit('next');
    ac.abort(new Error('user left'));
    await expect(running).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    // The worker is still busy with the dropped job; the next job waits for it.
    expect(sched.stats()).toMatchObject({ busy: 1, queuedVisible: 1 });
    workers[0]!.finish('slow', 'late');
    await flush();
    workers[0]!.finish('next');
    expect(await next).toBe('done:next');
    expect(workers).toHaveLength(1);
    expect(workers[0]!.terminated).toBe(false);
  });

  it('rejects a job whose signal is already aborted without queuing it', async () => {
    const { sched, workers } = setup(1);
    await expect(sched.submit('x', { signal: AbortSignal.abort() })).rejects.toSatisfy((e) =>
      isTileError(e, 'ABORTED'),
    );
    expect(workers).toHaveLength(0);
  });

  it('fails a queued job past its deadline and never runs it', async () => {
    const { sched, workers, order } = setup(1);
    const first = sched.submit('first', { deadlineMs: 10_000 });
    const late = sched.submit('late', { deadlineMs: 50 });
    vi.advanceTimersByTime(51);
    await expect(late).rejects.toSatisfy((e) => isTileError(e, 'DEADLINE_EXCEEDED'));
    workers[0]!.finish('first');
    await first;
    expect(order).toEqual(['first']);
  });

  it('replaces a worker stuck past the deadline and runs the next job on a fresh one', async () => {
    const { sched, workers } = setup(1);
    const stuck = sched.submit('loop', { deadlineMs: 100 });
    const next = sched.submit('next', { deadlineMs: 10_000 });
    vi.advanceTimersByTime(101);
    await expect(stuck).rejects.toSatisfy((e) => isTileError(e, 'DEADLINE_EXCEEDED'));
    expect(workers[0]!.terminated).toBe(true);
    expect(workers).toHaveLength(2);
    expect(workers[1]!.started).toEqual(['next']);
    workers[1]!.finish('next');
    expect(await next).toBe('done:next');
    expect(sched.stats()).toMatchObject({ deadlineExceeded: 1, workers: 1 });
  });

  it('fails the running job with WORKER_CRASHED when its worker dies, and replaces the worker', async () => {
    const { sched, workers } = setup(1);
    const doomed = sched.submit('doomed');
    const after = sched.submit('after');
    workers[0]!.crash(new Error('out of memory'));
    await expect(doomed).rejects.toSatisfy((e) => isTileError(e, 'WORKER_CRASHED'));
    expect(workers[0]!.terminated).toBe(true);
    expect(workers).toHaveLength(2);
    workers[1]!.finish('after');
    expect(await after).toBe('done:after');
    expect(sched.stats()).toMatchObject({ crashed: 1, completed: 1 });
  });

  it('a crash of an idle worker only removes it', async () => {
    const { sched, workers } = setup(2);
    const a = sched.submit('a');
    await flush();
    workers[0]!.finish('a');
    await a;
    workers[0]!.crash(new Error('killed'));
    expect(sched.stats()).toMatchObject({ workers: 0, crashed: 1 });
    const b = sched.submit('b');
    expect(workers).toHaveLength(2);
    workers[1]!.finish('b');
    expect(await b).toBe('done:b');
  });

  it('passes a worker error through to the job and keeps the worker', async () => {
    const { sched, workers } = setup(1);
    const bad = sched.submit('bad');
    workers[0]!.pending.get('bad')!.reject(new Error('BAD_IMAGE'));
    await expect(bad).rejects.toThrow('BAD_IMAGE');
    const ok = sched.submit('ok');
    await flush();
    workers[0]!.finish('ok');
    expect(await ok).toBe('done:ok');
    expect(workers).toHaveLength(1);
    expect(sched.stats()).toMatchObject({ failed: 1, completed: 1 });
  });

  it('fails every job with a code when workers cannot be spawned', async () => {
    const sched = new JobScheduler<string, string>({
      size: 2,
      spawn: () => {
        throw new Error('Worker is not defined');
      },
    });
    const jobs = ['a', 'b', 'c'].map((r) => sched.submit(r));
    for (const j of jobs) await expect(j).rejects.toSatisfy((e) => isTileError(e, 'WORKER_CRASHED'));
    expect(sched.stats()).toMatchObject({ queuedVisible: 0, crashed: 3 });
  });

  it('close() fails queued and running jobs with ABORTED and terminates workers', async () => {
    const { sched, workers } = setup(1);
    const a = sched.submit('a');
    const b = sched.submit('b', { priority: 'prefetch' });
    sched.close();
    await expect(a).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    await expect(b).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    expect(workers[0]!.terminated).toBe(true);
    await expect(sched.submit('c')).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
  });

  it('rejects a size below one', () => {
    expect(() => new JobScheduler({ size: 0, spawn: () => ({}) as never })).toThrow();
  });
});
