// `kubeforge up --merge-kubeconfig` and `kubeforge kubeconfig` after a real `up` on one full
// host (a control plane that is its own node: the cheapest converged cluster): the cluster's
// entries are merged into a KUBECONFIG that already has two other clusters, whose entries stay
// byte for byte; the new context reaches the cluster's API server (the kubectl stand-in, run on
// this machine, asks it for its nodes); 0600, a backup, and a second merge changes nothing.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, standinsDir, type Artifacts } from '../hosts/artifacts.js';
import { run } from '../hosts/exec.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

// Two entries each, as kubectl writes them: the merge must keep every byte of them.
const OTHER_CLUSTERS = `- cluster:
    certificate-authority-data: ${'QUJD'.repeat(60)}
    server: https://127.0.0.1:1
  name: other-a
- cluster:
    insecure-skip-tls-verify: true
    server: https://127.0.0.1:2
  name: other-b
`;
const OTHER_CONTEXTS = `- context:
    cluster: other-a
    user: other-a-user
  name: other-a
- context:
    cluster: other-b
    namespace: team-b
    user: other-b-user
  name: other-b
`;
const OTHER_USERS = `- name: other-a-user
  user:
    token: other-a-token
- name: other-b-user
  user:
    client-certificate-data: ${'Q0VSVA=='.repeat(20)}
    client-key-data: ${'S0VZ'.repeat(30)}
`;
const EXISTING = `apiVersion: v1
clusters:
${OTHER_CLUSTERS}contexts:
${OTHER_CONTEXTS}current-context: other-a
kind: Config
preferences: {}
users:
${OTHER_USERS}`;

type Named = { name: string } & Record<string, unknown>;
type Kubeconfig = { clusters: Named[]; users: Named[]; contexts: Named[]; 'current-context': string };

