import { describe, expect, it } from 'vitest';
import { TileError } from '../../src/protocol/errors.js';
import { FrameBatcher } from './FrameBatcher.js';
import type { FrameWriter } from './FrameWriter.js';

function fakeWriter(fail?: Error) {
  const calls: number[][] = [];
  const w = {
    async write(chunks: readonly Uint8Array[]) {
      calls.push(chunks.map((c) => c[0]!));
      if (fail) throw fail;
    },
  } as unknown as FrameWriter;
  return { w, calls };
}

const frame = (n: number) => [new Uint8Array([n])];

describe('FrameBatcher', () => {
  it('hands frames queued in one turn to the writer in one call, in order', async () => {
    const { w, calls } = fakeWriter();
    const b = new FrameBatcher(w);
    await Promise.all([b.write(frame(1)), b.write(frame(2)), b.write(frame(3))]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('starts a new group for frames queued after the previous one left', async () => {
    const { w, calls } = fakeWriter();
    const b = new FrameBatcher(w);
    await b.write(frame(1));
    await new Promise((r) => setImmediate(r));
    const p = b.write(frame(2));
    const q = b.write(frame(3));
    await Promise.all([p, q]);
    expect(calls).toEqual([[1], [2, 3]]);
  });

  it('rejects every frame of a group the writer refuses (client gone)', async () => {
    const { w } = fakeWriter(new TileError('ABORTED', 'client went away'));
    const b = new FrameBatcher(w);
    const results = await Promise.allSettled([b.write(frame(1)), b.write(frame(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
