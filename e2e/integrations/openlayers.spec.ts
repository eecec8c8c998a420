import { test } from '@playwright/test';
import {
  expectTilesThroughWorker,
  openExample,
  startViewerStack,
  type ViewerStack,
  webglLaunchOptions,
} from './viewerStack.js';

test.use({ launchOptions: await webglLaunchOptions() });

let stack: ViewerStack | undefined;
test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

test('an unmodified OpenLayers viewer loads the sample tiles through the worker', async ({ page }) => {
  stack = await startViewerStack();
  const tiles = await openExample(page, stack, 'openlayers');
  await expectTilesThroughWorker(page, stack, tiles, 4);
});
