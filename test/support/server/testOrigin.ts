import {
  type MockOrigin,
  type MockOriginOptions,
  startMockOrigin,
} from '../../../e2e/mockOrigin/MockOrigin.js';
import { FetchEngine, type FetchEngineOptions } from '../../../server/engine/FetchEngine.js';
import { HttpOrigin } from '../../../server/origin/HttpOrigin.js';
import { until as untilMet } from './until.js';

/** Test fixture: the mocked origin on loopback + an HttpOrigin pool + an engine in front. */
export interface EngineFixture {
  mock: MockOrigin;
  origin: HttpOrigin;
  engine: FetchEngine;
  close(): Promise<void>;
}

export async function startEngineFixture(
  mockOptions: MockOriginOptions,
  engineOptions: Partial<FetchEngineOptions> = {},
  connections = 8,
): Promise<EngineFixture> {
  const mock = await startMockOrigin(mockOptions);
  const origin = new HttpOrigin({ baseUrl: mock.url, connections });
  const engine = new FetchEngine(origin, {
    concurrency: 16,
    queueLimit: 1000,
    attemptTimeoutMs: 2000,
    requestTimeoutMs: 5000,
    retries: 2,
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    ...engineOptions,
  });
  return {
    mock,
    origin,
    engine,
    async close() {
      await engine.close();
      await mock.close();
    },
  };
}

/** Resolves to the rejection (or fails the test if it resolved). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** Polls with a deadline that names the condition (see until.ts). */
export function until(cond: () => boolean, ms = 10_000): Promise<void> {
  return untilMet(cond, ms, 5);
}

/** Byte equality without vitest's per-element deep-equal (slow on large arrays). */
export function same(a: Uint8Array | undefined | null, b: Uint8Array): boolean {
  return !!a && a.length === b.length && Buffer.compare(a, b) === 0;
}
