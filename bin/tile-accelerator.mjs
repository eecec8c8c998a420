#!/usr/bin/env node
// `npx tile-accelerator`: the tiler, the uploader and `serve` (server/tiler/cli.ts;
// compiled JS in the package, the TypeScript source through tsx in a checkout).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);

if (argv[0] === 'tile' && process.platform === 'linux' && process.env.MALLOC_ARENA_MAX === undefined) {
  // libvips runs a thread pool and glibc gives each thread its own malloc
  // arena, which fragments: two arenas cut the peak RSS of tiling a
  // 12k x 12k image from ~430 MB to ~255 MB (docs/tiler.md). The variable is
  // read only at process start, hence one re-exec.
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, MALLOC_ARENA_MAX: '2' },
  });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      if (child.exitCode === null) child.kill(sig);
    });
  }
  child.on('exit', (code, signal) => {
    process.exit(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
  });
} else {
  process.exitCode = await (await loadCli()).main(argv);
}

/**
 * The installed package ships compiled JS (dist/pkg, scripts/build-package.mjs)
 * and no TypeScript sources, so it runs on plain node. A checkout runs the
 * sources through tsx (a devDependency) so edits need no rebuild;
 * TILE_ACCELERATOR_COMPILED=1 forces the compiled build there too.
 */
async function loadCli() {
  const compiled = new URL('../dist/pkg/server/tiler/cli.js', import.meta.url);
  const source = new URL('../server/tiler/cli.ts', import.meta.url);
  const forced = process.env.TILE_ACCELERATOR_COMPILED === '1';
  if (existsSync(compiled) && (forced || !existsSync(source))) return import(compiled.href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(source.href);
}
