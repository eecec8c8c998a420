import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { bucketKey, clientAddressResolver, compileTrust } from './clientAddress.js';

function req(remote: string, xff?: string): IncomingMessage {
  return {
    socket: { remoteAddress: remote },
    connection: { remoteAddress: remote },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  } as unknown as IncomingMessage;
}

describe('clientAddressResolver (TRUST_PROXY, as Express trust proxy)', () => {
  it('false: the socket address, X-Forwarded-For ignored', () => {
    const of = clientAddressResolver(false);
    expect(of(req('127.0.0.1', '203.0.113.7'))).toBe('127.0.0.1');
    expect(clientAddressResolver(0)(req('10.0.0.1', '203.0.113.7'))).toBe('10.0.0.1');
  });

  it('true: the left-most X-Forwarded-For entry', () => {
    const of = clientAddressResolver(true);
    expect(of(req('127.0.0.1', '198.51.100.1, 203.0.113.7'))).toBe('198.51.100.1');
    expect(of(req('127.0.0.1'))).toBe('127.0.0.1');
  });

  it('a hop count trusts that many proxies from the socket inwards; a spoofed prefix is ignored', () => {
    const one = clientAddressResolver(1);
    expect(one(req('127.0.0.1', 'spoofed, 203.0.113.7'))).toBe('203.0.113.7');
    const two = clientAddressResolver(2);
    expect(two(req('127.0.0.1', '198.51.100.1, 203.0.113.7, 10.0.0.2'))).toBe('203.0.113.7');
  });

  it('a list of proxies trusts only those addresses (and presets and CIDRs)', () => {
    const of = clientAddressResolver(['loopback', '10.0.0.0/8']);
    expect(of(req('127.0.0.1', '203.0.113.7, 10.1.2.3'))).toBe('203.0.113.7');
    // Not from a trusted proxy: its header says nothing.
    expect(of(req('192.0.2.9', '203.0.113.7'))).toBe('192.0.2.9');
    expect(() => compileTrust(['not-an-address'])).toThrow();
  });
});

describe('bucketKey', () => {
  it('keeps IPv4, unmaps IPv4-mapped IPv6 and groups IPv6 by /64', () => {
    expect(bucketKey('127.0.0.2')).toBe('127.0.0.2');
    expect(bucketKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(bucketKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(bucketKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(bucketKey('2001:0db8:0001:0002::')).toBe('2001:db8:1:2::/64');
    expect(bucketKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(bucketKey('::1')).toBe('0:0:0:0::/64');
    expect(bucketKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(bucketKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });
});
