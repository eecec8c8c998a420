import { TileError } from '../../src/protocol/errors.js';
import type { LevelExtent } from './Dataset.js';

/** A DZI descriptor is a few hundred bytes; anything past this is not one. */
export const MAX_DZI_BYTES = 64 * 1024;

export interface DziDescriptor {
  tileSize: number;
  overlap: number;
  /** The tiles' file extension as written (`jpeg`, `jpg`, `png`, `webp`). */
  format: 'jpeg' | 'jpg' | 'png' | 'webp';
  width: number;
  height: number;
}

const FORMATS: readonly DziDescriptor['format'][] = ['jpeg', 'jpg', 'png', 'webp'];

function bad(why: string): TileError {
  return new TileError('BAD_DESCRIPTOR', `bad DZI descriptor: ${why}`);
}

/** One attribute of the first `<tag ...>` element; attribute values never contain `"` in DZI. */
function attr(xml: string, tag: string, name: string): string {
  const el = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${tag}\\b([^<>]*)>`).exec(xml);
  if (!el) throw bad(`no <${tag}> element`);
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(el[1]!);
  if (!m) throw bad(`<${tag}> has no ${name}`);
  return (m[1] ?? m[2]!).trim();
}

function int(v: string, what: string, min: number, max: number): number {
  if (!/^[0-9]{1,10}$/.test(v)) throw bad(`${what} is not an integer`);
  const n = Number(v);
  if (n < min || n > max) throw bad(`${what} must be in ${min}..${max}`);
  return n;
}

/**
 * Parses `name.dzi` (Deep Zoom, as `vips dzsave` writes it). Not an XML
 * parser on purpose: a DOCTYPE (hence any entity declaration or expansion) is
 * refused, the size is bounded, and only the four values are read.
 */
export function parseDzi(bytes: Uint8Array): DziDescriptor {
  if (bytes.length > MAX_DZI_BYTES) throw bad(`larger than ${MAX_DZI_BYTES} bytes`);
  const xml = Buffer.from(bytes).toString('utf8');
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw bad('DOCTYPE and entities are not accepted');
  if (!/<(?:[A-Za-z_][\w.-]*:)?Image\b/.test(xml)) throw bad('not a Deep Zoom <Image> document');
  const format = attr(xml, 'Image', 'Format').toLowerCase();
  if (!(FORMATS as readonly string[]).includes(format))
    throw bad(`unsupported Format ${format.slice(0, 16)}`);
  return {
    tileSize: int(attr(xml, 'Image', 'TileSize'), 'TileSize', 1, 8192),
    overlap: int(attr(xml, 'Image', 'Overlap'), 'Overlap', 0, 1024),
    format: format as DziDescriptor['format'],
    // 2^30 px a side keeps every level index inside MAX_ZOOM.
    width: int(attr(xml, 'Size', 'Width'), 'Width', 1, 2 ** 30),
    height: int(attr(xml, 'Size', 'Height'), 'Height', 1, 2 ** 30),
  };
}

/** Deepest DZI level: level 0 is 1x1 px, each level doubles, the last is the full image. */
export function dziMaxLevel(width: number, height: number): number {
  return Math.ceil(Math.log2(Math.max(width, height)));
}

/** Every level's grid (level L is the image scaled by 2^(L - max), sides rounded up). */
export function dziLevels(d: Pick<DziDescriptor, 'width' | 'height' | 'tileSize'>): Map<number, LevelExtent> {
  const max = dziMaxLevel(d.width, d.height);
  const levels = new Map<number, LevelExtent>();
  for (let l = 0; l <= max; l++) {
    const scale = 2 ** (max - l);
    const width = Math.ceil(d.width / scale);
    const height = Math.ceil(d.height / scale);
    levels.set(l, {
      z: l,
      width,
      height,
      cols: Math.ceil(width / d.tileSize),
      rows: Math.ceil(height / d.tileSize),
    });
  }
  return levels;
}

/** The descriptor a viewer reads (OpenSeadragon's default tile source). */
export function formatDzi(d: DziDescriptor): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Image xmlns="http://schemas.microsoft.com/deepzoom/2008" Format="${d.format}" Overlap="${d.overlap}" TileSize="${d.tileSize}">\n` +
    `  <Size Width="${d.width}" Height="${d.height}"/>\n` +
    '</Image>\n'
  );
}
