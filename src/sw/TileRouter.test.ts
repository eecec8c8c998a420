import { describe, expect, it } from 'vitest';
import { TileRouter } from './TileRouter.js';

const base = {
  workerOrigin: 'https://app.test',
  server: 'https://app.test',
  tileRoutes: ['/api/tiles/{dataset}/{z}/{x}/{y}.{ext}'],
  videoRoutes: ['/api/video/'],
  batchEnabled: true,
};

const get = (url: string) => ({ url, method: 'GET' });

describe('TileRouter', () => {
  it('claims the default tile route and names its batch route', () => {
    const r = new TileRouter(base).route(get('https://app.test/api/tiles/sample/3/2/1.jpg'));
    expect(r).toMatchObject({
      kind: 'tile',
      dataset: 'sample',
      key: '3/2/1.jpg',
      batchUrl: 'https://app.test/api/tiles/sample/batch',
      coord: { z: 3, x: 2, y: 1, ext: 'jpg' },
    });
    if (r?.kind === 'tile')
      expect(r.sibling({ z: 3, x: 3, y: 1, ext: 'jpg' })).toBe('https://app.test/api/tiles/sample/3/3/1.jpg');
  });

  it('leaves everything else alone', () => {
    const router = new TileRouter(base);
    for (const u of [
      'https://app.test/',
      'https://app.test/api/tiles/sample/batch',
      'https://app.test/api/tiles/sample/cache-stats',
      'https://app.test/api/tiles/sample/3/8/1.jpg', // x out of range at z=3
      'https://app.test/api/tiles/sample/3/2/1.gif',
      'https://app.test/api/tiles/../3/2/1.jpg',
      'https://other.test/api/tiles/sample/3/2/1.jpg',
      'data:text/plain,hi',
    ]) {
      expect(router.route(get(u)), u).toBeUndefined();
    }
    expect(
      router.route({ url: 'https://app.test/api/tiles/sample/3/2/1.jpg', method: 'POST' }),
    ).toBeUndefined();
  });

  it('matches custom templates on a cross-origin companion and batches against the companion', () => {
    const router = new TileRouter({
      ...base,
      server: 'https://tiles.example.com',
      tileRoutes: ['/maps/{dataset}/{z}/{y}/{x}.{ext}', 'https://cdn.example.com/t/{z}/{x}/{y}.png'],
    });
    const a = router.route(get('https://tiles.example.com/maps/osm/4/5/6.png'));
    expect(a).toMatchObject({
      dataset: 'osm',
      key: '4/6/5.png',
      batchUrl: 'https://tiles.example.com/api/tiles/osm/batch',
    });
    const b = router.route(get('https://cdn.example.com/t/4/6/5.png'));
    // No {dataset} in the template: not mappable to a batch key, fetched alone.
    expect(b).toMatchObject({ kind: 'tile', key: '4/6/5.png', batchUrl: undefined });
    expect(router.route(get('https://cdn.example.com/other/4/6/5.png'))).toBeUndefined();
  });

  it('claims Deep Zoom tiles of the companion (/api/tiles/d_files/L/c_r.ext) as dataset d_files', () => {
    const router = new TileRouter(base);
    const r = router.route(get('https://app.test/api/tiles/pic_files/10/2_1.jpeg'));
    expect(r).toMatchObject({
      kind: 'tile',
      dataset: 'pic_files',
      key: '10/2/1.jpeg',
      batchUrl: 'https://app.test/api/tiles/pic_files/batch',
    });
    if (r?.kind === 'tile')
      expect(r.sibling({ z: 10, x: 3, y: 1, ext: 'jpeg' })).toBe(
        'https://app.test/api/tiles/pic_files/10/3_1.jpeg',
      );
    for (const u of [
      'https://app.test/api/tiles/pic_files/3/8_1.jpg', // col out of range at level 3
      'https://app.test/api/tiles/pic.dzi',
      `https://app.test/api/tiles/${'a'.repeat(60)}_files/1/0_0.jpg`, // d_files would pass 64 characters
    ]) {
      expect(router.route(get(u)), u).toBeUndefined();
    }
    // A custom route gets no twin: only the companion serves `_files`.
    const custom = new TileRouter({ ...base, tileRoutes: ['/maps/{dataset}/{z}/{x}/{y}.{ext}'] });
    expect(custom.route(get('https://app.test/maps/pic_files/1/0_0.jpg'))).toBeUndefined();
  });

  it('does not batch URLs with a query string', () => {
    const r = new TileRouter(base).route(get('https://app.test/api/tiles/sample/1/0/0.png?v=2'));
    expect(r).toMatchObject({ kind: 'tile', batchUrl: undefined });
  });

  it('claims video URLs under the prefix', () => {
    const router = new TileRouter(base);
    expect(router.route(get('https://app.test/api/video/sample.mp4'))).toEqual({
      kind: 'video',
      url: 'https://app.test/api/video/sample.mp4',
    });
    expect(router.route(get('https://app.test/api/video/'))).toBeUndefined();
  });
});
