import { batchPath, checkCoord, isTileExt, isValidDatasetId, type TileCoord } from '../protocol/tileKey.js';

/** A request the worker handles as a tile. */
export interface TileRoute {
  kind: 'tile';
  /** Absolute URL: the cache key and the single-tile fallback URL. */
  url: string;
  dataset: string;
  coord: TileCoord;
  /** `z/x/y.ext`, the batch key. */
  key: string;
  /** The companion's batch route for this dataset, or undefined when the URL cannot be batched. */
  batchUrl: string | undefined;
  /** URL of another tile of the same layer (same template), for prefetch. */
  sibling(c: TileCoord): string;
}

export interface VideoRoute {
  kind: 'video';
  url: string;
}

export type Route = TileRoute | VideoRoute;

interface CompiledTemplate {
  /** Absolute origin the template is bound to, or undefined for "worker origin and server". */
  origins: string[];
  re: RegExp;
  names: string[];
  template: string;
  /** Appended to the matched dataset: `_files` for the Deep Zoom shape (dataset `d_files` is d's DZI view). */
  datasetSuffix?: string;
}

/** The companion's own tile route; its Deep Zoom twin is claimed beside it. */
const COMPANION_ROUTE = '/api/tiles/{dataset}/{z}/{x}/{y}.{ext}';
const DZI_SUFFIX = '_files';
const COMPANION_DZI_ROUTE = `/api/tiles/{dataset}${DZI_SUFFIX}/{z}/{x}_{y}.{ext}`;

const PART: Record<string, string> = {
  dataset: '([A-Za-z0-9][A-Za-z0-9_-]{0,63})',
  z: '(0|[1-9][0-9]{0,9})',
  x: '(0|[1-9][0-9]{0,9})',
  y: '(0|[1-9][0-9]{0,9})',
  ext: '([a-z]{3,4})',
};

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compile(template: string, defaultOrigins: string[]): CompiledTemplate {
  let path = template;
  let origins = defaultOrigins;
  if (/^https?:\/\//.test(template)) {
    // Placeholders are not legal in a host for URL(); split by hand.
    const m = /^(https?:\/\/[^/]+)(\/.*)$/.exec(template);
    if (!m) throw new Error(`bad tile route ${template}`);
    origins = [m[1]!.toLowerCase()];
    path = m[2]!;
  }
  const names: string[] = [];
  const src = path
    .split(/(\{dataset\}|\{z\}|\{x\}|\{y\}|\{ext\})/)
    .map((piece) => {
      const name = /^\{(\w+)\}$/.exec(piece)?.[1];
      if (name && PART[name]) {
        names.push(name);
        return PART[name];
      }
      return escapeRe(piece);
    })
    .join('');
  for (const need of ['z', 'x', 'y']) {
    if (!names.includes(need)) throw new Error(`tile route ${template} lacks {${need}}`);
  }
  return { origins, re: new RegExp(`^${src}$`), names, template };
}

/**
 * Decides which requests are ours: tiles matching a template (on the
 * worker's origin or the companion server), and video URLs under a prefix.
 * Everything else returns undefined and is left to the browser.
 */
export class TileRouter {
  private readonly templates: CompiledTemplate[];
  private readonly origins: string[];

  constructor(
    private readonly o: {
      workerOrigin: string;
      server: string;
      tileRoutes: string[];
      videoRoutes: string[];
      batchEnabled: boolean;
    },
  ) {
    const serverOrigin = new URL(o.server).origin;
    this.origins = [...new Set([new URL(o.workerOrigin).origin, serverOrigin])];
    this.templates = o.tileRoutes.flatMap((t) => {
      const c = compile(t, this.origins);
      // `/api/tiles/d_files/{level}/{col}_{row}.{ext}` (what OpenSeadragon asks for
      // `/api/tiles/d.dzi`) batches as dataset `d_files`, key `level/col/row.ext`.
      if (t.replace(/^https?:\/\/[^/]+/, '') !== COMPANION_ROUTE) return [c];
      const origin = /^https?:\/\/[^/]+/.exec(t)?.[0] ?? '';
      return [c, { ...compile(`${origin}${COMPANION_DZI_ROUTE}`, this.origins), datasetSuffix: DZI_SUFFIX }];
    });
  }

  route(request: { url: string; method: string }): Route | undefined {
    if (request.method !== 'GET') return undefined;
    let u: URL;
    try {
      u = new URL(request.url);
    } catch {
      return undefined;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    for (const t of this.templates) {
      if (!t.origins.includes(u.origin)) continue;
      const m = t.re.exec(u.pathname);
      if (!m) continue;
      const v: Record<string, string> = {};
      t.names.forEach((n, i) => {
        v[n] = m[i + 1]!;
      });
      const dataset = (v['dataset'] ?? 'default') + (t.datasetSuffix ?? '');
      const ext = v['ext'] ?? 'png';
      if (!isValidDatasetId(dataset) || !isTileExt(ext)) continue;
      const coord: TileCoord = { z: Number(v['z']), x: Number(v['x']), y: Number(v['y']), ext };
      try {
        checkCoord(coord.z, coord.x, coord.y);
      } catch {
        continue;
      }
      // Only the companion's own tile URLs map 1:1 to its batch keys; a
      // query string could change the answer, so such URLs go unbatched.
      const batchable = this.o.batchEnabled && u.search === '' && v['dataset'] !== undefined;
      const key = `${coord.z}/${coord.x}/${coord.y}.${coord.ext}`;
      return {
        kind: 'tile',
        url: u.href,
        dataset,
        coord,
        key,
        batchUrl: batchable ? `${this.o.server}${batchPath(dataset)}` : undefined,
        sibling: (c) => siblingUrl(u, t, v, c),
      };
    }
    if (this.origins.includes(u.origin) && this.o.videoRoutes.some((p) => u.pathname.startsWith(p))) {
      const rest = u.pathname.slice(this.o.videoRoutes.find((p) => u.pathname.startsWith(p))!.length);
      if (rest.length > 0) return { kind: 'video', url: u.href };
    }
    return undefined;
  }
}

function siblingUrl(u: URL, t: CompiledTemplate, v: Record<string, string>, c: TileCoord): string {
  const path = t.template
    .replace(/^https?:\/\/[^/]+/, '')
    .replaceAll('{dataset}', v['dataset'] ?? '')
    .replaceAll('{z}', String(c.z))
    .replaceAll('{x}', String(c.x))
    .replaceAll('{y}', String(c.y))
    .replaceAll('{ext}', c.ext);
  return `${u.origin}${path}${u.search}`;
}
