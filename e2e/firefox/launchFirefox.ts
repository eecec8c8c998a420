import puppeteer, { type Browser } from 'puppeteer-core';
// @ts-expect-error plain ESM helper shared with scripts/ensure-tools.mjs
import { findFirefox, firefoxPrefs, NO_FIREFOX } from '../../scripts/firefox.mjs';

/** Debian's firefox-esr (or FIREFOX_PATH), when there is one. */
export const firefoxPath: string | undefined = findFirefox();
export const noFirefox: string = NO_FIREFOX;

/**
 * Headless Firefox over WebDriver BiDi with a fresh temporary profile
 * (puppeteer makes one per launch in the OS temp dir and removes it on
 * close) and the lane's prefs. Used by the lane, bench/firefox and
 * bench/session. `acceptInsecureCerts`: the session's user context accepts
 * a self-signed certificate (nginx's throwaway one); service workers then
 * register over that TLS connection too (bench/session checks they control
 * the page).
 */
export function launchFirefox(opts: { acceptInsecureCerts?: boolean } = {}): Promise<Browser> {
  if (!firefoxPath) throw new Error(NO_FIREFOX);
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: firefoxPath,
    headless: true,
    extraPrefsFirefox: firefoxPrefs,
    ...(opts.acceptInsecureCerts ? { acceptInsecureCerts: true } : {}),
  });
}
