export type {
  PrefetchResult,
  PrefetchTarget,
  PrefetchViewport,
  SwStats,
  SwTileSource,
} from '../protocol/swMessages.js';
export type { TileAcceleratorOptions } from '../sw/options.js';
export type { DecodeAs, DecodeOptions, DecodeResult, DecodeResultFor } from './pool/types.js';
export {
  type PendingUpdate,
  type RegisterOptions,
  registerTileAccelerator,
  scriptUrlWithOptions,
  type TileAccelerator,
} from './registerTileAccelerator.js';
