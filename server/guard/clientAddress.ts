import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import proxyAddr from 'proxy-addr';

/**
 * TRUST_PROXY, as Express's `trust proxy`: `false` (the socket's address),
 * `true` (the left-most `X-Forwarded-For` entry: only when every hop is
 * yours), a number of proxy hops in front of the server, or a list of proxy
 * addresses / CIDR ranges / `loopback` `linklocal` `uniquelocal`.
 */
export type TrustProxy = boolean | number | readonly string[];

/** Throws (proxy-addr's TypeError) on an address or range it cannot parse. */
export function compileTrust(trust: TrustProxy): ((addr: string, i: number) => boolean) | undefined {
  if (trust === false || trust === 0) return undefined;
  if (trust === true) return () => true;
  if (typeof trust === 'number') return (_addr, i) => i < trust;
  return proxyAddr.compile([...trust]);
}

/**
 * The client address of a request: the socket's peer, or with a trusted
 * proxy the first `X-Forwarded-For` entry (from the right) that is not one of
 * the trusted hops. Without TRUST_PROXY the header is never read, so a client
 * cannot pick its own bucket.
 */
export function clientAddressResolver(trust: TrustProxy): (req: IncomingMessage) => string {
  const fn = compileTrust(trust);
  if (fn === undefined) return (req) => req.socket.remoteAddress ?? '';
  return (req) => proxyAddr(req, fn);
}

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The budget's bucket of an address: IPv4 as is, IPv6 by its /64 (one
 * subscriber line gets a whole /64, so a bucket per address would hand one
 * client 2^64 budgets), IPv4-mapped IPv6 as the IPv4 it maps.
 */
export function bucketKey(addr: string): string {
  const mapped = MAPPED_V4.exec(addr);
  if (mapped) return mapped[1]!;
  const pct = addr.indexOf('%');
  const a = pct < 0 ? addr : addr.slice(0, pct);
  if (!isIPv6(a)) return a;
  const gap = a.indexOf('::');
  const head = (gap < 0 ? a : a.slice(0, gap)).split(':').filter(Boolean);
  let groups = head;
  if (gap >= 0 && head.length < 4) {
    const tail = a
      .slice(gap + 2)
      .split(':')
      .filter(Boolean);
    // An embedded IPv4 tail (a.b.c.d) fills two groups.
    const tailGroups = tail.length + (tail.at(-1)?.includes('.') ? 1 : 0);
    groups = [...head, ...new Array<string>(8 - head.length - tailGroups).fill('0'), ...tail];
  }
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
