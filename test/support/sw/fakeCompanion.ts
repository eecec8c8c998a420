import {
  BATCH_MEDIA_TYPE,
  type BatchFrame,
  encodeBatchHeader,
  encodeFrame,
} from '../../../src/protocol/batchFraming.js';

/**
 * A fake companion for worker tests: answers binary POST batches (a key at
 * z 9 is MISSING) and single tiles, logs every batch's keys, and can hold
 * batches until the test releases them (`hold`), to look at what is in flight.
 */
export function fakeCompanion() {
  const state = { batches: [] as string[][], singles: [] as string[], held: [] as Array<() => void> };
  let holding = false;
  const body = (key: string) => new TextEncoder().encode(`tile ${key}`);
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (!url.endsWith('/batch')) {
      state.singles.push(url);
      return new Response(body(url), { headers: { 'Content-Type': 'image/jpeg' } });
    }
    const keys = (JSON.parse(String(init?.body)) as { tiles: string[] }).tiles;
    state.batches.push(keys);
    if (holding) await new Promise<void>((resolve) => state.held.push(resolve));
    init?.signal?.throwIfAborted();
    const chunks: Uint8Array[] = [encodeBatchHeader()];
    for (const k of keys) {
      const f: BatchFrame = k.startsWith('9/')
        ? { kind: 'missing', key: k }
        : { kind: 'tile', key: k, meta: { contentType: 'image/jpeg', etag: `"${k}"` }, body: body(k) };
      chunks.push(...encodeFrame(f));
    }
    chunks.push(...encodeFrame({ kind: 'end', trailer: { count: keys.length, generation: 1 } }));
    return new Response(new Blob(chunks as Uint8Array<ArrayBuffer>[]).stream(), {
      headers: { 'Content-Type': BATCH_MEDIA_TYPE, 'X-Tile-Generation': '1' },
    });
  }) as typeof globalThis.fetch;
  return {
    state,
    fetch,
    /** Bytes of the body the fake answers for `key`. */
    bytes: (key: string) => body(key).byteLength,
    /** Batches wait from now on until `release`. */
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const r of state.held.splice(0)) r();
    },
    keys: () => state.batches.flat(),
  };
}
