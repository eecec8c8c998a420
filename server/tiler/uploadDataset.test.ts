import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3StandIn } from '../../test/support/server/s3StandIn.js';
import { makeTestImage } from '../../test/support/server/testImage.js';
import { tileImage } from './tileImage.js';
import { manifestKeyFor, s3TargetFromEnv, uploadDataset } from './uploadDataset.js';

let base: string;
let datasetDir: string;
let s3: S3StandIn;
let endpoint: string;

// One small dataset for the file: 300x200 at maxZoom 1 = 5 tiles + the manifest.
beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'upload-'));
  const src = path.join(base, 'src.png');
  await makeTestImage(src, 300, 200);
  datasetDir = (await tileImage(src, { dataset: 'up', outDir: base, maxZoom: 1 })).dir;
  return () => rm(base, { recursive: true, force: true });
});
beforeEach(async () => {
  s3 = new S3StandIn('tiles', 'AKIDTEST', 'secret/with+chars');
  endpoint = await s3.start();
});
afterEach(async () => {
  await s3.close();
});

const target = () => ({
  endpoint,
  bucket: 'tiles',
  accessKeyId: 'AKIDTEST',
  secretAccessKey: 'secret/with+chars',
});
const fast = { baseDelayMs: 1, maxDelayMs: 5, attemptTimeoutMs: 2_000 };
const TILE_KEYS = ['up/0/0/0.jpg', 'up/1/0/0.jpg', 'up/1/0/1.jpg', 'up/1/1/0.jpg', 'up/1/1/1.jpg'];

