// No injection: values with quotes, $( ), backticks, ;, newlines and spaces, fed through the
// real CLI to a full test host. Every value that would reach a remote command or path is
// either refused by the inventory schema (exit 2, the host untouched) or carried as data: the
// run succeeds, the value arrives verbatim where it belongs, and no command it spells ever ran.
// Each hostile value tries to create a file named pwned-<tag> (in /tmp, or in whatever the
// working directory is); afterwards the whole host and this machine's likely places are
// searched for such a file, through the host's namespaces (not kubeforge's SSH).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, type Artifacts } from '../hosts/artifacts.js';
import { run } from '../hosts/exec.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

/** The injection strings tried in every field the schema must refuse (the report lists them). */
const INJECTIONS = [
  "it's",
  'say "hi"',
  '$(touch /tmp/pwned-subst)',
  '`touch /tmp/pwned-backtick`',
  'x; touch /tmp/pwned-semicolon',
  'x\ntouch /tmp/pwned-newline',
  'two words',
  'x && touch /tmp/pwned-and | tee /tmp/pwned-pipe',
];

/** Each field that reaches a host, set to a value carrying `bad`; and how its error line starts. */
const FIELDS: Array<{ path: string; set: (doc: Record<string, any>, bad: string) => void }> = [
  { path: 'cluster.name', set: (d, v) => (d.cluster.name = v) },
  { path: 'hosts[0].name', set: (d, v) => (d.hosts[0].name = v) },
  { path: 'hosts[0].address', set: (d, v) => (d.hosts[0].address = v) },
  { path: 'hosts[0].internalAddress', set: (d, v) => (d.hosts[0].internalAddress = `10.77.0.200${v}`) },
  { path: 'hosts[0].labels: label key', set: (d, v) => ((d.hosts[0].labels ??= {})[`example.com/${v}`] = 'a') },
  { path: 'hosts[0].labels.zone', set: (d, v) => ((d.hosts[0].labels ??= {}).zone = v) },
  { path: 'ssh.user', set: (d, v) => (d.ssh.user = `admin${v}`) },
  { path: 'kubernetes.version', set: (d, v) => (d.kubernetes.version = `1.30.2${v}`) },
  { path: 'kubernetes.controlPlaneEndpoint', set: (d, v) => (d.kubernetes.controlPlaneEndpoint = `10.77.0.2:6443${v}`) },
  { path: 'kubernetes.clusterDomain', set: (d, v) => (d.kubernetes.clusterDomain = `cluster.local${v}`) },
  { path: 'kubernetes.podSubnet', set: (d, v) => (d.kubernetes.podSubnet = `10.244.0.0/16${v}`) },
  { path: 'containerd.version', set: (d, v) => (d.containerd.version = `1.6.20${v}`) },
  { path: 'containerd.socket', set: (d, v) => (d.containerd.socket = `/run/containerd/${v}.sock`) },
  { path: 'containerd.registryConfigPath', set: (d, v) => (d.containerd.registryConfigPath = `/etc/containerd/${v}`) },
  { path: 'containerd.sandboxImage', set: (d, v) => (d.containerd.sandboxImage = `registry.k8s.io/pause:3.10${v}`) },
  { path: 'containerd.registryMirrors: registry', set: (d, v) => (d.containerd.registryMirrors = { [`docker.io${v}`]: ['https://mirror.example.com'] }) },
];

// Accepted values: each is data that reaches the host, and tries to run a command on the way.
const BUNDLE_NAMES = {
  containerd: 'containerd-1.6.20-linux-amd64 $(touch pwned-c1) `touch pwned-c2`; touch pwned-c3 \'q\' "dq"\ntouch pwned-c4.tar.gz',
  kubernetes: "kubernetes $(touch pwned-k1);'x'.tar.gz",
  images: 'images `touch pwned-i1` "q" && touch pwned-i2.tar',
};
/** RFC 3986 allows ' $ ( ) ; in a URL, so the schema accepts this; it must reach hosts.toml as data. */
const MIRROR_URL = "https://mirror.example.com/v2/'$(touch$IFS/tmp/pwned-m1)';touch$IFS/tmp/pwned-m2;'";
/** The laptop side: the inventory's own directory (the ledger and admin.conf go beside it). */
const INVENTORY_DIR_NAME = "inventory $(touch pwned-d1) `touch pwned-d2`; 'q' \"dq\"\ntouch pwned-d3";

async function markersOnHost(host: TestHost): Promise<string[]> {
  const out = await host.sh("find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -name 'pwned-*' -print");
  return out.split('\n').filter(Boolean);
}

async function markersHere(dirs: string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const dir of dirs) {
    const r = await run('find', [dir, '-maxdepth', '3', '-name', 'pwned-*'], { allowFail: true });
    for (const line of r.stdout.split('\n').filter(Boolean)) found.add(path.resolve(line));
  }
  return [...found];
}

