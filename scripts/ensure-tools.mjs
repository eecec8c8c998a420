// Installs what a fresh machine lacks for `npm test`: a Chromium (Debian's
// package when root), Firefox (Debian's `firefox-esr`, for the Firefox lane),
// redis-server (for the shared-cache tests) and nginx. Run by `pretest`; safe
// to run again. In CI a tool that cannot be had fails here, with its name.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ensureChromium } from './chromium.mjs';
import { findFirefox, NO_FIREFOX } from './firefox.mjs';

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, name)));
}

function aptInstall(pkgs) {
  if (process.getuid?.() !== 0 || !onPath('apt-get')) return false;
  console.log(`[ensure-tools] installing ${pkgs.join(', ')} from Debian`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return true;
}

const chromium = await ensureChromium();
console.log(`[ensure-tools] chromium: ${chromium}`);

if (!findFirefox()) {
  try {
    aptInstall(['firefox-esr']);
  } catch (e) {
    // Reported below (and fatal in CI) as a missing Firefox.
    console.warn(`[ensure-tools] could not install firefox-esr: ${e instanceof Error ? e.message : e}`);
  }
}
const firefox = findFirefox();
if (!firefox && process.env.CI)
  throw new Error(`${NO_FIREFOX}; the Firefox lane (npm run test:firefox) needs it`);
console.log(
  `[ensure-tools] firefox: ${firefox ?? `missing (the Firefox lane will be skipped, loudly: ${NO_FIREFOX})`}`,
);

if (!onPath('redis-server')) {
  if (!aptInstall(['redis-server']) && process.env.CI) {
    throw new Error(
      'redis-server is missing and cannot be installed (not root); the shared-cache tests need it',
    );
  }
}
console.log(
  `[ensure-tools] redis-server: ${onPath('redis-server') ? 'present' : 'missing (shared-cache tests will fail)'}`,
);

// nginx + openssl: e2e/deploy runs the shipped nginx site with a throwaway certificate.
if (!onPath('nginx') && !existsSync('/usr/sbin/nginx')) {
  if (!aptInstall(['nginx', 'openssl']) && process.env.CI) {
    throw new Error('nginx is missing and cannot be installed (not root); e2e/deploy needs it');
  }
}
console.log(
  `[ensure-tools] nginx: ${onPath('nginx') || existsSync('/usr/sbin/nginx') ? 'present' : 'missing'}`,
);
