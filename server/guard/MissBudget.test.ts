import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MissBudget } from './MissBudget.js';

describe('MissBudget', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const takeAll = (b: MissBudget, client: string, n: number) => {
    let granted = 0;
    for (let i = 0; i < n; i++) if (b.take(client)) granted++;
    return granted;
  };

  it('grants the burst at once, then refuses and counts every refusal', () => {
    const b = new MissBudget({ perSec: 10, burst: 50, maxClients: 100 });
    expect(takeAll(b, 'a', 80)).toBe(50);
    expect(b.refused).toBe(30);
    expect(b.retryAfterSec('a')).toBe(1);
  });

  it('refills at perSec on the clock, never past the burst', () => {
    const b = new MissBudget({ perSec: 10, burst: 50, maxClients: 100 });
    expect(takeAll(b, 'a', 50)).toBe(50);
    vi.advanceTimersByTime(500); // 5 tokens
    expect(takeAll(b, 'a', 20)).toBe(5);
    vi.advanceTimersByTime(60_000); // far past full
    expect(takeAll(b, 'a', 100)).toBe(50);
  });

  it('says how long until the next token with a slow refill', () => {
    const b = new MissBudget({ perSec: 0.25, burst: 1, maxClients: 100 });
    expect(b.take('a')).toBe(true);
    expect(b.take('a')).toBe(false);
    expect(b.retryAfterSec('a')).toBe(4);
    vi.advanceTimersByTime(3_000);
    expect(b.retryAfterSec('a')).toBe(1);
  });

  it('keeps one bucket per client: one spending its budget leaves the others whole', () => {
    const b = new MissBudget({ perSec: 10, burst: 20, maxClients: 100 });
    expect(takeAll(b, 'flood', 1_000)).toBe(20);
    expect(takeAll(b, 'viewer', 20)).toBe(20);
    expect(b.refused).toBe(980);
  });

  it('gives a token back on refund, up to the burst', () => {
    const b = new MissBudget({ perSec: 1, burst: 3, maxClients: 100 });
    expect(takeAll(b, 'a', 3)).toBe(3);
    b.refund('a');
    expect(b.take('a')).toBe(true);
    b.refund('a');
    b.refund('a');
    b.refund('a');
    b.refund('a');
    expect(takeAll(b, 'a', 10)).toBe(3);
    b.refund('never-seen'); // no bucket: nothing to give back, nothing created
    expect(b.clients).toBe(1);
  });

  it('holds at most maxClients buckets under a flood of addresses', () => {
    const b = new MissBudget({ perSec: 10, burst: 5, maxClients: 1_000 });
    for (let i = 0; i < 100_000; i++) b.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(b.clients).toBe(1_000);
  });
});
