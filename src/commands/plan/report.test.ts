// The plan as data and as text, from survey results (no host): steps that would run with their
// reasons and diffs, one line for hosts with nothing to do, and the cluster actions.
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../cluster/secrets.js';
import type { Cluster, Host } from '../../model.js';
import type { PlannedFile, PlannedStep } from '../../playbook/plan.js';
import { renderPlan } from './render.js';
import { clusterActions, hostReport, planReport } from './report.js';
import type { HostSurvey } from './survey.js';

const host = (name: string, role: 'control-plane' | 'worker') => ({ name, role }) as Host;
const conf: PlannedFile = { path: '/etc/containerd/config.toml', content: 'a = 1\nb = "new"\n', mode: 0o644, sha256: 'x'.repeat(64) };
const step = (id: string, fields: Partial<PlannedStep> = {}): PlannedStep => ({
  key: `containerd/${id}`, playbook: 'containerd', id, title: `the ${id}`, files: [], bundles: [], bundlesIfNeeded: false, verifyOnly: false, rollback: false, timeoutMs: 1, env: {}, fingerprint: 'fp', ...fields,
});

function survey(name: string, role: 'control-plane' | 'worker', changed: boolean): HostSurvey {
  const steps = [step('config', { files: [conf], check: 'systemctl is-active --quiet containerd' }), step('verify', { verifyOnly: true, verify: 'ctr version' })];
  return {
    facts: {} as HostSurvey['facts'],
    preflight: { errors: [], warnings: [], willInstall: [] },
    plan: { host: host(name, role), steps },
    steps: [
      changed
        ? { index: 0, decision: { action: 'run', reasons: [{ kind: 'inputs-changed' }, { kind: 'files-differ', files: [conf] }], files: [conf], bundles: [] } }
        : { index: 0, decision: { action: 'unchanged' } },
      // A verify after a step that would act runs after it: not a failure of the plan.
      changed ? { index: 1, decision: { action: 'fail', why: 'verify', probe: { code: 1, ms: 0, stdout: '', stderr: '' } } } : { index: 1, decision: { action: 'verified' } },
    ],
    files: new Map([[conf.path, { content: 'a = 1\nb = "old"\n' }]]),
    bundlesOnHost: new Map(),
    hostModes: new Map([[conf.path, '644']]),
  };
}

const cluster = { name: 'c', hosts: [host('cp1', 'control-plane'), host('w1', 'worker'), host('w2', 'worker')], network: { manifest: { name: 'flannel.yml', sha256: 'f'.repeat(64) } } } as unknown as Cluster;

describe('plan report', () => {
  it('lists the step that would run with its reasons and diff, and sums up idle hosts in one line', () => {
    const hosts = [hostReport(survey('cp1', 'control-plane', true), new Redactor()), hostReport(survey('w1', 'worker', false), new Redactor()), hostReport(survey('w2', 'worker', false), new Redactor())];
    expect(hosts[0]).toMatchObject({ steps: [{ key: 'containerd/config', action: 'run', reasons: ['its inputs changed since it last ran', '/etc/containerd/config.toml differs'] }], unchanged: 0, verifyAfter: 1 });
    expect(hosts[0]!.steps[0]!.files[0]).toMatchObject({ change: 'modify', mode: { host: '644', planned: '644' } });
    expect(hosts[0]!.steps[0]!.files[0]!.diff).toContain('-b = "old"\n+b = "new"');
    const report = planReport(cluster, hosts, []);
    expect(report).toMatchObject({ changes: true, problems: false });
    const text = renderPlan(report);
    expect(text).toContain('cp1 (control-plane): 1 step would run, 1 verify after them, 0 unchanged');
    expect(text).toContain('  ~ containerd/config: the config');
    expect(text).toContain('        +b = "new"');
    expect(text).toContain('nothing to do on 2 hosts (4 steps unchanged): w1, w2');
    expect(text).not.toContain('w1 (worker)');
  });

  it('names a failing check by its first line that does something, with its last output line', () => {
    const s = survey('cp1', 'control-plane', false);
    s.plan.steps[0] = step('config', { files: [conf], check: 'PATH=/usr/sbin:/usr/bin\nexport PATH\n# why\nsystemctl is-active --quiet containerd\ntrue' });
    const probe = { code: 3, ms: 0, stdout: 'first\ninactive\n', stderr: '' };
    s.steps[0] = { index: 0, decision: { action: 'run', reasons: [{ kind: 'check-fails', probe }], files: [], bundles: [] } };
    expect(hostReport(s, new Redactor()).steps[0]!.check).toEqual({ command: 'systemctl is-active --quiet containerd …', exitCode: 3, output: 'inactive' });
  });

  it('says so when nothing would change', () => {
    const report = planReport(cluster, [hostReport(survey('cp1', 'control-plane', false), new Redactor())], []);
    expect(report).toMatchObject({ changes: false, problems: false });
    expect(renderPlan(report)).toMatch(/cluster:\n {2}nothing to do\n\nno changes/);
  });

  it('decides the cluster actions as up does: init, joins with init\'s token, the add-on, then the Ready wait', () => {
    const fresh = clusterActions({ cluster, selected: ['cp1', 'w1', 'w2'], initHost: 'cp1', initState: { initialised: false, addonApplied: '' }, members: new Map([['cp1', false], ['w1', false], ['w2', true]]), changedHosts: new Set(), waitReadyMs: 300_000 });
    expect(fresh).toEqual([
      { action: 'init', host: 'cp1', certificateKey: false },
      { action: 'join', host: 'w1', role: 'worker', material: 'init' },
      { action: 'apply-addon', on: 'cp1', manifest: 'flannel.yml' },
      { action: 'wait-ready', hosts: ['cp1', 'w1'], timeoutMs: 300_000 },
    ]);
    // A host added later: a fresh token minted on the init host.
    const added = clusterActions({ cluster, selected: ['cp1', 'w1'], initHost: 'cp1', initState: { initialised: true, addonApplied: 'f'.repeat(64) }, members: new Map([['cp1', true], ['w1', false]]), changedHosts: new Set(), waitReadyMs: 0 });
    expect(added).toEqual([{ action: 'mint-join-material', on: 'cp1', certificateKey: false }, { action: 'join', host: 'w1', role: 'worker', material: 'mint' }]);
    expect(renderPlan(planReport(cluster, [], added))).toContain('+ a fresh join token minted on cp1');
    const converged = clusterActions({ cluster, selected: ['cp1', 'w1'], initHost: 'cp1', initState: { initialised: true, addonApplied: 'f'.repeat(64) }, members: new Map([['cp1', true], ['w1', true]]), changedHosts: new Set(), waitReadyMs: 300_000 });
    expect(converged).toEqual([]);
  });

  it('counts a host it could not reach as a problem', () => {
    const report = planReport(cluster, [{ host: 'w1', role: 'worker', status: 'unreachable', error: { message: 'connect: refused' }, steps: [], unchanged: 0 }], []);
    expect(report.problems).toBe(true);
    expect(renderPlan(report)).toContain('w1 (worker): NOT PLANNED: connect: refused');
  });
});
