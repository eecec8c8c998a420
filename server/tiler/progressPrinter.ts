import type { TileProgress } from './tileImage.js';
import type { UploadProgress } from './uploadDataset.js';

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

/**
 * Human progress on stderr: on a terminal one line rewritten in place (at
 * most 10 times a second); in a log or a pipe one line per finished level
 * and per tenth of an upload, so CI logs stay short.
 */
export class ProgressPrinter {
  #lastDraw = 0;
  #levelStart = Date.now();
  #lastTenth = -1;

  constructor(
    private readonly out: ProgressStream,
    private readonly now: () => number = Date.now,
  ) {}

  #draw(line: string, final: boolean): void {
    if (this.out.isTTY) {
      const t = this.now();
      if (!final && t - this.#lastDraw < 100) return;
      this.#lastDraw = t;
      this.out.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    } else if (final) {
      this.out.write(`${line}\n`);
    }
  }

  tile(p: TileProgress): void {
    if (p.phase === 'resize') {
      this.#draw(`resizing level ${p.z} to ${p.width}x${p.height}`, !this.out.isTTY);
      return;
    }
    if (p.done === 0) this.#levelStart = this.now();
    const final = p.done === p.total;
    const secs = final ? ` in ${((this.now() - this.#levelStart) / 1000).toFixed(1)} s` : '';
    this.#draw(`level ${p.z}: ${p.done}/${p.total} tiles${secs}`, final);
  }

  upload(p: UploadProgress): void {
    const tenth = Math.floor((p.done * 10) / p.total);
    const final = p.done === p.total;
    const line = `upload: ${p.done}/${p.total} (${p.uploaded} sent, ${p.skipped} already there, ${(p.bytes / 1e6).toFixed(1)} MB)`;
    if (this.out.isTTY) {
      this.#draw(line, final);
    } else if (tenth !== this.#lastTenth || final) {
      this.#lastTenth = tenth;
      this.out.write(`${line}\n`);
    }
  }
}
