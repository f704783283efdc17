// The shipped containerd/config step's `validate` script, run as it is (sh -eu) against
// stand-in `containerd` programs that print what containerd 2.x and 1.6 print: a candidate
// config with a key containerd does not know must be refused, with that key named.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlaybooks } from './load.js';

let validate: string;
let dir: string;

beforeAll(async () => {
  const playbooks = await loadPlaybooks();
  const step = playbooks.find((p) => p.name === 'containerd')!.steps.find((s) => s.id === 'config')!;
  validate = step.files!.find((f) => f.path === '/etc/containerd/config.toml')!.validate!;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-validate-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const GOOD = `version = 3
[grpc]
address = "/run/containerd/containerd.sock"

[plugins."io.containerd.cri.v1.images".pinned_images]
sandbox = "registry.k8s.io/pause:3.10"
`;

/** A fake containerd: `config dump` prints DUMP on stdout and LOG on stderr, exits CODE. */
function fakeContainerd(name: string, dump: string, log: string, code = 0): string {
  const file = path.join(dir, name);
  fs.writeFileSync(path.join(dir, `${name}.dump`), dump);
  fs.writeFileSync(path.join(dir, `${name}.log`), log);
  fs.writeFileSync(file, `#!/bin/sh\ncat "${file}.dump"\ncat "${file}.log" >&2\nexit ${code}\n`, { mode: 0o755 });
  return file;
}

function runValidate(containerd: string, candidate: string) {
  const file = path.join(dir, `candidate-${Math.random().toString(16).slice(2)}.toml`);
  fs.writeFileSync(file, candidate);
  const r = spawnSync('sh', ['-eu', '-c', validate], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KF_FILE: file, KF_CONTAINERD_BIN: containerd }, encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

describe('containerd config validation before the file replaces the old one', () => {
  it('accepts a config whose every key containerd keeps', () => {
    const c = fakeContainerd('ok', GOOD + 'root = "/var/lib/containerd"\n', '');
    expect(runValidate(c, GOOD)).toEqual({ code: 0, stderr: '' });
  });

  it('refuses what containerd 2.x only logs as "Ignoring unknown key", naming the key', () => {
    const candidate = GOOD.replace('sandbox =', 'sandbox_image =');
    const log =
      'time="2026-12-02T04:00:00Z" level=warning msg="Ignoring unknown key in TOML for plugin" error="strict mode: fields in the document are missing in the target struct" key=sandbox_image plugin=io.containerd.cri.v1.images\n';
    // 2.x exits 0 and leaves the key out of its dump.
    const c = fakeContainerd('v2', GOOD.replace(/sandbox = .*\n/, ''), log);
    const r = runValidate(c, candidate);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('misspelt or misplaced');
    expect(r.stderr).toMatch(/sandbox_image/);
    expect(r.stderr).toContain('Ignoring unknown key');
  });

  it('refuses a key that containerd 1.6 silently drops from its dump (it logs nothing)', () => {
    const candidate = `version = 2\n[plugins."io.containerd.grpc.v1.cri"]\nsandbox_imag = "registry.k8s.io/pause:3.9"\n`;
    const c = fakeContainerd('v16', `version = 2\n\n[plugins]\n  [plugins."io.containerd.grpc.v1.cri"]\n    sandbox_image = "k8s.gcr.io/pause:3.6"\n`, '');
    const r = runValidate(c, candidate);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('plugins."io.containerd.grpc.v1.cri".sandbox_imag');
  });

  it('passes on what containerd says when it cannot parse the file at all', () => {
    const c = fakeContainerd('broken', '', 'containerd: failed to load TOML: near line 2: expected value\n', 1);
    const r = runValidate(c, 'version = \n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('failed to load TOML');
  });
});
