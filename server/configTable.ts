import { availableParallelism } from 'node:os';

/** One environment variable: its name, its default as written in the docs, and what it does. */
export interface ConfigVar {
  name: string;
  default: string;
  meaning: string;
}

const cpus = availableParallelism();

/** Every variable the server reads. docs/server.md is checked against this table by a test. */
export const CONFIG_VARS: readonly ConfigVar[] = [
  { name: 'PORT', default: '8080', meaning: 'TCP port to listen on (0 = any free port).' },
  { name: 'HOST', default: '127.0.0.1', meaning: 'Interface to bind; use 0.0.0.0 to accept remote clients.' },
  {
    name: 'TILES_DIR',
    default: '(bundled sample under data/)',
    meaning: 'Local directory origin. Unset: the sample dataset `sample` is generated under data/.',
  },
  {
    name: 'R2_PUBLIC_URL',
    default: '(unset)',
    meaning: 'Public HTTP base of the bucket; takes precedence over TILES_DIR.',
  },
  {
    name: 'USE_S3',
    default: 'false',
    meaning: '`true` = signed S3/R2 reads with the AWS_* variables (highest precedence).',
  },
  { name: 'AWS_ACCESS_KEY_ID', default: '(unset)', meaning: 'S3/R2 access key (required when USE_S3=true).' },
  {
    name: 'AWS_SECRET_ACCESS_KEY',
    default: '(unset)',
    meaning: 'S3/R2 secret key (required when USE_S3=true).',
  },
  { name: 'AWS_BUCKET_NAME', default: '(unset)', meaning: 'Bucket name (required when USE_S3=true).' },
  {
    name: 'S3_ENDPOINT_URL',
    default: '(unset)',
    meaning: 'S3-compatible endpoint, e.g. https://ACCOUNT.r2.cloudflarestorage.com.',
  },
  { name: 'AWS_REGION', default: 'auto', meaning: 'Signing region for S3 (R2 uses `auto`).' },
  {
    name: 'TILE_KEY_TEMPLATE',
    default: '{dataset}/{z}/{x}/{y}.{ext}',
    meaning: 'Object key of a tile; placeholders {dataset} {z} {x} {y} {ext}.',
  },
  {
    name: 'DATASET_DISCOVERY',
    default: 'auto',
    meaning:
      "`auto`: dataset `d` is `d.pmtiles`, else `d.dzi` + `d_files/`, else the tree `d/` (with its `manifest.json` when present), looked up once per dataset beside TILE_KEY_TEMPLATE's `{dataset}`; `tree`: every dataset is a z/x/y tree of unknown extent, nothing probed.",
  },
  { name: 'VIDEO_KEY_TEMPLATE', default: 'videos/{id}', meaning: 'Object key of a video; placeholder {id}.' },
  {
    name: 'CACHE_MAX_BYTES',
    default: '268435456',
    meaning: 'Byte bound of the memory tile cache (256 MiB).',
  },
  {
    name: 'CACHE_MAX_ENTRY_BYTES',
    default: '4194304',
    meaning: 'Largest single tile kept in the memory cache (never more than `CACHE_MAX_BYTES`).',
  },
  {
    name: 'CACHE_TTL_MS',
    default: '3600000',
    meaning: 'Freshness of a cached tile; older entries are refetched.',
  },
  {
    name: 'STALE_IF_ERROR_MS',
    default: '86400000',
    meaning: 'How long past freshness a tile may still be served when the origin fails.',
  },
  {
    name: 'NEGATIVE_TTL_MS',
    default: '30000',
    meaning: 'How long a missing tile (404 in every format) is remembered.',
  },
  {
    name: 'VIDEO_CACHE_MAX_BYTES',
    default: '134217728',
    meaning: 'Byte bound of the video chunk cache (128 MiB).',
  },
  {
    name: 'VIDEO_CHUNK_BYTES',
    default: '262144',
    meaning: 'Aligned chunk size of the video cache (256 KiB).',
  },
  {
    name: 'ORIGIN_CONCURRENCY',
    default: 'max(128, min(cpus*16, 256))',
    meaning:
      'Origin requests running at once over all clients (a semaphore); at least 128 so a 64-tile viewport is one origin round on the smallest machine (origin latency, not CPU, bounds it; an HTTP/S3 origin runs at most ORIGIN_CONNECTIONS at once). A video stream holds one until its headers, then one of min(ORIGIN_CONCURRENCY, ORIGIN_CONNECTIONS)/2 stream slots.',
  },
  {
    name: 'ORIGIN_QUEUE_LIMIT',
    default: '4096',
    meaning: 'Requests waiting for an origin slot; more answer 503 + Retry-After.',
  },
  { name: 'ORIGIN_CONNECTIONS', default: '64', meaning: 'undici pool connections per origin.' },
  {
    name: 'ORIGIN_TIMEOUT_MS',
    default: '15000',
    meaning: 'Deadline of one tile fetch, queue wait and retries included.',
  },
  {
    name: 'ORIGIN_ATTEMPT_TIMEOUT_MS',
    default: '5000',
    meaning: 'Deadline of one origin attempt (headers and body).',
  },
  {
    name: 'ORIGIN_RETRIES',
    default: '2',
    meaning: 'Extra attempts on 5xx, 429, resets and attempt timeouts.',
  },
  {
    name: 'REDIS_URL',
    default: '(unset)',
    meaning: 'Optional shared cache for several instances (redis://host:6379).',
  },
  {
    name: 'REDIS_TTL_MS',
    default: '(CACHE_TTL_MS)',
    meaning: 'Lifetime of a tile in the shared Redis cache.',
  },
  {
    name: 'REDIS_MAX_ENTRY_BYTES',
    default: '1048576',
    meaning: 'Largest tile written to Redis (bigger ones stay local).',
  },
  {
    name: 'REDIS_TIMEOUT_MS',
    default: '100',
    meaning: 'Deadline of each Redis call on the tile path; past it the tile comes from the origin.',
  },
  {
    name: 'REDIS_KEY_PREFIX',
    default: 'ta:',
    meaning: 'Prefix of every Redis key (several deployments, one Redis).',
  },
  {
    name: 'REDIS_LOCK_WAIT_MS',
    default: '0',
    meaning: 'Cold-tile lock across instances: others wait this long for the first fetch (0 = off).',
  },
  {
    name: 'OWNER_TOKEN',
    default: '(unset)',
    meaning: 'Bearer token for POST cache-clear; unset = the route is 403.',
  },
  {
    name: 'API_TOKEN',
    default: '(unset)',
    meaning: 'Optional bearer token required by the single, batch, video and cache-stats routes.',
  },
  {
    name: 'METRICS_TOKEN',
    default: '(unset)',
    meaning: 'Bearer token required by GET /metrics; unset = /metrics is open (local use).',
  },
  {
    name: 'CORS_ORIGINS',
    default: '(unset)',
    meaning: 'Comma-separated origins allowed cross-origin (`*` for any); unset = same-origin only.',
  },
  {
    name: 'STATIC_DIR',
    default: 'dist/public',
    meaning: 'Directory served at `/` (demo, /tile-sw.js, /tile-accelerator.js).',
  },
  {
    name: 'WORKERS',
    default: '1',
    meaning: 'HTTP worker processes (node:cluster); each has its own memory cache.',
  },
  { name: 'MAX_BODY_BYTES', default: '65536', meaning: 'Largest accepted request body (POST batch).' },
  { name: 'MAX_QUERY_BYTES', default: '8192', meaning: 'Largest accepted query string.' },
  {
    name: 'BATCH_MAX_BYTES',
    default: '16777216',
    meaning: 'Tile bytes per batch answer (16 MiB); tiles past it answer BATCH_TOO_LARGE.',
  },
  {
    name: 'DDS_MAX_PIXELS',
    default: '1048576',
    meaning: 'Largest source raster made into `.dds` (1024x1024); more is IMAGE_TOO_LARGE.',
  },
  {
    name: 'DDS_CONCURRENCY',
    default: '2',
    meaning: '`.dds` conversions at once; 128 more may wait, then 503 OVERLOADED.',
  },
  {
    name: 'TILE_MAX_AGE_SEC',
    default: '86400',
    meaning: '`Cache-Control: max-age` of tile and video responses.',
  },
  {
    name: 'SEND_TIMEOUT_MS',
    default: '30000',
    meaning:
      'A response whose client takes no bytes for this long (writes blocked, no drain) is cut, freeing its origin read (nginx `send_timeout`).',
  },
  {
    name: 'MISS_BUDGET_PER_SEC',
    default: '250',
    meaning:
      'Origin misses (cold tiles) each client address earns per second, a token bucket; past it a tile answers 429 RATE_LIMITED + Retry-After (0 = no budget). Hits cost nothing. See "Miss budget".',
  },
  {
    name: 'MISS_BUDGET_BURST',
    default: '1000',
    meaning: 'Misses a client may spend at once (the bucket size): about four new 4K screens with prefetch.',
  },
  {
    name: 'MISS_BUDGET_CLIENTS',
    default: '50000',
    meaning:
      'Client buckets kept (least recently used dropped; ~230 B each, ~11 MiB at the default); IPv6 clients share one per /64.',
  },
  {
    name: 'TRUST_PROXY',
    default: 'false',
    meaning:
      "Whose `X-Forwarded-For` names the client, as Express's `trust proxy`: `false` (socket address), `true`, a hop count, or proxy addresses/CIDRs (`loopback`, `uniquelocal`, ...).",
  },
  {
    name: 'SHUTDOWN_TIMEOUT_MS',
    default: '10000',
    meaning: 'Deadline for draining in-flight requests on SIGTERM/SIGINT.',
  },
  {
    name: 'LOG_LEVEL',
    default: 'info',
    meaning: 'pino level: fatal, error, warn, info, debug, trace, silent.',
  },
] as const;

// Origin fetches wait on the network, not the CPU: the floor of 128 makes one
// 64-tile viewport one origin round even on 2 cores (the old min(cpus*16, 256)
// gave 32 there: two rounds; docs/deployment.md has the measurement), with room
// for the worker's prefetch of it (52 tiles) where the origin allows that many
// (ORIGIN_CONNECTIONS sockets for an HTTP/S3 origin). Larger machines keep up to 256.
export const DEFAULT_ORIGIN_CONCURRENCY = Math.max(128, Math.min(cpus * 16, 256));
