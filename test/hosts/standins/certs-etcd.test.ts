// The STAND-INS' certificate and etcd-snapshot behaviour (not the real tools): kubeadm certs
// check-expiration / renew all, crictl ps / exec into the etcd static Pod, etcdctl snapshot save
// and etcdutl snapshot status. Each runs against a throw-away root (KUBEADM_STANDIN_ROOT).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const KUBEADM = path.join(here, 'kubeadm');
const CRICTL = path.join(here, 'crictl');

function interpreterProblem(): string | undefined {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import yaml'], { encoding: 'utf8' });
  if (probe.error) return `/usr/bin/python3 is not available (${probe.error.message})`;
  if (probe.status !== 0) return `/usr/bin/python3 cannot import yaml (${probe.stderr.trim()})`;
  return undefined;
}
const missing = interpreterProblem();
if (missing && process.env.CI === 'true') throw new Error(`CI=true but ${missing}`);

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

interface Root {
  dir: string;
  write(file: string, content: string | Buffer): void;
  read(file: string): string;
  run(tool: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

function makeRoot(version: string): Root {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kf-certs-standin-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, content: string | Buffer) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  };
  write('usr/local/share/kubeforge-standin/kubernetes-version', `${version}\n`);
  return {
    dir,
    write,
    read: (file) => readFileSync(path.join(dir, file), 'utf8'),
    run: (tool, ...args) =>
      new Promise((resolve) => {
        execFile(tool, args, { env: { ...process.env, KUBEADM_STANDIN_ROOT: dir }, timeout: 30_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code) : 0, stdout, stderr }));
      }),
  };
}

/** A PEM the way the kubeadm stand-in writes its certificates: base64 of a text that says what it is. */
function pem(text: string): string {
  return `-----BEGIN CERTIFICATE-----\n${Buffer.from(text).toString('base64')}\n-----END CERTIFICATE-----\n`;
}

const LEAVES: Array<[string, string]> = [
  ['admin.conf', 'etc/kubernetes/admin.conf'],
  ['apiserver', 'etc/kubernetes/pki/apiserver.crt'],
  ['apiserver-etcd-client', 'etc/kubernetes/pki/apiserver-etcd-client.crt'],
  ['apiserver-kubelet-client', 'etc/kubernetes/pki/apiserver-kubelet-client.crt'],
  ['controller-manager.conf', 'etc/kubernetes/controller-manager.conf'],
  ['etcd-healthcheck-client', 'etc/kubernetes/pki/etcd/healthcheck-client.crt'],
  ['etcd-peer', 'etc/kubernetes/pki/etcd/peer.crt'],
  ['etcd-server', 'etc/kubernetes/pki/etcd/server.crt'],
  ['front-proxy-client', 'etc/kubernetes/pki/front-proxy-client.crt'],
  ['scheduler.conf', 'etc/kubernetes/scheduler.conf'],
  ['super-admin.conf', 'etc/kubernetes/super-admin.conf'],
];
const CAS: Array<[string, string]> = [
  ['ca', 'etc/kubernetes/pki/ca'],
  ['etcd-ca', 'etc/kubernetes/pki/etcd/ca'],
  ['front-proxy-ca', 'etc/kubernetes/pki/front-proxy-ca'],
];

const KUBECONFIG = (user: string) => `# STAND-IN kubeconfig
apiVersion: v1
clusters:
- cluster: {certificate-authority-data: Q0E=, server: 'https://10.0.0.1:6443'}
  name: demo
contexts:
- context: {cluster: demo, user: ${user}}
  name: ${user}@demo
current-context: ${user}@demo
kind: Config
preferences: {}
users:
- name: ${user}
  user: {client-certificate-data: T0xE, client-key-data: T0xE, token: admintoken123456}
`;

/** A control plane as kubeadm init leaves it, with every leaf certificate expiring at `leafExpires`. */
function controlPlane(root: Root, leafExpires: string): void {
  const certificates: Record<string, { expires: string }> = {};
  for (const [name, file] of LEAVES) {
    root.write(file, file.endsWith('.conf') ? KUBECONFIG(name) : pem(`issuer: x\nnot after: ${leafExpires}\n`));
    if (!file.endsWith('.conf')) root.write(file.replace(/\.crt$/, '.key'), 'KEY');
    certificates[name] = { expires: leafExpires };
  }
  const certificateAuthorities: Record<string, { expires: string }> = {};
  for (const [name, base] of CAS) {
    root.write(`${base}.crt`, pem(`issuer: ${name}\n`));
    root.write(`${base}.key`, 'KEY');
    certificateAuthorities[name] = { expires: '2036-12-02T10:00:00Z' };
  }
  root.write('var/lib/kubeadm-standin/state.json', JSON.stringify({ role: 'init', pki: { certificates, certificateAuthorities } }));
}

