// `npm run build`: WASM codecs (asc), then the browser bundles (Vite).
// Each step is added by the module that owns it; see ARCHITECTURE.md.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

// Two wasm builds of one source: SIMD (release) and scalar, picked at load time (src/wasm/codecModule.ts).
if (existsSync('asconfig.json')) {
  run('npx', ['asc', '--config', 'asconfig.json', '--target', 'release']);
  run('npx', ['asc', '--config', 'asconfig.json', '--target', 'scalar']);
}
if (existsSync('vite.config.ts')) run('npx', ['vite', 'build']);
if (existsSync('tsconfig.build.server.json')) run('node', ['scripts/build-package.mjs', '--lenient']);
