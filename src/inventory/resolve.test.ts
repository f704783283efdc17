import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { FIXTURE_IMAGE_REF, makeInventoryFixture, type InventoryFixture } from '../../test/inventories/fixtures.js';
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
    res.end(BUNDLE);
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
      sandboxImage: 'registry.k8s.io/pause:3.10',
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
    });
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
      kubernetes: { version: '1.30.2', bundle: './bundles/kubernetes-1.30.2-linux-amd64.tar.gz', images: ['bundles/images.tar'] },
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