describe.skipIf(missing)('kubeadm stand-in: certs check-expiration and renew all', () => {
  it("prints kubeadm's table (tabwriter columns, residual time, !MISSING!) and, from 1.30, -o json", async () => {
    const root = makeRoot('v1.30.2');
    const soon = new Date(Date.now() + 12 * 86_400_000 + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    controlPlane(root, soon);
    const table = await root.run(KUBEADM, 'certs', 'check-expiration');
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines).toContain('CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED');
    const apiserver = lines.find((l) => l.startsWith('apiserver '))!;
    expect(apiserver).toMatch(/^apiserver {18}[A-Z][a-z]{2} \d\d, \d{4} \d\d:\d\d UTC {3}12d {13}ca {22}no {6}$/);
    expect(lines.find((l) => l.startsWith('etcd-ca '))).toMatch(/^etcd-ca {17}Dec 02, 2036 10:00 UTC {3}\d+y/);
    // A missing one is "!MISSING! name" in the first cell: tabwriter widens that column for it, as upstream.
    rmSync(path.join(root.dir, 'etc/kubernetes/pki/front-proxy-client.crt'));
    const withMissing = (await root.run(KUBEADM, 'certs', 'check-expiration')).stdout.split('\n');
    expect(withMissing.map((l) => l.trimEnd())).toContain('!MISSING! front-proxy-client');
    expect(withMissing).toContain(`${'CERTIFICATE'.padEnd('!MISSING! front-proxy-client'.length + 3)}EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED`);
    const json = await root.run(KUBEADM, 'certs', 'check-expiration', '-o', 'json');
    const doc = JSON.parse(json.stdout) as { kind: string; apiVersion: string; certificates: Array<{ name: string; missing: boolean; caName?: string }> };
    expect([doc.kind, doc.apiVersion]).toEqual(['CertificateExpirationInfo', 'output.kubeadm.k8s.io/v1alpha3']);
    expect(doc.certificates.find((c) => c.name === 'front-proxy-client')).toMatchObject({ missing: true, caName: 'front-proxy-ca' });

    const old = makeRoot('v1.29.6');
    controlPlane(old, soon);
    const refused = await old.run(KUBEADM, 'certs', 'check-expiration', '-o', 'json');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/unknown shorthand flag: 'o' in -o/);
  });

  it('renews every leaf certificate a year out (the CAs stay), keeps the kubeconfig credentials, prints upstream lines', async () => {
    const root = makeRoot('v1.31.1');
    controlPlane(root, new Date(Date.now() + 5 * 86_400_000).toISOString());
    const adminBefore = root.read('etc/kubernetes/admin.conf');
    const r = await root.run(KUBEADM, 'certs', 'renew', 'all');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself renewed\n');
    expect(r.stdout).toContain('certificate for serving etcd renewed\n');
    expect(r.stdout).toContain('Done renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd, so that they can use the new certificates.');
    const state = JSON.parse(root.read('var/lib/kubeadm-standin/state.json')) as { pki: { certificates: Record<string, { expires: string }>; certificateAuthorities: Record<string, { expires: string }> } };
    for (const [name] of LEAVES) {
      const days = (new Date(state.pki.certificates[name]!.expires).getTime() - Date.now()) / 86_400_000;
      expect(days, name).toBeGreaterThan(364);
    }
    expect(state.pki.certificateAuthorities.ca!.expires).toBe('2036-12-02T10:00:00Z');
    const adminAfter = root.read('etc/kubernetes/admin.conf');
    expect(adminAfter).not.toBe(adminBefore);
    expect(adminAfter).toContain('token: admintoken123456');
    const certPem = Buffer.from(/client-certificate-data: (\S+)/.exec(adminAfter)![1]!, 'base64').toString();
    expect(Buffer.from(certPem.replace(/-----[A-Z ]+-----|\n/g, ''), 'base64').toString()).toMatch(/issuer: ca\nnot after: /);
  });

  it('on a worker (no PKI) reports every certificate MISSING! and renews nothing, exit 0 like upstream', async () => {
    const root = makeRoot('v1.30.2');
    const r = await root.run(KUBEADM, 'certs', 'renew', 'all');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('MISSING! certificate for serving the Kubernetes API\n');
    expect(r.stdout).not.toMatch(/ renewed\n/);
    expect(existsSync(path.join(root.dir, 'etc/kubernetes/pki/apiserver.crt'))).toBe(false);
  });
});

async function liveSocket(file: string): Promise<() => void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const server = net.createServer((c) => c.destroy());
  await new Promise<void>((resolve) => server.listen(file, resolve));
  return () => server.close();
}

