import { describe, expect, it } from 'vitest';
import { dumpTable, pssTable } from './memorySeries.js';

describe('memorySeries', () => {
  it('picks one memory.csv row every N minutes plus the last, leaving out the count columns', () => {
    const csv = [
      'min,browser,renderers,total',
      '0,10,4,20',
      '0.5,11,4,21',
      '1.1,12,4,22',
      '1.9,13,4,23',
    ].join('\n');
    const rows = pssTable(csv, 1).split('\n');
    expect(rows[0]).toBe('| min | browser | total |');
    expect(rows.slice(2)).toEqual(['| 0 | 10.0 | 20.0 |', '| 1 | 12.0 | 22.0 |', '| 2 | 13.0 | 23.0 |']);
  });

  it('lists, per process kind, the allocators that moved at least 5 MB, largest growth first', () => {
    const d = (buffer: number, malloc: number, v8: number) => ({ 'renderer+sw': { buffer, malloc, v8 } });
    const t = dumpTable([
      { min: 0, label: 'start', dump: d(10, 5, 3) },
      { min: 5, label: 'walk', dump: d(60, 12, 4) },
      { min: 10, label: 'end', dump: d(110, 20, 3) },
    ]);
    expect(t.split('\n')).toEqual([
      '| kind / allocator (MB) | 0 min start | 5 min | 10 min end |',
      '| --- | --- | --- | --- |',
      '| renderer+sw buffer | 10.0 | 60.0 | 110.0 |',
      '| renderer+sw malloc | 5.0 | 12.0 | 20.0 |',
    ]);
  });
});
