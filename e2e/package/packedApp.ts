import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface PackedApp {
  /** The temp folder: the tarball and app/ (a fresh Vite app with the package installed). */
  dir: string;
  appDir: string;
  /** Paths in the tarball, from `npm pack --json`. */
  files: string[];
  close(): Promise<void>;
}

async function versionOf(name: string): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
  return pkg.version as string;
}

/**
 * `npm pack` this repo (after the package build), install the tarball into a
 * fresh Vite app (e2e/package/app) in a temp folder, and build the app: its
 * page (`vite build`) and its Workbox worker (`vite build -c vite.sw.config.js`).
 * Vite and workbox-precaching are pinned to the versions installed here, so
 * `--prefer-offline` finds them in the npm cache.
 */
export async function buildPackedApp(log: (m: string) => void = () => {}): Promise<PackedApp> {
  if (!existsSync(path.join(ROOT, 'dist/public/tile-sw.js'))) {
    throw new Error('dist/public is not built: run `npm run build` first (the tarball ships it)');
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'tile-pkg-'));
  try {
    const t0 = Date.now();
    await run(process.execPath, [path.join(ROOT, 'scripts/build-package.mjs')], { cwd: ROOT });
    log(`package build ${Date.now() - t0} ms`);
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      maxBuffer: 16 << 20,
    });
    const info = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const tarball = path.join(dir, info[0]!.filename);
    const appDir = path.join(dir, 'app');
    await cp(path.join(import.meta.dirname, 'app'), appDir, { recursive: true });
    await writeFile(
      path.join(appDir, 'package.json'),
      JSON.stringify({ name: 'packed-app', private: true, type: 'module' }),
    );
    const t1 = Date.now();
    const deps = [
      tarball,
      `vite@${await versionOf('vite')}`,
      `workbox-precaching@${await versionOf('workbox-precaching')}`,
      `@types/node@${await versionOf('@types/node')}`,
    ];
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...deps], {
      cwd: appDir,
      timeout: 150_000,
    });
    log(`npm install ${Date.now() - t1} ms`);
    const vite = path.join(appDir, 'node_modules/vite/bin/vite.js');
    await run(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: appDir });
    await run(process.execPath, [vite, 'build', '-c', 'vite.sw.config.js', '--logLevel', 'warn'], {
      cwd: appDir,
    });
    return {
      dir,
      appDir,
      files: info[0]!.files.map((f) => f.path),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
