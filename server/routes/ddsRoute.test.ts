import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { asJson } from '../../e2e/harness/asJson.js';
import { useStack } from '../../e2e/harness/useStack.js';

const start = useStack();

/** The DDS header fields this route promises (DirectDraw Surface layout: magic, then a 124-byte header). */
function ddsInfo(b: Buffer) {
  return {
    magic: b.toString('latin1', 0, 4),
    headerSize: b.readUInt32LE(4),
    height: b.readUInt32LE(12),
    width: b.readUInt32LE(16),
    mips: b.readUInt32LE(28),
    fourCC: b.toString('latin1', 84, 88),
  };
}

async function image(alpha: boolean, format: 'jpeg' | 'png'): Promise<Buffer> {
  const channels = alpha ? 4 : 3;
  const raw = Buffer.alloc(256 * 256 * channels);
  for (let i = 0; i < 256 * 256; i++) {
    raw[i * channels] = i & 255;
    raw[i * channels + 1] = (i >> 8) & 255;
    raw[i * channels + 2] = 128;
    if (alpha) raw[i * channels + 3] = i % 3 === 0 ? 0 : 255;
  }
  const s = sharp(raw, { raw: { width: 256, height: 256, channels } });
  return format === 'jpeg' ? s.jpeg().toBuffer() : s.png().toBuffer();
}

describe('.dds through the real codec (server/dds/rasterToDDS.ts)', () => {
  it('BC1 (DXT1) with a full mip chain for an opaque jpg, BC3 (DXT5) for a png with alpha', async () => {
    const s = await start({
      origin: {
        files: {
          'sample/1/0/0.jpg': await image(false, 'jpeg'),
          'sample/1/1/0.png': await image(true, 'png'),
        },
      },
    });
    const opaque = await fetch(`${s.serverUrl}/api/tiles/sample/1/0/0.dds`);
    expect(opaque.status).toBe(200);
    expect(opaque.headers.get('content-type')).toBe('image/vnd-ms.dds');
    expect(ddsInfo(Buffer.from(await opaque.arrayBuffer()))).toEqual({
      magic: 'DDS ',
      headerSize: 124,
      width: 256,
      height: 256,
      mips: 9,
      fourCC: 'DXT1',
    });
    const alpha = await fetch(`${s.serverUrl}/api/tiles/sample/1/1/0.dds`);
    expect(ddsInfo(Buffer.from(await alpha.arrayBuffer())).fourCC).toBe('DXT5');
    expect(s.origin.count('sample/1/1/0.jpg')).toBe(1); // jpg asked first, then the png was found
    expect(s.origin.count('sample/1/1/0.png')).toBe(1);
  });

  it('an undecodable source tile is a 502 BAD_IMAGE, not a 500', async () => {
    const s = await start({ origin: { files: { 'sample/0/0/0.jpg': 'not an image' } } });
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.dds`);
    expect(r.status).toBe(502);
    expect((await r.json().then(asJson)).error.code).toBe('BAD_IMAGE');
  });
});