describe.skipIf(missing)('crictl stand-in ps/exec and the etcd stand-in', () => {
  async function etcdHost(clientExpires = '2099-01-01T00:00:00Z'): Promise<{ root: Root; id: string; etcdctl: (...a: string[]) => string[] }> {
    const root = makeRoot('v1.30.2');
    root.write('etc/crictl.yaml', 'runtime-endpoint: unix:///run/containerd/containerd.sock\n');
    cleanups.push(await liveSocket(path.join(root.dir, 'run/containerd/containerd.sock')));
    const id = 'c'.repeat(64);
    root.write('var/lib/kubelet/standin-static-pods.json', JSON.stringify({
      etcd: { file: 'etcd.yaml', sha256: 'x', container: 'etcd', image: 'registry.k8s.io/etcd:3.5.12-0', containerId: id, podId: 'p'.repeat(64), started: '2026-12-02T10:00:00Z', pod: 'etcd-cp-1',
        mounts: { '/var/lib/etcd': '/var/lib/etcd', '/etc/kubernetes/pki/etcd': '/etc/kubernetes/pki/etcd' } },
      'kube-apiserver': { file: 'kube-apiserver.yaml', sha256: 'y', container: 'kube-apiserver', image: 'registry.k8s.io/kube-apiserver:v1.30.2', containerId: 'a'.repeat(64), podId: 'q'.repeat(64), started: '2026-12-02T10:00:00Z', pod: 'kube-apiserver-cp-1', mounts: {} },
    }));
    root.write('etc/kubernetes/pki/etcd/ca.crt', pem('issuer: etcd-ca\n'));
    root.write('etc/kubernetes/pki/etcd/healthcheck-client.crt', pem(`issuer: etcd-ca\nnot after: ${clientExpires}\n`));
    root.write('etc/kubernetes/pki/etcd/healthcheck-client.key', 'KEY');
    root.write('var/lib/kube-apiserver-standin/state.json', JSON.stringify({ standIn: "the stand-in's etcd", resourceVersion: 42, objects: { a: {}, b: {}, c: {} } }));
    const etcdctl = (...a: string[]) => ['exec', id.slice(0, 12), 'etcdctl', '--endpoints=https://127.0.0.1:2379', '--cacert=/etc/kubernetes/pki/etcd/ca.crt',
      '--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt', '--key=/etc/kubernetes/pki/etcd/healthcheck-client.key', ...a];
    return { root, id, etcdctl };
  }

  it('lists the static Pods as containers, filtered by a name regex; -q prints full ids', async () => {
    const { root, id } = await etcdHost();
    const q = await root.run(CRICTL, 'ps', '--name', '^etcd$', '--state', 'running', '-q');
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toBe(`${id}\n`);
    const table = await root.run(CRICTL, 'ps');
    expect(table.stdout.split('\n')[0]).toMatch(/^CONTAINER +IMAGE +CREATED +STATE +NAME +ATTEMPT +POD ID +POD$/);
    expect(table.stdout).toContain('kube-apiserver-cp-1');
  });

  it('takes a snapshot through exec into the etcd Pod, and etcdutl verifies it; one changed byte is caught', async () => {
    const { root, id, etcdctl } = await etcdHost();
    const saved = await root.run(CRICTL, ...etcdctl('snapshot', 'save', '/var/lib/etcd/b/snap.db'));
    expect(saved.code).not.toBe(0); // the directory does not exist in the container either
    mkdirSync(path.join(root.dir, 'var/lib/etcd/b'), { recursive: true });
    const ok = await root.run(CRICTL, ...etcdctl('snapshot', 'save', '/var/lib/etcd/b/snap.db'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('Snapshot saved at /var/lib/etcd/b/snap.db\n');
    expect(ok.stderr).toContain('"msg": "created temporary db file"');
    expect(existsSync(path.join(root.dir, 'var/lib/etcd/b/snap.db.part'))).toBe(false);
    const status = await root.run(CRICTL, 'exec', id, 'etcdutl', 'snapshot', 'status', '/var/lib/etcd/b/snap.db', '-w', 'json');
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ revision: 42, totalKey: 3 });

    const file = path.join(root.dir, 'var/lib/etcd/b/snap.db');
    const bytes = readFileSync(file);
    bytes[40] = bytes[40]! ^ 1;
    writeFileSync(file, bytes);
    const broken = await root.run(CRICTL, 'exec', id, 'etcdutl', 'snapshot', 'status', '/var/lib/etcd/b/snap.db', '-w', 'json');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/integrity check failed|invalid database/);
  });

  it('a path outside the Pod\'s mounts stays in the container; no etcdctl in other images; an expired client certificate fails the handshake', async () => {
    const { root, id, etcdctl } = await etcdHost();
    const inside = await root.run(CRICTL, ...etcdctl('snapshot', 'save', '/snap.db'));
    expect(inside.code, inside.stderr).toBe(0);
    expect(existsSync(path.join(root.dir, 'snap.db'))).toBe(false);
    const other = await root.run(CRICTL, 'exec', 'a'.repeat(64), 'etcdctl', 'version');
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/exec: "etcdctl": executable file not found in \$PATH/);
    const unknown = await root.run(CRICTL, 'exec', 'f'.repeat(12), 'etcdctl', 'version');
    expect(unknown.stderr).toMatch(/not found/);
    expect(id).toHaveLength(64);

    const expired = await etcdHost('2020-01-01T00:00:00Z');
    mkdirSync(path.join(expired.root.dir, 'var/lib/etcd'), { recursive: true });
    const r = await expired.root.run(CRICTL, ...expired.etcdctl('snapshot', 'save', '/var/lib/etcd/s.db'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Error: context deadline exceeded/);
  });
});
