// The step runner against a local "host": every command run by sh here, with kubeforge's
// directories moved into a scratch dir. What is checked is the gather → decide → act order:
// one round trip for a converged host, a gather again only after a step acted.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Host } from '../model.js';
import type { RunEvents } from '../run/outcome.js';
import type { ExecOptions, Remote } from '../run/remote.js';
import type { HostPlan, PlannedStep } from './plan.js';
import { gatherAhead, runHostSteps } from './run-steps.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-steps-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs each command with sh -eu here; kubeforge's paths on a host land under the scratch dir. */
function localHost(): Remote & { scripts: string[] } {
  const scripts: string[] = [];
  const moved = (value: string) => value.replaceAll('/var/lib/kubeforge', path.join(dir, 'state')).replaceAll('/var/tmp/kubeforge-relay-', path.join(dir, 'relay-'));
  return {
    name: 'h1',
    scripts,
    async exec(script: string, opts: ExecOptions = {}) {
      scripts.push(script);
      const env = Object.fromEntries(Object.entries(opts.env ?? {}).map(([k, v]) => [k, moved(v)]));
      const r = spawnSync('sh', ['-c', `set -eu\n${script}`], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', ...(opts.stdin !== undefined ? { input: opts.stdin } : {}) });
      return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
    },
    upload: () => Promise.reject(new Error('no bundles here')),
    async writeFile(remotePath, content, opts) {
      fs.writeFileSync(remotePath, content, { mode: opts.mode });
      fs.chmodSync(remotePath, opts.mode);
    },
    close: () => undefined,
  };
}

function step(id: string, fields: Partial<PlannedStep> = {}): PlannedStep {
  const base = { key: `pb/${id}`, playbook: 'pb', id, title: id, files: [], bundles: [], bundlesIfNeeded: false, verifyOnly: false, rollback: false, timeoutMs: 60_000, env: {}, ...fields };
  return { ...base, fingerprint: createHash('sha256').update(JSON.stringify(base)).digest('hex') };
}

const host = { name: 'h1', ssh: { user: 'kf-no-such-user' } } as unknown as Host;
const events: RunEvents = { hostActivity() {}, stepStart() {}, uploadProgress() {}, stepEnd() {}, hostEnd() {} };
const options = () => ({ signal: new AbortController().signal, redact: (t: string) => t, sendBundle: () => Promise.reject(new Error('no bundles here')) });
const gathers = (remote: { scripts: string[] }) => remote.scripts.filter((s) => s.includes('kf_step ')).length;

describe('runHostSteps', () => {
  it('acts on a fresh host, then finds it converged in one round trip for all its steps', async () => {
    const flag = path.join(dir, 'installed');
    const log = path.join(dir, 'log');
    const steps = [
      step('install', { check: `test -f "${flag}"`, run: `echo install >>"${log}"; touch "${flag}"` }),
      step('config', { files: [{ path: path.join(dir, 'app.conf'), content: 'a = 1\n', mode: 0o600, sha256: createHash('sha256').update('a = 1\n').digest('hex') }] }),
      step('verify', { verifyOnly: true, verify: `test -f "${flag}"; echo verify >>"${log}"` }),
    ];
    const plan: HostPlan = { host, steps };

    const first = localHost();
    const cold = await runHostSteps(first, plan, events, options());
    expect(cold.map((s) => s.status)).toEqual(['changed', 'changed', 'verified']);
    // The verify ran once, after the install: the host stopped gathering at the step that acted.
    expect(fs.readFileSync(log, 'utf8')).toBe('install\nverify\n');
    expect(gathers(first)).toBe(3);
    expect(fs.statSync(path.join(dir, 'app.conf')).mode & 0o777).toBe(0o600);

    const again = localHost();
    const warm = await runHostSteps(again, plan, events, options());
    expect(warm.map((s) => s.status)).toEqual(['unchanged', 'unchanged', 'verified']);
    expect(again.scripts).toHaveLength(1);
    expect(fs.readFileSync(log, 'utf8')).toBe('install\nverify\nverify\n');
  });

  it('rewrites a file that was edited on the host, and gathers the steps after it again', async () => {
    const conf = path.join(dir, 'app.conf');
    const content = 'a = 1\n';
    const steps = [
      step('config', { files: [{ path: conf, content, mode: 0o644, sha256: createHash('sha256').update(content).digest('hex') }] }),
      step('after', { check: 'true', run: 'true' }),
    ];
    const plan: HostPlan = { host, steps };
    await runHostSteps(localHost(), plan, events, options());
    fs.writeFileSync(conf, 'a = 2\n');
    const remote = localHost();
    const results = await runHostSteps(remote, plan, events, options());
    expect(results.map((s) => s.status)).toEqual(['changed', 'unchanged']);
    expect(fs.readFileSync(conf, 'utf8')).toBe(content);
    expect(gathers(remote)).toBe(2);
  });

  it('fails a step whose verify fails, with its output, and blocks the steps after it', async () => {
    const plan: HostPlan = { host, steps: [step('v', { verifyOnly: true, verify: 'echo "no socket at /run/x" >&2; exit 4' }), step('after', { check: 'true', run: 'true' })] };
    const remote = localHost();
    const results = await runHostSteps(remote, plan, events, options());
    expect(results[0]).toMatchObject({ status: 'failed', error: { message: 'verify failed (exit 4): no socket at /run/x', exitCode: 4, output: 'no socket at /run/x' } });
    expect(results[1]).toMatchObject({ status: 'blocked', error: { message: 'not run: pb/v failed' } });
    expect(remote.scripts).toHaveLength(1);
  });

  it('fails a step whose check outlives the step timeout, as before', async () => {
    const plan: HostPlan = { host, steps: [step('slow', { check: 'sleep 30', run: 'true', timeoutMs: 1000 })] };
    const started = Date.now();
    const [result] = await runHostSteps(localHost(), plan, events, options());
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result).toMatchObject({ status: 'failed', error: { message: 'timed out after 1 s' } });
  });

  it('fails a step whose check still fails after it ran', async () => {
    const plan: HostPlan = { host, steps: [step('never', { check: 'false', run: 'true' })] };
    const [result] = await runHostSteps(localHost(), plan, events, options());
    expect(result).toMatchObject({ status: 'failed', error: { message: 'the step ran but its check still fails' } });
  });
});

