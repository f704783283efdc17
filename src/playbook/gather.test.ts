// The one-round-trip gather: its script run by sh against a scratch directory (markers and files
// there instead of under /var/lib/kubeforge), and its answer read back.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { filesThatDiffer, gatherRequest, parseGather, type GatherOptions, type StepFacts } from './gather.js';
import type { PlannedFile, PlannedStep } from './plan.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-gather-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function file(name: string, content: string, mode = 0o644): PlannedFile {
  return { path: path.join(dir, name), content, mode, sha256: sha(content) };
}

function step(id: string, fields: Partial<PlannedStep> = {}): PlannedStep {
  return {
    key: `pb/${id}`,
    playbook: 'pb',
    id,
    title: id,
    files: [],
    bundles: [],
    bundlesIfNeeded: false,
    verifyOnly: false,
    rollback: false,
    timeoutMs: 60_000,
    env: {},
    fingerprint: `fp-${id}`,
    ...fields,
  };
}

/** Marks a step as having succeeded with its current fingerprint (as the runner does). */
function mark(s: PlannedStep, fingerprint = s.fingerprint): void {
  fs.mkdirSync(path.join(dir, 'steps'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'steps', `${s.playbook}.${s.id}`), `${fingerprint}\n`);
}

/** Builds the request, points its directories at the scratch dir, runs it with sh -eu as sshRemote would. */
function gather(steps: PlannedStep[], from = 0, opts: GatherOptions = {}): { facts: Map<number, StepFacts>; stdout: string; stderr: string; code: number | null } {
  const request = gatherRequest(steps, from, opts);
  const env: Record<string, string> = { ...request.env, KF_D1: dir, KF_D2: path.join(dir, 'bundles'), KF_D3: path.join(dir, 'steps') };
  for (const name of Object.keys(env)) if (/^KFG_\d+_M$/.test(name)) env[name] = env[name]!.replace('/var/lib/kubeforge/steps', path.join(dir, 'steps'));
  const r = spawnSync('sh', ['-c', `set -eu\n${request.script}`], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  return { facts: parseGather(request, steps, r.stdout, r.stderr), stdout: r.stdout, stderr: r.stderr, code: r.status };
}

describe('gather', () => {
  it('reports every step of a converged host in one round trip: markers, files, checks, verifies', () => {
    const conf = file('a.conf', 'a = 1\n', 0o600);
    const steps = [
      step('files', { files: [conf], check: 'test -f "$KF_WANT"', env: { KF_WANT: conf.path } }),
      step('verify', { verifyOnly: true, verify: 'echo fine; test "$KF_VERSION" = 1.2', env: { KF_VERSION: '1.2' } }),
      step('plain', { run: 'true' }),
    ];
    fs.writeFileSync(conf.path, conf.content, { mode: 0o600 });
    mark(steps[0]!);
    mark(steps[2]!);
    const { facts, code } = gather(steps);
    expect(code).toBe(0);
    expect([...facts.keys()]).toEqual([0, 1, 2]);
    expect(facts.get(0)!.marker).toBe('fp-files');
    expect(facts.get(0)!.files.get(conf.path)).toEqual({ sha256: conf.sha256, mode: '600' });
    expect(filesThatDiffer(steps[0]!, facts.get(0)!)).toEqual([]);
    expect(facts.get(0)!.probe).toMatchObject({ code: 0 });
    expect(facts.get(1)!.probe).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(facts.get(2)).toEqual({ marker: 'fp-plain', files: new Map() });
  });

  it('stops after the first step that will act: no later check or verify runs before it acted', () => {
    const witness = path.join(dir, 'ran');
    const steps = [
      step('one', { check: 'true' }),
      step('two', { check: 'false' }), // will act
      step('three', { verifyOnly: true, verify: `touch "${witness}"` }),
    ];
    mark(steps[0]!);
    mark(steps[1]!);
    const { facts } = gather(steps);
    expect([...facts.keys()]).toEqual([0, 1]);
    expect(facts.get(1)!.probe!.code).toBe(1);
    expect(fs.existsSync(witness)).toBe(false);
  });

  it('stops at a marker that is not the plan\'s fingerprint (the step changed), after its check', () => {
    const steps = [step('one', { check: 'true' }), step('two', { check: 'true' })];
    mark(steps[0]!, 'an-older-fingerprint');
    mark(steps[1]!);
    const { facts } = gather(steps);
    expect([...facts.keys()]).toEqual([0]);
    expect(facts.get(0)!.marker).toBe('an-older-fingerprint');
    expect(facts.get(0)!.probe!.code).toBe(0);
  });

  it('gathers from a later step, with only the steps asked for', () => {
    const steps = [step('one', { check: 'false' }), step('two', { check: 'true' })];
    mark(steps[1]!);
    const { facts } = gather(steps, 1);
    expect([...facts.keys()]).toEqual([1]);
    expect(facts.get(1)!.marker).toBe('fp-two');
  });

  it('looks at every step for plan (everyStep), keeping each failing check\'s own output, and creates nothing', () => {
    const steps = [
      step('one', { check: 'echo one-out; echo one-err >&2; exit 2' }), // will act
      step('two', { check: 'echo two-out; exit 1' }),
      step('three', { verifyOnly: true, verify: 'echo fine' }),
      step('four', { check: 'true' }),
    ];
    mark(steps[3]!);
    const { facts } = gather(steps, 0, { everyStep: true });
    expect([...facts.keys()]).toEqual([0, 1, 2, 3]);
    expect(facts.get(0)!.probe).toMatchObject({ code: 2, stdout: 'one-out\n', stderr: 'one-err\n' });
    expect(facts.get(1)!.probe).toMatchObject({ code: 1, stdout: 'two-out\n', stderr: '' });
    expect(facts.get(2)!.probe).toMatchObject({ code: 0 });
    expect(facts.get(3)).toMatchObject({ marker: 'fp-four', probe: { code: 0 } });
    expect(fs.readdirSync(dir).sort()).toEqual(['steps']);
  });

  it('keeps a failing verify\'s stdout and stderr apart, and stops there', () => {
    const steps = [
      step('v', { verifyOnly: true, verify: 'echo out-1; echo err-1 >&2; printf out-2; exit 3' }),
      step('after', { check: 'true' }),
    ];
    const { facts } = gather(steps);
    expect([...facts.keys()]).toEqual([0]);
    expect(facts.get(0)!.probe).toMatchObject({ code: 3, stdout: 'out-1\nout-2', stderr: 'err-1\n' });
  });

  it('reports a missing file, a wrong mode, and content that differs', () => {
    const same = file('same', 'x\n');
    const wrongMode = file('mode', 'y\n', 0o600);
    const differs = file('differs', 'z\n');
    const missing = file('missing', 'w\n');
    const s = step('files', { files: [same, wrongMode, differs, missing] });
    fs.writeFileSync(same.path, 'x\n', { mode: 0o644 });
    fs.writeFileSync(wrongMode.path, 'y\n', { mode: 0o644 });
    fs.writeFileSync(differs.path, 'not z\n', { mode: 0o644 });
    mark(s);
    const { facts } = gather([s]);
    expect(filesThatDiffer(s, facts.get(0)!).map((f) => path.basename(f.path))).toEqual(['mode', 'differs', 'missing']);
  });

  it('runs each check with only its own step\'s variables, in its own subshell', () => {
    const out = path.join(dir, 'env');
    const steps = [
      step('a', { check: `printf '%s|%s|%s\\n' "$KF_X" "\${KF_Y-unset}" "\${KFG_NONCE-unset}" >"${out}.a"; x=changed`, env: { KF_X: 'it\'s "a" $value' } }),
      step('b', { check: `printf '%s|%s\\n' "$KF_X" "\${x-unset}" >"${out}.b"`, env: { KF_X: 'b' } }),
    ];
    mark(steps[0]!);
    mark(steps[1]!);
    gather(steps);
    expect(fs.readFileSync(`${out}.a`, 'utf8')).toBe('it\'s "a" $value|unset|unset\n');
    expect(fs.readFileSync(`${out}.b`, 'utf8')).toBe('b|unset\n');
  });

  it('runs checks under sh -eu, as a step\'s own commands run', () => {
    const steps = [step('u', { check: 'echo "$UNSET_VARIABLE"' }), step('e', { check: 'false; true' })];
    mark(steps[0]!);
    const { facts } = gather(steps);
    expect(facts.get(0)!.probe!.code).not.toBe(0);
  });

  it('ends a check at the step\'s timeout, with what it started, and says so', () => {
    const steps = [step('slow', { check: 'sleep 30 & sleep 31', timeoutMs: 300 }), step('after', { check: 'true' })];
    mark(steps[0]!);
    const started = Date.now();
    const { facts } = gather(steps);
    expect(Date.now() - started).toBeLessThan(5000);
    expect([...facts.keys()]).toEqual([0]);
    expect(facts.get(0)!.probe!.code).toBe('timeout');
  });

  it('tells a check that exits 124 by itself from one that timed out', () => {
    const s = step('own', { check: 'exit 124' });
    mark(s);
    expect(gather([s]).facts.get(0)!.probe!.code).toBe(124);
  });

  it('takes --step-timeout over the step\'s own', () => {
    const s = step('slow', { check: 'sleep 5', timeoutMs: 60_000 });
    mark(s);
    expect(gather([s], 0, { stepTimeoutMs: 200 }).facts.get(0)!.probe!.code).toBe('timeout');
  });

  it('creates the directories and sweeps leftovers only with a prelude', () => {
    const staging = path.join(dir, 'staging.abc');
    fs.mkdirSync(staging);
    const s = step('a', { check: 'true' });
    gather([s]);
    expect(fs.existsSync(staging)).toBe(true);
    const witness = path.join(dir, 'prelude-ran');
    gather([s], 0, { prelude: { script: `touch "$KF_WITNESS"`, env: { KF_WITNESS: witness } } });
    expect(fs.existsSync(staging)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'bundles'))).toBe(true);
    expect(fs.existsSync(witness)).toBe(true);
  });

  it('splits a batch that would not fit in one command line, always taking its first step', () => {
    const big = 'x'.repeat(1000);
    const steps = [step('a', { check: `true ${big}` }), step('b', { check: `true ${big}` }), step('c', { check: `true ${big}` })];
    expect(gatherRequest(steps, 0, { maxBytes: 2500 }).count).toBe(2);
    expect(gatherRequest(steps, 0, { maxBytes: 10 }).count).toBe(1);
    expect(gatherRequest(steps, 2, {}).count).toBe(1);
  });

  it('never puts a value in the script text, and shares a value many steps use', () => {
    const value = 'secret-ish $(touch /tmp/kf-pwned) `id` \'"';
    const steps = [step('a', { check: 'true', env: { KF_V: value } }), step('b', { check: 'true', env: { KF_V: value } })];
    const request = gatherRequest(steps, 0, {});
    expect(request.script).not.toContain('kf-pwned');
    expect(Object.values(request.env).filter((v) => v === value)).toHaveLength(1);
  });

  it('reads an answer after anything a login shell printed, and refuses one without facts', () => {
    const s = step('a', { check: 'true' });
    const request = gatherRequest([s], 0, {});
    const answer = `Welcome!\n\n${request.nonce} facts\nmarker 0 fp-a\ncheck 0 0 3\n`;
    expect(parseGather(request, [s], answer, '').get(0)).toEqual({ marker: 'fp-a', files: new Map(), probe: { code: 0, ms: 30, stdout: '', stderr: '' } });
    expect(() => parseGather(request, [s], 'Welcome!\n', '')).toThrow(/no step facts/);
  });
});
