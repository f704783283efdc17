import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InputError } from '../../errors.js';
import { adminEntries, standaloneKubeconfig } from './entries.js';
import { mergeKubeconfig } from './merge.js';

// admin.conf as kubeadm writes it for clusterName "demo".
const ADMIN_CONF = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${'Q'.repeat(200)}
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
    client-certificate-data: ${'C'.repeat(120)}
    client-key-data: ${'K'.repeat(120)}
`;

// A kubeconfig as kubectl leaves it, with two other clusters and a comment.
const EXISTING = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${'A'.repeat(150)}
    server: https://kind.example:6443
  name: kind-kind
# staging, reached over the VPN
- cluster:
    server: https://staging.example:6443
    insecure-skip-tls-verify: true
  name: staging
contexts:
- context:
    cluster: kind-kind
    user: kind-kind
  name: kind-kind
- context:
    cluster: staging
    namespace: team-a
    user: staging-user
  name: staging
current-context: staging
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    token: kind-token
- name: staging-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: staging-login
`;

const demo = adminEntries(ADMIN_CONF, 'admin.conf', 'demo');

type Config = {
  clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  users: Array<{ name: string; user: Record<string, unknown> }>;
  contexts: Array<{ name: string; context: Record<string, unknown> }>;
  'current-context': string;
};

