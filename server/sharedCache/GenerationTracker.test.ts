import { describe, expect, it } from 'vitest';
import { GenerationTracker } from './GenerationTracker.js';

describe('GenerationTracker', () => {
  it('allows writes only under the Redis generation read with the same local generation', () => {
    const t = new GenerationTracker();
    expect(t.expected('ds', 0)).toBeUndefined(); // nothing read yet: no write
    expect(t.observe('ds', 0, 4)).toBe('ok');
    expect(t.expected('ds', 0)).toBe(4);
    expect(t.expected('ds', 1)).toBeUndefined();
    expect(t.expected('other', 0)).toBeUndefined();
  });

  it('reports a remote clear when Redis moves ahead under the same local generation', () => {
    const t = new GenerationTracker();
    t.observe('ds', 2, 4);
    expect(t.observe('ds', 2, 5)).toBe('remote-clear');
    t.forget('ds');
    expect(t.expected('ds', 2)).toBeUndefined();
    expect(t.observe('ds', 3, 5)).toBe('ok');
    expect(t.expected('ds', 3)).toBe(5);
  });

  it('follows a local clear and ignores reads of fetches begun before it', () => {
    const t = new GenerationTracker();
    t.observe('ds', 0, 0);
    expect(t.observe('ds', 1, 1)).toBe('ok'); // this instance cleared: both moved
    expect(t.observe('ds', 0, 1)).toBe('ok'); // an older fetch reads late: changes nothing
    expect(t.expected('ds', 0)).toBeUndefined();
    expect(t.expected('ds', 1)).toBe(1);
  });

  it('starts over when Redis lost its data (generation went down)', () => {
    const t = new GenerationTracker();
    t.observe('ds', 0, 7);
    expect(t.observe('ds', 0, 0)).toBe('ok');
    expect(t.expected('ds', 0)).toBe(0);
  });
});
