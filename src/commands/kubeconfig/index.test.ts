import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InputError } from '../../errors.js';
import { peekClusterName, peekHosts } from '../../inventory/peek.js';
import { checkMergeTarget, loadAdmin, mergeAfterUp, parseServer } from './index.js';

const ADMIN_CONF = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://10.0.0.10:6443
  name: demo
contexts:
- context:
    cluster: demo
    user: kubernetes-admin
  name: kubernetes-admin@demo
current-context: kubernetes-admin@demo
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    token: abc
`;

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-kubeconfig-cmd-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<InputError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe('parseServer', () => {
  it('takes an https URL with a host, without a trailing slash', () => {
    expect(parseServer('https://203.0.113.10:6443/')).toBe('https://203.0.113.10:6443');
    expect(parseServer('https://api.example.com')).toBe('https://api.example.com');
  });

  it('refuses anything else, with an example', () => {
    for (const bad of ['203.0.113.10:6443', 'http://203.0.113.10:6443', 'https://', 'https://u:p@h:6443']) {
      expect(() => parseServer(bad), bad).toThrow(InputError);
    }
    try {
      parseServer('10.0.0.1:6443');
    } catch (err) {
      expect((err as InputError).message).toBe('--server: "10.0.0.1:6443" is not an https:// URL');
      expect((err as InputError).hint).toMatch(/^e\.g\. --server https:\/\//);
    }
  });
});

describe('peekClusterName and peekHosts', () => {
  it('reads the cluster name without loading bundles or secrets', async () => {
    const file = path.join(dir, 'inventory.yaml');
    await fs.writeFile(file, 'cluster: {name: demo}\nkubernetes: {version: 1.30.2}\ncontainerd: {bundle: missing.tgz}\nhosts: []\n');
    expect(await peekClusterName(file)).toBe('demo');
  });

  it('says where a cluster name is wrong or missing, at FILE:LINE:COL', async () => {
    const file = path.join(dir, 'inventory.yaml');
    await fs.writeFile(file, 'cluster:\n  name: Demo_1\n');
    expect((await rejection(peekClusterName(file))).message).toMatch(new RegExp(`^${file}:2:9: cluster\\.name "Demo_1" is not`));
    await fs.writeFile(file, 'hosts: []\n');
    expect((await rejection(peekClusterName(file))).message).toBe(`${file}:1:1: cluster.name is missing`);
    expect((await rejection(peekClusterName(path.join(dir, 'none.yaml')))).message).toBe(`${path.join(dir, 'none.yaml')}: no such file`);
  });

  it('reads host names and roles leniently: nothing, never an error, for a broken file', async () => {
    const file = path.join(dir, 'inventory.yaml');
    await fs.writeFile(file, 'hosts:\n  - {name: cp1, role: control-plane}\n  - {name: Bad_Name}\n  - {name: w1}\n  - 42\n');
    expect(await peekHosts(file)).toEqual([{ name: 'cp1', role: 'control-plane' }, { name: 'w1' }]);
    await fs.writeFile(file, 'hosts: [ {name: cp1\n');
    expect(await peekHosts(file)).toEqual([]);
    expect(await peekHosts(path.join(dir, 'none.yaml'))).toEqual([]);
  });
});

describe('loadAdmin', () => {
  it('reads the admin.conf `up` saved beside the inventory', async () => {
    const inventory = path.join(dir, 'inventory.yaml');
    await fs.writeFile(inventory, 'cluster: {name: demo}\n');
    await fs.mkdir(path.join(dir, '.kubeforge'));
    await fs.writeFile(path.join(dir, '.kubeforge', 'demo-admin.conf'), ADMIN_CONF);
    const admin = await loadAdmin(inventory, 'https://203.0.113.10:6443');
    expect(admin.names).toEqual({ cluster: 'demo', user: 'demo-admin', context: 'demo' });
    expect(admin.cluster).toEqual({ name: 'demo', cluster: { 'certificate-authority-data': 'Q0E=', server: 'https://203.0.113.10:6443' } });
  });

  it('says to run `up` first when there is none', async () => {
    const inventory = path.join(dir, 'inventory.yaml');
    await fs.writeFile(inventory, 'cluster: {name: demo}\n');
    const err = await rejection(loadAdmin(inventory));
    expect(err.message).toBe(`${path.join(dir, '.kubeforge', 'demo-admin.conf')}: there is no admin kubeconfig for cluster demo yet`);
    expect(err.hint).toContain(`kubeforge up -i ${inventory}`);
  });
});

describe('mergeAfterUp', () => {
  it('merges after a successful run, and says how to merge later after a failed one', async () => {
    const adminFile = path.join(dir, 'demo-admin.conf');
    await fs.writeFile(adminFile, ADMIN_CONF);
    const env = { HOME: path.join(dir, 'home') };
    const said: string[] = [];
    const failed = await mergeAfterUp({ exitCode: 1, kubeconfigPath: adminFile, clusterName: 'demo', inventory: 'inv.yaml' }, env, (l) => said.push(l));
    expect(failed).toBe(1);
    expect(said).toEqual(['kubeconfig: not merged, as the run did not succeed; once it does: kubeforge kubeconfig -i inv.yaml --merge']);
    await expect(fs.stat(path.join(dir, 'home', '.kube', 'config'))).rejects.toThrow(/ENOENT/);

    said.length = 0;
    expect(await mergeAfterUp({ exitCode: 0, kubeconfigPath: adminFile, clusterName: 'demo', inventory: 'inv.yaml' }, env, (l) => said.push(l))).toBe(0);
    const config = path.join(dir, 'home', '.kube', 'config');
    expect(said[0]).toBe(`kubeconfig: merged into ${config} (mode 0600): cluster demo added, user demo-admin added, context demo added; other entries untouched`);
    expect(said[1]).toBe('kubeconfig: current-context set to demo (there was none)');
    expect((parse(await fs.readFile(config, 'utf8')) as { 'current-context': string })['current-context']).toBe('demo');
  });

  it('a merge that fails at the end exits 1 and names the cause; the file is left alone', async () => {
    const adminFile = path.join(dir, 'demo-admin.conf');
    await fs.writeFile(adminFile, ADMIN_CONF);
    const config = path.join(dir, 'config');
    await fs.writeFile(config, 'clusters: {broken: [\n');
    const said: string[] = [];
    const code = await mergeAfterUp({ exitCode: 0, kubeconfigPath: adminFile, clusterName: 'demo', inventory: 'inv.yaml' }, { KUBECONFIG: config }, (l) => said.push(l));
    expect(code).toBe(1);
    expect(said[0]).toMatch(new RegExp(`^error: ${config}:\\d+:\\d+: is not valid YAML`));
    expect(said.at(-1)).toBe('kubeconfig: not merged; the cluster is up: fix the cause, then kubeforge kubeconfig -i inv.yaml --merge');
    expect(await fs.readFile(config, 'utf8')).toBe('clusters: {broken: [\n');
    await expect(checkMergeTarget({ KUBECONFIG: config })).rejects.toThrow(InputError);
  });
});
