import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { TileError } from '../../src/protocol/errors.js';
import { contentTypeFor } from './contentType.js';
import type { Origin, OriginGetOptions, OriginObject } from './Origin.js';
import { safeKeyPath } from './safeKeyPath.js';

/** Objects from a directory on disk (TILES_DIR), the embedded default origin. */
export class LocalDirOrigin implements Origin {
  readonly name = 'local';
  constructor(private readonly root: string) {}

  async get(key: string, opts: OriginGetOptions): Promise<OriginObject | null> {
    const { signal } = opts;
    if (signal.aborted) throw new TileError('ABORTED', 'aborted before the read');
    const path = safeKeyPath(this.root, key);
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw new TileError('ORIGIN_UNAVAILABLE', `cannot stat ${key}`, { code }, { cause: e });
    }
    if (!st.isFile()) return null;
    const size = st.size;
    // Weak validator from size + mtime, the same as nginx/express static.
    const etag = `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const base = {
      contentType: contentTypeFor(key),
      etag,
      totalSize: size,
      lastModified: st.mtime.toUTCString(),
    };
    if (opts.ifNoneMatch?.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
      return { ...base, status: 304, body: Readable.from([]), contentLength: 0 };
    }
    let status: 200 | 206 = 200;
    let start = 0;
    let end = size - 1;
    if (opts.range) {
      if (opts.range.start >= size) {
        throw new TileError('RANGE_NOT_SATISFIABLE', 'range starts past the end', { size });
      }
      start = opts.range.start;
      end = Math.min(opts.range.end ?? size - 1, size - 1);
      status = 206;
    }
    if (signal.aborted) throw new TileError('ABORTED', 'aborted before the read');
    // `signal` makes the stream destroy itself (and close the fd) on abort.
    const body = size === 0 ? Readable.from([]) : createReadStream(path, { start, end, signal });
    // An abort before anyone reads emits AbortError; unread bodies must not crash the process.
    body.on('error', () => {});
    return { ...base, status, body, contentLength: end - start + 1 };
  }

  async close(): Promise<void> {}
}
