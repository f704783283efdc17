// The one decision `up` acts on and `plan` prints, from a step's gathered facts.
import { describe, expect, it } from 'vitest';
import { decideStep } from './decide.js';
import type { StepFacts } from './gather.js';
import type { PlannedBundle, PlannedFile, PlannedStep } from './plan.js';

const file: PlannedFile = { path: '/etc/x.conf', content: 'x\n', mode: 0o644, sha256: 'a'.repeat(64) };
const bundle = { kind: 'os-packages', bundle: { name: 'os', path: '/b/os.tar', sha256: 'b'.repeat(64), size: 10 }, remotePath: '/var/lib/kubeforge/bundles/os.tar' } as PlannedBundle;

function step(fields: Partial<PlannedStep> = {}): PlannedStep {
  return { key: 'pb/s', playbook: 'pb', id: 's', title: 's', files: [file], bundles: [bundle], bundlesIfNeeded: false, check: 'true', verifyOnly: false, rollback: false, timeoutMs: 1000, env: {}, fingerprint: 'fp', ...fields };
}
const ok = { code: 0, ms: 1, stdout: '', stderr: '' };
const converged = (): StepFacts => ({ marker: 'fp', files: new Map([[file.path, { sha256: file.sha256, mode: '644' }]]), probe: ok });

describe('decideStep', () => {
  it('leaves a step alone when its marker, files and check all hold', () => {
    expect(decideStep(step(), converged())).toEqual({ action: 'unchanged' });
  });

  it('says every reason a step runs: never ran, a file missing, its check failing (with the check\'s output)', () => {
    const probe = { code: 1, ms: 1, stdout: 'inactive\n', stderr: '' };
    const d = decideStep(step(), { marker: '', files: new Map(), probe });
    expect(d).toEqual({ action: 'run', reasons: [{ kind: 'never-ran' }, { kind: 'files-differ', files: [file] }, { kind: 'check-fails', probe }], files: [file], bundles: [bundle] });
  });

  it('runs a step whose inputs changed (another fingerprint in its marker), and one whose file has the wrong mode', () => {
    expect(decideStep(step(), { ...converged(), marker: 'older' })).toMatchObject({ action: 'run', reasons: [{ kind: 'inputs-changed' }], files: [] });
    const facts = converged();
    facts.files.set(file.path, { sha256: file.sha256, mode: '666' });
    expect(decideStep(step(), facts)).toMatchObject({ action: 'run', reasons: [{ kind: 'files-differ', files: [file] }] });
  });

  it('sends a bundlesIfNeeded step\'s bundles only when its check fails', () => {
    expect(decideStep(step({ bundlesIfNeeded: true }), { ...converged(), marker: 'older' })).toMatchObject({ action: 'run', bundles: [] });
    expect(decideStep(step({ bundlesIfNeeded: true }), { ...converged(), probe: { ...ok, code: 1 } })).toMatchObject({ action: 'run', bundles: [bundle] });
  });

  it('verifies a verifyOnly step, fails it with its verify\'s output, and fails any step whose probe timed out', () => {
    const v = step({ verifyOnly: true, check: undefined, verify: 'true', files: [] });
    expect(decideStep(v, { marker: '', files: new Map(), probe: ok })).toEqual({ action: 'verified' });
    const bad = { code: 3, ms: 1, stdout: 'no', stderr: 'err' };
    expect(decideStep(v, { marker: '', files: new Map(), probe: bad })).toEqual({ action: 'fail', why: 'verify', probe: bad });
    expect(decideStep(step(), { ...converged(), probe: { ...ok, code: 'timeout' } })).toMatchObject({ action: 'fail', why: 'timeout' });
    expect(() => decideStep(v, { marker: '', files: new Map() })).toThrow(/did not run the verify/);
  });
});
