import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { isTileError, TileError } from '../../src/protocol/errors.js';
import { raceSignal } from '../engine/deadline.js';
import type { SharedCache, SharedTile } from '../tiles/SharedCache.js';
import { GenerationTracker } from './GenerationTracker.js';
import { RedisBreaker } from './RedisBreaker.js';
import type { RedisSharedCacheOptions, RedisSharedCacheStats } from './RedisSharedCacheOptions.js';
import { REDIS_SCRIPTS, type TileScriptCommands } from './redisScripts.js';

export type { RedisSharedCacheOptions, RedisSharedCacheStats };

type ScriptedRedis = Redis & TileScriptCommands;

type Read = { kind: 'hit'; tile: SharedTile } | { kind: 'miss' | 'leader' | 'follower' };

/**
 * The shared second cache layer in Redis (see docs/deployment.md).
 *
 * - Keys `{prefix}{dataset}:t:{key}` hold a hash (generation, content type,
 *   etag, bytes) with a TTL; `{prefix}{dataset}:gen` holds the dataset's
 *   generation. A clear is one INCR (no KEYS/SCAN): older entries no longer
 *   match and expire by TTL. Reads and guarded writes are Lua scripts, one
 *   round trip each.
 * - Never in the way: every call has a deadline; commands fail at once while
 *   disconnected (no offline queue); a breaker stops sending after repeated
 *   failures and tries again later; Redis trouble is logged once. Every
 *   failure resolves as a miss / a skipped write.
 * - A clear on one instance reaches the others' memory caches by pub/sub, and
 *   by the generation seen on their next read if a message was missed.
 * - Optional cold-tile lock (`lockWaitMs`): the read script also takes a short
 *   lock on a miss; losers poll for the winner's write, bounded by the wait.
 */
