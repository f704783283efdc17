import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import {
  FIXTURE_FLANNEL_IMAGES,
  FIXTURE_FLANNEL_MANIFEST,
  FIXTURE_IMAGE_REF,
  makeInventoryFixture,
  type InventoryFixture,
} from '../../test/inventories/fixtures.js';
import { OFFLINE_HINT } from './artifact-checks.js';
import { resolveInventory, type ResolveContext, type ResolveResult } from './resolve.js';
import { inventorySchema } from './schema.js';

const BUNDLE = Buffer.from('containerd bundle served over loopback\n');
const BUNDLE_SHA = createHash('sha256').update(BUNDLE).digest('hex');
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

let server: Server;
let base: string;
let requests: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.end(req.url?.endsWith('.yml') ? FIXTURE_FLANNEL_MANIFEST : BUNDLE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let fixture: InventoryFixture;
beforeEach(() => {
  fixture = makeInventoryFixture();
  requests = [];
});
afterEach(() => fixture.remove());

function context(env: NodeJS.ProcessEnv = fixture.env): ResolveContext {
  return { inventoryPath: join(fixture.dir, 'inventory.yaml'), env, home: fixture.home, cacheDir: join(fixture.dir, 'cache') };
}

function inventory(overrides: Record<string, unknown> = {}) {
  return inventorySchema.parse({
    cluster: { name: 'demo' },
    kubernetes: { version: '1.30.2' },
    containerd: { bundle: 'bundles/containerd-1.7.20-linux-amd64.tar.gz' },
    ssh: { keyFile: 'keys/id_ed25519' },
    hosts: [
      { name: 'cp1', address: '10.0.0.10', role: 'control-plane' },
      { name: 'w1', address: '10.0.0.11', role: 'worker' },
    ],
    ...overrides,
  });
}

function cluster(result: ResolveResult) {
  if (!result.ok) throw new Error(`unexpected errors: ${result.errors.map((e) => e.message).join('; ')}`);
  return result.cluster;
}

function errors(result: ResolveResult) {
  if (result.ok) throw new Error('expected errors');
  return result.errors;
}

describe('resolveInventory', () => {
  it('applies defaults and hashes the bundles', async () => {
    const c = cluster(await resolveInventory(inventory(), context()));
    expect(c.name).toBe('demo');
    expect(c.inventoryPath).toBe(join(fixture.dir, 'inventory.yaml'));
    expect(c.containerd).toEqual({
      version: { major: 1, minor: 7, patch: 20, text: '1.7.20' },
      bundle: {
        name: 'containerd',
        path: join(fixture.dir, 'bundles', 'containerd-1.7.20-linux-amd64.tar.gz'),
        sha256: sha('fake containerd tarball\n'),
        size: 'fake containerd tarball\n'.length,
      },
      socket: '/run/containerd/containerd.sock',
      // What kubeadm 1.30 expects.
      sandboxImage: 'registry.k8s.io/pause:3.9',
      registryMirrors: {},
      registryConfigPath: '/etc/containerd/certs.d',
    });
    expect(c.kubernetes).toEqual({
      version: { major: 1, minor: 30, patch: 2, text: '1.30.2' },
      controlPlaneEndpoint: '10.0.0.10:6443',
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/12',
      clusterDomain: 'cluster.local',
      images: [],
      offline: false,
    });
    expect(c.network).toBeUndefined();
    expect(c.osPackages).toEqual({});
    expect(c.hosts[1]).toEqual({
      name: 'w1',
      address: '10.0.0.11',
      role: 'worker',
      labels: {},
      internalAddress: '10.0.0.11',
      ssh: {
        user: 'root',
        port: 22,
        keyFile: join(fixture.dir, 'keys', 'id_ed25519'),
        knownHostsFile: join(fixture.home, '.ssh', 'known_hosts'),
        acceptNewHostKeys: false,
        connectTimeoutMs: 10_000,
        keepaliveIntervalMs: 5_000,
      },
      sshSources: expect.objectContaining({
        address: { value: '10.0.0.11', from: 'inventory hosts[1].address' },
        user: { value: 'root', from: 'default' },
        keyFile: { value: join(fixture.dir, 'keys', 'id_ed25519'), from: 'inventory ssh.keyFile' },
        proxyJump: { value: 'none', from: 'default' },
      }),
    });
  });

  it('merges host ssh overrides over the top-level settings and reads secrets from the environment', async () => {
    const inv = inventory({
      ssh: { user: 'ops', keyFile: 'keys/id_ed25519', passwordEnv: 'KUBEFORGE_SSH_PASSWORD', connectTimeout: '1m30s' },
      hosts: [
        { name: 'cp1', address: '10.0.0.10', role: 'control-plane', ssh: { port: 2222, keyFile: '~/.ssh/worker1_ed25519', passphraseEnv: 'KUBEFORGE_KEY_PASSPHRASE' } },
        { name: 'w1', address: '10.0.0.11', role: 'worker', ssh: { agent: false, sudoPasswordEnv: 'KUBEFORGE_SUDO_PASSWORD' } },
      ],
    });
    const c = cluster(await resolveInventory(inv, context({ ...fixture.env, SSH_AUTH_SOCK: '/run/agent.sock' })));
    expect(c.hosts[0]!.ssh).toEqual({
      user: 'ops',
      port: 2222,
      keyFile: join(fixture.home, '.ssh', 'worker1_ed25519'),
      passphrase: 'test passphrase',
      password: 'test password',
      agentSocket: '/run/agent.sock',
      knownHostsFile: join(fixture.home, '.ssh', 'known_hosts'),
      acceptNewHostKeys: false,
      connectTimeoutMs: 90_000,
      keepaliveIntervalMs: 5_000,
    });
    expect(c.hosts[1]!.ssh).toMatchObject({ user: 'ops', port: 22, password: 'test password', sudoPassword: 'test sudo password' });
    expect(c.hosts[1]!.ssh.agentSocket).toBeUndefined();
  });

  it('defaults the endpoint to the init host internal address, IPv6 in brackets', async () => {
    const hosts = [
      { name: 'w1', address: '10.0.0.11', role: 'worker' },
      { name: 'cp1', address: 'cp1.example.com', internalAddress: 'fd00::10', role: 'control-plane' },
    ];
    expect(cluster(await resolveInventory(inventory({ hosts }), context())).kubernetes.controlPlaneEndpoint).toBe('[fd00::10]:6443');
    const withPortless = inventory({ kubernetes: { version: '1.30.2', controlPlaneEndpoint: 'api.example.com' } });
    expect(cluster(await resolveInventory(withPortless, context())).kubernetes.controlPlaneEndpoint).toBe('api.example.com:6443');
  });

  it('names image bundles after their files and keeps the Kubernetes bundle', async () => {
    const inv = inventory({
      kubernetes: { version: '1.30.2', bundle: './bundles/kubernetes-1.30.2-linux-amd64.tar.gz', images: ['bundles/images.tar'], offline: false },
    });
    const c = cluster(await resolveInventory(inv, context()));
    expect(c.kubernetes.bundle?.name).toBe('kubernetes');
    const archive = readFileSync(join(fixture.dir, 'bundles', 'images.tar'));
    expect(c.kubernetes.images).toEqual([
      { name: 'image:images.tar', path: join(fixture.dir, 'bundles', 'images.tar'), sha256: sha(archive), size: archive.length, imageRefs: [FIXTURE_IMAGE_REF] },
    ]);
  });

  it('reports an unset variable once per place it is named, with the hosts that need it', async () => {
    const inv = inventory({ ssh: { keyFile: 'keys/id_ed25519', passwordEnv: 'KUBEFORGE_NOT_SET' } });
    expect(errors(await resolveInventory(inv, context()))).toEqual([
      {
        path: ['ssh', 'passwordEnv'],
        message: 'ssh.passwordEnv: environment variable KUBEFORGE_NOT_SET is not set (needed for hosts cp1, w1)',
        hint: 'export KUBEFORGE_NOT_SET=… before running kubeforge; secrets are read from the environment, never from the inventory',
      },
    ]);
  });

  it('treats an empty variable as unset', async () => {
    const inv = inventory({ hosts: [{ name: 'cp1', address: '10.0.0.10', role: 'control-plane', ssh: { sudoPasswordEnv: 'EMPTY' } }] });
    expect(errors(await resolveInventory(inv, context({ ...fixture.env, EMPTY: '' }))).map((e) => e.message)).toEqual([
      'hosts[0].ssh.sudoPasswordEnv: environment variable EMPTY is not set (needed for host cp1)',
    ]);
  });

  it('reports a shared key file problem once, and a host without any credentials', async () => {
    const inv = inventory({
      ssh: { keyFile: 'keys/id_ed25519_open' },
      hosts: [
        { name: 'cp1', address: '10.0.0.10', role: 'control-plane' },
        { name: 'w1', address: '10.0.0.11', role: 'worker' },
      ],
    });
    const found = errors(await resolveInventory(inv, context()));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ path: ['ssh', 'keyFile'], hint: `chmod 600 ${join(fixture.dir, 'keys', 'id_ed25519_open')}` });

    const noKey = inventory({ ssh: { agent: true } });
    expect(errors(await resolveInventory(noKey, context())).map((e) => [e.path, e.message])).toEqual([
      [['hosts', 0], 'hosts[0]: host cp1 has no way to log in: no keyFile, no passwordEnv, and no ssh-agent (SSH_AUTH_SOCK is not set)'],
      [['hosts', 1], 'hosts[1]: host w1 has no way to log in: no keyFile, no passwordEnv, and no ssh-agent (SSH_AUTH_SOCK is not set)'],
    ]);
    expect(cluster(await resolveInventory(noKey, context({ ...fixture.env, SSH_AUTH_SOCK: '/run/agent.sock' }))).hosts).toHaveLength(2);
  });

  it('warns once when the known_hosts file is missing and new keys are not accepted', async () => {
    rmSync(join(fixture.home, '.ssh', 'known_hosts'));
    const result = await resolveInventory(inventory(), context());
    expect(result.warnings.map((w) => w.message)).toEqual([
      `hosts[0]: known_hosts file ${join(fixture.home, '.ssh', 'known_hosts')} does not exist and acceptNewHostKeys is false, so no host key can be verified`,
    ]);
    const accepting = await resolveInventory(inventory({ ssh: { keyFile: 'keys/id_ed25519', acceptNewHostKeys: true } }), context());
    expect(accepting.warnings).toEqual([]);
  });

  it('fetches a URL bundle once into the cache, even when two fields name it', async () => {
    const source = { url: `${base}/containerd-1.7.20-linux-amd64.tar.gz`, sha256: BUNDLE_SHA };
    const inv = inventory({ containerd: { bundle: source }, kubernetes: { version: '1.30.2', bundle: source } });
    const c = cluster(await resolveInventory(inv, context()));
    const cached = join(fixture.dir, 'cache', BUNDLE_SHA);
    expect(c.containerd.bundle).toEqual({ name: 'containerd', path: cached, sha256: BUNDLE_SHA, size: BUNDLE.length });
    expect(c.kubernetes.bundle).toEqual({ name: 'kubernetes', path: cached, sha256: BUNDLE_SHA, size: BUNDLE.length });
    expect(requests).toEqual(['/containerd-1.7.20-linux-amd64.tar.gz']);
  });

  it('reports a download with the wrong hash at its url', async () => {
    const inv = inventory({ containerd: { bundle: { url: `${base}/containerd-1.7.20-linux-amd64.tar.gz`, sha256: '0'.repeat(64) } } });
    const [problem] = errors(await resolveInventory(inv, context()));
    expect(problem!.path).toEqual(['containerd', 'bundle', 'url']);
    expect(problem!.message).toMatch(/^containerd\.bundle\.url: .* has SHA-256 [0-9a-f]{64}, but the inventory expects 0{64}$/);
  });

  it('downloads nothing while other problems remain', async () => {
    const inv = inventory({
      containerd: { bundle: { url: `${base}/containerd-1.7.20-linux-amd64.tar.gz`, sha256: BUNDLE_SHA } },
      kubernetes: { version: '1.30.2', images: ['bundles/missing.tar'] },
    });
    expect(errors(await resolveInventory(inv, context())).map((e) => e.message)).toEqual([
      `kubernetes.images[0]: bundle file ${join(fixture.dir, 'bundles', 'missing.tar')} does not exist`,
    ]);
    expect(requests).toEqual([]);
  });
});

