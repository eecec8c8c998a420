import { describe, expect, it } from 'vitest';
import { TileError } from '../protocol/errors.js';
import { errorFromSignal } from './errorFromSignal.js';

describe('errorFromSignal', () => {
  it('maps a TimeoutError reason to DEADLINE_EXCEEDED', () => {
    const c = new AbortController();
    c.abort(new DOMException('t', 'TimeoutError'));
    expect(errorFromSignal(c.signal).code).toBe('DEADLINE_EXCEEDED');
  });

  it('passes a TileError reason through as is', () => {
    const c = new AbortController();
    const why = new TileError('ORIGIN_TIMEOUT', 'origin attempt timed out');
    c.abort(why);
    expect(errorFromSignal(c.signal)).toBe(why);
  });

  it('reads a plain abort as ABORTED, keeping the reason as its cause', () => {
    const c = new AbortController();
    c.abort();
    const e = errorFromSignal(c.signal);
    expect(e.code).toBe('ABORTED');
    expect((e.cause as DOMException).name).toBe('AbortError');
  });
});
