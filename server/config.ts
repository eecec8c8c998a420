import { TileError } from '../src/protocol/errors.js';
import { DEFAULT_ORIGIN_CONCURRENCY } from './configTable.js';
import { compileTrust, type TrustProxy } from './guard/clientAddress.js';
import type { S3Target } from './origin/s3Request.js';

export { CONFIG_VARS, type ConfigVar } from './configTable.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The parsed configuration; see CONFIG_VARS for the meaning of each field's variable. */
export interface ServerConfig {
  port: number;
  host: string;
  tilesDir: string | undefined;
  r2PublicUrl: string | undefined;
  s3: Required<S3Target> | undefined;
  tileKeyTemplate: string;
  /** DATASET_DISCOVERY: see server/datasets/DatasetResolver.ts. */
  datasetDiscovery: 'auto' | 'tree';
  videoKeyTemplate: string;
  cacheMaxBytes: number;
  cacheMaxEntryBytes: number;
  cacheTtlMs: number;
  staleIfErrorMs: number;
  negativeTtlMs: number;
  videoCacheMaxBytes: number;
  videoChunkBytes: number;
  originConcurrency: number;
  originQueueLimit: number;
  originConnections: number;
  originTimeoutMs: number;
  originAttemptTimeoutMs: number;
  originRetries: number;
  redisUrl: string | undefined;
  /** Shared-cache (Redis) tuning; see server/sharedCache/ and docs/deployment.md. */
  redisTtlMs: number;
  redisMaxEntryBytes: number;
  redisTimeoutMs: number;
  redisKeyPrefix: string;
  redisLockWaitMs: number;
  ownerToken: string | undefined;
  apiToken: string | undefined;
  /** Bearer token for /metrics; undefined = open. */
  metricsToken: string | undefined;
  /** Allowed cross-origin origins; `['*']` = any; empty = none. */
  corsOrigins: string[];
  staticDir: string;
  workers: number;
  maxBodyBytes: number;
  maxQueryBytes: number;
  /** Tile bytes (before base64) one batch answer may carry. */
  batchMaxBytes: number;
  /** Largest source raster (width x height) converted to `.dds`. */
  ddsMaxPixels: number;
  /** `.dds` conversions at once (the encode runs on the event loop). */
  ddsConcurrency: number;
  tileMaxAgeSec: number;
  /** Longest a response's writes may stay blocked by a client that stopped reading; then it is cut. */
  sendTimeoutMs: number;
  /** Origin misses each client address earns per second (0 = no budget); see server/guard/. */
  missBudgetPerSec: number;
  /** Misses a client may spend at once. */
  missBudgetBurst: number;
  /** Client buckets kept at most (least recently used dropped past it). */
  missBudgetClients: number;
  /** Which proxies' `X-Forwarded-For` names the client (Express's `trust proxy`). */
  trustProxy: TrustProxy;
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
}

type Env = Record<string, string | undefined>;

function bad(name: string, value: string, why: string): TileError {
  return new TileError('BAD_CONFIG', `${name}=${JSON.stringify(value)}: ${why}`, { variable: name });
}

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = str(env, name);
  if (v === undefined) return def;
  if (!/^\d+$/.test(v)) throw bad(name, v, 'must be a non-negative integer');
  const n = Number(v);
  if (n < min || n > max) throw bad(name, v, `must be between ${min} and ${max}`);
  return n;
}

function bool(env: Env, name: string): boolean {
  const v = str(env, name)?.toLowerCase();
  if (v === undefined || v === 'false' || v === '0' || v === 'no') return false;
  if (v === 'true' || v === '1' || v === 'yes') return true;
  throw bad(name, env[name]!, 'must be true or false');
}

