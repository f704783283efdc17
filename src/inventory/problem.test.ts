import { describe, expect, it } from 'vitest';
import { formatPath, showValue } from './problem.js';

describe('formatPath', () => {
  it('writes paths the way the inventory nests them', () => {
    expect(formatPath([])).toBe('inventory');
    expect(formatPath(['cluster', 'name'])).toBe('cluster.name');
    expect(formatPath(['hosts', 1, 'ssh', 'port'])).toBe('hosts[1].ssh.port');
    expect(formatPath(['containerd', 'registryMirrors', 'docker.io', 0])).toBe('containerd.registryMirrors["docker.io"][0]');
  });
});

describe('showValue', () => {
  it('quotes strings and names other kinds of value', () => {
    expect(showValue('cp1')).toBe('"cp1"');
    expect(showValue(22)).toBe('22');
    expect(showValue(false)).toBe('false');
    expect(showValue(null)).toBe('nothing');
    expect(showValue([1])).toBe('a list');
    expect(showValue({ a: 1 })).toBe('a mapping');
  });
});
