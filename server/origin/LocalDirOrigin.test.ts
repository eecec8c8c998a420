import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import { readBody } from '../engine/readBody.js';
import { LocalDirOrigin } from './LocalDirOrigin.js';

let dir: string;
let origin: LocalDirOrigin;
const signal = () => new AbortController().signal;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-origin-'));
  await mkdir(join(dir, 'root', 'sample', '0', '0'), { recursive: true });
  await writeFile(join(dir, 'root', 'sample', '0', '0', '0.png'), '0123456789');
  await writeFile(join(dir, 'secret.txt'), 'do not serve');
  origin = new LocalDirOrigin(join(dir, 'root'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LocalDirOrigin', () => {
  it('reads a file with type, etag and size', async () => {
    const o = await origin.get('sample/0/0/0.png', { signal: signal() });
    expect(o).toMatchObject({ status: 200, contentType: 'image/png', contentLength: 10, totalSize: 10 });
    expect(o?.etag).toMatch(/^"a-[0-9a-f]+"$/);
    expect(new TextDecoder().decode(await readBody(o!.body, o!.contentLength, 100))).toBe('0123456789');
  });

  it('reads a range and answers If-None-Match with 304', async () => {
    const o = await origin.get('sample/0/0/0.png', { signal: signal(), range: { start: 3, end: 5 } });
    expect(o?.status).toBe(206);
    expect(new TextDecoder().decode(await readBody(o!.body, o!.contentLength, 100))).toBe('345');
    const c = await origin.get('sample/0/0/0.png', { signal: signal(), ifNoneMatch: o!.etag! });
    expect(c?.status).toBe(304);
    const bad = await origin
      .get('sample/0/0/0.png', { signal: signal(), range: { start: 10 } })
      .catch((e) => e);
    expect(isTileError(bad, 'RANGE_NOT_SATISFIABLE')).toBe(true);
  });

  it('resolves null for missing files and directories', async () => {
    expect(await origin.get('sample/1/0/0.png', { signal: signal() })).toBeNull();
    expect(await origin.get('sample/0/0/0.png/x', { signal: signal() })).toBeNull();
    expect(await origin.get('sample/0', { signal: signal() })).toBeNull();
  });

  it.each(['../secret.txt', '/etc/passwd', 'sample/../../secret.txt', 'a\\..\\b', 'a\0b', 'sample//0', ''])(
    'refuses the unsafe key %j',
    async (key) => {
      const e = await origin.get(key, { signal: signal() }).catch((x: unknown) => x);
      expect(isTileError(e, 'BAD_TILE_KEY')).toBe(true);
    },
  );

  it('rejects an already aborted request', async () => {
    const ctl = new AbortController();
    ctl.abort();
    expect(
      isTileError(await origin.get('sample/0/0/0.png', { signal: ctl.signal }).catch((e) => e), 'ABORTED'),
    ).toBe(true);
  });
});

describe('LocalDirOrigin abort', () => {
  it('releases the file stream when the request is aborted before reading', async () => {
    const ctl = new AbortController();
    const o = await origin.get('sample/0/0/0.png', { signal: ctl.signal });
    ctl.abort();
    await new Promise((r) => setTimeout(r, 20));
    expect(o?.body.destroyed).toBe(true);
  });
});