export class RedisSharedCache implements SharedCache {
  readonly name = 'redis';
  readonly #client: ScriptedRedis;
  readonly #sub: Redis;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #id = randomUUID();
  readonly #gens = new GenerationTracker();
  readonly #breaker: RedisBreaker;
  readonly #listeners = new Set<(dataset: string) => void>();
  #closed = false;
  readonly #counts = {
    hits: 0,
    misses: 0,
    writes: 0,
    skipped: 0,
    errors: 0,
    oversize: 0,
    staleWrites: 0,
    remoteClears: 0,
    lockWaits: 0,
    lockWaitHits: 0,
  };
  readonly #lockWaitMs: number;
  readonly #leading = new Set<string>();
  readonly #now: () => number;

  constructor(private readonly o: RedisSharedCacheOptions) {
    this.#prefix = o.keyPrefix ?? 'ta:';
    this.#lockWaitMs = o.lockWaitMs ?? 0;
    this.#now = o.now ?? Date.now;
    this.#channel = `${this.#prefix}clear`;
    this.#breaker = new RedisBreaker({
      failureThreshold: o.breaker?.failureThreshold ?? 3,
      openMs: o.breaker?.openMs ?? 5_000,
      log: o.log,
      now: o.now,
    });
    const maxDelay = o.maxReconnectDelayMs ?? 1_000;
    const common: RedisOptions = {
      // Fail fast instead of queueing while disconnected: the origin is the fallback, not a wait.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: Math.max(o.timeoutMs, 1) * 2,
      connectTimeout: Math.max(1_000, o.timeoutMs * 10),
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
      scripts: REDIS_SCRIPTS,
    };
    this.#client = new Redis(o.url, { ...common, connectionName: 'tile-accelerator' }) as ScriptedRedis;
    this.#client.on('error', (e: Error) => this.#breaker.markDown(e.message));
    this.#client.on('close', () => {
      if (!this.#closed) this.#breaker.markDown('connection closed');
    });
    this.#client.on('ready', () => this.#breaker.reconnected());
    // Subscriptions need their own connection; it may queue its SUBSCRIBE until Redis is reachable.
    this.#sub = new Redis(o.url, {
      ...common,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
      connectionName: 'tile-accelerator-sub',
    });
    this.#sub.on('error', () => {}); // reported once through the main connection
    this.#sub.on('message', (_channel: string, message: string) => this.#onClearMessage(message));
    this.#sub.subscribe(this.#channel).catch(() => {});
  }

  /** Registers what to do when another instance clears a dataset (drop it from the memory cache). */
  onRemoteClear(listener: (dataset: string) => void): void {
    this.#listeners.add(listener);
  }

  async get(
    dataset: string,
    key: string,
    generation: number,
    signal: AbortSignal,
  ): Promise<SharedTile | undefined> {
    const tileKey = this.#tileKey(dataset, key);
    // A second miss for a tile this instance is already fetching joins the engine's coalescing, not the lock.
    const lock = this.#lockWaitMs > 0 && !this.#leading.has(tileKey);
    let r = await this.#read(dataset, tileKey, generation, lock, signal);
    if (r.kind === 'follower') r = await this.#awaitLeader(dataset, tileKey, generation, signal);
    if (r.kind === 'leader') this.#lead(tileKey);
    if (r.kind !== 'hit') {
      this.#counts.misses++;
      return undefined;
    }
    this.#counts.hits++;
    return r.tile;
  }

  async set(
    dataset: string,
    key: string,
    generation: number,
    tile: SharedTile,
    signal: AbortSignal,
  ): Promise<void> {
    if (tile.bytes.length > this.o.maxEntryBytes) {
      this.#counts.oversize++;
      return;
    }
    const expected = this.#gens.expected(dataset, generation);
    if (expected === undefined) {
      // No read under this generation (or a clear since): writing could revive old bytes.
      this.#counts.staleWrites++;
      return;
    }
    const tileKey = this.#tileKey(dataset, key);
    this.#leading.delete(tileKey);
    const bytes = Buffer.from(tile.bytes.buffer, tile.bytes.byteOffset, tile.bytes.byteLength);
    const written = await this.#run(
      () =>
        this.#client.taTileSet(
          this.#genKey(dataset),
          tileKey,
          this.#lockKey(tileKey),
          expected,
          tile.contentType,
          tile.etag,
          bytes,
          this.o.ttlMs,
          this.#id,
        ),
      signal,
    );
    if (written === 1) this.#counts.writes++;
    else if (written === 0) this.#counts.staleWrites++;
  }

  /**
   * Bumps the dataset's generation in Redis and tells the other instances.
   * Unlike get/set this reports failure (ORIGIN_UNAVAILABLE): a clear that did
   * not reach Redis would leave other instances serving old tiles.
   */
  async clearDataset(dataset: string, signal: AbortSignal): Promise<void> {
    if (this.#closed || this.#client.status !== 'ready') {
      throw new TileError('ORIGIN_UNAVAILABLE', 'shared cache unavailable: dataset not cleared there', {
        layer: 'shared-cache',
        retryAfterSec: 1,
      });
    }
    try {
      await raceSignal(
        this.#client.taClear(this.#genKey(dataset), this.#channel, `${this.#id}\n${dataset}`),
        signal,
        this.o.timeoutMs * 5,
        'shared cache',
      );
    } catch (e) {
      if (isTileError(e, 'ABORTED')) throw e;
      throw new TileError(
        'ORIGIN_UNAVAILABLE',
        'shared cache unavailable: dataset not cleared there',
        { layer: 'shared-cache', retryAfterSec: 1 },
        { cause: e },
      );
    }
    // The next read records the new generation under the new local one.
    this.#gens.forget(dataset);
  }

  stats(): RedisSharedCacheStats {
    return { ...this.#counts, breaker: this.#breaker.state, connected: this.#client.status === 'ready' };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // disconnect(), not quit(): quit waits for a reply that a dead Redis never sends.
    this.#client.disconnect();
    this.#sub.disconnect();
  }

  #genKey(dataset: string): string {
    return `${this.#prefix}{${dataset}}:gen`;
  }

  #tileKey(dataset: string, key: string): string {
    return `${this.#prefix}{${dataset}}:t:${key}`;
  }

  #lockKey(tileKey: string): string {
    return `${tileKey}:lock`;
  }

  /** One read (and, with `lock`, an attempt to take the cold-tile lock); a skipped or failed read is a miss. */
  async #read(
    dataset: string,
    tileKey: string,
    generation: number,
    lock: boolean,
    signal: AbortSignal,
  ): Promise<Read> {
    const reply = await this.#run(
      () =>
        this.#client.taTileGetBuffer(
          this.#genKey(dataset),
          tileKey,
          this.#lockKey(tileKey),
          lock ? this.#lockWaitMs : 0,
          this.#id,
        ),
      signal,
    );
    if (reply === undefined) return { kind: 'miss' };
    if (this.#gens.observe(dataset, generation, reply[0]) === 'remote-clear') {
      // The entry (if any) is of the new generation; this fetch belongs to the old local one and cannot store it.
      this.#applyRemoteClear(dataset, generation, reply[0]);
    }
    if (reply.length === 4) {
      const [, ct, et, b] = reply;
      // Copy: a reply Buffer may be a view into a larger socket chunk, which the
      // memory cache would then keep alive without counting it.
      return {
        kind: 'hit',
        tile: { bytes: new Uint8Array(b), contentType: ct.toString(), etag: et.toString() },
      };
    }
    if (reply.length === 2) return { kind: reply[1] === 1 ? 'leader' : 'follower' };
    return { kind: 'miss' };
  }

  /**
   * Another instance is fetching this cold tile: poll Redis for its write
   * until REDIS_LOCK_WAIT_MS, then give up and ask the origin. Taking over
   * the lock (the holder finished without writing, e.g. a 404) ends the wait too.
   */
  async #awaitLeader(
    dataset: string,
    tileKey: string,
    generation: number,
    signal: AbortSignal,
  ): Promise<Read> {
    this.#counts.lockWaits++;
    const end = this.#now() + this.#lockWaitMs;
    const pollMs = Math.max(5, Math.min(25, Math.floor(this.#lockWaitMs / 10)));
    while (this.#now() < end) {
      try {
        await sleep(pollMs, undefined, { signal });
      } catch {
        return { kind: 'miss' };
      }
      const r = await this.#read(dataset, tileKey, generation, true, signal);
      if (r.kind === 'hit') this.#counts.lockWaitHits++;
      if (r.kind !== 'follower') return r;
    }
    return { kind: 'miss' };
  }

  /** Remembers that this instance fetches `tileKey` until it writes it or the lock would have expired. */
  #lead(tileKey: string): void {
    this.#leading.add(tileKey);
    setTimeout(() => this.#leading.delete(tileKey), this.#lockWaitMs).unref();
  }

  /** One guarded Redis call: skipped when down or open, bounded by the deadline, never throws. */
  async #run<T>(call: () => Promise<T>, signal: AbortSignal): Promise<T | undefined> {
    if (this.#closed || this.#client.status !== 'ready') {
      this.#counts.skipped++;
      return undefined;
    }
    const allowed = this.#breaker.allow();
    if (allowed === false) {
      this.#counts.skipped++;
      return undefined;
    }
    try {
      const v = await raceSignal(call(), signal, this.o.timeoutMs, 'shared cache');
      this.#breaker.success();
      return v;
    } catch (e) {
      if (isTileError(e, 'ABORTED')) {
        this.#breaker.cancel(allowed === 'trial');
        return undefined;
      }
      this.#counts.errors++;
      this.#breaker.failure(e instanceof Error ? e.message : String(e));
      return undefined;
    }
  }

  #onClearMessage(message: string): void {
    const [from, dataset, gen] = message.split('\n');
    if (from === this.#id || !dataset || gen === undefined) return;
    this.#remoteClear(dataset);
  }

  #applyRemoteClear(dataset: string, local: number, redisGen: number): void {
    if (this.#listeners.size === 0) {
      this.#gens.adopt(dataset, local, redisGen);
      return;
    }
    this.#remoteClear(dataset);
  }

  /** Another instance cleared `dataset`: forget its generation and let the memory cache drop it. */
  #remoteClear(dataset: string): void {
    this.#counts.remoteClears++;
    this.#gens.forget(dataset);
    for (const l of this.#listeners) l(dataset);
  }
}
