import { TileError } from '../../src/protocol/errors.js';
import { HttpOrigin } from './HttpOrigin.js';
import { LocalDirOrigin } from './LocalDirOrigin.js';
import type { Origin } from './Origin.js';
import { S3Origin } from './S3Origin.js';
import type { S3Target } from './s3Request.js';

export interface CreateOriginOptions {
  tilesDir?: string;
  r2PublicUrl?: string;
  s3?: S3Target;
  /** undici Pool connection limit per origin. */
  connections: number;
}

/** Precedence: s3 (USE_S3=true) > r2PublicUrl > tilesDir. */
export function createOrigin(o: CreateOriginOptions): Origin {
  if (o.s3) return new S3Origin({ ...o.s3, connections: o.connections });
  if (o.r2PublicUrl) return new HttpOrigin({ baseUrl: o.r2PublicUrl, connections: o.connections });
  if (o.tilesDir) return new LocalDirOrigin(o.tilesDir);
  throw new TileError('BAD_CONFIG', 'no origin configured: set TILES_DIR, R2_PUBLIC_URL or USE_S3');
}
