import { describe, expect, it } from 'vitest';
import { InputError, InputErrors } from '../../errors.js';
import { parseHostSpec, presetFromFlags, requireForYes } from './flags.js';

describe('--host', () => {
  it('takes an address with optional name, role and node IP', () => {
    expect(parseHostSpec('10.0.0.10')).toEqual({ address: '10.0.0.10' });
    expect(parseHostSpec('10.0.0.10:2222,name=cp1,role=control-plane')).toEqual({ address: '10.0.0.10:2222', name: 'cp1', role: 'control-plane' });
    expect(parseHostSpec('[fd00::1]:22, role=worker , internal=10.0.0.5')).toEqual({ address: '[fd00::1]:22', role: 'worker', internalAddress: '10.0.0.5' });
  });

  it('says what is wrong with a spec it cannot read', () => {
    expect(() => parseHostSpec('name=cp1')).toThrow('--host: "name=cp1" does not start with an address');
    expect(() => parseHostSpec('10.0.0.1,role=master')).toThrow('--host: "role=master" in "10.0.0.1,role=master" is not name=NAME, role=control-plane, role=worker or internal=IP');
    expect(() => parseHostSpec('10.0.0.1,zone=a')).toThrow(InputError);
  });
});

describe('presetFromFlags', () => {
  it('maps flags to preset answers and leaves the rest to ask', () => {
    expect(
      presetFromFlags({
        name: 'demo',
        kubernetesVersion: '1.30.2',
        image: ['a.tar', 'b.tar'],
        containerdBundle: 'c.tar.gz',
        user: 'admin',
        port: '2222',
        key: '~/.ssh/id_ed25519',
        knownHosts: './known_hosts',
        host: ['10.0.0.1', '10.0.0.2,name=w'],
        acceptNewHostKeys: true,
        probe: true,
      }),
    ).toEqual({
      clusterName: 'demo',
      kubernetesVersion: '1.30.2',
      images: ['a.tar', 'b.tar'],
      containerdBundle: 'c.tar.gz',
      user: 'admin',
      port: 2222,
      key: '~/.ssh/id_ed25519',
      knownHostsFile: './known_hosts',
      hosts: [{ address: '10.0.0.1' }, { address: '10.0.0.2', name: 'w' }],
      acceptNewHostKeys: true,
    });
    expect(presetFromFlags({})).toEqual({});
  });

  it('maps the node bundles and --offline, keeping URL@sha256:HEX for the wizard to check', () => {
    const digest = 'ab'.repeat(32);
    expect(
      presetFromFlags({
        offline: true,
        criTools: './crictl-v1.30.0-linux-amd64.tar.gz',
        cniPlugins: `https://example.com/cni-plugins-linux-amd64-v1.5.1.tgz@sha256:${digest}`,
        networkManifest: './kube-flannel.yml',
        osPackages: '~/bundles/os-packages.tar',
      }),
    ).toEqual({
      offline: true,
      criTools: './crictl-v1.30.0-linux-amd64.tar.gz',
      cniPlugins: `https://example.com/cni-plugins-linux-amd64-v1.5.1.tgz@sha256:${digest}`,
      networkManifest: './kube-flannel.yml',
      osPackages: '~/bundles/os-packages.tar',
    });
    // Without --offline the wizard asks (or, with --yes, writes offline: false with archives).
    expect(presetFromFlags({ offline: false })).toEqual({});
  });

  it('rejects a bad port and two ways of logging in', () => {
    expect(() => presetFromFlags({ port: '70000' })).toThrow('--port: "70000" is not a port number (1 to 65535)');
    expect(() => presetFromFlags({ key: 'k', agent: true })).toThrow('--key and --agent: choose one way to log in');
  });
});

describe('requireForYes', () => {
  it('lists every flag --yes cannot do without, at once', () => {
    let caught: unknown;
    try {
      requireForYes({});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputErrors);
    expect((caught as InputErrors).errors.map((e) => e.where)).toEqual(['--host', '--containerd-bundle', '--kubernetes-version']);
  });

  it('takes the Kubernetes version from the bundle name when it tells', () => {
    expect(() =>
      requireForYes({ hosts: [{ address: '10.0.0.1' }], containerdBundle: 'c.tar.gz', kubernetesBundle: 'kubernetes-1.31.1-linux-amd64.tar.gz' }),
    ).not.toThrow();
  });
});
