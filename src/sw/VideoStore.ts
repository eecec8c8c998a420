import type { PendingWrite, PersistentTier } from './PersistentTier.js';
import type { TileResult } from './TileResult.js';
import type { WriteBehind } from './WriteBehind.js';

/**
 * Video chunks and sizes on the persistent tier, beside the tiles but never
 * mixed with them: a video's chunks are filed in the index under its own
 * namespace (`video:<url>`, in place of a tile's dataset), so clearing a
 * dataset never takes a video's chunks and a changed file drops only its
 * own. Chunks never enter the memory tier (a played video would push every
 * hot tile out); their writes join the tiles' write-behind groups.
 */
export class VideoStore {
  constructor(
    private readonly persistent: PersistentTier,
    private readonly writes: WriteBehind<PendingWrite>,
  ) {}

  /** The chunk's bytes when persisted (`chunkKey`: the chunk's own URL). */
  async getChunk(chunkKey: string): Promise<Uint8Array | undefined> {
    return (await this.persistent.get(chunkKey))?.body;
  }

  /** Written behind; the promise settles when its group is written (give it to waitUntil). */
  putChunk(chunkKey: string, url: string, r: TileResult): Promise<void> {
    return this.writes.add({ url: chunkKey, dataset: namespace(url), r, prefetched: false });
  }

  /** Drops every chunk of `url` (the file changed upstream). */
  clear(url: string): Promise<number> {
    return this.persistent.clear(namespace(url));
  }

  /** The saved size record of `url`, waiting at most `ms` for the index (a response path). */
  async getInfo(url: string, ms: number): Promise<string | undefined> {
    return (await this.persistent.index.within(ms)).getMeta(namespace(url));
  }

  async setInfo(url: string, info: string): Promise<void> {
    await (await this.persistent.index.write()).setMeta(namespace(url), info);
  }
}

const namespace = (url: string) => `video:${url}`;
