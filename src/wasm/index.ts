// Public codec API. Call `await initCodecs()` once; every codec below is then synchronous.
export {
  type Base64Alphabet,
  type Base64Backend,
  type Base64BytesOptions,
  type Base64EncodeOptions,
  type Base64Options,
  base64Backend,
  base64Decode,
  base64DecodeBytes,
  base64Encode,
} from './base64.js';
export { type BatchJson, decodeBatchJson } from './batchJson.js';
export {
  type BlockFormat,
  blockBytes,
  decodeBC1,
  decodeBC3,
  type EncodeOptions,
  encodeBC1,
  encodeBC3,
} from './blockCodec.js';
export {
  type CodecFlavour,
  type CodecModule,
  initCodecs,
  instantiateCodecModule,
  simdSupported,
} from './codecModule.js';
export {
  type DDSLevel,
  type EncodeDDSOptions,
  encodeDDS,
  isOpaque,
  mipCount,
  type ParsedDDS,
  parseDDS,
} from './dds.js';