function thrown(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('adminEntries', () => {
  it("renames kubeadm's entries after the cluster: cluster NAME, user NAME-admin, context NAME", () => {
    expect(demo.names).toEqual({ cluster: 'demo', user: 'demo-admin', context: 'demo' });
    expect(demo.context).toEqual({ name: 'demo', context: { cluster: 'demo', user: 'demo-admin' } });
    expect((demo.user.user as Record<string, string>)['client-key-data']).toBe('K'.repeat(120));
    expect((demo.cluster.cluster as Record<string, string>).server).toBe('https://10.0.0.10:6443');
  });

  it('replaces the server when one is given, and nothing else', () => {
    const other = adminEntries(ADMIN_CONF, 'admin.conf', 'demo', 'https://203.0.113.5:6443');
    expect(other.cluster.cluster).toEqual({ 'certificate-authority-data': 'Q'.repeat(200), server: 'https://203.0.113.5:6443' });
  });

  it('prints a standalone kubeconfig with its context current, certificate data on one line', () => {
    const text = standaloneKubeconfig(demo);
    const conf = parse(text) as Config;
    expect(conf['current-context']).toBe('demo');
    expect(text).toContain(`certificate-authority-data: ${'Q'.repeat(200)}\n`);
    expect(text).toMatch(/^clusters:\n- cluster:/m);
  });

  it('refuses an admin.conf without a usable context, naming the file and line', () => {
    const err = thrown(() => adminEntries('apiVersion: v1\nkind: Config\ncontexts: []\n', '/x/demo-admin.conf', 'demo'));
    expect(err.message).toMatch(/^\/x\/demo-admin\.conf:\d+:\d+: names no usable admin context/);
    expect(err.hint).toContain('kubeforge up');
  });
});

describe('mergeKubeconfig', () => {
  it('into no file: a new kubeconfig with the cluster, its context current', () => {
    const merged = mergeKubeconfig(undefined, '/home/u/.kube/config', demo);
    const conf = parse(merged.text) as Config;
    expect(conf.clusters.map((c) => c.name)).toEqual(['demo']);
    expect(conf.users.map((c) => c.name)).toEqual(['demo-admin']);
    expect(conf['current-context']).toBe('demo');
    expect(merged.currentContextSet).toBe(true);
    expect(merged.entries).toEqual({ cluster: 'added', user: 'added', context: 'added' });
    expect(merged.text).toMatch(/^kind: Config$/m);
  });

  it('keeps the other clusters, users and contexts, in their order and text, comments included', () => {
    const merged = mergeKubeconfig(EXISTING, 'config', demo);
    const conf = parse(merged.text) as Config;
    const old = parse(EXISTING) as Config;
    expect(conf.clusters.map((c) => c.name)).toEqual(['kind-kind', 'staging', 'demo']);
    expect(conf.contexts.map((c) => c.name)).toEqual(['kind-kind', 'staging', 'demo']);
    expect(conf.users.map((c) => c.name)).toEqual(['kind-kind', 'staging-user', 'demo-admin']);
    expect(conf.clusters.slice(0, 2)).toEqual(old.clusters);
    expect(conf.users.slice(0, 2)).toEqual(old.users);
    expect(conf.contexts.slice(0, 2)).toEqual(old.contexts);
    // As text: every line of the old file is still there, in the same order.
    const lines = merged.text.split('\n');
    let at = 0;
    for (const line of EXISTING.split('\n').filter((l) => l !== 'current-context: staging')) {
      const found = lines.indexOf(line, at);
      expect(found, line).toBeGreaterThanOrEqual(at);
      at = found;
    }
    expect(merged.text).toContain('# staging, reached over the VPN\n- cluster:');
  });

  it("leaves another cluster's current-context alone and says so", () => {
    const merged = mergeKubeconfig(EXISTING, 'config', demo);
    expect(merged.currentContextSet).toBe(false);
    expect(merged.currentContext).toBe('staging');
    expect((parse(merged.text) as Config)['current-context']).toBe('staging');
  });

  it('sets current-context when the file has an empty one', () => {
    const merged = mergeKubeconfig(EXISTING.replace('current-context: staging', 'current-context: ""'), 'config', demo);
    expect(merged.currentContextSet).toBe(true);
    expect((parse(merged.text) as Config)['current-context']).toBe('demo');
  });

  it('is idempotent: a rerun changes nothing, byte for byte', () => {
    const once = mergeKubeconfig(EXISTING, 'config', demo);
    const twice = mergeKubeconfig(once.text, 'config', demo);
    expect(twice.changed).toBe(false);
    expect(twice.text).toBe(once.text);
    expect(twice.entries).toEqual({ cluster: 'unchanged', user: 'unchanged', context: 'unchanged' });
  });

  it('replaces only its own entries on a rerun with new credentials (a cluster made anew)', () => {
    const once = mergeKubeconfig(EXISTING, 'config', demo);
    const renewed = adminEntries(ADMIN_CONF.replace('K'.repeat(120), 'N'.repeat(120)), 'admin.conf', 'demo');
    const again = mergeKubeconfig(once.text, 'config', renewed);
    expect(again.entries).toEqual({ cluster: 'unchanged', user: 'replaced', context: 'unchanged' });
    const conf = parse(again.text) as Config;
    expect(conf.users.map((u) => u.name)).toEqual(['kind-kind', 'staging-user', 'demo-admin']);
    expect(conf.users[2]!.user['client-key-data']).toBe('N'.repeat(120));
    expect(again.text.split('\n').filter((l) => l.includes('N'.repeat(120)))).toHaveLength(1);
  });

  it('two kubeforge clusters never share an entry; kubeadm\'s own names stay untouched', () => {
    const prod = adminEntries(ADMIN_CONF.replaceAll('demo', 'prod'), 'admin.conf', 'prod');
    // A file with kubeadm's admin.conf copied in as is (kubernetes-admin, kubernetes-admin@demo).
    const both = mergeKubeconfig(mergeKubeconfig(ADMIN_CONF, 'config', demo).text, 'config', prod);
    const conf = parse(both.text) as Config;
    expect(conf.users.map((u) => u.name)).toEqual(['kubernetes-admin', 'demo-admin', 'prod-admin']);
    expect(conf.contexts.map((c) => c.name)).toEqual(['kubernetes-admin@demo', 'demo', 'prod']);
    // The cluster entry "demo" kubeadm wrote is this cluster's: replaced in place, not duplicated.
    expect(conf.clusters.map((c) => c.name)).toEqual(['demo', 'prod']);
    expect(conf['current-context']).toBe('kubernetes-admin@demo');
  });

  it('a user entry named like the cluster (not NAME-admin) is not this cluster\'s and stays', () => {
    const existing = 'apiVersion: v1\nkind: Config\nusers:\n- name: demo\n  user:\n    token: theirs\n';
    const conf = parse(mergeKubeconfig(existing, 'config', demo).text) as Config;
    expect(conf.users.map((u) => u.name)).toEqual(['demo', 'demo-admin']);
    expect(conf.users[0]!.user).toEqual({ token: 'theirs' });
  });

  it('removes a second entry of its own name rather than leave kubectl to pick one', () => {
    const dup = mergeKubeconfig(EXISTING, 'config', demo).text.replace(/^users:\n/m, 'users:\n- name: demo-admin\n  user:\n    token: stale\n');
    const conf = parse(mergeKubeconfig(dup, 'config', demo).text) as Config;
    expect(conf.users.filter((u) => u.name === 'demo-admin')).toHaveLength(1);
    expect(conf.users.map((u) => u.name)).toEqual(['demo-admin', 'kind-kind', 'staging-user']);
  });

  it('takes lists written as [] or null, and writes the new entry in block style', () => {
    const merged = mergeKubeconfig('apiVersion: v1\nclusters: []\ncontexts: null\nkind: Config\nusers: []\n', 'config', demo);
    expect(merged.text).toMatch(/^clusters:\n- cluster:/m);
    expect(merged.text).toMatch(/^contexts:\n- context:/m);
  });

  it('an empty file or one of comments only is a new kubeconfig', () => {
    expect((parse(mergeKubeconfig('', 'config', demo).text) as Config).clusters).toHaveLength(1);
    expect(mergeKubeconfig('# mine\n', 'config', demo).text).toContain('# mine');
  });

  describe('refuses a file that is not a kubeconfig, naming file, line and column', () => {
    it('broken YAML', () => {
      const err = thrown(() => mergeKubeconfig('apiVersion: v1\nclusters:\n- cluster: {server: "x\n', '/home/u/.kube/config', demo));
      expect(err.message).toMatch(/^\/home\/u\/\.kube\/config:\d+:\d+: is not valid YAML/);
      expect(err.hint).toContain('nothing was written');
    });

    it('a duplicate key', () => {
      const err = thrown(() => mergeKubeconfig('apiVersion: v1\nkind: Config\nkind: Config\n', 'config', demo));
      expect(err.message).toMatch(/^config:3:1: is not valid YAML/);
    });

    it('clusters that is not a list', () => {
      const err = thrown(() => mergeKubeconfig('apiVersion: v1\nkind: Config\nclusters:\n  demo: {}\n', 'config', demo));
      expect(err.message).toBe('config:4:3: is not a kubeconfig: clusters is not a list');
    });

    it('an entry without a name', () => {
      const err = thrown(() => mergeKubeconfig('kind: Config\ncontexts:\n- context: {cluster: a}\n', 'config', demo));
      expect(err.message).toBe('config:3:3: is not a kubeconfig: an entry of contexts has no name');
    });

    it('another kind of file', () => {
      const err = thrown(() => mergeKubeconfig('apiVersion: v1\nkind: Pod\n', 'config', demo));
      expect(err.message).toBe('config:2:7: is not a kubeconfig: kind is "Pod", not Config');
      expect(thrown(() => mergeKubeconfig('- a\n- b\n', 'config', demo)).message).toBe('config:1:1: is not a kubeconfig: its top level is not a mapping');
    });
  });
});
