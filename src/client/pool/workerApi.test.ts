import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Stack } from '../../../e2e/harness/startStack.js';
import { startFaultStack } from '../../../test/support/server/faultKit.js';
import { decodeJsonBatchBody } from './jsonBatchBody.js';
import { loadJsonBatchDecoder } from './wasmCodecs.js';
import { createCodecWorkerApi } from './workerApi.js';

const keys = ['3/0/0.jpg', '3/1/0.jpg', '3/2/0.jpg', '3/3/0.jpg'];
const files: Record<string, Buffer> = {};
for (const k of keys) files[`ds/${k}`] = randomBytes(4096);

const b64 = (ascii: Uint8Array) =>
  new Uint8Array(Buffer.from(Buffer.from(ascii).toString('latin1'), 'base64'));

describe('the pool worker fetching a real JSON batch', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  for (const [name, decoder] of [
    ['plain decoder', async () => (b: Uint8Array) => decodeJsonBatchBody(b, b64)],
    ['the codec fast path (or its fallback)', loadJsonBatchDecoder],
  ] as const) {
    it(`${name}: tiles refused by BATCH_MAX_BYTES come back null with their coded error, the rest byte-exact`, async () => {
      // two 4 KiB tiles fit in 10 000 bytes, the other two are refused
      stack = await startFaultStack({ origin: { files }, config: { batchMaxBytes: 10_000 } });
      const api = createCodecWorkerApi({
        codecs: () => Promise.reject(new Error('unused')),
        jsonBatch: decoder,
      });
      const url = new URL(`${stack.serverUrl}/api/tiles/ds/batch`);
      for (const k of keys) url.searchParams.append('tiles', k);
      const reply = await api.fetchJsonBatch({ url: url.href, timeoutMs: 10_000 });
      if (!reply.ok) throw new Error(`${reply.code}: ${reply.message}`);
      const sent = keys.filter((k) => reply.value.tiles[k] != null);
      expect(sent).toHaveLength(2);
      for (const k of sent) expect(Buffer.from(reply.value.tiles[k]!).equals(files[`ds/${k}`]!)).toBe(true);
      const refused = keys.filter((k) => reply.value.tiles[k] === null);
      expect(Object.keys(reply.value.errors ?? {}).sort()).toEqual(refused.sort());
      for (const k of refused)
        expect(reply.value.errors?.[k]).toMatchObject({ code: 'BATCH_TOO_LARGE', limit: 10_000 });
      expect(stack.origin.count()).toBeGreaterThanOrEqual(2);
    });
  }
});
