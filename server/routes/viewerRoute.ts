import type { IncomingMessage, ServerResponse } from 'node:http';
import { TileError } from '../../src/protocol/errors.js';
import { assertDatasetId } from '../../src/protocol/tileKey.js';
import type { Dataset } from '../datasets/Dataset.js';
import { DZI_VIEW_SUFFIX, dziDescriptorOf } from '../datasets/DziView.js';
import { PmtilesDataset } from '../datasets/PmtilesDataset.js';
import { formatDzi } from '../datasets/parseDzi.js';
import type { ServerContext } from '../http/ServerContext.js';

const DESCRIPTOR_RE = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.(dzi|json)$/;
/** Descriptors change only when the dataset does (cache-clear); short so a re-tile shows soon. */
const DESCRIPTOR_CACHE = 'public, max-age=60';

/** True for `{dataset}.dzi` and `{dataset}.json` (the rest after `/api/tiles/`). */
export function isDescriptorPath(rest: string): boolean {
  return DESCRIPTOR_RE.test(rest);
}

/** Base URL the viewer reached us at (TileJSON `tiles` must be absolute for MapLibre). */
function baseUrl(req: IncomingMessage): string {
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const host = req.headers.host ?? 'localhost';
  return `${proto}://${host}`;
}

/** TileJSON 3.0.0 for any dataset (https://github.com/mapbox/tilejson-spec/tree/master/3.0.0). */
async function tileJson(
  req: IncomingMessage,
  dataset: string,
  ds: Dataset,
): Promise<Record<string, unknown>> {
  const i = ds.info;
  const ext = i.vector ? 'pbf' : (i.format ?? 'png');
  const doc: Record<string, unknown> = {
    tilejson: '3.0.0',
    name: dataset,
    scheme: 'xyz',
    tiles: [`${baseUrl(req)}/api/tiles/${dataset}/{z}/{x}/{y}.${ext}`],
    minzoom: i.minZoom ?? 0,
    maxzoom: i.maxZoom ?? 22,
    format: i.vector ? 'pbf' : ext,
  };
  if (i.tileSize !== undefined) doc.tileSize = i.tileSize;
  if (i.bounds) doc.bounds = i.bounds;
  if (i.center) doc.center = i.center;
  if (ds instanceof PmtilesDataset) {
    const m = await ds.metadata();
    for (const k of ['attribution', 'description', 'version', 'vector_layers'] as const) {
      if (m[k] !== undefined) doc[k] = m[k];
    }
    if (typeof m.name === 'string') doc.name = m.name;
  }
  // The spec requires vector_layers for vector tiles.
  if (i.vector && !Array.isArray(doc.vector_layers)) doc.vector_layers = [];
  return doc;
}

/**
 * `GET /api/tiles/{dataset}.dzi`: a Deep Zoom descriptor for any raster
 * dataset of known size (its tiles at `/api/tiles/{dataset}_files/{level}/{col}_{row}.{ext}`),
 * so OpenSeadragon opens it unmodified; `GET /api/tiles/{dataset}.json`: TileJSON 3.0.0.
 */
export async function viewerRoute(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ServerContext,
  rest: string,
): Promise<void> {
  const m = DESCRIPTOR_RE.exec(rest);
  if (!m) throw new TileError('NOT_FOUND', 'no such route');
  const dataset = assertDatasetId(m[1]!);
  if (dataset.endsWith(DZI_VIEW_SUFFIX)) throw new TileError('NOT_FOUND', 'no descriptor for a _files view');
  const ac = new AbortController();
  const onClose = () => ac.abort();
  res.once('close', onClose);
  try {
    const ds = await ctx.tiles.datasets.resolve(dataset, ac.signal);
    let body: string;
    let type: string;
    if (m[2] === 'dzi') {
      const d = dziDescriptorOf(ds);
      if (!d) {
        throw new TileError(
          'NOT_FOUND',
          ds.info.vector
            ? 'a vector dataset has no Deep Zoom descriptor'
            : 'the size of this dataset is unknown (no manifest.json): no Deep Zoom descriptor',
        );
      }
      body = formatDzi(d);
      type = 'application/xml; charset=utf-8';
    } else {
      body = JSON.stringify(await tileJson(req, dataset, ds));
      type = 'application/json; charset=utf-8';
    }
    if (res.destroyed) return;
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': DESCRIPTOR_CACHE,
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  } finally {
    res.off('close', onClose);
  }
}
