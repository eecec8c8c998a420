import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The Firefox lane (`npm run test:firefox`): the worker's promises checked in
// a second engine. Debian's firefox-esr driven by puppeteer-core over
// WebDriver BiDi (Playwright cannot drive a stock Firefox), each spec file
// one browser with a fresh temporary profile, each test a fresh browser
// context and its own stack on free loopback ports. Kept out of the root
// vitest.config.ts so `npm run test:unit` does not start a browser.
export default defineConfig({
  root: path.resolve(import.meta.dirname, '../..'),
  test: {
    name: 'firefox',
    environment: 'node',
    include: ['e2e/firefox/**/*.firefox.test.ts'],
    // One browser at a time: the machine running the lane may have 2 cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
