import { defineConfig } from '@playwright/test';
// @ts-expect-error plain ESM helper shared with the Vitest config and scripts
import { chromiumArgs, requireChromium } from './scripts/chromium.mjs';

// e2e specs start their own companion server and mocked origin on free
// loopback ports (see e2e/harness), so there is no webServer block here.
const executablePath: string = await requireChromium();

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  timeout: 60_000,
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath, args: chromiumArgs },
    trace: 'off',
  },
});
