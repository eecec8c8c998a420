/**
 * Stable error codes shared by the server, the service worker, the page and
 * the codecs. Tests assert the code, never the message.
 */
export type ErrorCode =
  // request validation
  | 'BAD_DATASET'
  | 'BAD_TILE_KEY'
  | 'BAD_EXTENSION'
  | 'BAD_RANGE'
  | 'BAD_REQUEST'
  | 'TOO_MANY_TILES'
  | 'BODY_TOO_LARGE'
  | 'QUERY_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'BATCH_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'RANGE_NOT_SATISFIABLE'
  // a client's budget of origin misses is spent (server/guard/MissBudget.ts): 429 + Retry-After
  | 'RATE_LIMITED'
  // origin and fetch engine
  | 'ORIGIN_ERROR'
  | 'ORIGIN_TIMEOUT'
  | 'ORIGIN_UNAVAILABLE'
  | 'CIRCUIT_OPEN'
  | 'OVERLOADED'
  | 'DEADLINE_EXCEEDED'
  | 'ABORTED'
  // wire formats and codecs
  | 'BAD_FRAME'
  | 'TRUNCATED'
  | 'BAD_BASE64'
  | 'BAD_DDS'
  | 'BAD_ARCHIVE'
  | 'BAD_DESCRIPTOR'
  | 'BAD_IMAGE'
  | 'IMAGE_TOO_LARGE'
  | 'BAD_CONFIG'
  // page worker pool (src/client/pool)
  | 'WORKER_CRASHED'
  | 'UNSUPPORTED'
  | 'INTERNAL';

/** Base error of the project: a code from {@link ErrorCode} plus structured details. */
export class TileError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TileError';
    this.code = code;
    this.details = details;
  }
}

/** The JSON body every error response carries: `{"error": {"code", "message"}}`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; [extra: string]: unknown };
}

export function errorBody(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): ErrorBody {
  return { error: { ...extra, code, message } };
}

export function isTileError(e: unknown, code?: ErrorCode): e is TileError {
  return e instanceof TileError && (code === undefined || e.code === code);
}
