// A small, fully resolved cluster for renderer tests: two control planes and one worker.
import { parseVersion, type Cluster, type Host, type Role, type Version } from '../model.js';

export interface TestClusterOverrides {
  containerdVersion?: string;
  kubernetesVersion?: string;
  registryMirrors?: Record<string, string[]>;
}

function version(text: string): Version {
  const parsed = parseVersion(text);
  if (!parsed) throw new Error(`test fixture: bad version ${text}`);
  return parsed;
}

function host(name: string, role: Role, internalAddress: string, labels: Record<string, string>): Host {
  return {
    name,
    address: internalAddress,
    role,
    internalAddress,
    labels,
    ssh: {
      user: 'root',
      port: 22,
      knownHostsFile: '/home/test/.ssh/known_hosts',
      acceptNewHostKeys: false,
      connectTimeoutMs: 10_000,
      keepaliveIntervalMs: 15_000,
    },
  };
}

export function testCluster(overrides: TestClusterOverrides = {}): Cluster {
  return {
    name: 'demo',
    inventoryPath: '/home/test/demo/inventory.yaml',
    containerd: {
      version: version(overrides.containerdVersion ?? '1.7.22'),
      bundle: {
        name: 'containerd',
        path: '/home/test/.cache/kubeforge/containerd.tar.gz',
        sha256: '0'.repeat(64),
        size: 1,
      },
      socket: '/run/containerd/containerd.sock',
      sandboxImage: 'registry.k8s.io/pause:3.10',
      registryMirrors: overrides.registryMirrors ?? {},
      registryConfigPath: '/etc/containerd/certs.d',
    },
    kubernetes: {
      version: version(overrides.kubernetesVersion ?? '1.30.4'),
      controlPlaneEndpoint: '10.0.0.11:6443',
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/12',
      clusterDomain: 'cluster.local',
      images: [],
      offline: false,
    },
    osPackages: {},
    relay: { enabled: true },
    hosts: [
      host('cp1', 'control-plane', '10.0.0.11', {}),
      host('cp2', 'control-plane', '10.0.0.12', {}),
      host('w1', 'worker', '10.0.0.21', { zone: 'a', 'example.com/tier': 'batch' }),
    ],
  };
}

/** The fixture's host by name; fails loudly so a typo in a test is not an undefined. */
export function testHost(cluster: Cluster, name: string): Host {
  const found = cluster.hosts.find((h) => h.name === name);
  if (!found) throw new Error(`test fixture: no host ${name}`);
  return found;
}
