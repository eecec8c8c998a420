// Puts the example pages, the built standalone bundles (dist/public: /tile-sw.js,
// /tile-accelerator.js, the codec worker and its .wasm) and the viewers' own
// files (/vendor/..., from node_modules) into one static folder, so that the
// pages, the service worker and /api/* are one origin:
//
//   npm run build && node examples/assemble.mjs dist/examples
//   STATIC_DIR=dist/examples npm start     # then open http://127.0.0.1:8080/examples/
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** node_modules file -> path under /vendor/. */
export const VENDOR = {
  'openseadragon/build/openseadragon/openseadragon.min.js': 'openseadragon/openseadragon.min.js',
  'leaflet/dist/leaflet.js': 'leaflet/leaflet.js',
  'leaflet/dist/leaflet.css': 'leaflet/leaflet.css',
  'ol/dist/ol.js': 'ol/ol.js',
  'ol/ol.css': 'ol/ol.css',
  'maplibre-gl/dist/maplibre-gl.mjs': 'maplibre-gl/maplibre-gl.mjs',
  'maplibre-gl/dist/maplibre-gl-shared.mjs': 'maplibre-gl/maplibre-gl-shared.mjs',
  'maplibre-gl/dist/maplibre-gl-worker.mjs': 'maplibre-gl/maplibre-gl-worker.mjs',
  'maplibre-gl/dist/maplibre-gl.css': 'maplibre-gl/maplibre-gl.css',
  'three/build/three.module.js': 'three/three.module.js',
  'three/build/three.core.js': 'three/three.core.js',
};

/** Writes the static folder; throws when the bundles are not built or a viewer is not installed. */
export function assembleExamples(outDir) {
  const dist = path.join(ROOT, 'dist/public');
  if (!existsSync(path.join(dist, 'tile-sw.js')))
    throw new Error('dist/public is not built: run `npm run build`');
  mkdirSync(outDir, { recursive: true });
  cpSync(dist, outDir, { recursive: true });
  const pages = path.join(outDir, 'examples');
  mkdirSync(pages, { recursive: true });
  for (const f of readdirSync(path.join(ROOT, 'examples'))) {
    if (f.endsWith('.html') || f.endsWith('.css'))
      cpSync(path.join(ROOT, 'examples', f), path.join(pages, f));
  }
  for (const [from, to] of Object.entries(VENDOR)) {
    const src = path.join(ROOT, 'node_modules', from);
    if (!existsSync(src))
      throw new Error(`${from} is missing: npm install (the viewers are devDependencies)`);
    const dst = path.join(outDir, 'vendor', to);
    mkdirSync(path.dirname(dst), { recursive: true });
    cpSync(src, dst);
  }
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist/examples'));
  assembleExamples(out);
  console.log(
    `examples in ${out}: STATIC_DIR=${path.relative(process.cwd(), out) || '.'} npm start, then /examples/`,
  );
}
