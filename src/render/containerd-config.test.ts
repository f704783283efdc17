import { describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import { renderContainerdConfig } from './containerd-config.js';
import { containerdConfigVersion } from './containerd-version.js';
import { renderRegistryHosts, renderRegistryHostsFiles } from './registry-hosts.js';
import { testCluster } from './fixtures.js';

const dockerMirror = { 'docker.io': ['https://mirror.gcr.io'] };

/** Every key path in a parsed TOML document, e.g. "plugins.io.containerd.grpc.v1.cri.registry". */
function keyPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => [
    [...prefix, key],
    ...keyPaths(child, [...prefix, key]),
  ]);
}

function at(doc: unknown, path: string[]): unknown {
  return path.reduce<unknown>(
    (node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
    doc,
  );
}

describe('renderContainerdConfig', () => {
  it('writes config version 2 with the io.containerd.grpc.v1.cri plugin for containerd 1.7', () => {
    const cluster = testCluster({ containerdVersion: '1.7.22', registryMirrors: dockerMirror });
    expect(renderContainerdConfig(cluster.containerd)).toBe(`# Managed by kubeforge: local edits are overwritten on the next run.
version = 2

[grpc]
address = "/run/containerd/containerd.sock"

[plugins."io.containerd.grpc.v1.cri"]
sandbox_image = "registry.k8s.io/pause:3.10"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
SystemdCgroup = true

[plugins."io.containerd.grpc.v1.cri".registry]
config_path = "/etc/containerd/certs.d"
`);
  });

  it('writes config version 3 with the split cri.v1 images/runtime plugins for containerd 2.1', () => {
    const cluster = testCluster({ containerdVersion: '2.1.4', registryMirrors: dockerMirror });
    expect(renderContainerdConfig(cluster.containerd)).toBe(`# Managed by kubeforge: local edits are overwritten on the next run.
version = 3

[grpc]
address = "/run/containerd/containerd.sock"

[plugins."io.containerd.cri.v1.images".pinned_images]
sandbox = "registry.k8s.io/pause:3.10"

[plugins."io.containerd.cri.v1.images".registry]
config_path = "/etc/containerd/certs.d"

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
SystemdCgroup = true
`);
  });

  const runcOptions = {
    2: ['plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'runtimes', 'runc', 'options'],
    3: ['plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes', 'runc', 'options'],
  } as const;
  const configPath = {
    2: ['plugins', 'io.containerd.grpc.v1.cri', 'registry', 'config_path'],
    3: ['plugins', 'io.containerd.cri.v1.images', 'registry', 'config_path'],
  } as const;

  for (const [containerdVersion, configVersion] of [
    ['1.6.36', 2],
    ['1.7.22', 2],
    ['2.0.0', 3],
    ['2.1.4', 3],
    ['2.2.1', 3],
  ] as const) {
    it(`parses back with SystemdCgroup on runc and no mirrors table for containerd ${containerdVersion}`, () => {
      const cluster = testCluster({ containerdVersion, registryMirrors: dockerMirror });
      const doc = parse(renderContainerdConfig(cluster.containerd));
      expect(doc.version).toBe(configVersion);
      expect(at(doc, [...runcOptions[configVersion], 'SystemdCgroup'])).toBe(true);
      expect(at(doc, [...configPath[configVersion]])).toBe('/etc/containerd/certs.d');
      expect(at(doc, ['grpc', 'address'])).toBe('/run/containerd/containerd.sock');
      const keys = keyPaths(doc).map((path) => path[path.length - 1]);
      expect(keys).not.toContain('mirrors');
      // The other layout's plugin must not be written: containerd 2.x would warn about and
      // migrate a stray v2 section, 1.x would ignore a v3 one.
      const otherPlugin = configVersion === 2 ? 'io.containerd.cri.v1.runtime' : 'io.containerd.grpc.v1.cri';
      expect(Object.keys(at(doc, ['plugins']) as object)).not.toContain(otherPlugin);
    });
  }

  for (const unsupported of ['1.5.18', '2.3.0', '3.0.0']) {
    it(`refuses containerd ${unsupported} and names the version`, () => {
      const cluster = testCluster({ containerdVersion: unsupported });
      expect(() => renderContainerdConfig(cluster.containerd)).toThrow(
        `containerd ${unsupported} is not supported`,
      );
    });
  }
});

describe('containerdConfigVersion', () => {
  it('maps 1.6/1.7 to 2, 2.0–2.2 to 3 and anything else to undefined', () => {
    const v = (major: number, minor: number) => ({ major, minor, patch: 0, text: `${major}.${minor}.0` });
    expect([v(1, 5), v(1, 6), v(1, 7), v(1, 8), v(2, 0), v(2, 2), v(2, 3)].map(containerdConfigVersion)).toEqual([
      undefined, 2, 2, undefined, 3, 3, undefined,
    ]);
  });
});

describe('registry hosts.toml', () => {
  it('renders docker.io with the real upstream server and one host table per mirror', () => {
    const cluster = testCluster({ containerdVersion: '2.1.4', registryMirrors: dockerMirror });
    expect(renderRegistryHostsFiles(cluster.containerd)).toEqual([
      {
        path: '/etc/containerd/certs.d/docker.io/hosts.toml',
        content: `# Managed by kubeforge: local edits are overwritten on the next run.
server = "https://registry-1.docker.io"

[host."https://mirror.gcr.io"]
capabilities = [ "pull", "resolve" ]
`,
      },
    ]);
  });

  it('keeps mirror order and uses https://<registry> (port included) as server for other registries', () => {
    const doc = parse(renderRegistryHosts('registry.example.com:5000', ['http://10.0.0.5:5000', 'https://m2.example']));
    expect(doc.server).toBe('https://registry.example.com:5000');
    expect(Object.keys(doc.host as object)).toEqual(['http://10.0.0.5:5000', 'https://m2.example']);
    expect(at(doc, ['host', 'https://m2.example', 'capabilities'])).toEqual(['pull', 'resolve']);
  });

  it('writes no server for the _default namespace', () => {
    const doc = parse(renderRegistryHosts('_default', ['https://mirror.example']));
    expect(doc).not.toHaveProperty('server');
    expect(Object.keys(doc.host as object)).toEqual(['https://mirror.example']);
  });

  it('skips registries without mirrors and tolerates a trailing slash on config_path', () => {
    const cluster = testCluster({ registryMirrors: { 'quay.io': [], 'ghcr.io': ['https://m.example'] } });
    cluster.containerd.registryConfigPath = '/etc/containerd/certs.d/';
    expect(renderRegistryHostsFiles(cluster.containerd).map((f) => f.path)).toEqual([
      '/etc/containerd/certs.d/ghcr.io/hosts.toml',
    ]);
  });

  for (const bad of ['..', '.', '', 'a/b', '../etc']) {
    it(`refuses registry name ${JSON.stringify(bad)} that would leave config_path`, () => {
      const cluster = testCluster({ registryMirrors: { [bad]: ['https://m.example'] } });
      expect(() => renderRegistryHostsFiles(cluster.containerd)).toThrow('cannot be a directory name');
    });
  }
});
