// Finds a Firefox for the Firefox e2e lane (e2e/firefox) and bench/firefox.
// Order: FIREFOX_PATH, then `firefox-esr` / `firefox` on the PATH (Debian's
// package is `firefox-esr`; scripts/ensure-tools.mjs installs it when root).
// Playwright's patched Firefox is not used: it cannot drive a stock Firefox,
// so the lane drives this one with puppeteer-core over WebDriver BiDi.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Preferences on top of puppeteer's own (which already switch off updates,
 * telemetry, safe browsing and first-run pages). Service workers are on by
 * default and http://127.0.0.1 is a secure context, so the worker needs no
 * `dom.serviceWorkers.testing.enabled`; they are set here so a profile
 * policy cannot switch them off under the lane.
 */
export const firefoxPrefs = {
  'dom.serviceWorkers.enabled': true,
  'dom.caches.enabled': true,
  // The video spec plays a muted <video> from a script.
  'media.autoplay.default': 0,
  // Nothing that phones home during a test.
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.region.network.url': '',
  'browser.topsites.contile.enabled': false,
};

function onPath(names) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of names) {
      const p = join(dir, name);
      if (dir && existsSync(p)) return p;
    }
  }
  return undefined;
}

/** The path of a usable Firefox, or undefined. */
export function findFirefox() {
  const env = process.env.FIREFOX_PATH;
  if (env && existsSync(env)) return env;
  return onPath(['firefox-esr', 'firefox']);
}

/** The message every caller gives when there is none. */
export const NO_FIREFOX =
  'No Firefox found: set FIREFOX_PATH, or install Debian\'s "firefox-esr" (`node scripts/ensure-tools.mjs` does as root)';

/** For the lane's setup: the path, or a clear failure (never a silent skip). */
export function requireFirefox() {
  const p = findFirefox();
  if (!p) throw new Error(NO_FIREFOX);
  return p;
}
