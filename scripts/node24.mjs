// Runs the Node unit suite (`vitest run --project node`) on Node 24, whatever
// node runs this script (the project's baseline is 20). The binary comes from
// the npm registry: `node-<platform>-<arch>@24` is the package the `node`
// package's install script would fetch, and it carries bin/node itself, so
// no install script and no system install are needed. It is kept in a cache
// folder (NODE24_DIR, default <tmp>/tile-accelerator-node24) between runs.
//
//   node scripts/node24.mjs [extra vitest args]
//   NODE_MAJOR=22 node scripts/node24.mjs      # the same on another major
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAJOR = process.env.NODE_MAJOR ?? '24';
const pkg = `node-${process.platform}-${process.arch}`;
const dir = process.env.NODE24_DIR ?? path.join(tmpdir(), `tile-accelerator-node${MAJOR}`);
const bin = path.join(dir, 'node_modules', pkg, 'bin', 'node');

function fail(message) {
  console.error(`\n[node${MAJOR}] FAILED: ${message}`);
  process.exit(1);
}

function version() {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

let v = existsSync(bin) ? version() : undefined;
if (!v?.startsWith(`v${MAJOR}.`)) {
  console.log(`[node${MAJOR}] installing ${pkg}@${MAJOR} from the npm registry into ${dir}`);
  const npm = spawnSync(
    'npm',
    [
      'install',
      '--prefix',
      dir,
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      `${pkg}@${MAJOR}`,
    ],
    { stdio: 'inherit', timeout: 300_000 },
  );
  if (npm.status !== 0)
    fail(`could not install ${pkg}@${MAJOR} (npm exited with ${npm.status ?? npm.signal})`);
  v = version();
  if (!v?.startsWith(`v${MAJOR}.`)) fail(`${bin} does not run as Node ${MAJOR} (got ${v ?? 'nothing'})`);
}

console.log(`[node${MAJOR}] ${v}: vitest run --project node ${process.argv.slice(2).join(' ')}`);
const started = Date.now();
const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(bin, [vitest, 'run', '--project', 'node', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  // A hung suite must fail `npm test`, not hold it forever (the whole suite takes minutes).
  timeout: 30 * 60_000,
  // Child processes the tests start (`process.execPath`, `node` on the PATH) are Node 24 too.
  env: { ...process.env, PATH: `${path.dirname(bin)}${path.delimiter}${process.env.PATH ?? ''}` },
});
const secs = ((Date.now() - started) / 1000).toFixed(0);
if (run.status !== 0) {
  fail(`the node unit suite failed on ${v} after ${secs} s (exit ${run.status ?? run.signal}); see above`);
}
console.log(`[node${MAJOR}] the node unit suite passed on ${v} in ${secs} s`);
