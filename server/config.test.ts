import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { isTileError } from '../src/protocol/errors.js';
import { CONFIG_VARS, loadConfig } from './config.js';

function configError(env: Record<string, string>): { code: string; variable: unknown; message: string } {
  try {
    loadConfig(env);
  } catch (e) {
    if (isTileError(e)) return { code: e.code, variable: e.details['variable'], message: e.message };
    throw e;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.tileKeyTemplate).toBe('{dataset}/{z}/{x}/{y}.{ext}');
    expect(c.videoKeyTemplate).toBe('videos/{id}');
    expect(c.originConcurrency).toBeGreaterThanOrEqual(128);
    expect(c.originConcurrency).toBeLessThanOrEqual(256);
    expect(c.s3).toBeUndefined();
    expect(c.corsOrigins).toEqual([]);
    expect([c.batchMaxBytes, c.ddsMaxPixels, c.ddsConcurrency]).toEqual([16 * 1024 * 1024, 1024 * 1024, 2]);
    expect([c.metricsToken, c.apiToken, c.ownerToken]).toEqual([undefined, undefined, undefined]);
  });

  it('reads the limits and the metrics token', () => {
    const c = loadConfig({
      BATCH_MAX_BYTES: '1000',
      DDS_MAX_PIXELS: '65536',
      DDS_CONCURRENCY: '1',
      METRICS_TOKEN: ' scrape ',
    });
    expect([c.batchMaxBytes, c.ddsMaxPixels, c.ddsConcurrency, c.metricsToken]).toEqual([
      1000,
      65536,
      1,
      'scrape',
    ]);
  });

  it('reads every kind of value', () => {
    const c = loadConfig({
      PORT: '9000',
      R2_PUBLIC_URL: 'https://tiles.example.com/',
      USE_S3: 'true',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_BUCKET_NAME: 'b',
      S3_ENDPOINT_URL: 'https://acc.r2.cloudflarestorage.com',
      CORS_ORIGINS: 'https://a.example, http://localhost:5173',
      CACHE_MAX_BYTES: '1000',
      TILE_KEY_TEMPLATE: 'tiles/{dataset}/{z}-{x}-{y}.{ext}',
    });
    expect(c.port).toBe(9000);
    expect(c.r2PublicUrl).toBe('https://tiles.example.com');
    expect(c.s3).toMatchObject({ bucket: 'b', region: 'auto' });
    expect(c.corsOrigins).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(c.cacheMaxEntryBytes).toBe(1000);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ CACHE_MAX_BYTES: '-1' }, 'CACHE_MAX_BYTES'],
    [{ ORIGIN_CONCURRENCY: '0' }, 'ORIGIN_CONCURRENCY'],
    [{ ORIGIN_TIMEOUT_MS: '1.5' }, 'ORIGIN_TIMEOUT_MS'],
    [{ USE_S3: 'maybe' }, 'USE_S3'],
    [
      { USE_S3: 'true', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 's', S3_ENDPOINT_URL: 'https://x' },
      'AWS_BUCKET_NAME',
    ],
    [{ R2_PUBLIC_URL: 'ftp://x' }, 'R2_PUBLIC_URL'],
    [{ TILE_KEY_TEMPLATE: '{dataset}/{z}/{x}.png' }, 'TILE_KEY_TEMPLATE'],
    [{ TILE_KEY_TEMPLATE: '../{z}/{x}/{y}' }, 'TILE_KEY_TEMPLATE'],
    [{ VIDEO_KEY_TEMPLATE: 'videos/{name}' }, 'VIDEO_KEY_TEMPLATE'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ CORS_ORIGINS: 'not a url' }, 'CORS_ORIGINS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ WORKERS: '0' }, 'WORKERS'],
    [{ BATCH_MAX_BYTES: '0' }, 'BATCH_MAX_BYTES'],
    [{ DDS_MAX_PIXELS: String(8192 * 8192 + 1) }, 'DDS_MAX_PIXELS'],
    [{ DDS_CONCURRENCY: '0' }, 'DDS_CONCURRENCY'],
  ])('refuses %o naming %s', (env, name) => {
    const e = configError(env);
    expect(e.code).toBe('BAD_CONFIG');
    expect(e.variable).toBe(name);
    expect(e.message).toContain(name);
  });

  it('reads the miss budget and TRUST_PROXY as Express does (false, true, hops, proxy list)', () => {
    const d = loadConfig({});
    expect([d.missBudgetPerSec, d.missBudgetBurst, d.missBudgetClients, d.trustProxy]).toEqual([
      250,
      1000,
      50_000,
      false,
    ]);
    expect(loadConfig({ MISS_BUDGET_PER_SEC: '0' }).missBudgetPerSec).toBe(0);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
    ]);
    expect(configError({ TRUST_PROXY: 'proxy.example' })).toMatchObject({
      code: 'BAD_CONFIG',
      variable: 'TRUST_PROXY',
    });
    expect(configError({ MISS_BUDGET_BURST: '0' }).variable).toBe('MISS_BUDGET_BURST');
  });

  it('documents every variable it reads in README.md and docs/server.md', async () => {
    for (const file of ['../README.md', '../docs/server.md']) {
      const doc = await readFile(new URL(file, import.meta.url), 'utf8');
      for (const v of CONFIG_VARS)
        expect(doc, `${file}: ${v.name}`).toMatch(new RegExp(`^\\|\\s*\`${v.name}\`\\s*\\|`, 'm'));
    }
    const src = await readFile(new URL('./config.ts', import.meta.url), 'utf8');
    const read = new Set(
      [...src.matchAll(/\(env, '([A-Z0-9_]+)'/g), ...src.matchAll(/need\('([A-Z0-9_]+)'\)/g)].map(
        (m) => m[1],
      ),
    );
    const table = new Set(CONFIG_VARS.map((v) => v.name));
    for (const name of read) expect(table.has(name!), name).toBe(true);
  });
});
