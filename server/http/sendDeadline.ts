import type { ServerResponse } from 'node:http';
import type { SendDeadline } from './drainOrClose.js';
import type { ServerContext } from './ServerContext.js';

// Send stalls per server, keyed by its context (tests run several servers in one process).
const stalls = new WeakMap<ServerContext, number>();

/** Responses cut because their client stopped reading (tile_send_stalls_total). */
export function sendStalls(ctx: ServerContext): number {
  return stalls.get(ctx) ?? 0;
}

/**
 * The SEND_TIMEOUT_MS deadline for one response's writes: a stall is counted
 * and logged once at warn (the response is destroyed right after, so it
 * cannot stall twice).
 */
export function sendDeadline(ctx: ServerContext, res: ServerResponse, route: string): SendDeadline {
  const ms = ctx.config.sendTimeoutMs;
  return {
    ms,
    onStall: () => {
      stalls.set(ctx, sendStalls(ctx) + 1);
      ctx.log.warn(
        { route, url: res.req.url, client: res.socket?.remoteAddress, sendTimeoutMs: ms },
        'send stalled: the client took nothing for SEND_TIMEOUT_MS; response cut',
      );
    },
  };
}
