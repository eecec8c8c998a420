import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import { MissGuard } from './MissGuard.js';

/** A request whose socket address counts how often it is read. */
function req(address: string): { req: IncomingMessage; reads: () => number } {
  let reads = 0;
  const socket = {
    get remoteAddress() {
      reads++;
      return address;
    },
  };
  return { req: { socket, headers: {} } as unknown as IncomingMessage, reads: () => reads };
}

const at = 1_000_000;
const guard = (burst: number) =>
  new MissGuard({ budget: { perSec: 2, burst, maxClients: 10, now: () => at }, trustProxy: false });

describe('MissGuard', () => {
  it('charges one client per request, resolving its address once, and refuses past the burst', () => {
    const g = guard(3);
    const r = req('127.0.0.2');
    const t = g.ticket(r.req);
    expect([t.take(), t.take(), t.take()]).toEqual([undefined, undefined, undefined]);
    const refused = t.take();
    expect(isTileError(refused, 'RATE_LIMITED')).toBe(true);
    expect(refused?.details).toMatchObject({ retryAfterSec: 1, limit: 2 });
    expect(t.take()).toBe(refused);
    expect(r.reads()).toBe(1);
    // Two refusals, one request that met the budget.
    expect([g.refused, g.hits]).toEqual([2, 1]);
  });

  it('gives the token back when the answer did not come from the origin', () => {
    const g = guard(1);
    const t = g.ticket(req('127.0.0.3').req);
    expect(t.take()).toBeUndefined();
    t.settle('shared-cache'); // refunded
    expect(t.take()).toBeUndefined();
    t.settle('origin'); // spent
    expect(t.take()).toBeDefined();
  });

  it('a request made only of hits never reads its address; off, nothing is read or refused', () => {
    const g = guard(1);
    const r = req('127.0.0.4');
    g.ticket(r.req);
    expect(r.reads()).toBe(0);
    const off = new MissGuard({ budget: undefined, trustProxy: false });
    const o = req('127.0.0.5');
    const t = off.ticket(o.req);
    for (let i = 0; i < 100; i++) expect(t.take()).toBeUndefined();
    expect([o.reads(), off.refused, off.hits, off.budget]).toEqual([0, 0, 0, undefined]);
  });
});
