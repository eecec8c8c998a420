import { extname } from 'node:path';

const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.json': 'application/json',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.ogv': 'video/ogg',
  '.ts': 'video/mp2t',
  '.dds': 'image/vnd-ms.dds',
  '.ktx2': 'image/ktx2',
  '.pbf': 'application/x-protobuf',
  '.mvt': 'application/vnd.mapbox-vector-tile',
  '.dzi': 'application/xml',
  '.pmtiles': 'application/vnd.pmtiles',
};

/** Content-Type from the key's extension; undefined when unknown (the caller decides). */
export function contentTypeFor(key: string): string | undefined {
  return TYPES[extname(key).toLowerCase()];
}