function httpUrl(env: Env, name: string): string | undefined {
  const v = str(env, name);
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(name, v, 'must be an absolute http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(name, v, 'must be an http(s) URL');
  return v.replace(/\/+$/, '');
}

function template(env: Env, name: string, def: string, required: string[], allowed: string[]): string {
  const v = str(env, name) ?? def;
  for (const p of required) if (!v.includes(p)) throw bad(name, v, `must contain ${p}`);
  for (const m of v.matchAll(/\{[^}]*\}/g)) {
    if (!allowed.includes(m[0])) throw bad(name, v, `unknown placeholder ${m[0]}`);
  }
  if (v.startsWith('/') || v.split('/').includes('..'))
    throw bad(name, v, 'must be a relative key without ..');
  return v;
}

/** TRUST_PROXY: true/false, a hop count, or comma-separated proxy addresses, CIDRs and presets. */
function trustProxyFrom(env: Env): TrustProxy {
  const v = str(env, 'TRUST_PROXY');
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return int(env, 'TRUST_PROXY', 0, 0, 100);
  const list = v.split(',').map((s) => s.trim());
  try {
    compileTrust(list);
  } catch (e) {
    throw bad('TRUST_PROXY', v, e instanceof Error ? e.message : 'bad address');
  }
  return list;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], def: T): T {
  const v = str(env, name) ?? def;
  if (!(allowed as readonly string[]).includes(v)) throw bad(name, v, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** TILE_KEY_TEMPLATE, checked: the server and the uploader must agree on keys. */
export function tileKeyTemplateFrom(env: Env): string {
  return template(
    env,
    'TILE_KEY_TEMPLATE',
    '{dataset}/{z}/{x}/{y}.{ext}',
    ['{z}', '{x}', '{y}'],
    ['{dataset}', '{z}', '{x}', '{y}', '{ext}'],
  );
}

/** The signed-bucket variables (AWS_*, S3_ENDPOINT_URL); each missing one is BAD_CONFIG naming it and `when`. */
export function s3TargetFrom(env: Env, when: string): Required<S3Target> {
  const need = (n: string): string => {
    const v = str(env, n);
    if (v === undefined) throw new TileError('BAD_CONFIG', `${n} is required ${when}`, { variable: n });
    return v;
  };
  return {
    accessKeyId: need('AWS_ACCESS_KEY_ID'),
    secretAccessKey: need('AWS_SECRET_ACCESS_KEY'),
    bucket: need('AWS_BUCKET_NAME'),
    endpoint: httpUrl(env, 'S3_ENDPOINT_URL') ?? need('S3_ENDPOINT_URL'),
    region: str(env, 'AWS_REGION') ?? 'auto',
  };
}

/** Parses the environment. Throws TileError BAD_CONFIG naming the variable on any bad value. */
export function loadConfig(env: Env = process.env): ServerConfig {
  const s3 = bool(env, 'USE_S3') ? s3TargetFrom(env, 'when USE_S3=true') : undefined;
  const redisUrl = str(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\/./.test(redisUrl)) {
    throw bad('REDIS_URL', redisUrl, 'must start with redis:// or rediss://');
  }
  const logLevel = (str(env, 'LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LEVELS.includes(logLevel)) throw bad('LOG_LEVEL', logLevel, `must be one of ${LEVELS.join(', ')}`);
  const corsRaw = str(env, 'CORS_ORIGINS');
  const corsOrigins = corsRaw ? corsRaw.split(',').map((s) => s.trim().replace(/\/+$/, '')) : [];
  for (const o of corsOrigins) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) throw bad('CORS_ORIGINS', corsRaw!, `bad origin ${o}`);
  }
  const cacheMaxBytes = int(env, 'CACHE_MAX_BYTES', 256 * 1024 * 1024, 0);
  return {
    port: int(env, 'PORT', 8080, 0, 65535),
    host: str(env, 'HOST') ?? '127.0.0.1',
    tilesDir: str(env, 'TILES_DIR'),
    r2PublicUrl: httpUrl(env, 'R2_PUBLIC_URL'),
    s3,
    tileKeyTemplate: tileKeyTemplateFrom(env),
    datasetDiscovery: oneOf(env, 'DATASET_DISCOVERY', ['auto', 'tree'] as const, 'auto'),
    videoKeyTemplate: template(env, 'VIDEO_KEY_TEMPLATE', 'videos/{id}', ['{id}'], ['{id}']),
    cacheMaxBytes,
    cacheMaxEntryBytes: int(env, 'CACHE_MAX_ENTRY_BYTES', Math.min(4 * 1024 * 1024, cacheMaxBytes), 0),
    cacheTtlMs: int(env, 'CACHE_TTL_MS', 3_600_000, 1),
    staleIfErrorMs: int(env, 'STALE_IF_ERROR_MS', 86_400_000, 0),
    negativeTtlMs: int(env, 'NEGATIVE_TTL_MS', 30_000, 0),
    videoCacheMaxBytes: int(env, 'VIDEO_CACHE_MAX_BYTES', 128 * 1024 * 1024, 0),
    videoChunkBytes: int(env, 'VIDEO_CHUNK_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    originConcurrency: int(env, 'ORIGIN_CONCURRENCY', DEFAULT_ORIGIN_CONCURRENCY, 1, 100_000),
    originQueueLimit: int(env, 'ORIGIN_QUEUE_LIMIT', 4096, 0),
    originConnections: int(env, 'ORIGIN_CONNECTIONS', 64, 1, 10_000),
    originTimeoutMs: int(env, 'ORIGIN_TIMEOUT_MS', 15_000, 1),
    originAttemptTimeoutMs: int(env, 'ORIGIN_ATTEMPT_TIMEOUT_MS', 5_000, 1),
    originRetries: int(env, 'ORIGIN_RETRIES', 2, 0, 20),
    redisUrl,
    redisTtlMs: int(env, 'REDIS_TTL_MS', int(env, 'CACHE_TTL_MS', 3_600_000, 1), 1),
    redisMaxEntryBytes: int(env, 'REDIS_MAX_ENTRY_BYTES', 1024 * 1024, 0, 512 * 1024 * 1024),
    redisTimeoutMs: int(env, 'REDIS_TIMEOUT_MS', 100, 1, 60_000),
    redisKeyPrefix: str(env, 'REDIS_KEY_PREFIX') ?? 'ta:',
    redisLockWaitMs: int(env, 'REDIS_LOCK_WAIT_MS', 0, 0, 10_000),
    ownerToken: str(env, 'OWNER_TOKEN'),
    apiToken: str(env, 'API_TOKEN'),
    metricsToken: str(env, 'METRICS_TOKEN'),
    corsOrigins,
    staticDir: str(env, 'STATIC_DIR') ?? 'dist/public',
    workers: int(env, 'WORKERS', 1, 1, 256),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 64 * 1024, 1),
    maxQueryBytes: int(env, 'MAX_QUERY_BYTES', 8192, 64),
    batchMaxBytes: int(env, 'BATCH_MAX_BYTES', 16 * 1024 * 1024, 1),
    ddsMaxPixels: int(env, 'DDS_MAX_PIXELS', 1024 * 1024, 1, 8192 * 8192),
    ddsConcurrency: int(env, 'DDS_CONCURRENCY', 2, 1, 64),
    tileMaxAgeSec: int(env, 'TILE_MAX_AGE_SEC', 86_400, 0),
    sendTimeoutMs: int(env, 'SEND_TIMEOUT_MS', 30_000, 1, 3_600_000),
    missBudgetPerSec: int(env, 'MISS_BUDGET_PER_SEC', 250, 0, 1_000_000),
    missBudgetBurst: int(env, 'MISS_BUDGET_BURST', 1000, 1, 10_000_000),
    missBudgetClients: int(env, 'MISS_BUDGET_CLIENTS', 50_000, 1, 10_000_000),
    trustProxy: trustProxyFrom(env),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0),
    logLevel,
  };
}
