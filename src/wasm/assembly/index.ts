// Raw exports only (no managed objects): the TS wrappers own a scratch region starting at
// `scratchBase()` and pass plain pointers, so nothing is copied or allocated per call.
export { b64Decode, b64Encode, b64ErrorKind } from './base64';

/** First byte after the static data, 16-byte aligned: the start of the scratch region. */
export function scratchBase(): usize {
  return (__heap_base + 15) & ~15;
}
export { decodeBC1, decodeBC3 } from './bcDecode';
export { encodeBC1, encodeBC3 } from './bcEncode';
export { downsample } from './downsample';
export { jsonTiles, jsonTilesPos, jsonTilesState } from './jsonTiles';
