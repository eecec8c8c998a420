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
  /** KEYS: gen, tile. Returns [generation] on a miss, [generation, ct, et, b] on a hit. */
  taTileGet: {
    numberOfKeys: 2,
    readOnly: true,
    lua: `
local g = tonumber(redis.call('GET', KEYS[1]) or '0')
local h = redis.call('HMGET', KEYS[2], 'g', 'ct', 'et', 'b')
if (not h[1]) or tonumber(h[1]) ~= g or (not h[4]) then return {g} end
return {g, h[2], h[3], h[4]}`,
  },
  /**
   * KEYS: gen, tile. ARGV: expected generation, ct, et, bytes, ttl ms.
   * Writes only if no clear happened since the fetch began; returns 1 when written.
   */
  taTileSet: {
    numberOfKeys: 2,
    lua: `
local g = tonumber(redis.call('GET', KEYS[1]) or '0')
if g ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], 'g', g, 'ct', ARGV[2], 'et', ARGV[3], 'b', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
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
  taTileGetBuffer(genKey: string, tileKey: string): Promise<[number, Buffer?, Buffer?, Buffer?]>;
  taTileSet(
    genKey: string,
    tileKey: string,
    expectedGeneration: number,
    contentType: string,
    etag: string,
    bytes: Buffer,
    ttlMs: number,
  ): Promise<number>;
  taClear(genKey: string, channel: string, messageHead: string): Promise<number>;
}
