import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * `tile-accelerator serve`: runs server/main.ts exactly as `npm start` does
 * (`node --import tsx server/main.ts`, same environment, so the same
 * configuration), in a child process whose exit code becomes ours. The tsx
 * loader is passed by absolute URL so the command works from any directory;
 * the working directory stays the caller's, so a relative TILES_DIR means
 * what the user meant.
 */
export function runServe(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  signalTarget: NodeJS.EventEmitter = process,
): Promise<number> {
  // Compiled (the npm package's dist/pkg, scripts/build-package.mjs): the JS
  // main beside us, plain node, no tsx (a devDependency). From source: tsx.
  const compiled = import.meta.url.endsWith('.js');
  const entry = compiled
    ? fileURLToPath(new URL('../main.js', import.meta.url))
    : path.join(PACKAGE_ROOT, 'server', 'main.ts');
  if (!existsSync(entry)) {
    log(`error: ${entry} not found (is this a complete tile-accelerator checkout?)`);
    return Promise.resolve(1);
  }
  if (!existsSync(path.join(PACKAGE_ROOT, 'dist', 'public'))) {
    log(
      'note: dist/public is not built (run `npm run build`): the API works, the demo page and /tile-sw.js do not',
    );
  }
  const args = compiled ? [entry] : ['--import', import.meta.resolve('tsx'), entry];
  const child = spawn(process.execPath, args, { stdio: 'inherit', env });
  // Ctrl-C reaches the child through the terminal's process group; a signal
  // sent to our pid alone (a supervisor's SIGTERM) is passed on.
  const forward = (sig: NodeJS.Signals) => () => {
    if (child.exitCode === null) child.kill(sig);
  };
  const onTerm = forward('SIGTERM');
  const onInt = forward('SIGINT');
  signalTarget.on('SIGTERM', onTerm);
  signalTarget.on('SIGINT', onInt);
  return new Promise((resolve) => {
    child.on('error', (e) => {
      log(`error: cannot start the server: ${e.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      signalTarget.off('SIGTERM', onTerm);
      signalTarget.off('SIGINT', onInt);
      resolve(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
    });
  });
}
