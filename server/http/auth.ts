import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TileError } from '../../src/protocol/errors.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

// The configured tokens never change: hash each once, not per request.
const expectedDigests = new Map<string, Buffer>();

/** Constant-time comparison: both sides are hashed first so lengths never leak either. */
export function tokenEquals(given: string, expected: string): boolean {
  let want = expectedDigests.get(expected);
  if (!want) {
    want = digest(expected);
    if (expectedDigests.size < 16) expectedDigests.set(expected, want);
  }
  return timingSafeEqual(digest(given), want);
}

function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/**
 * Throws UNAUTHORIZED (no token) or FORBIDDEN (wrong token). With
 * `expected` undefined the route is closed to everyone (owner routes) when
 * `closedWhenUnset`, and open otherwise (the optional API_TOKEN).
 */
export function requireToken(
  req: IncomingMessage,
  expected: string | undefined,
  closedWhenUnset: boolean,
): void {
  if (expected === undefined) {
    if (closedWhenUnset) throw new TileError('FORBIDDEN', 'this route is disabled: OWNER_TOKEN is not set');
    return;
  }
  const given = bearerToken(req);
  if (given === undefined) throw new TileError('UNAUTHORIZED', 'missing Authorization: Bearer token');
  if (!tokenEquals(given, expected)) throw new TileError('FORBIDDEN', 'wrong token');
}
