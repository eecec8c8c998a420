import { maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ErrorCode, errorBody } from '../../src/protocol/errors.js';

/** What a request Node's HTTP parser refused is answered with: status, reason phrase, code, message. */
export function clientErrorAnswer(parserCode: string | undefined): [number, string, ErrorCode, string] {
  switch (parserCode) {
    case 'HPE_HEADER_OVERFLOW':
      return [
        431,
        'Request Header Fields Too Large',
        'HEADERS_TOO_LARGE',
        `request headers are limited to ${maxHeaderSize} bytes`,
      ];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout', 'DEADLINE_EXCEEDED', 'the request was not received in time'];
    default:
      return [400, 'Bad Request', 'BAD_REQUEST', 'malformed HTTP request'];
  }
}

/**
 * The server's `clientError` listener: a request the HTTP parser refused
 * (oversized header block, control characters or NUL in the request line,
 * a bad header, a request timeout) gets the same JSON error shape and headers
 * as every other answer, then the connection is closed. A socket that is gone,
 * or already carries a response, is destroyed instead (raw bytes would corrupt it).
 */
export function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  const busy = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (err.code === 'ECONNRESET' || !socket.writable || busy) {
    socket.destroy();
    return;
  }
  const [status, reason, code, message] = clientErrorAnswer(err.code);
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      'Connection: close\r\n' +
      `\r\n${body}`,
  );
}
