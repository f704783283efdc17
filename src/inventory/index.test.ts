import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeOf, ExitCode, InputError, InputErrors } from '../errors.js';
import { makeInventoryFixture, type InventoryFixture } from '../../test/inventories/fixtures.js';
import { inventoryJsonSchema, loadInventory } from './index.js';

const GOOD = `cluster:
  name: demo
kubernetes:
  version: 1.30.2
containerd:
  bundle: bundles/containerd-1.7.20-linux-amd64.tar.gz
ssh:
  keyFile: keys/id_ed25519
hosts:
  - name: cp1
    address: 10.0.0.10
    role: control-plane
`;

const NO_NETWORK = 'no network add-on: nodes will stay NotReady until you apply one (set network.manifest)';

let fixture: InventoryFixture;
beforeEach(() => {
  fixture = makeInventoryFixture();
});
afterEach(() => fixture.remove());

function write(name: string, text: string): string {
  const path = join(fixture.dir, name);
  writeFileSync(path, text);
  return path;
}

async function failure(path: string, env = fixture.env): Promise<InputErrors> {
  const error = await loadInventory(path, { env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof InputErrors)) throw new Error(`expected InputErrors, got ${String(error)}`);
  return error;
}

describe('loadInventory', () => {
  it('loads a valid inventory into a Cluster', async () => {
    const path = write('inventory.yaml', GOOD);
    const { cluster, warnings } = await loadInventory(path, { env: fixture.env });
    expect(warnings).toEqual([`${path}:1:1: ${NO_NETWORK}`]);
    expect(cluster.name).toBe('demo');
    expect(cluster.hosts.map((h) => h.name)).toEqual(['cp1']);
    expect(cluster.inventoryPath).toBe(join(fixture.dir, 'inventory.yaml'));
  });

  it('writes FILE as the caller gave the path', async () => {
    const absolute = write('inventory.yaml', GOOD.replace('name: demo', 'name: Demo'));
    const given = relative(process.cwd(), absolute);
    const error = await failure(given);
    expect(error.errors.map((e) => e.where)).toEqual([`${given}:2:9`]);
    expect(error.message).toBe(`${given}:2:9: cluster.name: "Demo" is not a DNS-1123 label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit`);
  });

  it('reports a missing inventory file as an input error', async () => {
    const path = join(fixture.dir, 'nope.yaml');
    const error = await failure(path);
    expect(error.errors).toHaveLength(1);
    expect(error.errors[0]).toBeInstanceOf(InputError);
    expect(error.errors[0]!.message).toBe(`${path}: no such file`);
    expect(exitCodeOf(error)).toBe(ExitCode.input);
    expect((await failure(fixture.dir)).errors[0]!.detail).toBe('is a directory, not an inventory file');
  });

  it('reports schema and cross-field problems together, in file order, each with a hint', async () => {
    const text = GOOD.replace('  keyFile: keys/id_ed25519\n', '  keyFile: keys/id_ed25519\n  port: 0\n').concat(
      '  - name: cp1\n    address: 10.0.0.11\n    role: worker\n',
    );
    const path = write('inventory.yaml', text.replace('version: 1.30.2', 'version: 1.27.1'));
    const error = await failure(path);
    expect(error.errors.map((e) => e.message)).toEqual([
      `${path}:4:12: kubernetes.version: Kubernetes 1.27.1 is not supported (kubeforge supports Kubernetes 1.28 to 1.35)`,
      `${path}:9:9: ssh.port: 0 is not a port number (1 to 65535)`,
      `${path}:14:11: hosts[1].name: duplicate host name "cp1" (first on line 11)`,
    ]);
    for (const e of error.errors) expect(e.hint).toMatch(/\S/);
  });

  it('checks files and the environment only once the document is valid', async () => {
    const path = write('inventory.yaml', GOOD.replace('bundles/containerd', 'missing/containerd').replace('name: demo', 'name: -demo'));
    expect((await failure(path)).errors.map((e) => e.where)).toEqual([`${path}:2:9`]);
  });

  it('returns warnings as FILE:LINE:COL lines, YAML warnings included', async () => {
    const text = GOOD.replace('name: demo', 'name: !custom demo').concat('  - name: cp2\n    address: 10.0.0.11\n    role: control-plane\n');
    const path = write('inventory.yaml', text.replace('  version: 1.30.2\n', '  version: 1.30.2\n  controlPlaneEndpoint: 10.0.0.100:6443\n'));
    const { warnings } = await loadInventory(path, { env: fixture.env });
    expect(warnings).toEqual([
      `${path}:1:1: ${NO_NETWORK}`,
      `${path}:2:9: YAML syntax: unresolved tag: !custom`,
      `${path}:10:1: hosts: 2 control-plane hosts; etcd needs a majority of them, so 2 survive no more failures than 1 would (use 1, 3 or 5)`,
    ]);
  });

  it('reports bad values of the add-on, offline and bundle fields at FILE:LINE:COL', async () => {
    const text = GOOD.replace(
      '  version: 1.30.2\n',
      '  version: 1.30.2\n  offline: yes please\n  criTools: { url: "ftp://example.com/crictl.tgz", sha256: ' + 'a'.repeat(64) + ' }\n  cniPlugins: ""\n',
    ).concat('network:\n  manifest: 42\nosPackages:\n  bundles: x.tar\n');
    const path = write('inventory.yaml', text);
    expect((await failure(path)).errors.map((e) => e.message)).toEqual([
      `${path}:5:12: kubernetes.offline: expected true or false, got the string "yes please"`,
      `${path}:6:20: kubernetes.criTools.url: "ftp://example.com/crictl.tgz" is not an http:// or https:// URL`,
      `${path}:7:15: kubernetes.cniPlugins: is empty; expected a file path`,
      `${path}:17:13: network.manifest: 42 is not a bundle: write a file path, or {url, sha256}`,
      `${path}:19:3: osPackages: unknown key "bundles" (did you mean "bundle"?)`,
    ]);
  });

  it('reports a manifest CIDR and missing offline images at the inventory fields, in one pass', async () => {
    const text = GOOD.replace('  version: 1.30.2\n', '  version: 1.30.2\n  podSubnet: 10.245.0.0/16\n  images: [bundles/images.tar]\n').concat(
      'network:\n  manifest: bundles/kube-flannel.yml\n',
    );
    const path = write('inventory.yaml', text);
    const error = await failure(path);
    expect(error.errors.map((e) => e.where)).toEqual([`${path}:6:11`, `${path}:16:13`]);
    expect(error.errors[0]!.detail).toMatch(/^kubernetes\.images: kubernetes\.offline is true .* lack 9 images/);
    expect(error.errors[1]!.detail).toMatch(/^network\.manifest: the manifest's pod CIDR differs from kubernetes\.podSubnet 10\.245\.0\.0\/16/);
  });

  describe('bundle cache', () => {
    const content = Buffer.from('bundle from the loopback server\n');
    const sha256 = createHash('sha256').update(content).digest('hex');
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer((_req, res) => res.end(content));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/containerd-1.7.20-linux-amd64.tar.gz`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const withUrl = () => GOOD.replace('  bundle: bundles/containerd-1.7.20-linux-amd64.tar.gz\n', `  bundle: { url: "${url}", sha256: ${sha256} }\n`);

    it('defaults to ~/.cache/kubeforge/bundles', async () => {
      const { cluster } = await loadInventory(write('inventory.yaml', withUrl()), { env: fixture.env });
      const expected = join(fixture.home, '.cache', 'kubeforge', 'bundles', sha256);
      expect(cluster.containerd.bundle.path).toBe(expected);
      expect(existsSync(expected)).toBe(true);
    });

    it('honours XDG_CACHE_HOME and an explicit cacheDir', async () => {
      const path = write('inventory.yaml', withUrl());
      const xdg = await loadInventory(path, { env: { ...fixture.env, XDG_CACHE_HOME: join(fixture.dir, 'xdg') } });
      expect(xdg.cluster.containerd.bundle.path).toBe(join(fixture.dir, 'xdg', 'kubeforge', 'bundles', sha256));
      const explicit = await loadInventory(path, { env: fixture.env, cacheDir: '~/elsewhere' });
      expect(explicit.cluster.containerd.bundle.path).toBe(join(fixture.home, 'elsewhere', sha256));
    });
  });
});

describe('inventoryJsonSchema', () => {
  it('describes the top-level sections and forbids unknown keys', () => {
    const schema = inventoryJsonSchema() as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(['cluster', 'kubernetes', 'network', 'containerd', 'osPackages', 'relay', 'ssh', 'hosts']);
    expect(schema.required).toEqual(['cluster', 'kubernetes', 'containerd', 'hosts']);
    expect(schema.additionalProperties).toBe(false);
  });
});