describe('gatherAhead: the first gather, asked along with the facts', () => {
  const converged = async () => {
    const flag = path.join(dir, 'installed');
    const steps = [
      step('install', { check: `test -f "${flag}"`, run: `touch "${flag}"` }),
      step('config', { files: [{ path: path.join(dir, 'app.conf'), content: 'a = 1\n', mode: 0o600, sha256: createHash('sha256').update('a = 1\n').digest('hex') }] }),
      step('probe', { verifyOnly: true, verify: 'true' }),
    ];
    const plan: HostPlan = { host, steps };
    await runHostSteps(localHost(), plan, events, options());
    return plan;
  };
  /** What the host answers to the script that rides along (run here on its own, as root would). */
  const ask = async (plan: HostPlan) => {
    const ahead = gatherAhead(plan)!;
    const r = await localHost().exec(ahead.along.script, { env: ahead.along.env });
    expect(r.code).toBe(0);
    return { ahead, output: { stdout: r.stdout, stderr: r.stderr } };
  };

  it('decides a converged host with no further round trip', async () => {
    const plan = await converged();
    const { ahead, output } = await ask(plan);
    const gathered = ahead.read(output, plan);
    expect(gathered?.size).toBe(3);
    const remote = localHost();
    const results = await runHostSteps(remote, plan, events, { ...options(), gathered: gathered! });
    expect(results.map((r) => r.status)).toEqual(['unchanged', 'unchanged', 'verified']);
    expect(remote.scripts).toEqual([]);
  });

  it('is not used when the prelude would have swept something, so the usual gather sweeps it', async () => {
    const plan = await converged();
    fs.mkdirSync(path.join(dir, 'state', 'staging.1234'));
    const { ahead, output } = await ask(plan);
    expect(ahead.read(output, plan)).toBeUndefined();
    const remote = localHost();
    await runHostSteps(remote, plan, events, options());
    expect(fs.existsSync(path.join(dir, 'state', 'staging.1234'))).toBe(false);
  });

  it('is not used when relay traces of another run are there', async () => {
    const plan = await converged();
    fs.mkdirSync(path.join(dir, 'relay-deadbeef'));
    const { ahead, output } = await ask(plan);
    expect(ahead.read(output, plan)).toBeUndefined();
  });

  it('is not used on a fresh host (its directories are not there yet)', async () => {
    const plan: HostPlan = { host, steps: [step('install', { check: 'false', run: 'true' })] };
    const { ahead, output } = await ask(plan);
    expect(ahead.read(output, plan)).toBeUndefined();
  });

  it('is not used when the plan after the facts asks about other steps, nor without an answer', async () => {
    const plan = await converged();
    const { ahead, output } = await ask(plan);
    const replanned: HostPlan = { host, steps: plan.steps.map((s, i) => (i === 1 ? step('config', { files: [], check: 'true' }) : s)) };
    expect(ahead.read(output, replanned)).toBeUndefined();
    expect(ahead.read(undefined, plan)).toBeUndefined();
    expect(ahead.read({ stdout: 'garbage\n', stderr: '' }, plan)).toBeUndefined();
  });
});
