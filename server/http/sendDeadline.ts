import type { ServerResponse } from 'node:http';
import type { SendDeadline } from './drainOrClose.js';
import type { ServerContext } from './ServerContext.js';

/**
 * The SEND_TIMEOUT_MS deadline for one response's writes: a stall is counted
 * (`ctx.counters.sendStalls`, tile_send_stalls_total) and logged once at warn
 * (the response is destroyed right after, so it cannot stall twice).
 */
export function sendDeadline(ctx: ServerContext, res: ServerResponse, route: string): SendDeadline {
  const ms = ctx.config.sendTimeoutMs;
  return {
    ms,
    onStall: () => {
      ctx.counters.sendStalls++;
      ctx.log.warn(
        { route, url: res.req.url, client: res.socket?.remoteAddress, sendTimeoutMs: ms },
        'send stalled: the client took nothing for SEND_TIMEOUT_MS; response cut',
      );
    },
  };
}
