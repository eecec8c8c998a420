import type { IncomingMessage } from 'node:http';
import { TileError } from '../../src/protocol/errors.js';

/**
 * Reads a request body up to `maxBytes` (413 BODY_TOO_LARGE past it, checked
 * against Content-Length first so a huge upload is refused before it is read),
 * with a deadline so a slow-loris body cannot hold the request forever.
 */
export async function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 'NaN');
  if (declared > maxBytes) {
    req.resume();
    throw new TileError('BODY_TOO_LARGE', `request body is limited to ${maxBytes} bytes`, { maxBytes });
  }
  return await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(new TileError('BAD_REQUEST', 'request body too slow')), timeoutMs);
    const fail = (e: TileError) => {
      cleanup();
      req.resume();
      reject(e);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > maxBytes)
        fail(new TileError('BODY_TOO_LARGE', `request body is limited to ${maxBytes} bytes`, { maxBytes }));
      else chunks.push(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = () => fail(new TileError('ABORTED', 'client went away'));
    const cleanup = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
  });
}
