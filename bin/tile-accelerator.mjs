#!/usr/bin/env node
// `npx tile-accelerator`: the tiler, the uploader and `serve`. The commands
// are TypeScript (server/tiler/cli.ts), loaded through tsx's ESM hooks so the
// package runs from source without a separate compile step.
import { spawn } from 'node:child_process';
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
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../server/tiler/cli.ts');
  process.exitCode = await main(argv);
}
