import { cpus } from 'node:os';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream';
import { Coalescer } from '../../src/async/Coalescer.js';
import { ConcurrencyLimiter } from '../../src/async/ConcurrencyLimiter.js';
import { errorFromSignal } from '../../src/async/errorFromSignal.js';
import { TileError } from '../../src/protocol/errors.js';
import { discard } from '../origin/discard.js';
import type { Origin, OriginObject } from '../origin/Origin.js';
import { type BreakerSettings, CircuitBreaker } from './CircuitBreaker.js';
import { sleep, withDeadline } from './deadline.js';
import { LatencyWindow } from './LatencyWindow.js';
import { readBody } from './readBody.js';
import { backoffDelay, isOriginFailure, isRetryable } from './retryPolicy.js';

export interface FetchedBytes {
  bytes: Uint8Array;
  contentType: string | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
  /** Whole object size when the origin said it (a ranged read's Content-Range). */
  totalSize?: number | undefined;
}

/** `length` bytes from `offset` (a PMTiles header, directory or tile). */
export interface ByteRange {
  offset: number;
  length: number;
}

export interface EngineStats {
  /** HTTP attempts actually sent to the origin (incl. retries). */
  originRequests: number;
  /** Attempts running now (a streamed body counts until its headers are in). */
  inFlight: number;
  /** Waiting for a concurrency slot. */
  queued: number;
  /** Streamed bodies (video) open now; at most `streamLimit`. */
  streams: number;
  /** getStream callers waiting for a stream slot. */
  streamsQueued: number;
  /** getBytes callers that joined an existing fetch. */
  coalesced: number;
  retries: number;
  /** Attempts that failed as origin failures (5xx, 429, reset, timeout). */
  failures: number;
  notFound: number;
  /** Of completed origin attempts. */
  latencyMs: { p50: number; p95: number };
  breaker: 'closed' | 'open' | 'half-open';
}

export interface FetchEngineOptions {
  /** ORIGIN_CONCURRENCY, default max(128, min(cpus*16, 256)). */
  concurrency: number;
  /** Bounded queue; overflow -> TileError('OVERLOADED', ..., { retryAfterSec }). */
  queueLimit: number;
  /**
   * Streamed bodies open at once (getStream, video). A stream holds a
   * concurrency slot only until its headers arrive, then one of these until
   * its body ends, so playing videos never take the slots tiles need.
   * Default max(1, floor(concurrency / 2)).
   */
  streamLimit?: number;
  /** Per origin attempt (headers AND body for getBytes; headers for getStream). */
  attemptTimeoutMs: number;
  /** ORIGIN_TIMEOUT_MS: whole request incl. queue wait and retries. */
  requestTimeoutMs: number;
  /** Extra attempts on 5xx / 429 / reset / attempt timeout; never on other 4xx. */
  retries: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** getBytes refuses bigger bodies (ORIGIN_ERROR). */
  maxObjectBytes?: number;
  /** Failure-rate breaker settings (see BreakerSettings). */
  breaker?: BreakerSettings;
  /** Injected clock. */
  now?: () => number;
  /** Longest Retry-After honoured before a retry (default 5000 ms). */
  retryAfterCapMs?: number;
  /** Jitter source (tests). */
  random?: () => number;
  /** Retry-After sent with OVERLOADED (default 1 s). */
  overloadRetryAfterSec?: number;
}

/** ORIGIN_CONCURRENCY's default: max(128, min(cpus*16, 256)) (server/configTable.ts says why). */
export function defaultConcurrency(): number {
  return Math.max(128, Math.min(Math.max(1, cpus().length) * 16, 256));
}

function toTileError(e: unknown): TileError {
  if (e instanceof TileError) return e;
  return new TileError('INTERNAL', 'unexpected origin failure', {}, { cause: e });
}

interface AttemptResult<R> {
  value: R;
  /** A body handed to the caller: the attempt's signal stays tied to the caller's until it ends. */
  hold?: Readable;
}

/**
 * Every origin request goes through here: coalescing (getBytes), the global
 * concurrency limit with its bounded queue, the per-origin breaker, attempt
 * and request deadlines, and retries with jittered backoff.
 */
export class FetchEngine {
  readonly #origin: Origin;
  readonly #o: Required<Omit<FetchEngineOptions, 'breaker' | 'streamLimit'>>;
  readonly #limiter: ConcurrencyLimiter;
  readonly #streams: ConcurrencyLimiter;
  readonly #breaker: CircuitBreaker;
  readonly #coalescer = new Coalescer<FetchedBytes | null>();
  readonly #latency = new LatencyWindow(1024);
  #originRequests = 0;
  #inFlight = 0;
  #coalesced = 0;
  #retries = 0;
  #failures = 0;
  #notFound = 0;
  #closed = false;

