import type { ServerResponse } from 'node:http';
import { TileError } from '../../src/protocol/errors.js';
import { drainOrClose, finishOrClose, type SendDeadline } from '../http/drainOrClose.js';

/**
 * Writes whole frames to a response, honouring backpressure: when the socket
 * buffer is full, later frames wait for `drain` (or fail when the client
 * leaves). A frame's chunks are written together, so frames never interleave.
 * Under a deadline (SEND_TIMEOUT_MS) a client that takes nothing for that
 * long is cut and every write waiting behind it fails with ABORTED.
 */
export class FrameWriter {
  private blocked: Promise<void> | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly deadline?: SendDeadline,
  ) {}

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    while (this.blocked) await this.blocked;
    this.assertOpen();
    let ok = true;
    for (const c of chunks) ok = this.res.write(c) && ok;
    if (!ok) {
      this.blocked = drainOrClose(this.res, this.deadline).then(() => {
        this.blocked = undefined;
      });
      await this.blocked;
      this.assertOpen();
    }
  }

  /** Ends the response and waits until its last bytes are sent (or it is cut). */
  async end(): Promise<void> {
    while (this.blocked) await this.blocked;
    this.assertOpen();
    this.res.end();
    await finishOrClose(this.res, this.deadline);
  }

  private assertOpen(): void {
    if (this.res.destroyed || this.res.writableEnded) throw new TileError('ABORTED', 'client went away');
  }
}
