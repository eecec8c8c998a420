import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

/** The soak's tile pyramid: dataset `soak`, levels 0..MAX_Z, every tile present. */
export const DATASET = 'soak';
export const MAX_Z = 5;
export const VIDEO_ID = 'soak.mp4';
export const VIDEO_BYTES = 4 * 1024 * 1024;
/** A real H.264 clip (fixtures/video/sample.mp4) the browser lane's <video> seeks in. */
export const CLIP_ID = 'soak-clip.mp4';

/**
 * Deterministic bytes for a key (1-8 KiB, from its hash), so the load
 * generator can check every body it gets without holding a copy.
 */
export function bytesFor(key: string): Uint8Array {
  const h = createHash('sha256').update(key).digest();
  const size = 1024 + (h.readUInt16BE(0) % (7 * 1024));
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = h[i % 32]! ^ (i >> 5);
  return out;
}

export function videoBytes(): Uint8Array {
  const out = new Uint8Array(VIDEO_BYTES);
  for (let i = 0; i < out.length; i++) out[i] = (i * 2654435761) >>> 24;
  return out;
}

export function allTileKeys(): string[] {
  const keys: string[] = [];
  for (let z = 0; z <= MAX_Z; z++) {
    for (let x = 0; x < 2 ** z; x++) for (let y = 0; y < 2 ** z; y++) keys.push(`${z}/${x}/${y}.jpg`);
  }
  return keys;
}

/** Small stable hash of a key, used to pick which keys a fault phase hits. */
export function keyHash(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * The browser lane's pyramid: dataset `soakimg`, levels 0..IMG_MAX_Z, every
 * tile a small valid PNG (so an <img> decodes it) with pixels from the key's
 * hash: each tile's bytes are unique and deterministic.
 */
export const IMG_DATASET = 'soakimg';
export const IMG_MAX_Z = 6;

export function allImgKeys(): string[] {
  const keys: string[] = [];
  for (let z = 0; z <= IMG_MAX_Z; z++) {
    for (let x = 0; x < 2 ** z; x++) for (let y = 0; y < 2 ** z; y++) keys.push(`${z}/${x}/${y}.png`);
  }
  return keys;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A 16–47 px RGB PNG (stored deflate blocks, ~1–7 KiB) whose pixels come from the key's hash. */
export function pngFor(key: string): Uint8Array {
  const h = createHash('sha256').update(key).digest();
  const side = 16 + (h[0]! % 32);
  const raw = Buffer.alloc(side * (1 + side * 3));
  for (let y = 0; y < side; y++) {
    const row = y * (1 + side * 3);
    for (let i = 0; i < side * 3; i++) raw[row + 1 + i] = h[(y + i) % 32]! ^ (i * 7 + y * 13);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 0 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
