import { describe, expect, it } from 'vitest';
import { BreakerMachine } from './BreakerMachine.js';

function machine(openMs = 5000) {
  const clock = { t: 0 };
  return { m: new BreakerMachine(openMs, () => clock.t), clock };
}

describe('BreakerMachine', () => {
  it('passes every call while closed', () => {
    const { m } = machine();
    expect(m.state).toBe('closed');
    for (let i = 0; i < 5; i++) expect(m.enter()).toBe('pass');
  });

  it('refuses while open, then lets exactly one trial through after openMs', () => {
    const { m, clock } = machine();
    clock.t = 1000;
    m.open();
    expect(m.state).toBe('open');
    expect(m.enter()).toBe('refused');
    expect(m.remainingMs).toBe(5000);
    clock.t = 5999;
    expect(m.enter()).toBe('refused');
    expect(m.remainingMs).toBe(1);
    clock.t = 6000;
    expect(m.state).toBe('half-open');
    expect(m.phase).toBe('open'); // not moved until someone enters
    expect(m.enter()).toBe('trial');
    expect(m.phase).toBe('half-open');
    expect(m.enter()).toBe('refused'); // one trial at a time
    expect(m.enter()).toBe('refused');
  });

  it('closes on the trial success, re-opens on its failure from then on', () => {
    const { m, clock } = machine();
    m.open();
    clock.t = 5000;
    expect(m.enter()).toBe('trial');
    m.open(); // the trial failed
    expect(m.state).toBe('open');
    expect(m.enter()).toBe('refused');
    clock.t = 9999;
    expect(m.enter()).toBe('refused'); // the new open period runs from the failure
    clock.t = 10_000;
    expect(m.enter()).toBe('trial');
    m.close();
    expect(m.state).toBe('closed');
    expect(m.enter()).toBe('pass');
  });

  it('a cancelled trial frees the slot for the next caller; a non-trial cancel does not', () => {
    const { m, clock } = machine();
    m.open();
    clock.t = 5000;
    expect(m.enter()).toBe('trial');
    m.cancel(false);
    expect(m.enter()).toBe('refused');
    m.cancel(true);
    expect(m.state).toBe('half-open');
    expect(m.enter()).toBe('trial');
  });

  it('expire ends the open period at once; it leaves a closed machine alone', () => {
    const { m, clock } = machine();
    m.expire();
    expect(m.state).toBe('closed');
    clock.t = 100;
    m.open();
    expect(m.enter()).toBe('refused');
    m.expire();
    expect(m.state).toBe('half-open');
    expect(m.remainingMs).toBe(0);
    expect(m.enter()).toBe('trial');
  });
});
