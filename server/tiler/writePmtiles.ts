import { gzipSync } from 'node:zlib';
import { Compression, type TileType, zxyToTileId } from 'pmtiles';

/** One tile to store: its bytes as they go in the archive (already compressed if `tileCompression` says so). */
export interface PmtilesInputTile {
  z: number;
  x: number;
  y: number;
  bytes: Uint8Array;
}

export interface PmtilesWriteOptions {
  tileType: TileType;
  /** How the tile bytes are compressed (they are stored as given). Default None. */
  tileCompression?: Compression;
  /** Directories and metadata: gzip (the spec's usual) or None. Default gzip. */
  internalCompression?: Compression.Gzip | Compression.None;
  /** JSON metadata (TileJSON fields: name, vector_layers, attribution...). */
  metadata?: Record<string, unknown>;
  /** `[west, south, east, north]`; default the whole world. */
  bounds?: [number, number, number, number];
  /**
   * Entries per leaf directory. Default: leaves only when the root would not
   * fit in the first 16 KiB (as the spec requires); a small value forces leaves (tests).
   */
  leafSize?: number;
  /** Tile data in tile-id order with identical tiles stored once (clustered, the spec's default). */
  clustered?: boolean;
}

/** A directory entry (runLength 0: a leaf directory at `offset` in the leaf section). */
export interface PmtilesEntry {
  tileId: number;
  offset: number;
  length: number;
  runLength: number;
}

function varint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** The spec's directory encoding: count, id deltas, run lengths, lengths, offsets (0 = contiguous). */
export function serializeDirectory(entries: PmtilesEntry[]): Uint8Array {
  const out: number[] = [];
  varint(out, entries.length);
  let last = 0;
  for (const e of entries) {
    varint(out, e.tileId - last);
    last = e.tileId;
  }
  for (const e of entries) varint(out, e.runLength);
  for (const e of entries) varint(out, e.length);
  entries.forEach((e, i) => {
    const prev = entries[i - 1];
    varint(out, i > 0 && prev && e.offset === prev.offset + prev.length ? 0 : e.offset + 1);
  });
  return Uint8Array.from(out);
}

function compress(b: Uint8Array, c: Compression): Uint8Array {
  return c === Compression.Gzip ? gzipSync(b) : b;
}

function setU64(v: DataView, at: number, n: number): void {
  v.setUint32(at, n % 2 ** 32, true);
  v.setUint32(at + 4, Math.floor(n / 2 ** 32), true);
}

/**
 * A PMTiles v3 archive (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md):
 * header, root directory, metadata, leaf directories, tile data. The `pmtiles`
 * package reads it back (server/tiler/writePmtiles.test.ts).
 */
