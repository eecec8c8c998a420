import { ConcurrencyLimiter } from '../../src/async/ConcurrencyLimiter.js';
import type { ToDDS } from '../tiles/TileService.js';

/** Conversions that may wait for a slot: more than one full batch (100 tiles) of distinct `.dds` keys. */
export const DDS_QUEUE_LIMIT = 128;

export interface BoundedToDDS {
  convert: ToDDS;
  limiter: ConcurrencyLimiter;
}

/**
 * Runs at most `concurrency` conversions at once (DDS_CONCURRENCY): the
 * encode is synchronous on the event loop, so many distinct `.dds` keys at
 * once would otherwise take turns blocking it. Up to {@link DDS_QUEUE_LIMIT}
 * wait (each under its conversion deadline); past that the answer is 503
 * OVERLOADED with `Retry-After`, at once.
 */
export function boundedToDDS(
  load: () => Promise<ToDDS>,
  concurrency: number,
  queueLimit = DDS_QUEUE_LIMIT,
): BoundedToDDS {
  const limiter = new ConcurrencyLimiter(concurrency, queueLimit);
  const convert: ToDDS = async (raster, signal) => {
    const release = await limiter.acquire(signal);
    try {
      return await (await load())(raster, signal);
    } finally {
      release();
    }
  };
  return { convert, limiter };
}
