import { TileError } from '../../protocol/errors.js';

/** Visible tiles always run before prefetch. */
export type JobPriority = 'visible' | 'prefetch';

const PRIORITY_RANK: Record<JobPriority, number> = { visible: 0, prefetch: 1 };

/**
 * One worker as the scheduler sees it: runs one job at a time. The scheduler
 * never touches a `Worker`, so its logic is unit-tested in Node with a fake.
 */
export interface PoolWorker<Req, Res> {
  run(req: Req, transfer: Transferable[]): Promise<Res>;
  terminate(): void;
}

/** Builds a worker; it calls `onCrash` if the worker dies (error event, failed load). */
export type SpawnWorker<Req, Res> = (onCrash: (cause: unknown) => void) => PoolWorker<Req, Res>;

export interface SchedulerOptions<Req, Res> {
  /** Worker count; workers are spawned on demand up to this and then reused. */
  size: number;
  spawn: SpawnWorker<Req, Res>;
  /** Deadline of a job that names none, from submit to result (queue wait included). */
  defaultDeadlineMs?: number;
}

export interface SubmitOptions {
  transfer?: Transferable[];
  priority?: JobPriority;
  signal?: AbortSignal;
  /** Milliseconds from submit; past it the job fails with DEADLINE_EXCEEDED. */
  deadlineMs?: number;
}

export interface SchedulerStats {
  size: number;
  workers: number;
  busy: number;
  queuedVisible: number;
  queuedPrefetch: number;
  submitted: number;
  completed: number;
  failed: number;
  cancelled: number;
  deadlineExceeded: number;
  crashed: number;
  /** Sum of run times (worker start to result) of completed jobs, in ms. */
  runMs: number;
}

interface Job<Req, Res> {
  req: Req;
  transfer: Transferable[];
  rank: number;
  /** Settled jobs stay in their queue until popped (lazy removal keeps cancel O(1)). */
  settled: boolean;
  /** Counted in `#queued` (pushed, not yet popped). */
  queued: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  resolve: (v: Res) => void;
  reject: (e: unknown) => void;
  slot: Slot<Req, Res> | undefined;
}

interface Slot<Req, Res> {
  worker: PoolWorker<Req, Res>;
  job: Job<Req, Res> | undefined;
  dead: boolean;
}

const DEFAULT_DEADLINE_MS = 30_000;

/**
 * Priority queue plus worker slots. Guarantees: every submitted job settles
 * (result, its own error, ABORTED, DEADLINE_EXCEEDED or WORKER_CRASHED); a
 * crashed or overdue worker is terminated and replaced on the next dispatch.
 */
