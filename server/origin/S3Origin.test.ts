import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsClient } from 'aws4fetch';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import { readBody } from '../engine/readBody.js';
import { S3Origin } from './S3Origin.js';

// A real S3-compatible server on loopback that verifies SigV4 signatures
// (s3rver's default account is S3RVER / S3RVER; a wrong secret gets 403).
const same = (a: Uint8Array | undefined, b: Uint8Array) => !!a && Buffer.compare(a, b) === 0;
const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const video = new Uint8Array(100_000).map((_, i) => (i * 13) & 0xff);
let server: { run(): Promise<AddressInfo>; close(): Promise<void> };
let endpoint: string;
let dir: string;
const signal = new AbortController().signal;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3rver-'));
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: 'tiles' }],
  });
  const addr = await server.run();
  endpoint = `http://127.0.0.1:${addr.port}`;
  const client = new AwsClient({ ...creds, service: 's3', region: 'us-east-1' });
  for (const [key, body] of [
    ['sample/0/0/0.jpg', new TextEncoder().encode('jpeg!')],
    ['videos/sample.mp4', video],
    ['odd name/a+b.png', new TextEncoder().encode('odd')],
  ] as const) {
    const res = await client.fetch(`${endpoint}/tiles/${key.split('/').map(encodeURIComponent).join('/')}`, {
      method: 'PUT',
      body,
      headers: { 'content-type': key.endsWith('.mp4') ? 'video/mp4' : 'image/jpeg' },
    });
    expect(res.status).toBe(200);
  }
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('S3Origin against s3rver', () => {
  it('reads a signed object through the pool', async () => {
    const o = new S3Origin({ ...creds, bucket: 'tiles', endpoint, connections: 2 });
    try {
      const obj = await o.get('sample/0/0/0.jpg', { signal });
      expect(obj?.status).toBe(200);
      expect(new TextDecoder().decode(await readBody(obj!.body, obj!.contentLength, 1e6))).toBe('jpeg!');
      expect(obj?.etag).toBeTruthy();
      const odd = await o.get('odd name/a+b.png', { signal });
      expect(new TextDecoder().decode(await readBody(odd!.body, odd!.contentLength, 1e6))).toBe('odd');
    } finally {
      await o.close();
    }
  });

  it('answers a ranged GET with 206 and the total size', async () => {
    const o = new S3Origin({ ...creds, bucket: 'tiles', endpoint, connections: 2, region: 'us-east-1' });
    try {
      const obj = await o.get('videos/sample.mp4', { signal, range: { start: 1000, end: 1999 } });
      expect(obj?.status).toBe(206);
      expect(obj?.totalSize).toBe(video.length);
      expect(same(await readBody(obj!.body, obj!.contentLength, 1e6), video.subarray(1000, 2000))).toBe(true);
      const tail = await o.get('videos/sample.mp4', { signal, range: { start: 99_990 } });
      expect(same(await readBody(tail!.body, tail!.contentLength, 1e6), video.subarray(99_990))).toBe(true);
    } finally {
      await o.close();
    }
  });

  it('resolves null for a missing key', async () => {
    const o = new S3Origin({ ...creds, bucket: 'tiles', endpoint, connections: 2 });
    try {
      expect(await o.get('sample/9/9/9.jpg', { signal })).toBeNull();
    } finally {
      await o.close();
    }
  });

  it('is refused with an unknown access key', async () => {
    const o = new S3Origin({ ...creds, accessKeyId: 'NOBODY', bucket: 'tiles', endpoint, connections: 2 });
    try {
      const e = await o.get('sample/0/0/0.jpg', { signal }).catch((x: unknown) => x);
      expect(isTileError(e, 'ORIGIN_ERROR')).toBe(true);
      expect((e as { details: { status: number } }).details.status).toBe(403);
    } finally {
      await o.close();
    }
  });
});
