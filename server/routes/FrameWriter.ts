import type { ServerResponse } from 'node:http';
import { TileError } from '../../src/protocol/errors.js';
import { drainOrClose } from '../http/drainOrClose.js';

/**
 * Writes whole frames to a response, honouring backpressure: when the socket
 * buffer is full, later frames wait for `drain` (or fail when the client
 * leaves). A frame's chunks are written together, so frames never interleave.
 */
export class FrameWriter {
  private blocked: Promise<void> | undefined;

  constructor(private readonly res: ServerResponse) {}

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    while (this.blocked) await this.blocked;
    if (this.res.destroyed || this.res.writableEnded) throw new TileError('ABORTED', 'client went away');
    let ok = true;
    for (const c of chunks) ok = this.res.write(c) && ok;
    if (!ok) {
      this.blocked = drainOrClose(this.res).then(() => {
        this.blocked = undefined;
      });
      await this.blocked;
    }
  }
}
