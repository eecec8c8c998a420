import { isTileError, TileError } from '../../src/protocol/errors.js';

/** Which read of a dataset did not arrive in time (public in the error JSON as `read`). */
export type DatasetRead = 'discovery' | 'directory';

/**
 * One stable answer for "the origin did not deliver this part of a dataset in
 * time", whichever deadline fired first (the engine's per-attempt
 * ORIGIN_TIMEOUT or the request's DEADLINE_EXCEEDED): a 504 ORIGIN_TIMEOUT
 * whose `read` says what was waited for. Anything else passes through.
 */
export function asReadTimeout(e: unknown, read: DatasetRead, key: string): unknown {
  if (!isTileError(e, 'ORIGIN_TIMEOUT') && !isTileError(e, 'DEADLINE_EXCEEDED')) return e;
  return new TileError('ORIGIN_TIMEOUT', `${key}: the ${read} read timed out`, { read, key }, { cause: e });
}
