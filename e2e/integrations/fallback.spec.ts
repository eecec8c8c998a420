import { expect, test } from '@playwright/test';
import { openExample, startViewerStack, type ViewerStack } from './viewerStack.js';

// Service workers refused by the browser (Playwright blocks registration, as
// a private window or a locked-down webview would): the page must still work.
test.use({ serviceWorkers: 'block' });

let stack: ViewerStack | undefined;
test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

type Win = { acc?: { supported: boolean; controlled: boolean }; tilesLoaded?: number };

test('with service workers blocked, the Leaflet example still shows its tiles from the network', async ({
  page,
}) => {
  stack = await startViewerStack();
  await openExample(page, stack, 'leaflet');
  await page.waitForFunction(() => ((globalThis as unknown as Win).tilesLoaded ?? 0) >= 4, undefined, {
    timeout: 20_000,
  });
  const acc = await page.evaluate(() => {
    const a = (globalThis as unknown as Win).acc;
    return a ? { supported: a.supported, controlled: a.controlled } : null;
  });
  // No worker controls the page: either no handle (registration refused) or an unsupported one.
  expect(acc === null || acc.controlled === false).toBe(true);
  const direct = stack.serverRequests.filter((u) => /^\/api\/tiles\/sample\/\d+\//.test(u));
  expect(direct.length).toBeGreaterThanOrEqual(4);
  expect(stack.serverRequests.some((u) => u.includes('/batch'))).toBe(false);
});

test('registerTileAccelerator resolves (unsupported) instead of rejecting when registration is refused', async ({
  page,
}) => {
  stack = await startViewerStack();
  await page.goto(`${stack.serverUrl}/examples/leaflet.html`);
  const outcome = await page.evaluate(async () => {
    const lib = (await import('/tile-accelerator.js' as string)) as {
      registerTileAccelerator(o?: object): Promise<{ supported: boolean }>;
    };
    try {
      const acc = await lib.registerTileAccelerator({ controlTimeoutMs: 2_000 });
      return { resolved: true, supported: acc.supported };
    } catch (e) {
      return { resolved: false, error: String(e) };
    }
  });
  expect(outcome).toMatchObject({ resolved: true, supported: false });
});
