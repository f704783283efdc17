import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { locate, sourceAt } from './positions.js';
import type { Path } from './problem.js';

const text = [
  'cluster:', //                      1
  '  name: demo', //                  2
  'ssh:', //                          3
  'hosts:', //                        4
  '  - name: cp1', //                 5
  '    address: 10.0.0.10', //        6
  '    labels: { zone: a }', //       7
  '  - name: w1', //                  8
  '    ssh: &shared', //              9
  '      port: 2222', //              10
  'kubernetes:', //                   11
  '  version: 1.30', //               12
  'alias: *shared', //                13
].join('\n');

const lineCounter = new LineCounter();
const doc = parseDocument(text, { lineCounter });
const at = (path: Path, where?: 'value' | 'key') => {
  const { line, col } = locate(doc, lineCounter, path, where);
  return `${line}:${col}`;
};

describe('locate', () => {
  it('finds values in maps and lists', () => {
    expect(at(['cluster', 'name'])).toBe('2:9');
    expect(at(['hosts', 0, 'address'])).toBe('6:14');
    expect(at(['hosts', 1])).toBe('8:5');
    expect(at(['hosts', 0, 'labels', 'zone'])).toBe('7:21');
    expect(at(['hosts', 1, 'ssh', 'port'])).toBe('10:13');
  });

  it('finds keys when asked', () => {
    expect(at(['hosts', 0, 'labels', 'zone'], 'key')).toBe('7:15');
    expect(at(['cluster'], 'key')).toBe('1:1');
  });

  it('points a missing key at the parent entry', () => {
    expect(at(['hosts', 1, 'address'])).toBe('8:5');
    expect(at(['hosts', 0, 'labels', 'region'])).toBe('7:5');
    expect(at(['containerd', 'bundle'])).toBe('1:1');
    expect(at(['hosts', 7, 'name'])).toBe('4:1');
  });

  it('points an entry with an empty value at its key', () => {
    expect(at(['ssh'])).toBe('3:1');
  });

  it('follows aliases to the anchored value', () => {
    expect(at(['alias', 'port'])).toBe('10:13');
  });

  it('points at 1:1 in an empty document', () => {
    const empty = new LineCounter();
    expect(locate(parseDocument('', { lineCounter: empty }), empty, ['a'])).toEqual({ line: 1, col: 1 });
  });
});

describe('sourceAt', () => {
  it('returns what the user typed for a scalar', () => {
    expect(sourceAt(doc, ['kubernetes', 'version'])).toBe('1.30');
    expect(sourceAt(doc, ['hosts', 1, 'ssh', 'port'])).toBe('2222');
  });

  it('returns nothing for collections and missing paths', () => {
    expect(sourceAt(doc, ['hosts'])).toBeUndefined();
    expect(sourceAt(doc, ['kubernetes', 'bundle'])).toBeUndefined();
  });
});