describe('uploadDataset', () => {
  it('PUTs every tile and then the manifest, signed, with the bytes and content type', async () => {
    const res = await uploadDataset({ datasetDir, target: target(), ...fast });
    expect(res).toMatchObject({
      total: 6,
      done: 6,
      uploaded: 6,
      skipped: 0,
      manifestKey: 'up/manifest.json',
    });
    expect(s3.rejectedSignatures).toEqual([]);
    expect([...s3.objects.keys()].sort()).toEqual([...TILE_KEYS, 'up/manifest.json'].sort());
    const puts = s3.requests.filter((r) => r.method === 'PUT');
    expect(puts.at(-1)?.key).toBe('up/manifest.json');
    const tile = s3.objects.get('up/1/1/0.jpg')!;
    expect(tile.body.equals(await readFile(path.join(datasetDir, '1/1/0.jpg')))).toBe(true);
    expect(tile.contentType).toBe('image/jpeg');
    expect(s3.objects.get('up/manifest.json')?.contentType).toBe('application/json');
  });

  it('skips keys already present with the same size and MD5 on a rerun', async () => {
    await uploadDataset({ datasetDir, target: target(), ...fast });
    const putsBefore = s3.count('PUT');
    const res = await uploadDataset({ datasetDir, target: target(), ...fast });
    expect(res).toMatchObject({ uploaded: 0, skipped: 6, bytes: 0 });
    expect(s3.count('PUT')).toBe(putsBefore);
    // Same size, different bytes (a retiled image): uploaded again.
    const stale = s3.objects.get('up/0/0/0.jpg')!;
    s3.objects.set('up/0/0/0.jpg', { ...stale, body: Buffer.alloc(stale.body.byteLength, 1) });
    const again = await uploadDataset({ datasetDir, target: target(), ...fast });
    expect(again).toMatchObject({ uploaded: 1, skipped: 5 });
  });

  it('retries 5xx, 429 and connection resets, then succeeds', async () => {
    const seen = new Map<string, number>();
    s3.fault = (r) => {
      if (r.method !== 'PUT') return undefined;
      const n = (seen.get(r.key) ?? 0) + 1;
      seen.set(r.key, n);
      return n === 1 ? 503 : n === 2 ? (r.key.endsWith('0.jpg') ? 'reset' : 429) : undefined;
    };
    const retries: number[] = [];
    const res = await uploadDataset({
      datasetDir,
      target: target(),
      ...fast,
      onRetry: (_k, _e, attempt) => retries.push(attempt),
    });
    expect(res.uploaded).toBe(6);
    expect(s3.count('PUT')).toBe(18);
    expect(retries.filter((a) => a === 2)).toHaveLength(6);
  });

  it('resumes after a failed run: only the missing keys are sent, the manifest last', async () => {
    let puts = 0;
    s3.fault = (r) => (r.method === 'PUT' && ++puts > 3 ? 403 : undefined);
    const failed = uploadDataset({ datasetDir, target: target(), concurrency: 1, ...fast });
    await expect(failed).rejects.toMatchObject({
      code: 'ORIGIN_ERROR',
      details: { status: 403, attempts: 1, progress: { uploaded: 3 } },
    });
    expect(s3.objects.size).toBe(3);
    expect(s3.objects.has('up/manifest.json')).toBe(false);

    s3.fault = () => undefined;
    const putsBefore = s3.count('PUT');
    const res = await uploadDataset({ datasetDir, target: target(), ...fast });
    expect(res).toMatchObject({ uploaded: 3, skipped: 3 });
    expect(s3.count('PUT') - putsBefore).toBe(3);
    expect(s3.objects.size).toBe(6);
  });

  it('gives up after the attempts are used, and a hanging store times out per attempt', async () => {
    s3.fault = (r) => (r.method === 'PUT' ? 500 : undefined);
    await expect(
      uploadDataset({ datasetDir, target: target(), concurrency: 1, attempts: 3, ...fast }),
    ).rejects.toMatchObject({ code: 'ORIGIN_ERROR', details: { status: 500, attempts: 3 } });
    expect(s3.count('PUT')).toBe(3);

    s3.fault = (r) => (r.method === 'HEAD' ? 'hang' : undefined);
    const started = Date.now();
    await expect(
      uploadDataset({
        datasetDir,
        target: target(),
        concurrency: 1,
        attempts: 2,
        ...fast,
        attemptTimeoutMs: 150,
      }),
    ).rejects.toMatchObject({ code: 'ORIGIN_TIMEOUT', details: { attempts: 2 } });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('fails fast on wrong credentials without retrying', async () => {
    const res = uploadDataset({
      datasetDir,
      target: { ...target(), secretAccessKey: 'wrong' },
      concurrency: 1,
      ...fast,
    });
    await expect(res).rejects.toMatchObject({ code: 'ORIGIN_ERROR', details: { status: 403 } });
    expect(s3.requests).toHaveLength(1);
    expect(s3.rejectedSignatures).toEqual(['signature mismatch']);
  });

  it('stops on abort with ABORTED', async () => {
    const ac = new AbortController();
    // Every request hangs; the caller gives up once the first one reached the store.
    s3.fault = () => {
      setImmediate(() => ac.abort());
      return 'hang';
    };
    const started = Date.now();
    await expect(
      uploadDataset({ datasetDir, target: target(), signal: ac.signal, ...fast, attemptTimeoutMs: 10_000 }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(s3.count('PUT')).toBe(0);
  });

  it('refuses a directory without a manifest', async () => {
    await expect(uploadDataset({ datasetDir: base, target: target() })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(s3.requests).toHaveLength(0);
  });
});

describe('manifestKeyFor and s3TargetFromEnv', () => {
  it('puts the manifest beside the tiles the template names', () => {
    expect(manifestKeyFor('{dataset}/{z}/{x}/{y}.{ext}', 'a')).toBe('a/manifest.json');
    expect(manifestKeyFor('tiles/{dataset}/{z}/{x}/{y}.{ext}', 'a')).toBe('tiles/a/manifest.json');
    expect(manifestKeyFor('{z}/{x}/{y}.{ext}', 'a')).toBe('a/manifest.json');
  });

  it('reads the server variables and names the missing one', () => {
    const env = {
      AWS_ACCESS_KEY_ID: 'k',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_BUCKET_NAME: 'b',
      S3_ENDPOINT_URL: 'http://h',
    };
    expect(s3TargetFromEnv(env)).toEqual({
      accessKeyId: 'k',
      secretAccessKey: 's',
      bucket: 'b',
      endpoint: 'http://h',
      region: 'auto',
    });
    expect(() => s3TargetFromEnv({ ...env, AWS_BUCKET_NAME: '' })).toThrow(
      expect.objectContaining({ code: 'BAD_CONFIG', details: { variable: 'AWS_BUCKET_NAME' } }),
    );
  });
});

// Keeps the fixture honest: a tile written by hand (not by the tiler) is still what gets uploaded.
it('uploads the file bytes as they are on disk', async () => {
  const f = path.join(datasetDir, '0/0/0.jpg');
  const original = await readFile(f);
  await writeFile(f, Buffer.concat([original, Buffer.from([0])]));
  try {
    await uploadDataset({ datasetDir, target: target(), ...fast });
    expect(s3.objects.get('up/0/0/0.jpg')?.body.byteLength).toBe(original.byteLength + 1);
  } finally {
    await writeFile(f, original);
  }
});
