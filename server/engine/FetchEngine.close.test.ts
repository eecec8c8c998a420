import { afterEach, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import {
  type EngineFixture,
  rejection,
  startEngineFixture,
  until,
} from '../../test/support/server/testOrigin.js';

let fx: EngineFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});
const live = () => new AbortController().signal;

it('close() answers in-flight and queued callers, cancels the origin request and refuses new calls', async () => {
  fx = await startEngineFixture({ files: { a: 'A', b: 'B' }, hang: true }, { concurrency: 1 });
  const inFlight = rejection(fx.engine.getBytes('a', live()));
  const queued = rejection(fx.engine.getBytes('b', live()));
  await until(() => fx!.mock.count('a') === 1);
  await fx.engine.close();
  expect(isTileError(await inFlight, 'ORIGIN_UNAVAILABLE')).toBe(true);
  expect(isTileError(await queued, 'ORIGIN_UNAVAILABLE')).toBe(true);
  await until(() => fx!.mock.aborted() === 1);
  expect(isTileError(await rejection(fx.engine.getBytes('a', live())), 'ORIGIN_UNAVAILABLE')).toBe(true);
  await fx.engine.close(); // idempotent
});
