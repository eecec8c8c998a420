import { playwright } from '@vitest/browser-playwright';
import { defineConfig, type ViteUserConfig } from 'vitest/config';
// @ts-expect-error plain ESM helper shared with the Playwright config and scripts
import { chromiumArgs, findChromium } from './scripts/chromium.mjs';

// Two projects: `node` runs every *.test.ts beside the code; `browser` runs
// *.browser.test.ts inside real Chromium; *.shared.test.ts run in both (the
// protocol, the codecs and the worker logic must behave the same everywhere).
export default defineConfig(async (): Promise<ViteUserConfig> => {
  const executablePath: string | undefined = await findChromium();
  return {
    test: {
      projects: [
        {
          test: {
            name: 'node',
            environment: 'node',
            include: [
              'src/**/*.test.ts',
              'server/**/*.test.ts',
              'scripts/**/*.test.ts',
              'bench/**/*.test.ts',
              'demo/**/*.test.ts',
              'e2e/mockOrigin/**/*.test.ts',
              'test/**/*.test.ts',
            ],
            exclude: ['**/*.browser.test.ts', '**/node_modules/**'],
            testTimeout: 20_000,
            hookTimeout: 30_000,
          },
        },
        {
          test: {
            name: 'browser',
            include: ['src/**/*.browser.test.ts', 'src/**/*.shared.test.ts'],
            testTimeout: 30_000,
            browser: {
              enabled: true,
              headless: true,
              screenshotFailures: false,
              provider: playwright({ launchOptions: { executablePath, args: chromiumArgs } }),
              instances: [{ browser: 'chromium' }],
            },
          },
        },
      ],
    },
  };
});
