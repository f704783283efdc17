import { describe, expect, it } from 'vitest';
import { InputError } from '../../errors.js';
import { testCluster } from '../../render/fixtures.js';
import { selectForReset } from './select.js';

const names = (hosts: { name: string }[]) => hosts.map((h) => h.name);

describe('selectForReset', () => {
  const cluster = testCluster(); // cp1 (init), cp2, w1

  it('needs --limit or --all, not both', () => {
    expect(() => selectForReset(cluster, {}, undefined)).toThrow(/nothing is reset without --limit or --all/);
    expect(() => selectForReset(cluster, { all: true, limit: 'w1' }, undefined)).toThrow(/cannot be combined/);
    expect(() => selectForReset(cluster, { limit: 'w9' }, undefined)).toThrow(/no host named "w9"/);
  });

  it('a worker: drained and deleted through the init host', () => {
    const s = selectForReset(cluster, { limit: 'w1' }, undefined);
    expect(names(s.hosts)).toEqual(['w1']);
    expect(s.via?.name).toBe('cp1');
    expect([...s.drained]).toEqual(['w1']);
    expect(s.groups.map((g) => [names(g.hosts), g.oneAtATime])).toEqual([[['w1'], false]]);
  });

  it('refuses the init host while other nodes remain, before anything (an input error naming them)', () => {
    let caught: unknown;
    try {
      selectForReset(cluster, { limit: 'cp1,w1' }, undefined);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).message).toMatch(/cp1 is the init host .* while cp2 is still in the cluster/);
    expect((caught as InputError).hint).toBe('reset the others first (kubeforge reset --limit cp2), or the whole cluster with --all');
    expect(() => selectForReset(cluster, { limit: 'role=control-plane' }, undefined)).toThrow(/while w1 is still in the cluster/);
  });

  it('takes the init host once every other host was reset (the ledger says so); nothing to drain through then', () => {
    const at = '2026-01-01T00:00:00Z';
    const state = { cp2: { status: 'reset' as const, command: 'reset', runId: 'r', at }, w1: { status: 'reset' as const, command: 'reset', runId: 'r', at } };
    const s = selectForReset(cluster, { limit: 'cp1' }, state);
    expect(names(s.hosts)).toEqual(['cp1']);
    expect(s.via).toBeUndefined();
    expect(s.drained.size).toBe(0);
    // A host whose reset failed still counts as in the cluster.
    expect(() => selectForReset(cluster, { limit: 'cp1' }, { ...state, w1: { ...state.w1, status: 'failed' as const } })).toThrow(/while w1 is still/);
  });

  it('--all: workers, then the other control planes one at a time, the init host last; all but it drained through it', () => {
    const s = selectForReset(cluster, { all: true }, undefined);
    expect(s.groups.map((g) => [names(g.hosts), g.oneAtATime])).toEqual([[['w1'], false], [['cp2'], true], [['cp1'], true]]);
    expect(s.via?.name).toBe('cp1');
    expect([...s.drained].sort()).toEqual(['cp2', 'w1']);
  });
});
