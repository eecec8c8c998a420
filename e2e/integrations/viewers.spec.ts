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

// Each example page is the viewer's own code plus one registerTileAccelerator() call.
for (const [name, example] of [
  ['Leaflet', 'leaflet'],
  ['MapLibre', 'maplibre'],
  ['OpenLayers', 'openlayers'],
  ['OpenSeadragon', 'openseadragon'],
] as const) {
  test(`an unmodified ${name} viewer loads the sample tiles through the worker`, async ({ page }) => {
    stack = await startViewerStack();
    const tiles = await openExample(page, stack, example);
    await expectTilesThroughWorker(page, stack, tiles, 4);
  });
}
