import { createHash } from 'node:crypto';

/** The soak's tile pyramid: dataset `soak`, levels 0..MAX_Z, every tile present. */
export const DATASET = 'soak';
export const MAX_Z = 5;
export const VIDEO_ID = 'soak.mp4';
export const VIDEO_BYTES = 4 * 1024 * 1024;

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
