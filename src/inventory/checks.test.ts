import { describe, expect, it } from 'vitest';
import { runChecks } from './checks.js';
import type { Path } from './problem.js';

// Lines are faked from the path so "first on line N" is checkable without a document.
const lineOf = (path: Path) => 100 + (typeof path[1] === 'number' ? path[1] : 0);

const host = (name: string, address: string, role = 'worker', extra: Record<string, unknown> = {}) => ({ name, address, role, ...extra });

function inventory(overrides: Record<string, unknown> = {}) {
  return {
    cluster: { name: 'demo' },
    kubernetes: { version: '1.30.2' },
    network: { manifest: 'bundles/kube-flannel.yml' },
    containerd: { bundle: 'bundles/containerd-1.7.20-linux-amd64.tar.gz' },
    hosts: [host('cp1', '10.0.0.10', 'control-plane'), host('w1', '10.0.0.11')],
    ...overrides,
  };
}

const messages = (input: Record<string, unknown>) => {
  const result = runChecks(input, lineOf);
  return { errors: result.errors.map((p) => p.message), warnings: result.warnings.map((p) => p.message) };
};

describe('runChecks', () => {
  it('finds nothing wrong with a plain inventory', () => {
    expect(messages(inventory())).toEqual({ errors: [], warnings: [] });
  });

  it('reports a duplicate host name at the second, naming the first line', () => {
    const result = runChecks(inventory({ hosts: [host('cp1', '10.0.0.10', 'control-plane'), host('cp1', '10.0.0.11')] }), lineOf);
    expect(result.errors).toEqual([
      {
        path: ['hosts', 1, 'name'],
        message: 'hosts[1].name: duplicate host name "cp1" (first on line 100)',
        hint: 'every host needs its own name: Kubernetes uses it as the node name',
      },
    ]);
  });

  it('reports a duplicate address however it is spelt', () => {
    const hosts = [host('cp1', 'fd00::10', 'control-plane'), host('w1', 'FD00:0::10')];
    expect(messages(inventory({ hosts })).errors).toEqual(['hosts[1].address: duplicate address FD00:0::10 (host "cp1" on line 100 has it too)']);
  });

  it('allows hosts behind one address on different ports, if their internal addresses differ', () => {
    const natted = [
      host('cp1', '192.0.2.1', 'control-plane', { ssh: { port: 2201 }, internalAddress: '10.0.0.10' }),
      host('w1', '192.0.2.1', 'worker', { ssh: { port: 2202 }, internalAddress: '10.0.0.11' }),
    ];
    expect(messages(inventory({ hosts: natted })).errors).toEqual([]);
    const clash = [host('cp1', '192.0.2.1', 'control-plane', { ssh: { port: 2201 } }), host('w1', '192.0.2.1', 'worker', { ssh: { port: 2202 } })];
    expect(messages(inventory({ hosts: clash })).errors).toEqual(['hosts[1].address: 192.0.2.1 is also the internal address of host "cp1" on line 100']);
  });

  it('compares ssh ports with the top-level default', () => {
    const hosts = [host('cp1', '192.0.2.1', 'control-plane', { internalAddress: '10.0.0.10' }), host('w1', '192.0.2.1', 'worker', { ssh: { port: 2222 }, internalAddress: '10.0.0.11' })];
    expect(messages(inventory({ hosts, ssh: { port: 2222 } })).errors).toEqual([
      'hosts[1].address: duplicate address 192.0.2.1 (host "cp1" on line 100 has it too)',
    ]);
  });

  it('leaves a host reached by name without internalAddress to resolve.ts (an ssh config alias may give its IP)', () => {
    expect(messages(inventory({ hosts: [host('cp1', 'cp1.example.com', 'control-plane')] })).errors).toEqual([]);
    expect(messages(inventory({ hosts: [host('cp1', 'cp1.example.com', 'control-plane', { internalAddress: '10.0.0.10' })] })).errors).toEqual([]);
  });

  it('needs a control-plane host', () => {
    const result = runChecks(inventory({ hosts: [host('w1', '10.0.0.11')] }), lineOf);
    expect(result.errors).toMatchObject([{ path: ['hosts'], at: 'key', message: 'hosts: no host has role control-plane' }]);
  });

  it('does not count roles while one is misspelt (the schema reports that)', () => {
    expect(messages(inventory({ hosts: [host('w1', '10.0.0.11', 'controlplane')] })).errors).toEqual([]);
  });

  it('warns about an even number of control planes, and about several without an endpoint', () => {
    const two = [host('cp1', '10.0.0.10', 'control-plane'), host('cp2', '10.0.0.11', 'control-plane')];
    expect(messages(inventory({ hosts: two, kubernetes: { version: '1.30.2', controlPlaneEndpoint: 'lb:6443' } }))).toEqual({
      errors: [],
      warnings: ['hosts: 2 control-plane hosts; etcd needs a majority of them, so 2 survive no more failures than 1 would (use 1, 3 or 5)'],
    });
    const three = [...two, host('cp3', '10.0.0.12', 'control-plane')];
    expect(messages(inventory({ hosts: three })).warnings).toEqual([
      'kubernetes.controlPlaneEndpoint is not set with 3 control-plane hosts: every node will reach the API server through the init host cp1 alone; set it to a load-balanced address, or set kubernetes.controlPlaneVip for a built-in virtual IP',
    ]);
  });

  it('rejects unsupported versions', () => {
    expect(messages(inventory({ kubernetes: { version: '1.27.3' } })).errors).toEqual([
      'kubernetes.version: Kubernetes 1.27.3 is not supported (kubeforge supports Kubernetes 1.28 to 1.35)',
    ]);
    expect(messages(inventory({ containerd: { bundle: 'x.tgz', version: '2.3.0' } })).errors).toEqual([
      'containerd.version: containerd 2.3.0 is not supported (kubeforge supports containerd 1.6 to 2.2)',
    ]);
  });

  it('reads the containerd version from the bundle file name, also from a URL', () => {
    expect(messages(inventory({ containerd: { bundle: 'dl/containerd-1.5.0-linux-amd64.tar.gz' } })).errors).toEqual([
      'containerd.bundle: containerd 1.5.0 is not supported (kubeforge supports containerd 1.6 to 2.2) (read from the file name containerd-1.5.0-linux-amd64.tar.gz)',
    ]);
    const url = { url: 'https://example.com/v2.0.0/containerd-2.0.0-linux-amd64.tar.gz', sha256: 'a'.repeat(64) };
    expect(messages(inventory({ containerd: { bundle: url } })).errors).toEqual([]);
  });

  it('needs a containerd version when the file name does not carry one', () => {
    const result = runChecks(inventory({ containerd: { bundle: 'containerd.tgz' } }), lineOf);
    expect(result.errors).toMatchObject([
      { path: ['containerd', 'bundle'], message: 'containerd.version is not set, and the bundle file name containerd.tgz does not tell it (expected containerd-X.Y.Z-…)' },
    ]);
    expect(messages(inventory({ containerd: { bundle: 'containerd.tgz', version: '1.7.20' } })).errors).toEqual([]);
  });

  it('warns when a version disagrees with its bundle file name', () => {
    expect(messages(inventory({ containerd: { bundle: 'containerd-1.7.19-linux-amd64.tar.gz', version: '1.7.20' } })).warnings).toEqual([
      'containerd.version is 1.7.20, but the bundle file name containerd-1.7.19-linux-amd64.tar.gz says 1.7.19',
    ]);
    expect(messages(inventory({ kubernetes: { version: '1.30.2', bundle: 'kubernetes-1.31.0-linux-amd64.tar.gz' } })).warnings).toEqual([
      'kubernetes.bundle: the file name kubernetes-1.31.0-linux-amd64.tar.gz says Kubernetes 1.31.0, but kubernetes.version is 1.30.2',
    ]);
  });

  it('rejects pod and service subnets that overlap, also against a default', () => {
    expect(messages(inventory({ kubernetes: { version: '1.30.2', podSubnet: '10.96.0.0/16' } })).errors).toEqual([
      'kubernetes.podSubnet: podSubnet 10.96.0.0/16 overlaps serviceSubnet 10.96.0.0/12',
    ]);
    expect(messages(inventory({ kubernetes: { version: '1.30.2', podSubnet: '10.32.0.0/12' } })).errors).toEqual([]);
  });

  it('leaves malformed fields to the schema', () => {
    const junk = { cluster: 1, kubernetes: { version: 'latest', podSubnet: 'x' }, network: { manifest: 7 }, containerd: { bundle: 7 }, hosts: 'cp1' };
    expect(messages(junk)).toEqual({ errors: [], warnings: [] });
    expect(messages({ network: 'x', hosts: [null, 'cp1', { name: 5, address: '10.0.0.300' }] })).toEqual({ errors: [], warnings: [] });
  });

  it('warns when there is no network add-on, at the top of the document', () => {
    const { network: _, ...withoutNetwork } = inventory();
    expect(runChecks(withoutNetwork, lineOf).warnings).toEqual([
      { path: ['network'], message: 'no network add-on: nodes will stay NotReady until you apply one (set network.manifest)' },
    ]);
    expect(runChecks(withoutNetwork, lineOf).errors).toEqual([]);
  });
});