  constructor(origin: Origin, options: FetchEngineOptions) {
    this.#origin = origin;
    this.#o = {
      backoffBaseMs: 50,
      backoffMaxMs: 1000,
      maxObjectBytes: 32 * 1024 * 1024,
      now: Date.now,
      retryAfterCapMs: 5000,
      random: Math.random,
      overloadRetryAfterSec: 1,
      ...options,
    };
    this.#limiter = new ConcurrencyLimiter(
      options.concurrency,
      options.queueLimit,
      this.#o.overloadRetryAfterSec,
    );
    this.#streams = new ConcurrencyLimiter(
      options.streamLimit ?? Math.max(1, Math.floor(options.concurrency / 2)),
      options.queueLimit,
      this.#o.overloadRetryAfterSec,
    );
    this.#breaker = new CircuitBreaker({
      ...(options.breaker ?? { failureThreshold: 5, openMs: 5000 }),
      now: this.#o.now,
    });
  }

  /** Whole small object (a tile), coalesced by key, reference counted. null = 404. */
  async getBytes(key: string, signal: AbortSignal): Promise<FetchedBytes | null> {
    this.#assertOpen();
    const d = withDeadline(signal, this.#o.requestTimeoutMs, 'DEADLINE_EXCEEDED');
    try {
      return await this.#coalescer.run(
        key,
        d.signal,
        (shared) => this.#fetchBytes(key, shared),
        () => this.#coalesced++,
      );
    } finally {
      d.clear();
    }
  }

  /**
   * A byte range of an object (PMTiles archives), through the same pool,
   * deadlines, retries and breaker as a tile, coalesced by key and range.
   * null = 404. An origin that ignores the range (a 200) is cut to it, within
   * `maxObjectBytes`; the answer may be shorter than asked at the object's end.
   */
  async getRange(key: string, range: ByteRange, signal: AbortSignal): Promise<FetchedBytes | null> {
    this.#assertOpen();
    if (
      !Number.isSafeInteger(range.offset) ||
      range.offset < 0 ||
      !Number.isSafeInteger(range.length) ||
      range.length < 1
    ) {
      throw new TileError('BAD_RANGE', 'range must be a non-negative offset and a positive length', {
        ...range,
      });
    }
    const d = withDeadline(signal, this.#o.requestTimeoutMs, 'DEADLINE_EXCEEDED');
    try {
      return await this.#coalescer.run(
        `${key}\0${range.offset}+${range.length}`,
        d.signal,
        (shared) => this.#fetchBytes(key, shared, range),
        () => this.#coalesced++,
      );
    } finally {
      d.clear();
    }
  }

  /**
   * Streamed (ranged) object for video: breaker'ed, not coalesced. null = 404.
   * Takes a stream slot (waiting under the request deadline) for the body's
   * whole life, and a concurrency slot only until the headers are in: a
   * video that plays for minutes, paced by its viewer, must not hold a slot
   * tiles need.
   */
  async getStream(
    key: string,
    opts: { signal: AbortSignal; range?: { start: number; end?: number } },
  ): Promise<OriginObject | null> {
    this.#assertOpen();
    const d = withDeadline(opts.signal, this.#o.requestTimeoutMs, 'DEADLINE_EXCEEDED');
    const deadlineAt = this.#o.now() + this.#o.requestTimeoutMs;
    let handedOver = false;
    let releaseStream: (() => void) | undefined;
    try {
      releaseStream = await this.#streams.acquire(d.signal);
      const obj = await this.#withRetries(d.signal, deadlineAt, async (as) => {
        const o = await this.#origin.get(key, { signal: as, ...(opts.range ? { range: opts.range } : {}) });
        if (o === null || o.status === 304) {
          if (o) discard(o.body);
          return { value: o };
        }
        return { value: o, hold: o.body };
      });
      if (obj === null) this.#notFound++;
      else {
        // The body outlives the request deadline (a long video), but stays tied to the caller's signal.
        handedOver = true;
        d.clearTimer();
        const release = releaseStream;
        finished(obj.body, () => {
          d.clear();
          release();
        });
      }
      return obj;
    } finally {
      if (!handedOver) {
        d.clear();
        releaseStream?.();
      }
    }
  }

  stats(): EngineStats {
    return {
      originRequests: this.#originRequests,
      inFlight: this.#inFlight,
      queued: this.#limiter.queued,
      streams: this.#streams.active,
      streamsQueued: this.#streams.queued,
      coalesced: this.#coalesced,
      retries: this.#retries,
      failures: this.#failures,
      notFound: this.#notFound,
      latencyMs: { p50: this.#latency.percentile(50), p95: this.#latency.percentile(95) },
      breaker: this.#breaker.state,
    };
  }

  /** Aborts shared fetches, rejects queued waiters and closes the origin (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const e = new TileError('ORIGIN_UNAVAILABLE', 'fetch engine is closing');
    this.#coalescer.abortAll(e);
    this.#limiter.rejectAll(e);
    this.#streams.rejectAll(e);
    await this.#origin.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new TileError('ORIGIN_UNAVAILABLE', 'fetch engine is closed');
  }

  async #fetchBytes(key: string, shared: AbortSignal, range?: ByteRange): Promise<FetchedBytes | null> {
    const deadlineAt = this.#o.now() + this.#o.requestTimeoutMs;
    const d = withDeadline(shared, this.#o.requestTimeoutMs, 'DEADLINE_EXCEEDED');
    try {
      const r = await this.#withRetries(d.signal, deadlineAt, async (as) => {
        const obj = await this.#origin.get(key, {
          signal: as,
          ...(range ? { range: { start: range.offset, end: range.offset + range.length - 1 } } : {}),
        });
        if (obj === null) return { value: null };
        let bytes = await readBody(obj.body, obj.contentLength, this.#o.maxObjectBytes);
        // An origin that ignored the range sent the whole object: keep the asked part.
        if (range && obj.status === 200) bytes = bytes.subarray(range.offset, range.offset + range.length);
        return {
          value: {
            bytes,
            contentType: obj.contentType,
            etag: obj.etag,
            lastModified: obj.lastModified,
            totalSize: obj.totalSize,
          },
        };
      });
      if (r === null) this.#notFound++;
      return r;
    } finally {
      d.clear();
    }
  }

  async #withRetries<R>(
    reqSignal: AbortSignal,
    deadlineAt: number,
    run: (attemptSignal: AbortSignal) => Promise<AttemptResult<R>>,
  ): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(reqSignal, run, attempt > 0);
      } catch (e) {
        const err = toTileError(e);
        if (reqSignal.aborted) throw errorFromSignal(reqSignal);
        if (!isRetryable(err) || attempt >= this.#o.retries || this.#closed) throw err;
        const delay = backoffDelay(attempt, err, {
          baseMs: this.#o.backoffBaseMs,
          maxMs: this.#o.backoffMaxMs,
          retryAfterCapMs: this.#o.retryAfterCapMs,
          random: this.#o.random,
        });
        // Waiting past the deadline only turns a meaningful error into a timeout.
        if (this.#o.now() + delay >= deadlineAt) throw err;
        this.#retries++;
        await sleep(delay, reqSignal);
      }
    }
  }

  async #attempt<R>(
    reqSignal: AbortSignal,
    run: (attemptSignal: AbortSignal) => Promise<AttemptResult<R>>,
    retry: boolean,
  ): Promise<R> {
    const release = await this.#limiter.acquire(reqSignal);
    let trial: boolean;
    try {
      trial = this.#breaker.enter();
    } catch (e) {
      release();
      throw e;
    }
    const d = withDeadline(reqSignal, this.#o.attemptTimeoutMs, 'ORIGIN_TIMEOUT');
    this.#originRequests++;
    this.#inFlight++;
    const t0 = performance.now();
    let held = false;
    try {
      const r = await run(d.signal);
      this.#latency.add(performance.now() - t0);
      this.#breaker.success(retry);
      if (r.hold) {
        // The slot goes back below (the caller holds a stream slot instead); the attempt's
        // signal stays tied to the caller's so leaving still aborts the body.
        held = true;
        d.clearTimer();
        finished(r.hold, () => d.clear());
      }
      return r.value;
    } catch (e) {
      if (reqSignal.aborted) {
        const why = errorFromSignal(reqSignal);
        if (why.code === 'DEADLINE_EXCEEDED') {
          // The origin was still busy when the whole request ran out of time: that is slowness, a failure.
          this.#failures++;
          this.#breaker.failure(retry);
        } else this.#breaker.cancel(trial); // the client left (or shutdown): no verdict on the origin
        throw why;
      }
      const err = d.signal.aborted ? errorFromSignal(d.signal) : toTileError(e);
      if (err.code === 'ORIGIN_ERROR' && typeof err.details.status === 'number') {
        this.#latency.add(performance.now() - t0);
      }
      if (isOriginFailure(err)) {
        this.#failures++;
        this.#breaker.failure(retry);
      } else this.#breaker.success(retry); // the origin answered (403, too large...): it is alive
      throw err;
    } finally {
      if (!held) d.clear();
      this.#inFlight--;
      release();
    }
  }
}
