import { TILE_EXTENSIONS, type TileExt } from '../../src/protocol/tileKey.js';
import { contentTypeFor } from '../origin/contentType.js';

/** One table of types by extension for the whole server (origin/contentType.ts). */
export const DDS_CONTENT_TYPE = contentTypeFor('.dds') ?? 'image/vnd-ms.dds';
/** Both vector extensions answer with the registered MVT type (`.pbf` objects are often labelled x-protobuf). */
export const MVT_CONTENT_TYPE = 'application/vnd.mapbox-vector-tile';

// Looked up once here, not per tile (the extension set is closed).
const BY_EXT = Object.fromEntries(
  TILE_EXTENSIONS.map((e) => [e, contentTypeFor(`tile.${e}`) ?? 'application/octet-stream']),
) as Record<TileExt, string>;

/**
 * The true type of an object found under `ext`. The origin's own type wins
 * when it is an image type (an S3 object may be mislabelled by extension, but
 * `application/octet-stream` from a bucket says nothing, so the extension wins then).
 */
export function tileContentType(ext: TileExt, fromOrigin: string | undefined): string {
  if (ext === 'mvt' || ext === 'pbf') return MVT_CONTENT_TYPE;
  if (fromOrigin && /^image\/[a-z0-9.+-]+$/i.test(fromOrigin.split(';')[0]!.trim())) {
    return fromOrigin.split(';')[0]!.trim().toLowerCase();
  }
  return BY_EXT[ext];
}
