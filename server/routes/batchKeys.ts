import type { IncomingMessage } from 'node:http';
import { TileError } from '../../src/protocol/errors.js';
import { MAX_BATCH_TILES, parseTileKey, type TileCoord } from '../../src/protocol/tileKey.js';
import { readBody } from '../http/readBody.js';

export interface BatchItem {
  key: string;
  coord: TileCoord;
}

/** Validates the list: at most MAX_BATCH_TILES, every key parseable; duplicates collapse to one. */
export function validateBatchKeys(keys: unknown[]): BatchItem[] {
  if (keys.length === 0) throw new TileError('BAD_REQUEST', 'tiles must list at least one z/x/y.ext key');
  if (keys.length > MAX_BATCH_TILES) {
    throw new TileError('TOO_MANY_TILES', `at most ${MAX_BATCH_TILES} tiles per batch (got ${keys.length})`, {
      limit: MAX_BATCH_TILES,
    });
  }
  const seen = new Set<string>();
  const out: BatchItem[] = [];
  for (const k of keys) {
    if (typeof k !== 'string') throw new TileError('BAD_TILE_KEY', 'every tile key must be a string');
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ key: k, coord: parseTileKey(k) });
  }
  return out;
}

/** `?tiles=a&tiles=b` (GET) or `{"tiles":[...]}` (POST). */
export async function readBatchKeys(
  req: IncomingMessage,
  query: string,
  maxBodyBytes: number,
): Promise<BatchItem[]> {
  if (req.method === 'POST') {
    const body = await readBody(req, maxBodyBytes, 10_000);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new TileError('BAD_REQUEST', 'body must be JSON {"tiles": ["z/x/y.ext", ...]}');
    }
    const tiles = (parsed as { tiles?: unknown } | null)?.tiles;
    if (!Array.isArray(tiles))
      throw new TileError('BAD_REQUEST', 'body must be JSON {"tiles": ["z/x/y.ext", ...]}');
    return validateBatchKeys(tiles);
  }
  return validateBatchKeys(new URLSearchParams(query).getAll('tiles'));
}
