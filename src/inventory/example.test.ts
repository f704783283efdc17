// inventory.example.yaml must stay a valid inventory. Its relative paths (./bundles/…) and ~
// paths are satisfied by the test fixture: the example is copied into the fixture directory,
// which holds those bundles, and HOME points at the fixture's home with the named keys.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_FLANNEL_IMAGES, FIXTURE_OFFLINE_IMAGE_REFS, makeInventoryFixture, type InventoryFixture } from '../../test/inventories/fixtures.js';
import { inventoryJsonSchema, loadInventory } from './index.js';

const EXAMPLE = fileURLToPath(new URL('../../inventory.example.yaml', import.meta.url));

/** Every property name anywhere in the JSON Schema. */
function propertyNames(schema: unknown, names = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => propertyNames(s, names));
  else if (schema !== null && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'properties') Object.keys(value as object).forEach((k) => names.add(k));
      propertyNames(value, names);
    }
  }
  return names;
}

describe('inventory.example.yaml', () => {
  it('shows every field of the schema (the {url, sha256} bundle form in a comment)', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const missing = [...propertyNames(inventoryJsonSchema())].filter((name) => !new RegExp(`[\\s{,]${name}:`).test(text));
    expect(missing).toEqual([]);
  });


  let fixture: InventoryFixture;
  beforeAll(() => {
    fixture = makeInventoryFixture();
  });
  afterAll(() => fixture.remove());

  it('loads without errors or warnings and means what its comments say', async () => {
    const path = join(fixture.dir, 'inventory.yaml');
    copyFileSync(EXAMPLE, path);
    const { cluster, warnings } = await loadInventory(path, { env: { ...fixture.env, SSH_AUTH_SOCK: '/run/agent.sock' } });
    expect(warnings).toEqual([]);
    expect(cluster.name).toBe('demo');
    expect(cluster.kubernetes.version.text).toBe('1.30.2');
    expect(cluster.kubernetes.controlPlaneEndpoint).toBe('10.0.0.10:6443');
    expect(cluster.kubernetes.images.map((b) => [b.name, b.imageRefs])).toEqual([['image:offline-images.tar', [...FIXTURE_OFFLINE_IMAGE_REFS].sort()]]);
    expect(cluster.kubernetes.offline).toBe(true);
    expect(cluster.kubernetes.criTools).toMatchObject({ name: 'cri-tools', path: join(fixture.dir, 'bundles', 'crictl-v1.30.0-linux-amd64.tar.gz') });
    expect(cluster.kubernetes.cniPlugins).toMatchObject({ name: 'cni-plugins', path: join(fixture.dir, 'bundles', 'cni-plugins-linux-amd64-v1.5.1.tgz') });
    expect(cluster.network).toMatchObject({
      manifest: { name: 'network-manifest', path: join(fixture.dir, 'bundles', 'kube-flannel.yml') },
      images: FIXTURE_FLANNEL_IMAGES,
      podCidrs: ['10.244.0.0/16'],
    });
    expect(cluster.osPackages.bundle).toMatchObject({ name: 'os-packages', path: join(fixture.dir, 'bundles', 'os-packages-debian12-amd64.tar') });
    expect(cluster.containerd.version.text).toBe('1.7.20');
    expect(cluster.containerd.sandboxImage).toBe('registry.k8s.io/pause:3.9');
    expect(cluster.containerd.registryMirrors).toEqual({ 'docker.io': ['https://mirror.example.com'] });
    expect(cluster.hosts.map((h) => [h.name, h.role, h.internalAddress])).toEqual([
      ['cp1', 'control-plane', '10.0.0.10'],
      ['worker1', 'worker', '10.0.0.21'],
      ['worker2', 'worker', '10.0.0.22'],
    ]);
    expect(cluster.hosts[0]!.labels).toEqual({ 'topology.kubernetes.io/zone': 'a' });
    expect(cluster.hosts[1]!.ssh).toMatchObject({ user: 'admin', port: 2222, keyFile: join(fixture.home, '.ssh', 'worker1_ed25519') });
    expect(cluster.hosts[2]!.ssh).toEqual({
      user: 'root',
      port: 22,
      keyFile: join(fixture.home, '.ssh', 'id_ed25519'),
      passphrase: 'test passphrase',
      agentSocket: '/run/agent.sock',
      password: 'test password',
      sudoPassword: 'test sudo password',
      knownHostsFile: join(fixture.home, '.ssh', 'known_hosts'),
      acceptNewHostKeys: false,
      connectTimeoutMs: 10_000,
      keepaliveIntervalMs: 5_000,
    });
  });
});