describe.skipIf(unavailable)('no injection through inventory values (1 full host)', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let scratch: string;
  let host: TestHost;
  let laptopPlaces: string[];

  beforeAll(async () => {
    [fleet, artifacts] = await Promise.all([startFleet({ full: 1 }), buildArtifacts('1.30.2')]);
    host = fleet.full[0]!;
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-injection-'));
    laptopPlaces = [scratch, os.tmpdir(), process.cwd(), os.homedir()];
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  });

  it('the marker search finds a marker file where one is (so the searches below can fail)', async () => {
    await host.exec('mkdir -p /var/tmp/deep/er && touch /var/tmp/deep/er/pwned-control /tmp/pwned-control');
    expect((await markersOnHost(host)).sort()).toEqual(['/tmp/pwned-control', '/var/tmp/deep/er/pwned-control']);
    await host.exec('rm -rf /var/tmp/deep /tmp/pwned-control');
    await fs.writeFile(path.join(scratch, 'pwned-control'), '');
    expect(await markersHere(laptopPlaces)).toEqual([path.join(scratch, 'pwned-control')]);
    await fs.rm(path.join(scratch, 'pwned-control'));
  });

  describe('values the schema refuses', () => {
    const results: Array<{ bad: string; file: string; code: number; stdout: string; stderr: string }> = [];

    beforeAll(async () => {
      const base = await writeFleetInventory(fleet, path.join(scratch, 'refused'), { artifacts, clusterName: 'inj' });
      const { parse } = await import('yaml');
      for (const [i, bad] of INJECTIONS.entries()) {
        const doc = parse(await fs.readFile(base, 'utf8')) as Record<string, any>;
        for (const field of FIELDS) field.set(doc, bad);
        const file = path.join(scratch, 'refused', `hostile-${i}.yaml`);
        await fs.writeFile(file, stringify(doc));
        const r = await kubeforge(['up', '-i', file], { cwd: scratch, timeoutMs: 60_000 });
        results.push({ bad, file, ...r });
      }
    });

    it.each(INJECTIONS.map((bad, i) => [JSON.stringify(bad), i] as const))('%s in every field: exit 2, each field named at FILE:LINE:COL', (_, i) => {
      const r = results[i]!;
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
      for (const field of FIELDS) {
        const prefix = `error: ${r.file}:`;
        expect(
          errors.some((l) => l.startsWith(prefix) && new RegExp(`^\\d+:\\d+: ${escape(field.path)}`).test(l.slice(prefix.length))),
          `${field.path} refused in:\n${errors.join('\n')}`,
        ).toBe(true);
      }
    });

    it('touched nothing: no kubeforge state on the host, no marker file there or here', async () => {
      expect(await host.sh('test -e /var/lib/kubeforge && echo touched || echo untouched')).toBe('untouched');
      expect(await markersOnHost(host)).toEqual([]);
      expect(await markersHere(laptopPlaces)).toEqual([]);
    });
  });

  describe('values carried as data: hostile bundle file names, a mirror URL, the inventory directory', () => {
    let inventoryDir: string;
    let result: { code: number; stdout: string; stderr: string };

    beforeAll(async () => {
      const bundles = path.join(scratch, 'bundles');
      await fs.mkdir(bundles, { recursive: true });
      const hostile: Artifacts = {
        ...artifacts,
        containerdBundle: path.join(bundles, BUNDLE_NAMES.containerd),
        kubernetesBundle: path.join(bundles, BUNDLE_NAMES.kubernetes),
        imageArchive: path.join(bundles, BUNDLE_NAMES.images),
      };
      await fs.copyFile(artifacts.containerdBundle, hostile.containerdBundle);
      await fs.copyFile(artifacts.kubernetesBundle, hostile.kubernetesBundle);
      await fs.copyFile(artifacts.imageArchive, hostile.imageArchive);
      inventoryDir = path.join(scratch, INVENTORY_DIR_NAME);
      const inventory = await writeFleetInventory(fleet, inventoryDir, {
        artifacts: hostile,
        clusterName: 'inj',
        overrides: { containerd: { registryMirrors: { 'docker.io': [MIRROR_URL] } } },
      });
      result = await kubeforge(['up', '-i', inventory], { cwd: scratch });
    });

    it('the run succeeds: the host is a control plane with containerd running', async () => {
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(await host.sh('systemctl is-active containerd')).toBe('active');
      expect(await host.sh('test -f /etc/kubernetes/admin.conf && echo yes')).toBe('yes');
      expect(await host.sh('ctr -n k8s.io images ls -q')).toContain(artifacts.imageRef);
    });

    it('no command any value spells ran: no marker file anywhere on the host or here', async () => {
      expect(await markersOnHost(host)).toEqual([]);
      expect(await markersHere(laptopPlaces)).toEqual([]);
    });

    it('bundles land on the host under names of safe characters only, content-addressed', async () => {
      const names = (await host.sh('ls -1 /var/lib/kubeforge/bundles')).split('\n');
      // containerd, kubernetes, images (the hostile names), cri-tools, CNI plugins, OS packages.
      expect(names).toHaveLength(6);
      for (const name of names) expect(name).toMatch(/^[0-9a-f]{16}-[A-Za-z0-9._-]+$/);
      expect(names.some((n) => n.includes('containerd-1.6.20-linux-amd64'))).toBe(true);
    });

    it('the mirror URL arrives verbatim in hosts.toml, as TOML data', async () => {
      const text = await host.sh('cat /etc/containerd/certs.d/docker.io/hosts.toml');
      const toml = parseToml(text) as { server: string; host: Record<string, unknown> };
      expect(Object.keys(toml.host)).toEqual([MIRROR_URL]);
      expect(toml.server).toBe('https://registry-1.docker.io');
    });

    it('writes the ledger and admin.conf into the hostile directory, and prints a KUBECONFIG line a shell takes as one word', async () => {
      const adminConf = path.join(inventoryDir, '.kubeforge', 'inj-admin.conf');
      expect((await fs.stat(adminConf)).mode & 0o777).toBe(0o600);
      await fs.access(path.join(inventoryDir, '.kubeforge', 'last-run.json'));
      const line = /export KUBECONFIG=('(?:[^']|'\\'')*')\n/.exec(result.stdout)?.[1];
      expect(line, result.stdout).toBeDefined();
      const r = await run('sh', ['-c', `export KUBECONFIG=${line}; printf '%s' "$KUBECONFIG"`], { cwd: scratch });
      expect(r.stdout).toBe(adminConf);
      expect(await markersHere(laptopPlaces)).toEqual([]);
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
