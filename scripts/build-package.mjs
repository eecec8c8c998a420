// The npm package build: TypeScript -> ESM JS + .d.ts in dist/pkg/, one tsc
// pass per environment (tsconfig.build.{server,client,sw}.json), keeping the
// source layout (dist/pkg/server, dist/pkg/src/...) so every relative import
// and `new URL(..., import.meta.url)` keeps pointing at the same neighbour.
// The package's `exports` (package.json) point into this tree; the browser
// bundles in dist/public (vite.config.ts) ship beside it for plain pages.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = path.join(ROOT, 'dist/pkg');
const tsc = path.join(ROOT, 'node_modules/.bin/tsc');

function fail(message) {
  console.error(`[build-package] ${message}`);
  process.exit(1);
}

// `--lenient` (used by `npm run build`, hence `npm start`): a type error is
// reported but still emits, so a work-in-progress edit does not stop the demo
// server; `npm run typecheck` and e2e/package (strict) still fail on it.
const lenient = process.argv.includes('--lenient');

rmSync(OUT, { recursive: true, force: true });
for (const env of ['server', 'client', 'sw']) {
  try {
    execFileSync(tsc, ['-p', path.join(ROOT, `tsconfig.build.${env}.json`)], { stdio: 'inherit', cwd: ROOT });
  } catch {
    if (!lenient) fail(`tsc -p tsconfig.build.${env}.json failed (see the errors above)`);
    console.warn(
      `[build-package] WARNING: tsconfig.build.${env}.json has type errors; emitted anyway (--lenient)`,
    );
  }
}

// The codecs load their .wasm by `new URL('./build/codecs-*.wasm', import.meta.url)`.
const wasmSrc = path.join(ROOT, 'src/wasm/build');
const wasmOut = path.join(OUT, 'src/wasm/build');
mkdirSync(wasmOut, { recursive: true });
// Only the two modules codecModule.ts loads; the asc debug target is not shipped.
const wasmFiles = ['codecs-simd.wasm', 'codecs-scalar.wasm'];
for (const f of wasmFiles) {
  if (!existsSync(path.join(wasmSrc, f)))
    fail(`${f} is missing in ${wasmSrc}: run \`npm run build\` (asc) first`);
  cpSync(path.join(wasmSrc, f), path.join(wasmOut, f));
}

/**
 * Source-relative constants that differ once compiled. Each must match exactly
 * once: a silent miss would ship a package that looks in the wrong place.
 */
const rewrites = [
  // Vite resolves the codec worker by its .ts source in this repo; the package ships .js.
  [
    'src/client/pool/createWorkerPool.js',
    "new URL('../codecWorker.ts', import.meta.url)",
    "new URL('../codecWorker.js', import.meta.url)",
  ],
  // Package-root lookups (data/, dist/public, fixtures/, package.json) sit two levels deeper under dist/pkg/.
  ['server/main.js', "new URL('../', import.meta.url)", "new URL('../../../', import.meta.url)"],
  [
    'server/tiler/sampleDataset.js',
    "new URL('../../', import.meta.url)",
    "new URL('../../../../', import.meta.url)",
  ],
  [
    'server/tiler/serveCommand.js',
    "new URL('../../', import.meta.url)",
    "new URL('../../../../', import.meta.url)",
  ],
];
for (const [file, from, to] of rewrites) {
  const p = path.join(OUT, file);
  if (!existsSync(p)) fail(`${file} was not emitted`);
  const text = readFileSync(p, 'utf8');
  const n = text.split(from).length - 1;
  if (n !== 1) fail(`${file}: expected exactly one \`${from}\`, found ${n} (did the source change?)`);
  writeFileSync(p, text.replace(from, to));
}

// Service-worker declarations need the WebWorker lib; declaration emit drops the
// source's `/// <reference lib>`, so put it back for consumers' type checks.
for (const f of ['src/sw/installTileAccelerator.d.ts']) {
  const p = path.join(OUT, f);
  const text = readFileSync(p, 'utf8');
  if (!text.startsWith('/// <reference lib="webworker"'))
    writeFileSync(p, `/// <reference lib="webworker" />\n${text}`);
}

const entries = [
  'src/client/index.js',
  'src/client/codecWorker.js',
  'src/sw/installTileAccelerator.js',
  'src/wasm/index.js',
  'server/index.js',
  'server/main.js',
  'server/tiler/cli.js',
];
for (const e of entries) if (!existsSync(path.join(OUT, e))) fail(`missing entry ${e}`);
console.log(`[build-package] dist/pkg: ${entries.length} entries, ${wasmFiles.length} wasm files`);
