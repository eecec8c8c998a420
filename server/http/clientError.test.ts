import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { clientErrorAnswer, onClientError } from './clientError.js';

/** A socket stand-in that records what is written and whether it was ended or destroyed. */
function fakeSocket(extra: Record<string, unknown> = {}) {
  const written: Buffer[] = [];
  const s = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(Buffer.from(chunk));
      cb();
    },
  });
  Object.assign(s, extra);
  return { s, text: () => Buffer.concat(written).toString('latin1') };
}

function err(code: string): Error & { code: string } {
  return Object.assign(new Error(`parse error ${code} at /work/secret`), { code });
}

describe('clientError handler', () => {
  it('maps parser codes: header overflow 431, request timeout 408, anything else 400', () => {
    expect(clientErrorAnswer('HPE_HEADER_OVERFLOW').slice(0, 3)).toEqual([
      431,
      'Request Header Fields Too Large',
      'HEADERS_TOO_LARGE',
    ]);
    expect(clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT').slice(0, 3)).toEqual([
      408,
      'Request Timeout',
      'DEADLINE_EXCEEDED',
    ]);
    for (const c of ['HPE_INVALID_METHOD', 'HPE_INVALID_HEADER_TOKEN', undefined])
      expect(clientErrorAnswer(c).slice(0, 3)).toEqual([400, 'Bad Request', 'BAD_REQUEST']);
  });

  it('writes a complete JSON answer with nosniff and closes; never the parser message', async () => {
    const { s, text } = fakeSocket();
    onClientError(err('ERR_HTTP_REQUEST_TIMEOUT'), s);
    await new Promise((r) => setImmediate(r));
    const t = text();
    const [head, body] = t.split('\r\n\r\n') as [string, string];
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(head).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/);
    expect(head).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/);
    expect(head).toMatch(new RegExp(`\\r\\nContent-Length: ${Buffer.byteLength(body)}\\r\\n`));
    expect(JSON.parse(body)).toEqual({
      error: { code: 'DEADLINE_EXCEEDED', message: 'the request was not received in time' },
    });
    expect(t).not.toContain('/work/secret');
    expect(s.writableEnded).toBe(true);
  });

  it('destroys instead of writing when the peer reset, the socket is not writable, or a response is under way', () => {
    for (const [what, e, extra] of [
      ['reset', err('ECONNRESET'), {}],
      ['response under way', err('HPE_INVALID_METHOD'), { _httpMessage: { headersSent: true } }],
    ] as const) {
      const { s, text } = fakeSocket(extra);
      onClientError(e, s);
      expect(s.destroyed, what).toBe(true);
      expect(text(), what).toBe('');
    }
    const { s, text } = fakeSocket();
    s.end();
    onClientError(err('HPE_INVALID_METHOD'), s);
    expect(s.destroyed).toBe(true);
    expect(text()).toBe('');
  });
});
