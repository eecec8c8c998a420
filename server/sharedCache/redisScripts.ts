/**
 * Lua scripts, so that reading the dataset generation and the tile (or
 * checking the generation and writing) is one atomic round trip. Both keys of
 * a dataset share the `{dataset}` hash tag, so they also live in one slot of a
 * Redis Cluster.
 *
 * Tile hash fields: g = generation at write time, ct = content type,
 * et = etag, b = the bytes (binary-safe bulk string).
 */
export const REDIS_SCRIPTS = {
  /**
   * KEYS: gen, tile, lock. ARGV: lock ttl ms (0 = no lock), lock owner.
   * Hit: [generation, ct, et, b]. Miss without lock: [generation]. Miss with
   * lock: [generation, 1] when this caller took the cold-tile lock (it fetches
   * from the origin), [generation, 0] when another instance holds it.
   */
  taTileGet: {
    numberOfKeys: 3,
    lua: `
local g = tonumber(redis.call('GET', KEYS[1]) or '0')
local h = redis.call('HMGET', KEYS[2], 'g', 'ct', 'et', 'b')
if h[1] and tonumber(h[1]) == g and h[4] then return {g, h[2], h[3], h[4]} end
if tonumber(ARGV[1]) > 0 then
  if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[1]) then return {g, 1} end
  return {g, 0}
end
return {g}`,
  },
  /**
   * KEYS: gen, tile, lock. ARGV: expected generation, ct, et, bytes, ttl ms, lock owner.
   * Writes only if no clear happened since the fetch began; returns 1 when
   * written. Releases the cold-tile lock: any holder's once the entry exists,
   * only its own otherwise.
   */
  taTileSet: {
    numberOfKeys: 3,
    lua: `
local g = tonumber(redis.call('GET', KEYS[1]) or '0')
if g ~= tonumber(ARGV[1]) then
  if redis.call('GET', KEYS[3]) == ARGV[6] then redis.call('DEL', KEYS[3]) end
  return 0
end
redis.call('HSET', KEYS[2], 'g', g, 'ct', ARGV[2], 'et', ARGV[3], 'b', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('DEL', KEYS[3])
return 1`,
  },
  /**
   * KEYS: gen. ARGV: channel, message head ("instance\\ndataset").
   * Bumps the generation (every older entry becomes invisible at once; they
   * expire by TTL) and tells the other instances. Returns the new generation.
   */
  taClear: {
    numberOfKeys: 1,
    lua: `
local g = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. '\\n' .. g)
return g`,
  },
} as const;

/** The script commands ioredis defines from REDIS_SCRIPTS (typed by hand: ioredis cannot infer them). */
export interface TileScriptCommands {
  taTileGetBuffer(
    genKey: string,
    tileKey: string,
    lockKey: string,
    lockTtlMs: number,
    owner: string,
  ): Promise<[number] | [number, 0 | 1] | [number, Buffer, Buffer, Buffer]>;
  taTileSet(
    genKey: string,
    tileKey: string,
    lockKey: string,
    expectedGeneration: number,
    contentType: string,
    etag: string,
    bytes: Buffer,
    ttlMs: number,
    owner: string,
  ): Promise<number>;
  taClear(genKey: string, channel: string, messageHead: string): Promise<number>;
}
