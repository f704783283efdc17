import { describe, expect, it } from 'vitest';
import { parseVersion, type Cluster, type Version } from '../../model.js';
import { renderPlan } from './render.js';
import { clusterActions, planReport } from './report.js';

const v = (t: string) => parseVersion(t) as Version;
const cluster = (version: string) =>
  ({
    name: 'c',
    kubernetes: { version: v(version) },
    hosts: [{ name: 'cp1', role: 'control-plane' }, { name: 'cp2', role: 'control-plane' }, { name: 'w1', role: 'worker' }, { name: 'w2', role: 'worker' }],
  }) as unknown as Cluster;
const versions = (c: string, k: string) => ({ cluster: v(c), nodes: ['cp1', 'cp2', 'w1', 'w2'].map((name) => ({ name, kubelet: v(k), ready: true, unschedulable: false })) });
const inputs = (c: Cluster, clusterVersion: string, kubelets: string, maxUnavailable = 1) => ({
  cluster: c,
  selected: ['cp1', 'cp2', 'w1', 'w2'],
  initHost: 'cp1',
  initState: { initialised: true, addonApplied: '', versions: versions(clusterVersion, kubelets) },
  members: new Map([['cp1', true], ['cp2', true], ['w1', true], ['w2', true]]),
  changedHosts: new Set<string>(),
  waitReadyMs: 0,
  maxUnavailable,
});

describe('plan: an upgrade among the cluster actions', () => {
  it('says what up would upgrade, in which order and batches', () => {
    const c = cluster('1.31.1');
    const actions = clusterActions(inputs(c, '1.30.2', '1.30.2'));
    expect(actions).toContainEqual(expect.objectContaining({ action: 'upgrade', apply: 'cp1', controlPlanes: ['cp2'], workerBatches: [['w1'], ['w2']] }));
    const text = renderPlan(planReport(c, [], clusterActions(inputs(c, '1.30.2', '1.30.2', 2))));
    expect(text).toContain('upgrade 1.30.2 → 1.31.1: apply on cp1, node on cp2, workers w1, w2 in batches of 2');
  });

  it('a refused upgrade is a problem in the plan, with the hint', () => {
    const c = cluster('1.32.0');
    const report = planReport(c, [], clusterActions(inputs(c, '1.30.2', '1.30.2')));
    expect(report.problems).toBe(true);
    expect(renderPlan(report)).toContain('upgrade to 1.31.x first, then 1.32.x');
  });

  it('nothing to say at the target version', () => {
    const c = cluster('1.31.1');
    expect(clusterActions(inputs(c, '1.31.1', '1.31.1'))).toEqual([]);
  });
});
