import { describe, expect, it } from 'vitest';
import { diffTable, summarise } from './heapDiff.js';

const meta = {
  node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'],
  node_types: [['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native']],
};
const strings = ['Map', 'system / JSArrayBufferData', 'abc', 'Response'];
// [type, name, id, self_size, edge_count]
const start = {
  snapshot: { meta },
  strings,
  nodes: [3, 0, 1, 100, 0, 3, 0, 3, 50, 0, 8, 1, 5, 4096, 0, 2, 2, 7, 24, 0],
};
const end = {
  snapshot: { meta },
  strings,
  nodes: [...start.nodes, 8, 1, 9, 8192, 0, 3, 3, 11, 64, 0, 3, 3, 13, 64, 0],
};

describe('heapDiff', () => {
  it('groups objects by constructor and the rest by node type, summing self sizes', () => {
    const s = summarise(start);
    expect(s.nodes).toBe(4);
    expect(s.total).toBe(100 + 50 + 4096 + 24);
    expect(s.groups.get('Map')).toEqual({ count: 2, self: 150 });
    expect(s.groups.get('(native) system / JSArrayBufferData')).toEqual({ count: 1, self: 4096 });
    expect(s.groups.get('(string)')).toEqual({ count: 1, self: 24 });
  });

  it('lists the groups that moved most first, with counts and deltas', () => {
    const t = diffTable(summarise(start), summarise(end), 2);
    const rows = t
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| constructor') && !l.startsWith('| ---'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toBe('| (native) system / JSArrayBufferData | 1 → 2 | 4 → 12 | +8 |');
    expect(rows[1]).toBe('| Response | 0 → 2 | 0 → 0 | +0 |');
    expect(t).toContain('nodes 4 → 7');
  });
});