describe.skipIf(unavailable)('kubeforge kubeconfig and up --merge-kubeconfig, after a real up on one full host', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let dir: string;
  let inventory: string;
  let config: string;
  let env: NodeJS.ProcessEnv;
  let first: { code: number; stdout: string; stderr: string };

  /** The kubectl stand-in on this machine (its files under dir), talking to the cluster's API server. */
  const kubectl = (...args: string[]) =>
    run('python3', [path.join(standinsDir(), 'kubectl'), '--kubeconfig', '/kube/config', ...args], {
      allowFail: true,
      env: { ...process.env, KUBEADM_STANDIN_ROOT: dir },
    });

  beforeAll(async () => {
    [fleet, artifacts] = await Promise.all([startFleet({ full: 1 }), buildArtifacts('1.30.2')]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-kubeconfig-'));
    inventory = await writeFleetInventory(fleet, dir, { artifacts, clusterName: 'kc' });
    config = path.join(dir, 'kube', 'config');
    await fs.mkdir(path.dirname(config), { recursive: true });
    await fs.writeFile(config, EXISTING, { mode: 0o644 });
    // A list, as many people have it: the merge goes to the first file, the second stays unread.
    env = { HOME: path.join(dir, 'home'), KUBECONFIG: `${config}${path.delimiter}${path.join(dir, 'kube', 'second')}` };
    first = await kubeforge(['up', '-i', inventory, '--merge-kubeconfig'], { env });
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('brings the cluster up and merges its admin kubeconfig at the end, saying how to switch to it', () => {
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain(`kubeconfig: merged into ${config} (mode 0600): cluster kc added, user kc-admin added, context kc added; other entries untouched`);
    expect(first.stdout).toContain(`kubeconfig: the previous file is kept as ${config}.kubeforge-backup`);
    expect(first.stdout).toContain('kubeconfig: current-context stays other-a; to use this cluster: kubectl config use-context kc');
  });

  it('keeps both other clusters, users and contexts byte for byte, in their order, and the current context', async () => {
    const text = await fs.readFile(config, 'utf8');
    for (const block of [OTHER_CLUSTERS, OTHER_CONTEXTS, OTHER_USERS]) expect(text).toContain(block);
    const merged = parseYaml(text) as Kubeconfig;
    expect(merged.clusters.map((c) => c.name)).toEqual(['other-a', 'other-b', 'kc']);
    expect(merged.contexts.map((c) => c.name)).toEqual(['other-a', 'other-b', 'kc']);
    expect(merged.users.map((c) => c.name)).toEqual(['other-a-user', 'other-b-user', 'kc-admin']);
    expect(merged['current-context']).toBe('other-a');
    await expect(fs.stat(path.join(dir, 'kube', 'second'))).rejects.toThrow(/ENOENT/);
  });

  it("holds exactly admin.conf's cluster and credentials, under the cluster's names", async () => {
    const admin = parseYaml(await fs.readFile(path.join(dir, '.kubeforge', 'kc-admin.conf'), 'utf8')) as Kubeconfig;
    const merged = parseYaml(await fs.readFile(config, 'utf8')) as Kubeconfig;
    const adminContext = admin.contexts.find((c) => c.name === admin['current-context'])!.context as { cluster: string; user: string };
    expect(merged.clusters.find((c) => c.name === 'kc')!.cluster).toEqual(admin.clusters.find((c) => c.name === adminContext.cluster)!.cluster);
    expect(merged.users.find((u) => u.name === 'kc-admin')!.user).toEqual(admin.users.find((u) => u.name === adminContext.user)!.user);
    expect(merged.contexts.find((c) => c.name === 'kc')!.context).toEqual({ cluster: 'kc', user: 'kc-admin' });
    expect((merged.clusters.find((c) => c.name === 'kc')!.cluster as { server: string }).server).toBe(`https://${fleet.full[0]!.address}:6443`);
  });

  it('is 0600, with the previous file kept (0600) beside it', async () => {
    expect((await fs.stat(config)).mode & 0o777).toBe(0o600);
    const backup = `${config}.kubeforge-backup`;
    expect(await fs.readFile(backup, 'utf8')).toBe(EXISTING);
    expect((await fs.stat(backup)).mode & 0o777).toBe(0o600);
    expect((await fs.readdir(path.dirname(config))).sort()).toEqual(['config', 'config.kubeforge-backup']);
  });

  it("reaches the cluster's API server through the new context", async () => {
    const nodes = await kubectl('--context', 'kc', 'get', 'nodes', '-o', 'json');
    expect(nodes.code, nodes.stderr).toBe(0);
    const list = JSON.parse(nodes.stdout) as { items: Array<{ metadata: { name: string }; status: { conditions: Array<{ type: string; status: string }> } }> };
    expect(list.items.map((n) => [n.metadata.name, n.status.conditions.find((c) => c.type === 'Ready')?.status])).toEqual([[fleet.full[0]!.name, 'True']]);
    // The current context is still the other cluster's (nothing listens there).
    const other = await kubectl('get', 'nodes');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('127.0.0.1:1');
  });

  it('a second merge (kubeforge kubeconfig --merge) changes nothing, byte for byte, and keeps the first backup', async () => {
    const before = await fs.readFile(config, 'utf8');
    const again = await kubeforge(['kubeconfig', '-i', inventory, '--merge'], { env });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain(`kubeconfig: ${config} already holds cluster kc, user kc-admin and context kc as they are; nothing written`);
    expect(await fs.readFile(config, 'utf8')).toBe(before);
    expect(await fs.readFile(`${config}.kubeforge-backup`, 'utf8')).toBe(EXISTING);
  });

  it('prints the kubeconfig with another server, its context current, without writing anything', async () => {
    const printed = await kubeforge(['kubeconfig', '-i', inventory, '--server', 'https://203.0.113.10:6443'], { env });
    expect(printed.code, printed.stderr).toBe(0);
    const conf = parseYaml(printed.stdout) as Kubeconfig;
    expect(conf['current-context']).toBe('kc');
    expect(conf.clusters).toEqual([{ name: 'kc', cluster: expect.objectContaining({ server: 'https://203.0.113.10:6443' }) }]);
  });

  it('refuses a malformed KUBECONFIG before touching any host, naming the file and line, writing nothing', async () => {
    const broken = path.join(dir, 'broken-config');
    const text = 'apiVersion: v1\nclusters:\n  - cluster: {server: "https://x\n';
    await fs.writeFile(broken, text, { mode: 0o600 });
    const runs = await fs.readdir(path.join(dir, '.kubeforge', 'runs'));
    const refused = await kubeforge(['up', '-i', inventory, '--merge-kubeconfig'], { env: { ...env, KUBECONFIG: broken } });
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^error: ${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: is not valid YAML`, 'm'));
    expect(refused.stderr).toContain('hint: fix the file (or move it away) and run again; nothing was written');
    expect(await fs.readFile(broken, 'utf8')).toBe(text);
    expect(await fs.readdir(path.join(dir, '.kubeforge', 'runs'))).toEqual(runs);
    const unknown = await kubectl('--context', 'nope', 'get', 'nodes');
    expect(unknown.stderr.trim()).toBe('Error in configuration: context was not found for specified context: nope');
  });
});
