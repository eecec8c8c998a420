import { isAbsolute, join, resolve, sep } from 'node:path';
import { TileError } from '../../src/protocol/errors.js';

/**
 * Joins an object key under `root`, refusing anything that could leave it:
 * absolute paths, `..`/`.`/empty segments, NUL and backslashes (a Windows
 * separator that `join` would not treat as one here but another tool might).
 */
export function safeKeyPath(root: string, key: string): string {
  const bad =
    key.length === 0 ||
    key.length > 1024 ||
    key.includes('\0') ||
    key.includes('\\') ||
    isAbsolute(key) ||
    key.split('/').some((s) => s === '' || s === '.' || s === '..');
  const base = resolve(root);
  const path = join(base, key);
  if (bad || !path.startsWith(base + sep)) {
    throw new TileError('BAD_TILE_KEY', 'object key is not a safe relative path', { key });
  }
  return path;
}
