// The online variant: the hosts' apt reaches a Debian repository (served from this machine, as
// a user's mirror would be), kubeforge installs iptables, conntrack & co with apt-get. Then the
// network between a joining host and the control plane is put to the test: the stand-ins talk
// over it, so a firewall, a wrong endpoint or a wrong CA pin fails a join as it would for real.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointHostAptAt, serveAptRepo, type ServedAptRepo } from '../hosts/apt-repo.js';
import { buildArtifacts, type Artifacts } from '../hosts/artifacts.js';
import { run } from '../hosts/exec.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

/** A firewall on the host itself (its own netfilter, set from this machine's iptables). */
async function rejectTo(host: TestHost, address: string, port: number, on: boolean): Promise<void> {
  const rule = ['OUTPUT', '-d', address, '-p', 'tcp', '--dport', String(port), '-j', 'REJECT', '--reject-with', 'tcp-reset'];
  await run('nsenter', ['-t', String(host.record.initPid), '-n', 'iptables', '-w', on ? '-I' : '-D', ...rule]);
}

describe.skipIf(unavailable)('online OS packages with apt, and joins that really reach the control plane', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let repo: ServedAptRepo;
  let dir: string;
  let inventory: string;
  let first: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    [fleet, artifacts] = await Promise.all([startFleet({ full: 4 }), buildArtifacts('1.30.2')]);
    repo = await serveAptRepo(fleet, artifacts.node!.aptRepoDir);
    for (const h of fleet.full) await pointHostAptAt(h, repo.url);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-online-'));
    inventory = await writeFleetInventory(fleet, dir, { artifacts, clusterName: 'online', osPackages: 'apt', hosts: fleet.full.slice(0, 3) });
    first = await kubeforge(['up', '-i', inventory]);
  });

  afterAll(async () => {
    await repo?.close();
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('installs the OS packages with the hosts\' apt-get and ends with every node Ready', async () => {
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(await fs.readFile(inventory, 'utf8')).not.toContain('osPackages');
    expect(repo.requests.some((r) => /iptables_.*\.deb$/.test(r))).toBe(true);
    expect(repo.requests.some((r) => /conntrack_.*\.deb$/.test(r))).toBe(true);
    for (const h of fleet.full.slice(0, 3)) {
      expect(await h.sh("dpkg-query -W -f='${Status}\\n' iptables conntrack ebtables ethtool socat | sort -u")).toBe('install ok installed');
      expect(first.stdout).toMatch(new RegExp(`^${h.name}\\s+\\S+\\s+ok\\s+Ready\\s`, 'm'));
    }
  });

  it('fails a join whose host a firewall keeps from the API server, with the discovery error, and the others unchanged', async () => {
    const [cp, , , added] = fleet.full as [TestHost, TestHost, TestHost, TestHost];
    await writeFleetInventory(fleet, dir, { artifacts, clusterName: 'online', osPackages: 'apt', hosts: fleet.full });
    await rejectTo(added, cp.address, 6443, true);
    const r = await kubeforge(['up', '-i', inventory]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${added.name}\\s+worker\\s+FAILED\\s.*cluster/join: kubeadm join failed`, 'm'));
    expect(r.stdout).toMatch(/cluster-info|discovery/i);
    for (const h of fleet.full.slice(0, 3)) expect(r.stdout).toMatch(new RegExp(`^${h.name}\\s+\\S+\\s+ok\\s`, 'm'));
    // The stand-in API server never saw the node.
    expect(await cp.sh('kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o name')).not.toContain(added.name);
  });

  it('refuses a join with a CA pin that does not match, and one to a wrong endpoint, contacting the control plane', async () => {
    const [cp, , , added] = fleet.full as [TestHost, TestHost, TestHost, TestHost];
    await rejectTo(added, cp.address, 6443, false);
    const join = (await cp.sh('kubeadm token create --print-join-command --ttl 10m')).trim();
    const token = /--token (\S+)/.exec(join)![1]!;
    const goodHash = /--discovery-token-ca-cert-hash (\S+)/.exec(join)![1]!;
    const config = (endpoint: string, hash: string) =>
      [
        'apiVersion: kubeadm.k8s.io/v1beta3',
        'kind: JoinConfiguration',
        'discovery:',
        '  bootstrapToken:',
        `    apiServerEndpoint: ${endpoint}`,
        `    token: ${token}`,
        '    caCertHashes:',
        `      - ${hash}`,
        '  timeout: 10s',
        'nodeRegistration:',
        `  name: ${added.name}`,
        '  criSocket: unix:///run/containerd/containerd.sock',
        '',
      ].join('\n');
    const tryJoin = async (endpoint: string, hash: string) => {
      await added.exec(`umask 077; cat > /root/join.yaml <<'EOF'\n${config(endpoint, hash)}EOF`);
      return added.exec('kubeadm join --config /root/join.yaml', { allowFail: true });
    };
    const wrongHash = await tryJoin(`${cp.address}:6443`, `sha256:${'0'.repeat(64)}`);
    expect(wrongHash.code).not.toBe(0);
    expect(wrongHash.stderr + wrongHash.stdout).toMatch(/none of the public keys .* are pinned/);
    expect(goodHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const wrongEndpoint = await tryJoin(`${cp.address}:6444`, goodHash);
    expect(wrongEndpoint.code).not.toBe(0);
    expect(wrongEndpoint.stderr + wrongEndpoint.stdout).toMatch(/connection refused|Failed to request cluster-info/i);
    expect(await added.sh('test -e /etc/kubernetes/kubelet.conf && echo joined || echo not-joined')).toBe('not-joined');
    await added.exec('rm -f /root/join.yaml');
  });

  it('joins the host with --retry-failed once the firewall is gone', async () => {
    const r = await kubeforge(['up', '-i', inventory, '--retry-failed']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const added = fleet.full[3]!;
    expect(r.stdout).toMatch(new RegExp(`^${added.name}\\s+worker\\s+ok\\s+Ready\\s`, 'm'));
    expect(await fleet.full[0]!.sh('kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o name | sort')).toBe(
      fleet.full.map((h) => `node/${h.name}`).join('\n'),
    );
  });
});
