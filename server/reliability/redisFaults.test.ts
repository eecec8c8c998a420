import { afterEach, describe, expect, it } from 'vitest';
import type { Stack } from '../../e2e/harness/startStack.js';
import {
  counters,
  engineIdle,
  get,
  startFaultStack,
  tileFiles,
  tilePathOf,
} from '../../test/support/server/faultKit.js';
import { type RedisServer, startRedisServer } from '../../test/support/server/redisServer.js';

/**
 * Redis is an optional shared layer: losing it (crash or hang) must cost
 * speed, never answers. Every tile still arrives with its true bytes, by the
 * deadline, from the origin.
 */
// Never skipped: like the other Redis tests it needs redis-server on the PATH
// (`npm test` installs it through scripts/ensure-tools.mjs) and fails without it.
describe('fault matrix: Redis down', () => {
  let stack: Stack | undefined;
  let redis: RedisServer | undefined;
  afterEach(async () => {
    redis?.resume();
    await stack?.close();
    await redis?.stop();
    stack = undefined;
    redis = undefined;
  });

  const files = tileFiles('rd', 6);
  const keys = Object.keys(files);

  async function start(): Promise<Stack> {
    redis = await startRedisServer();
    return await startFaultStack({ origin: { files }, config: { redisUrl: redis.url, redisTimeoutMs: 200 } });
  }

  it.each(['killed', 'hung'] as const)(
    'Redis %s: tiles still arrive by the deadline with true bytes',
    async (how) => {
      stack = await start();
      // warm: into memory and (fire-and-forget) into Redis
      const warm = await get(stack.serverUrl + tilePathOf(keys[0]!));
      expect(warm.status).toBe(200);
      if (how === 'killed') await redis!.kill();
      else redis!.pause();
      for (const k of keys.slice(1)) {
        const r = await get(stack.serverUrl + tilePathOf(k));
        expect(r.status).toBe(200);
        expect(r.headers.get('x-tile-source')).toBe('origin');
        expect(r.bytes.equals(Buffer.from(files[k]!))).toBe(true);
        expect(r.ms).toBeLessThan(1_500);
      }
      const hit = await get(stack.serverUrl + tilePathOf(keys[0]!));
      expect(hit.headers.get('x-tile-source')).toBe('memory-cache');
      await engineIdle(stack);
      const c = counters(stack);
      expect(c.lookups).toBe(keys.length + 1);
      expect(c.engine.originRequests).toBe(c.origin);
      expect(stack.origin.count()).toBe(keys.length);
    },
  );
});