export class JobScheduler<Req, Res> {
  readonly #size: number;
  readonly #spawn: SpawnWorker<Req, Res>;
  readonly #defaultDeadlineMs: number;
  readonly #queues: Job<Req, Res>[][] = [[], []];
  readonly #queued = [0, 0];
  readonly #slots = new Set<Slot<Req, Res>>();
  #closed = false;
  readonly #stats = {
    submitted: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    deadlineExceeded: 0,
    crashed: 0,
    runMs: 0,
  };

  constructor(opts: SchedulerOptions<Req, Res>) {
    if (!Number.isInteger(opts.size) || opts.size < 1) {
      throw new TileError('BAD_CONFIG', 'pool size must be a positive integer', { size: opts.size });
    }
    this.#size = opts.size;
    this.#spawn = opts.spawn;
    this.#defaultDeadlineMs = opts.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS;
  }

  submit(req: Req, opts: SubmitOptions = {}): Promise<Res> {
    if (this.#closed) return Promise.reject(new TileError('ABORTED', 'worker pool is closed'));
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    this.#stats.submitted++;
    return new Promise<Res>((resolve, reject) => {
      const job: Job<Req, Res> = {
        req,
        transfer: opts.transfer ?? [],
        rank: PRIORITY_RANK[opts.priority ?? 'visible'],
        settled: false,
        queued: true,
        timer: undefined,
        signal,
        onAbort: () => {
          this.#stats.cancelled++;
          this.#fail(job, abortError(signal!));
        },
        resolve,
        reject,
        slot: undefined,
      };
      const deadlineMs = opts.deadlineMs ?? this.#defaultDeadlineMs;
      job.timer = setTimeout(() => this.#expire(job, deadlineMs), deadlineMs);
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.#queues[job.rank]!.push(job);
      this.#queued[job.rank]!++;
      this.#pump();
    });
  }

  stats(): SchedulerStats {
    let busy = 0;
    for (const s of this.#slots) if (s.job) busy++;
    return {
      size: this.#size,
      workers: this.#slots.size,
      busy,
      queuedVisible: this.#queued[0]!,
      queuedPrefetch: this.#queued[1]!,
      ...this.#stats,
    };
  }

  /** Fails every job with ABORTED and terminates the workers. */
  close(): void {
    this.#closed = true;
    const err = new TileError('ABORTED', 'worker pool is closed');
    for (const q of this.#queues) for (const job of q.splice(0)) this.#fail(job, err);
    for (const slot of this.#slots) {
      if (slot.job) this.#fail(slot.job, err);
      this.#kill(slot);
    }
  }

  #expire(job: Job<Req, Res>, deadlineMs: number): void {
    if (job.settled) return;
    this.#stats.deadlineExceeded++;
    const slot = job.slot;
    this.#fail(
      job,
      new TileError('DEADLINE_EXCEEDED', `worker job took over ${deadlineMs} ms`, { deadlineMs }),
    );
    // A job past its deadline may be stuck in a loop: the worker cannot be
    // trusted to come back, so it is replaced rather than waited for.
    if (slot) {
      this.#kill(slot);
      this.#pump();
    }
  }

  #fail(job: Job<Req, Res>, err: unknown): void {
    if (job.settled) return;
    this.#settle(job);
    if (job.queued) {
      job.queued = false;
      this.#queued[job.rank]!--;
    }
    job.reject(err);
  }

  #settle(job: Job<Req, Res>): void {
    job.settled = true;
    clearTimeout(job.timer);
    job.signal?.removeEventListener('abort', job.onAbort);
  }

  #next(): Job<Req, Res> | undefined {
    for (const q of this.#queues) {
      while (q.length > 0) {
        const job = q.shift()!;
        if (!job.settled) {
          job.queued = false;
          this.#queued[job.rank]!--;
          return job;
        }
      }
    }
    return undefined;
  }

  #idleSlot(): Slot<Req, Res> | undefined {
    for (const s of this.#slots) if (!s.job && !s.dead) return s;
    if (this.#slots.size >= this.#size) return undefined;
    const slot: Slot<Req, Res> = {
      worker: undefined as unknown as PoolWorker<Req, Res>,
      job: undefined,
      dead: false,
    };
    try {
      slot.worker = this.#spawn((cause) => this.#crash(slot, cause));
    } catch (cause) {
      // Spawning failed outright (no Worker support, bad URL): the job that
      // wanted it fails with a code rather than waiting for a deadline.
      const job = this.#next();
      if (job) {
        this.#stats.crashed++;
        this.#fail(job, new TileError('WORKER_CRASHED', 'could not start a worker', {}, { cause }));
      }
      return undefined;
    }
    this.#slots.add(slot);
    return slot;
  }

  #pump(): void {
    while (!this.#closed && this.#queued[0]! + this.#queued[1]! > 0) {
      const slot = this.#idleSlot();
      if (!slot) {
        // Either every worker is busy, or a spawn just failed (and failed a job): retry the rest.
        if (this.#slots.size >= this.#size) return;
        continue;
      }
      const job = this.#next();
      if (!job) return;
      this.#start(slot, job);
    }
  }

  #start(slot: Slot<Req, Res>, job: Job<Req, Res>): void {
    slot.job = job;
    job.slot = slot;
    const t0 = performance.now();
    let run: Promise<Res>;
    try {
      run = slot.worker.run(job.req, job.transfer);
    } catch (e) {
      run = Promise.reject(e);
    }
    run.then(
      (value) => {
        if (!job.settled) {
          this.#settle(job);
          this.#stats.completed++;
          this.#stats.runMs += performance.now() - t0;
          job.resolve(value);
        }
        this.#release(slot, job);
      },
      (err) => {
        if (!job.settled) {
          this.#stats.failed++;
          this.#fail(job, err);
        }
        this.#release(slot, job);
      },
    );
  }

  /** The worker answered (or its answer is being dropped): the slot takes new work. */
  #release(slot: Slot<Req, Res>, job: Job<Req, Res>): void {
    if (slot.job !== job) return;
    slot.job = undefined;
    this.#pump();
  }

  #crash(slot: Slot<Req, Res>, cause: unknown): void {
    if (slot.dead) return;
    this.#stats.crashed++;
    const job = slot.job;
    this.#kill(slot);
    if (job)
      this.#fail(job, new TileError('WORKER_CRASHED', 'the worker running this job died', {}, { cause }));
    this.#pump();
  }

  #kill(slot: Slot<Req, Res>): void {
    slot.dead = true;
    slot.job = undefined;
    this.#slots.delete(slot);
    try {
      slot.worker.terminate();
    } catch {
      // Already gone: nothing to release.
    }
  }
}

function abortError(signal: AbortSignal): TileError {
  return new TileError('ABORTED', 'decode aborted', {}, { cause: signal.reason });
}