export function writePmtiles(tiles: PmtilesInputTile[], o: PmtilesWriteOptions): Uint8Array {
  const internal = o.internalCompression ?? Compression.Gzip;
  const clustered = o.clustered ?? true;
  const sorted = tiles
    .map((t) => ({ id: zxyToTileId(t.z, t.x, t.y), t }))
    .sort((a, b) => (clustered ? a.id - b.id : 0));
  // Tile data; identical bytes stored once (deduplicated by content).
  const chunks: Uint8Array[] = [];
  const byContent = new Map<string, { offset: number; length: number }>();
  let dataLength = 0;
  const entries: PmtilesEntry[] = [];
  for (const { id, t } of sorted) {
    const k = Buffer.from(t.bytes).toString('base64');
    let at = byContent.get(k);
    if (!at) {
      at = { offset: dataLength, length: t.bytes.length };
      byContent.set(k, at);
      chunks.push(t.bytes);
      dataLength += t.bytes.length;
    }
    const prev = entries[entries.length - 1];
    if (
      prev &&
      prev.tileId + prev.runLength === id &&
      prev.offset === at.offset &&
      prev.length === at.length
    ) {
      prev.runLength++;
    } else entries.push({ tileId: id, offset: at.offset, length: at.length, runLength: 1 });
  }
  entries.sort((a, b) => a.tileId - b.tileId);
  let root = compress(serializeDirectory(entries), internal);
  let leaves = new Uint8Array(0);
  const leafSize = o.leafSize ?? (root.length + 127 > 16_384 ? 4096 : Number.POSITIVE_INFINITY);
  if (entries.length > leafSize) {
    const leafParts: Uint8Array[] = [];
    const rootEntries: PmtilesEntry[] = [];
    let off = 0;
    for (let i = 0; i < entries.length; i += leafSize) {
      const part = entries.slice(i, i + leafSize);
      const leaf = compress(serializeDirectory(part), internal);
      rootEntries.push({ tileId: part[0]!.tileId, offset: off, length: leaf.length, runLength: 0 });
      leafParts.push(leaf);
      off += leaf.length;
    }
    root = compress(serializeDirectory(rootEntries), internal);
    leaves = Buffer.concat(leafParts);
  }
  const meta = compress(new TextEncoder().encode(JSON.stringify(o.metadata ?? {})), internal);
  const zooms = tiles.map((t) => t.z);
  return assemblePmtiles({
    root,
    metadata: meta,
    leaves,
    data: Buffer.concat(chunks),
    internalCompression: internal,
    tileCompression: o.tileCompression ?? Compression.None,
    tileType: o.tileType,
    minZoom: zooms.length ? Math.min(...zooms) : 0,
    maxZoom: zooms.length ? Math.max(...zooms) : 0,
    bounds: o.bounds ?? [-180, -85.05112878, 180, 85.05112878],
    clustered,
    addressedTiles: tiles.length,
    tileEntries: entries.length,
    tileContents: chunks.length,
  });
}

/** The sections of an archive, already encoded and compressed, and the header's other fields. */
export interface PmtilesParts {
  root: Uint8Array;
  metadata: Uint8Array;
  leaves: Uint8Array;
  data: Uint8Array;
  internalCompression: Compression;
  tileCompression: Compression;
  tileType: TileType;
  minZoom: number;
  maxZoom: number;
  bounds: [number, number, number, number];
  clustered: boolean;
  addressedTiles: number;
  tileEntries: number;
  tileContents: number;
}

/** Header + sections in the spec's order (root, metadata, leaves, tile data). Tests use it to build bad archives. */
export function assemblePmtiles(p: PmtilesParts): Uint8Array {
  const { root, metadata: meta, leaves, minZoom, maxZoom } = p;
  const [w, s, e, n] = p.bounds;
  const header = new Uint8Array(127);
  header.set(new TextEncoder().encode('PMTiles'), 0);
  header[7] = 3;
  const v = new DataView(header.buffer);
  const rootOffset = 127;
  const metaOffset = rootOffset + root.length;
  const leafOffset = metaOffset + meta.length;
  const dataOffset = leafOffset + leaves.length;
  setU64(v, 8, rootOffset);
  setU64(v, 16, root.length);
  setU64(v, 24, metaOffset);
  setU64(v, 32, meta.length);
  setU64(v, 40, leafOffset);
  setU64(v, 48, leaves.length);
  setU64(v, 56, dataOffset);
  setU64(v, 64, p.data.length);
  setU64(v, 72, p.addressedTiles);
  setU64(v, 80, p.tileEntries);
  setU64(v, 88, p.tileContents);
  v.setUint8(96, p.clustered ? 1 : 0);
  v.setUint8(97, p.internalCompression);
  v.setUint8(98, p.tileCompression);
  v.setUint8(99, p.tileType);
  v.setUint8(100, minZoom);
  v.setUint8(101, maxZoom);
  v.setInt32(102, Math.round(w * 1e7), true);
  v.setInt32(106, Math.round(s * 1e7), true);
  v.setInt32(110, Math.round(e * 1e7), true);
  v.setInt32(114, Math.round(n * 1e7), true);
  v.setUint8(118, minZoom);
  v.setInt32(119, Math.round(((w + e) / 2) * 1e7), true);
  v.setInt32(123, Math.round(((s + n) / 2) * 1e7), true);
  return Buffer.concat([header, root, meta, leaves, p.data]);
}