describe('resolveInventory: add-on, CNI, cri-tools and OS package bundles', () => {
  const fileBundle = (name: string, file: string, content: string) => ({
    name,
    path: join(fixture.dir, 'bundles', file),
    sha256: sha(content),
    size: Buffer.byteLength(content),
  });

  it('hashes each new bundle under its name and reads what the manifest needs and configures', async () => {
    const inv = inventory({
      kubernetes: { version: '1.30.2', criTools: 'bundles/crictl-v1.30.0-linux-amd64.tar.gz', cniPlugins: 'bundles/cni-plugins-linux-amd64-v1.5.1.tgz' },
      network: { manifest: 'bundles/kube-flannel.yml' },
      osPackages: { bundle: 'bundles/os-packages-debian12-amd64.tar' },
    });
    const c = cluster(await resolveInventory(inv, context()));
    expect(c.kubernetes.criTools).toEqual(fileBundle('cri-tools', 'crictl-v1.30.0-linux-amd64.tar.gz', 'fake cri-tools tarball\n'));
    expect(c.kubernetes.cniPlugins).toEqual(fileBundle('cni-plugins', 'cni-plugins-linux-amd64-v1.5.1.tgz', 'fake cni plugins tarball\n'));
    expect(c.network).toEqual({
      manifest: fileBundle('network-manifest', 'kube-flannel.yml', FIXTURE_FLANNEL_MANIFEST),
      images: FIXTURE_FLANNEL_IMAGES,
      podCidrs: ['10.244.0.0/16'],
    });
    expect(c.osPackages).toEqual({ bundle: fileBundle('os-packages', 'os-packages-debian12-amd64.tar', 'fake os packages tarball\n') });
  });

  it('fetches a manifest given as {url, sha256} and reads it from the cache', async () => {
    const source = { url: `${base}/v0.25.6/kube-flannel.yml`, sha256: sha(FIXTURE_FLANNEL_MANIFEST) };
    const c = cluster(await resolveInventory(inventory({ network: { manifest: source } }), context()));
    expect(c.network?.manifest).toMatchObject({ name: 'network-manifest', path: join(fixture.dir, 'cache', source.sha256) });
    expect(c.network?.podCidrs).toEqual(['10.244.0.0/16']);
    expect(requests).toEqual(['/v0.25.6/kube-flannel.yml']);
  });

  it('reports missing files at their fields, all together', async () => {
    const inv = inventory({
      kubernetes: { version: '1.30.2', criTools: 'bundles/crictl.tgz', cniPlugins: 'bundles/cni.tgz' },
      network: { manifest: 'bundles/calico.yaml' },
      osPackages: { bundle: 'bundles/directory.tar.gz' },
    });
    expect(errors(await resolveInventory(inv, context())).map((e) => [e.path, e.message])).toEqual([
      [['kubernetes', 'criTools'], `kubernetes.criTools: bundle file ${join(fixture.dir, 'bundles', 'crictl.tgz')} does not exist`],
      [['kubernetes', 'cniPlugins'], `kubernetes.cniPlugins: bundle file ${join(fixture.dir, 'bundles', 'cni.tgz')} does not exist`],
      [['network', 'manifest'], `network.manifest: bundle file ${join(fixture.dir, 'bundles', 'calico.yaml')} does not exist`],
      [['osPackages', 'bundle'], `osPackages.bundle: bundle file ${join(fixture.dir, 'bundles', 'directory.tar.gz')} is a directory, not a file`],
    ]);
  });

  it('reports a manifest that is not YAML at network.manifest, naming its own FILE:LINE:COL', async () => {
    const file = join(fixture.dir, 'bundles', 'broken.yml');
    writeFileSync(file, 'kind: DaemonSet\nspec:\n  template: [unclosed\n');
    const [problem] = errors(await resolveInventory(inventory({ network: { manifest: 'bundles/broken.yml' } }), context()));
    expect(problem!.path).toEqual(['network', 'manifest']);
    expect(problem!.message).toMatch(new RegExp(`^network\\.manifest: the network add-on manifest is not usable: ${file}:\\d+:\\d+: not valid YAML: `));
    expect(problem!.hint).toMatch(/multi-document Kubernetes YAML/);
  });
});

