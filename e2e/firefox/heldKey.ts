import type { TileEngine } from '../../server/engineContract.js';

export interface HeldKey {
  /** For startStack's `wrapEngine`: the server's engine, holding `key` until release(). */
  wrap(engine: TileEngine): TileEngine;
  /** Resolves when the server has asked its engine for the key (the request is then held). */
  arrived(timeoutMs?: number): Promise<void>;
  release(): void;
}

/**
 * A barrier in the companion server: its engine does not start on `key`
 * until the test releases it, so a test can line up other requests behind
 * one in flight without guessing how long that request takes.
 */
export function holdKey(key: string): HeldKey {
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let arrive!: () => void;
  const arrivedP = new Promise<void>((r) => {
    arrive = r;
  });
  return {
    wrap: (engine) => ({
      stats: () => engine.stats(),
      close: () => engine.close(),
      getStream: (k, o) => engine.getStream(k, o),
      getRange: (k, r, s) => engine.getRange(k, r, s),
      getBytes: async (k, signal) => {
        if (k === key) {
          arrive();
          await released;
        }
        return engine.getBytes(k, signal);
      },
    }),
    arrived: (timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`the server was not asked for ${key} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        void arrivedP.then(() => {
          clearTimeout(t);
          resolve();
        });
      }),
    release,
  };
}
