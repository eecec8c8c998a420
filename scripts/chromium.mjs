// Finds a Chromium for Vitest's browser mode, Playwright e2e and the benchmarks.
// Order: CHROMIUM_PATH, Playwright's own download (if someone installed it), a
// `chromium` on the PATH. Playwright cannot download browsers on machines with
// a closed network, so ensureChromium() installs Debian's package when root.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Flags every launch needs here: no sandbox as root, and nothing that phones home. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

function onPath(names) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of names) {
      const p = join(dir, name);
      if (dir && existsSync(p)) return p;
    }
  }
  return undefined;
}

async function playwrightOwn() {
  try {
    const { chromium } = await import('playwright-core');
    const p = chromium.executablePath();
    return p && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** The path of a usable Chromium, or undefined. */
export async function findChromium() {
  const env = process.env.CHROMIUM_PATH;
  if (env && existsSync(env)) return env;
  return (await playwrightOwn()) ?? onPath(['chromium', 'chromium-browser', 'google-chrome']);
}

/** Like findChromium, but installs Debian's chromium when running as root without one. */
export async function ensureChromium() {
  const found = await findChromium();
  if (found) return found;
  if (process.getuid?.() === 0 && onPath(['apt-get'])) {
    console.log('[chromium] none found; installing Debian package "chromium"');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    const after = await findChromium();
    if (after) return after;
  }
  throw new Error(
    'No Chromium found: set CHROMIUM_PATH, install Playwright browsers, or install a `chromium` package',
  );
}

/** For configs: the path, or a clear failure (never a silent skip). */
export async function requireChromium() {
  const p = await findChromium();
  if (!p) throw new Error('No Chromium found; run `node scripts/ensure-tools.mjs` (npm test does) first');
  return p;
}