describe('resolveInventory: the containerd sandbox image', () => {
  it.each([
    ['1.28.0', 'registry.k8s.io/pause:3.9'],
    ['1.30.2', 'registry.k8s.io/pause:3.9'],
    ['1.31.0', 'registry.k8s.io/pause:3.10'],
    ['1.33.4', 'registry.k8s.io/pause:3.10'],
    ['1.34.0', 'registry.k8s.io/pause:3.10.1'],
    ['1.35.1', 'registry.k8s.io/pause:3.10.1'],
  ])('defaults to the pause image kubeadm %s expects', async (version, pause) => {
    const c = cluster(await resolveInventory(inventory({ kubernetes: { version } }), context()));
    expect(c.containerd.sandboxImage).toBe(pause);
  });

  it('keeps the one the inventory names', async () => {
    const inv = inventory({ containerd: { bundle: 'bundles/containerd-1.7.20-linux-amd64.tar.gz', sandboxImage: 'registry.example.com/pause:3.10' } });
    expect(cluster(await resolveInventory(inv, context())).containerd.sandboxImage).toBe('registry.example.com/pause:3.10');
  });
});

describe('resolveInventory: the network add-on pod CIDRs', () => {
  it('accepts a manifest whose CIDR is podSubnet, however it is spelt', async () => {
    const written = join(fixture.dir, 'bundles', 'spelt.yml');
    writeFileSync(written, FIXTURE_FLANNEL_MANIFEST.replace('"10.244.0.0/16"', '"10.244.0.0/016"'));
    const c = cluster(await resolveInventory(inventory({ network: { manifest: 'bundles/spelt.yml' } }), context()));
    expect(c.network?.podCidrs).toEqual(['10.244.0.0/016']);
  });

  it('reports a manifest CIDR that differs from podSubnet, naming both and the manifest key', async () => {
    const inv = inventory({ kubernetes: { version: '1.30.2', podSubnet: '10.245.0.0/16' }, network: { manifest: 'bundles/kube-flannel.yml' } });
    expect(errors(await resolveInventory(inv, context()))).toEqual([
      {
        path: ['network', 'manifest'],
        message: 'network.manifest: the manifest\'s pod CIDR differs from kubernetes.podSubnet 10.245.0.0/16: net-conf.json "Network" is 10.244.0.0/16',
        hint: 'edit the manifest so that net-conf.json "Network" is 10.245.0.0/16, or set kubernetes.podSubnet: 10.244.0.0/16',
      },
    ]);
  });

  it('reports a dual-stack manifest against a single podSubnet', async () => {
    const written = join(fixture.dir, 'bundles', 'dual.yml');
    writeFileSync(written, FIXTURE_FLANNEL_MANIFEST.replace('"Network": "10.244.0.0/16",', '"Network": "10.244.0.0/16",\n      "IPv6Network": "fd00:10:244::/56",'));
    const [problem] = errors(await resolveInventory(inventory({ network: { manifest: 'bundles/dual.yml' } }), context()));
    expect(problem!.message).toBe(
      'network.manifest: the manifest\'s pod CIDRs differ from kubernetes.podSubnet 10.244.0.0/16: net-conf.json "Network" is 10.244.0.0/16, net-conf.json "IPv6Network" is fd00:10:244::/56',
    );
    expect(problem!.hint).toMatch(/^edit the manifest/);
  });

  it('accepts a manifest that configures no CIDR (Calico operator default, unknown shapes)', async () => {
    writeFileSync(join(fixture.dir, 'bundles', 'installation.yaml'), 'apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata: { name: default }\nspec: {}\n');
    const c = cluster(await resolveInventory(inventory({ kubernetes: { version: '1.30.2', podSubnet: '10.245.0.0/16' }, network: { manifest: 'bundles/installation.yaml' } }), context()));
    expect(c.network).toMatchObject({ images: [], podCidrs: [] });
  });
});

