import type { IncomingMessage } from 'node:http';
import { TileError } from '../../src/protocol/errors.js';
import { bucketKey, clientAddressResolver, type TrustProxy } from './clientAddress.js';
import { MissBudget, type MissBudgetOptions } from './MissBudget.js';

export interface MissGuardOptions {
  /** undefined: no budget (MISS_BUDGET_PER_SEC=0), every miss goes to the origin as before. */
  budget: MissBudgetOptions | undefined;
  trustProxy: TrustProxy;
}

/** One request's view of the budget: its tiles' misses are charged to one client. */
export interface MissTicket {
  /** Charges one miss: undefined to go to the origin, or the RATE_LIMITED error to answer the tile with. */
  take(): TileError | undefined;
  /** After the fetch: the token comes back when the answer did not come from the origin. */
  settle(source: string): void;
}

const OPEN: MissTicket = { take: () => undefined, settle: () => {} };

class BudgetTicket implements MissTicket {
  private client: string | undefined;
  private refusal: TileError | undefined;

  constructor(
    private readonly guard: MissGuard,
    private readonly budget: MissBudget,
    private readonly req: IncomingMessage,
  ) {}

  take(): TileError | undefined {
    // Resolved at the first miss only: a request made of hits never reads its address.
    this.client ??= bucketKey(this.guard.addressOf(this.req));
    if (this.budget.take(this.client)) return undefined;
    if (this.refusal === undefined) {
      this.guard.hits++;
      const { perSec, burst } = this.budget.o;
      const retryAfterSec = this.budget.retryAfterSec(this.client);
      this.refusal = new TileError(
        'RATE_LIMITED',
        `this client's budget of origin misses is spent (${perSec}/s, burst ${burst}); retry in ${retryAfterSec} s`,
        { retryAfterSec, limit: perSec },
      );
    }
    return this.refusal;
  }

  settle(source: string): void {
    if (source !== 'origin' && this.client !== undefined) this.budget.refund(this.client);
  }
}

/**
 * Where the routes meet the miss budget: resolves the client address
 * (TRUST_PROXY) and hands out one ticket per request. Off, it hands out a
 * ticket that admits everything and reads nothing.
 */
export class MissGuard {
  readonly budget: MissBudget | undefined;
  readonly addressOf: (req: IncomingMessage) => string;
  /** Requests (a single tile or a batch) that met the budget: one or more of their tiles refused. */
  hits = 0;

  constructor(o: MissGuardOptions) {
    this.budget = o.budget && o.budget.perSec > 0 ? new MissBudget(o.budget) : undefined;
    this.addressOf = clientAddressResolver(o.trustProxy);
  }

  /** Tiles refused by the budget. */
  get refused(): number {
    return this.budget?.refused ?? 0;
  }

  ticket(req: IncomingMessage): MissTicket {
    return this.budget === undefined ? OPEN : new BudgetTicket(this, this.budget, req);
  }
}
