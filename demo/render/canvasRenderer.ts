import type { DecodeResult } from '../../src/client/pool/index.js';
import type { Renderer, TileImage } from './Renderer.js';

interface BitmapTile extends TileImage {
  bitmap: ImageBitmap;
}

/** The fallback: canvas 2D drawing ImageBitmaps decoded in the pool. */
export function createCanvasRenderer(canvas: HTMLCanvasElement): Renderer {
  const ctx = canvas.getContext('2d', { alpha: false });
  if (!ctx) throw new Error('no 2D canvas context');
  return {
    kind: 'canvas',
    decodeAs: 'bitmap',
    textureFormat: 'ImageBitmap (RGBA)',
    upload(decoded: DecodeResult): BitmapTile {
      if (decoded.kind !== 'bitmap') throw new Error(`canvas renderer needs a bitmap, got ${decoded.kind}`);
      return { bitmap: decoded.bitmap, bytes: decoded.width * decoded.height * 4 };
    },
    release(img) {
      (img as BitmapTile).bitmap.close();
    },
    frame(draws, viewW, viewH, dpr) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.fillStyle = '#0b0d12';
      ctx.fillRect(0, 0, viewW, viewH);
      ctx.imageSmoothingQuality = 'medium';
      for (const { img, rect } of draws) {
        // +0.5 px overlap hides hairline seams between neighbours at fractional scales.
        ctx.drawImage((img as BitmapTile).bitmap, rect.x, rect.y, rect.w + 0.5, rect.h + 0.5);
      }
    },
  };
}
