import { describe, expect, it } from 'vitest';
import { parseVersion, type Cluster, type Version } from '../model.js';
import { decideUpgrade, describeUpgrade, upgradeGroups, type ClusterVersions } from './decide.js';

const v = (t: string) => parseVersion(t) as Version;
const cluster = { hosts: [{ name: 'cp1', role: 'control-plane' }, { name: 'cp2', role: 'control-plane' }, { name: 'w1', role: 'worker' }, { name: 'w2', role: 'worker' }, { name: 'w3', role: 'worker' }] } as unknown as Cluster;
const all = new Set(['cp1', 'cp2', 'w1', 'w2', 'w3']);
const versions = (clusterVersion: string, kubelets: Record<string, string>): ClusterVersions => ({
  cluster: v(clusterVersion),
  nodes: Object.entries(kubelets).map(([name, k]) => ({ name, kubelet: v(k), ready: true, unschedulable: false })),
});
const at = (k: string) => ({ cp1: k, cp2: k, w1: k, w2: k, w3: k });

describe('upgrade decisions', () => {
  it('a minor upgrade: apply on the init host, node on the other control plane, workers in batches', () => {
    const d = decideUpgrade(cluster, v('1.31.1'), versions('1.30.2', at('1.30.2')), { hosts: all, maxUnavailable: 2 });
    expect(d).toEqual({ kind: 'upgrade', from: '1.30.2', to: '1.31.1', apply: 'cp1', controlPlanes: ['cp2'], workerBatches: [['w1', 'w2'], ['w3']] });
    if (d.kind !== 'upgrade') throw new Error();
    expect(upgradeGroups(d)).toEqual([['cp1'], ['cp2'], ['w1', 'w2'], ['w3']]);
    expect(describeUpgrade(d, 2)).toBe('upgrade 1.30.2 → 1.31.1: apply on cp1, node on cp2, workers w1, w2, w3 in batches of 2');
  });

  it('nothing when every kubelet and the control plane are at the target', () => {
    expect(decideUpgrade(cluster, v('1.31.1'), versions('1.31.1', at('1.31.1')), { hosts: all, maxUnavailable: 1 })).toEqual({ kind: 'none' });
  });

  it('patch upgrades are fine', () => {
    const d = decideUpgrade(cluster, v('1.30.5'), versions('1.30.2', at('1.30.2')), { hosts: all, maxUnavailable: 1 });
    expect(d.kind).toBe('upgrade');
  });

  it('refuses a skipped minor with the path to take', () => {
    const d = decideUpgrade(cluster, v('1.32.0'), versions('1.30.2', at('1.30.2')), { hosts: all, maxUnavailable: 1 });
    expect(d).toMatchObject({ kind: 'refuse', hint: 'upgrade to 1.31.x first, then 1.32.x' });
    const far = decideUpgrade(cluster, v('1.33.0'), versions('1.30.2', at('1.30.2')), { hosts: all, maxUnavailable: 1 });
    expect(far).toMatchObject({ kind: 'refuse', hint: 'upgrade to 1.31.x, then 1.32.x first, then 1.33.x' });
  });

  it('refuses a downgrade, patch or minor', () => {
    expect(decideUpgrade(cluster, v('1.30.1'), versions('1.30.2', at('1.30.2')), { hosts: all, maxUnavailable: 1 })).toMatchObject({ kind: 'refuse', message: expect.stringContaining('does not downgrade') });
    expect(decideUpgrade(cluster, v('1.29.9'), versions('1.30.2', at('1.30.2')), { hosts: all, maxUnavailable: 1 }).kind).toBe('refuse');
  });

  it('refuses when a kubelet is newer than the target (never newer than the API server)', () => {
    const d = decideUpgrade(cluster, v('1.31.0'), versions('1.31.0', { ...at('1.31.0'), w2: '1.31.2' }), { hosts: all, maxUnavailable: 1 });
    expect(d).toMatchObject({ kind: 'refuse', message: expect.stringContaining('w2 (1.31.2)') });
  });

  it('a rerun after a stop continues: applied control plane, upgraded hosts skipped', () => {
    const d = decideUpgrade(cluster, v('1.31.1'), versions('1.31.1', { cp1: '1.31.1', cp2: '1.31.1', w1: '1.31.1', w2: '1.30.2', w3: '1.30.2' }), { hosts: all, maxUnavailable: 1 });
    expect(d).toEqual({ kind: 'upgrade', from: '1.30.2', to: '1.31.1', controlPlanes: [], workerBatches: [['w2'], ['w3']] });
  });

  it('the init host whose kubelet stayed behind after apply runs upgrade node like the others', () => {
    const d = decideUpgrade(cluster, v('1.31.1'), versions('1.31.1', { ...at('1.30.2') }), { hosts: all, maxUnavailable: 1 });
    expect(d).toMatchObject({ kind: 'upgrade', controlPlanes: ['cp1', 'cp2'] });
    expect(d.kind === 'upgrade' && d.apply).toBeFalsy();
  });

  it('refuses a run that leaves out the init host while the control plane still needs apply', () => {
    expect(decideUpgrade(cluster, v('1.31.1'), versions('1.30.2', at('1.30.2')), { hosts: new Set(['w1']), maxUnavailable: 1 })).toMatchObject({ kind: 'refuse', hint: expect.stringContaining('cp1') });
  });

  it('only the hosts of this run take part (--limit)', () => {
    const d = decideUpgrade(cluster, v('1.31.1'), versions('1.31.1', at('1.30.2')), { hosts: new Set(['w3']), maxUnavailable: 1 });
    expect(d).toMatchObject({ controlPlanes: [], workerBatches: [['w3']] });
  });
});

describe('containerd rolling restart order', () => {
  it('control planes one at a time, then workers in batches, only the pending ones', async () => {
    const { containerdRollGroups } = await import('./decide.js');
    expect(containerdRollGroups(cluster, new Set(['w3', 'cp2', 'w1', 'cp1']), 2)).toEqual([['cp1'], ['cp2'], ['w1', 'w3']]);
    expect(containerdRollGroups(cluster, new Set(), 1)).toEqual([]);
  });
});
