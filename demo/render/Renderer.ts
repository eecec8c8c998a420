import type { DecodeResult } from '../../src/client/pool/index.js';
import type { Rect } from '../camera.js';

/** A decoded tile ready to draw (a GPU texture or an ImageBitmap). */
export interface TileImage {
  /** Bytes this tile occupies as a texture (BC1 blocks, RGBA pixels, or the bitmap's RGBA). */
  bytes: number;
}

export type RendererKind = 'webgl-bc1' | 'webgl-rgba' | 'canvas';

export interface Renderer {
  readonly kind: RendererKind;
  /** What the pool is asked to produce for this renderer. */
  readonly decodeAs: 'bc1' | 'rgba' | 'bitmap';
  /** Texture format name shown in the panel and the test hook. */
  readonly textureFormat: string;
  upload(decoded: DecodeResult): TileImage;
  release(img: TileImage): void;
  /** Draws a frame: `draws` in order (coarse levels first, so children cover parents). */
  frame(
    draws: ReadonlyArray<{ img: TileImage; rect: Rect }>,
    viewW: number,
    viewH: number,
    dpr: number,
  ): void;
}