describe('resolveInventory: offline image archives', () => {
  const kubeadm130 = [
    'registry.k8s.io/kube-apiserver:v1.30.2',
    'registry.k8s.io/kube-controller-manager:v1.30.2',
    'registry.k8s.io/kube-scheduler:v1.30.2',
    'registry.k8s.io/kube-proxy:v1.30.2',
    'registry.k8s.io/coredns/coredns:v1.11.1',
    'registry.k8s.io/pause:3.9',
    'registry.k8s.io/etcd:3.5.12-0',
  ];

  /** An archive holding these references, written like `docker save`. */
  function archive(name: string, refs: string[]): string {
    const dir = join(fixture.dir, `${name}-src`);
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(refs.map((ref, i) => ({ Config: `c${i}.json`, RepoTags: [ref], Layers: [] }))));
    execFileSync('tar', ['-cf', join(fixture.dir, 'bundles', name), '-C', dir, 'manifest.json']);
    return `bundles/${name}`;
  }

  it('is the default with archives, and lists every image they lack with who needs it', async () => {
    const inv = inventory({ kubernetes: { version: '1.30.2', images: ['bundles/images.tar'] }, network: { manifest: 'bundles/kube-flannel.yml' } });
    const missing = [...kubeadm130.map((r) => `${r} (kubeadm)`), ...FIXTURE_FLANNEL_IMAGES.map((r) => `${r} (network add-on)`)];
    expect(errors(await resolveInventory(inv, context()))).toEqual([
      {
        path: ['kubernetes', 'images'],
        message: `kubernetes.images: kubernetes.offline is true (the default when kubernetes.images lists an archive), but the image archives lack 9 images the cluster needs: ${missing.join(', ')}`,
        hint: OFFLINE_HINT,
      },
    ]);
    expect(OFFLINE_HINT).toBe(
      'add them to an archive (e.g. ctr -n k8s.io images export / docker save) or set kubernetes.offline: false if the hosts can pull from a registry',
    );
  });

  it('passes when the archives together hold every image, written in any form', async () => {
    const short = kubeadm130.slice(0, 4);
    const rest = [...kubeadm130.slice(4), 'flannel/flannel-cni-plugin:v1.5.1-flannel2', 'docker.io/flannel/flannel:v0.25.6'];
    const inv = inventory({
      kubernetes: { version: '1.30.2', images: [archive('a.tar', short), archive('b.tar', rest)] },
      network: { manifest: 'bundles/kube-flannel.yml' },
    });
    const c = cluster(await resolveInventory(inv, context()));
    expect(c.kubernetes.offline).toBe(true);
  });

  it('needs a sandbox image other than kubeadm\'s besides kubeadm\'s own', async () => {
    const inv = inventory({
      kubernetes: { version: '1.30.2', images: [archive('k.tar', kubeadm130)] },
      containerd: { bundle: 'bundles/containerd-1.7.20-linux-amd64.tar.gz', sandboxImage: 'registry.k8s.io/pause:3.10' },
    });
    expect(errors(await resolveInventory(inv, context())).map((e) => e.message)).toEqual([
      'kubernetes.images: kubernetes.offline is true (the default when kubernetes.images lists an archive), but the image archives lack 1 image the cluster needs: registry.k8s.io/pause:3.10 (sandbox image)',
    ]);
  });

  it('checks nothing with offline: false, and everything with offline: true and no archive', async () => {
    const pulling = inventory({ kubernetes: { version: '1.30.2', images: ['bundles/images.tar'], offline: false } });
    expect(cluster(await resolveInventory(pulling, context())).kubernetes.offline).toBe(false);
    const [problem] = errors(await resolveInventory(inventory({ kubernetes: { version: '1.30.2', offline: true } }), context()));
    expect(problem!.path).toEqual(['kubernetes', 'offline']);
    expect(problem!.message).toBe(
      `kubernetes.offline: is true, but no image archive is given for the 7 images the cluster needs: ${kubeadm130.map((r) => `${r} (kubeadm)`).join(', ')}`,
    );
  });
});
