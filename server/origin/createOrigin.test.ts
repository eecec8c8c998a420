import { describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import { createOrigin } from './createOrigin.js';

const s3 = { accessKeyId: 'a', secretAccessKey: 'b', bucket: 'c', endpoint: 'http://127.0.0.1:9' };

describe('createOrigin', () => {
  it('prefers s3 over the public URL over the directory', async () => {
    const all = createOrigin({ tilesDir: '/tmp', r2PublicUrl: 'http://127.0.0.1:9', s3, connections: 1 });
    const http = createOrigin({ tilesDir: '/tmp', r2PublicUrl: 'http://127.0.0.1:9', connections: 1 });
    const local = createOrigin({ tilesDir: '/tmp', connections: 1 });
    expect([all.name, http.name, local.name]).toEqual(['s3', 'http', 'local']);
    await Promise.all([all.close(), http.close(), local.close(), all.close()]);
  });

  it('refuses to start with no origin', () => {
    let err: unknown;
    try {
      createOrigin({ connections: 1 });
    } catch (e) {
      err = e;
    }
    expect(isTileError(err, 'BAD_CONFIG')).toBe(true);
  });
});
