import { describe, expect, it } from 'vitest';
import { InputError } from '../../errors.js';
import { testCluster } from '../../render/fixtures.js';
import { parseMaxFail } from './index.js';
import { parseLimit } from './select.js';

describe('host selection', () => {
  const cluster = testCluster();
  const names = cluster.hosts.map((h) => h.name);

  it('takes names and roles, and refuses what the inventory does not have', () => {
    expect([...parseLimit(cluster, 'role=worker')]).toEqual(cluster.hosts.filter((h) => h.role === 'worker').map((h) => h.name));
    expect([...parseLimit(cluster, `${names[0]}, ${names[2]}`)]).toEqual([names[0], names[2]]);
    expect(() => parseLimit(cluster, 'nope')).toThrow(InputError);
    expect(() => parseLimit(cluster, 'role=master')).toThrow(/unknown role/);
    expect(() => parseLimit(cluster, ' , ')).toThrow(/selects no host/);
  });

  it('reads --max-fail as a count or a percentage of the hosts in the run', () => {
    expect(parseMaxFail('3', 10)).toBe(3);
    expect(parseMaxFail('20%', 10)).toBe(2);
    expect(parseMaxFail('25%', 3)).toBe(1);
    expect(parseMaxFail('1%', 3)).toBe(1);
    expect(() => parseMaxFail('0', 3)).toThrow(InputError);
    expect(() => parseMaxFail('x', 3)).toThrow(/whole number/);
  });
});
