import { TileError } from '../protocol/errors.js';

/**
 * The TileError an aborted signal stands for: its own TileError reason (a
 * deadline, a shutdown), a timeout (`AbortSignal.timeout`), or a plain abort.
 * The primitives here reject with it, so a wait cut by a deadline still reads
 * as slow and not as a client that left.
 */
export function errorFromSignal(signal: AbortSignal): TileError {
  const r: unknown = signal.reason;
  if (r instanceof TileError) return r;
  if (r instanceof Error && r.name === 'TimeoutError') {
    return new TileError('DEADLINE_EXCEEDED', 'deadline exceeded', {}, { cause: r });
  }
  return new TileError('ABORTED', 'request aborted', {}, { cause: r });
}
