// Three control planes behind the built-in virtual IP, on 3 full hosts with the stand-ins.
// Nothing can run the kube-vip Pod here: the kubelet stand-in acts out kube-vip's effect (see
// test/hosts/standins/README.md, "kube-vip's effect") — the first control plane to take the
// Lease adds the VIP to its interface, so everything that goes to controlPlaneEndpoint (the
// joins' discovery, the kubelets, kubectl) really reaches the init host's API server stand-in
// through the VIP. What is checked: the manifests (identical but for super-admin.conf on the init
// host), the kubeadm configuration on the VIP, the joins one at a time, every node Ready, a
// second run that changes nothing, reset taking the VIP away, and the VIP preflight and
// offline-image refusals before any host is touched.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, type Artifacts } from '../hosts/artifacts.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { buildKubeadmImageArchive, flannelImages } from '../hosts/node-artifacts.js';
import { slotAddress } from '../hosts/paths.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

const KUBE_VIP_IMAGE = 'ghcr.io/kube-vip/kube-vip:v0.8.9';
const MANIFEST = '/etc/kubernetes/manifests/kube-vip.yaml';

interface LogEntry {
  time?: string;
  durationMs?: number;
  argv?: string[];
  event?: string;
  exit?: number;
  configDocuments?: unknown[];
  discovery?: { attempts: number; error?: string };
  [key: string]: unknown;
}

async function log(host: TestHost, file: string): Promise<LogEntry[]> {
  const text = await host.sh(`cat ${file} 2>/dev/null || true`);
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogEntry);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;
/** The config documents the kubeadm stand-in read (it logs them parsed: the log is its oracle). */
function configDocuments(entry: LogEntry): Doc[] {
  return (entry.configDocuments ?? []) as Doc[];
}

/** Nothing of kubeforge on the host: no step marker, no kubeadm call, no manifest. */
async function untouched(host: TestHost): Promise<boolean> {
  const r = await host.sh('test -e /var/lib/kubeforge/steps || test -e /var/log/kubeadm-standin.log || test -e /etc/kubernetes/manifests/kube-vip.yaml; echo $?');
  return r.trim() === '1';
}

describe.skipIf(unavailable)('three control planes behind the built-in VIP (kube-vip) on 3 full hosts', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let dir: string;
  let hosts: TestHost[];
  let vip: string;
  let withVipImage: string;

  const inventory = (name: string, controlPlaneVip: Record<string, unknown>, images?: string[]) =>
    writeFleetInventory(fleet, path.join(dir, name), {
      artifacts,
      clusterName: 'ha',
      hosts,
      controlPlanes: 3,
      overrides: { kubernetes: { ...(images ? { images } : {}), controlPlaneVip } },
    });

  beforeAll(async () => {
    const [f, a] = await Promise.all([startFleet({ full: 3 }), buildArtifacts('1.30.2')]);
    [fleet, artifacts] = [f, a];
    hosts = fleet.full.slice(0, 3);
    // A free address of the fleet's /26: the hosts are .2-.4 of the slot, the bridge .1.
    vip = slotAddress(fleet.slot, 60);
    // kubeadm's images, Flannel's and kube-vip's, all in one offline archive.
    withVipImage = (await buildKubeadmImageArchive('1.30.2', [...flannelImages(), KUBE_VIP_IMAGE])).path;
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-ha-vip-'));
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses an offline install whose archives lack the kube-vip image, naming it, before connecting', async () => {
    const file = await inventory('no-image', { address: vip, interface: 'host0' });
    const r = await kubeforge(['up', '-i', file]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain(`${KUBE_VIP_IMAGE} (kube-vip, kubernetes.controlPlaneVip)`);
    for (const h of hosts) expect(await untouched(h)).toBe(true);
  });

  it('refuses, in the preflight and before anything changes, a VIP something answers (here: the bridge\'s own address)', async () => {
    const taken = fleet.gateway; // this machine answers ARP for it on the fleet's bridge
    const file = await inventory('taken', { address: taken, interface: 'host0' }, [withVipImage]);
    const r = await kubeforge(['up', '-i', file]);
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    const out = r.stdout + r.stderr;
    for (const h of hosts) {
      expect(out).toMatch(new RegExp(`${taken.replace(/\./g, '\\.')} \\(kubernetes\\.controlPlaneVip\\.address\\) is taken: [0-9a-f:]{17} answers ARP for it on ${h.name}'s link`));
      expect(await untouched(h)).toBe(true);
    }
    expect(out).toMatch(/choose a free address/);
    // plan decides it the same way, and changes nothing either.
    const plan = await kubeforge(['plan', '-i', file]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(1);
    expect(plan.stdout).toContain(`${taken} (kubernetes.controlPlaneVip.address) is taken`);
    for (const h of hosts) expect(await untouched(h)).toBe(true);
  });

  it('refuses a VIP outside the control planes\' subnet and a wrong interface, naming host, interface and subnet', async () => {
    // The next /26 (another fleet's slot): routed, not on the hosts' link, so not even probed.
    const outside = slotAddress((fleet.slot + 1) % 4, 60);
    const r = await kubeforge(['up', '-i', await inventory('outside', { address: outside, interface: 'host0' }, [withVipImage])]);
    expect(r.code).not.toBe(0);
    const cidr = `${hosts[0]!.address}/26`;
    expect(r.stdout + r.stderr).toContain(`${outside} (kubernetes.controlPlaneVip.address) is outside ${hosts[0]!.name}'s subnet on host0 (${cidr})`);
    const wrong = await kubeforge(['up', '-i', await inventory('wrong-if', { address: vip, interface: 'eth7' }, [withVipImage])]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout + wrong.stderr).toContain(`interface eth7 (kubernetes.controlPlaneVip.interface) has no IPv4 address on ${hosts[1]!.name}`);
    expect(wrong.stdout + wrong.stderr).toMatch(/set kubernetes\.controlPlaneVip\.interface to host0/);
    for (const h of hosts) expect(await untouched(h)).toBe(true);
  });

  describe('up with the VIP', () => {
    let file: string;
    let firstRun: string;
    beforeAll(async () => {
      file = await inventory('up', { address: vip, interface: 'host0' }, [withVipImage]);
      const r = await kubeforge(['up', '-i', file]);
      // On failure, what the kubelet stand-ins (and so the kube-vip effect) said, to see why.
      const kubelets = r.code === 0 ? '' : (await Promise.all(hosts.map(async (h) => `${h.name}:\n${await h.sh('grep -v \'"event": "version"\' /var/log/kubelet-standin.log | tail -n 15 || true')}`))).join('\n');
      expect(r.code, `${r.stdout}${r.stderr}\n${kubelets}`).toBe(0);
      firstRun = r.stdout;
    });

    it('writes the kube-vip manifest on every control plane, identical but for super-admin.conf on the init host', async () => {
      const [init, second, third] = await Promise.all(hosts.map((h) => h.sh(`cat ${MANIFEST}`)));
      const volumes = (text: string) => (parse(text) as Doc).spec.volumes as Doc[];
      expect(volumes(init!)).toEqual([{ name: 'kubeconfig', hostPath: { path: '/etc/kubernetes/super-admin.conf' } }]);
      expect(volumes(second!)).toEqual([{ name: 'kubeconfig', hostPath: { path: '/etc/kubernetes/admin.conf' } }]);
      expect(second).toBe(third);
      expect(init!.replace('/etc/kubernetes/super-admin.conf', '/etc/kubernetes/admin.conf')).toBe(second);
      const env = Object.fromEntries(((parse(second!) as Doc).spec.containers[0].env as Doc[]).map((e) => [e.name, e.value]));
      expect(env).toMatchObject({ address: vip, vip_interface: 'host0', vip_arp: 'true', cp_enable: 'true', vip_leaderelection: 'true' });
      for (const h of hosts) expect((await h.sh(`stat -c %a ${MANIFEST}`)).trim()).toBe('600');
    });

    it('runs kubeadm with controlPlaneEndpoint on the VIP and the VIP in the API server certificate; every join discovers through it', async () => {
      const init = (await log(hosts[0]!, '/var/log/kubeadm-standin.log')).filter((c) => c.argv?.[0] === 'init' && c.exit === 0);
      expect(init).toHaveLength(1);
      const clusterConfig = configDocuments(init[0]!).find((d) => d.kind === 'ClusterConfiguration')!;
      expect(clusterConfig.controlPlaneEndpoint).toBe(`${vip}:6443`);
      expect(clusterConfig.apiServer.certSANs).toEqual([vip]);
      for (const h of hosts.slice(1)) {
        const joins = (await log(h, '/var/log/kubeadm-standin.log')).filter((c) => c.argv?.[0] === 'join' && c.exit === 0);
        expect(joins, h.name).toHaveLength(1);
        const join = configDocuments(joins[0]!).find((d) => d.kind === 'JoinConfiguration')!;
        expect(join.discovery.bootstrapToken.apiServerEndpoint).toBe(`${vip}:6443`);
        expect(join.controlPlane).toBeDefined();
        expect(joins[0]!.discovery?.error).toBeUndefined();
        expect((await h.sh("awk '/server:/ {print $2}' /etc/kubernetes/kubelet.conf")).trim()).toBe(`https://${vip}:6443`);
      }
      expect(await fs.readFile(path.join(dir, 'up', '.kubeforge', 'ha-admin.conf'), 'utf8')).toContain(`server: https://${vip}:6443`);
    });

    it('has the init host take the Lease and hold the VIP (the stand-in\'s kube-vip effect), the others follow', async () => {
      const leaders = await Promise.all(hosts.map(async (h) => (await log(h, '/var/log/kubelet-standin.log')).filter((e) => e.event === 'kube-vip-leader')));
      expect(leaders[0]).toHaveLength(1);
      expect(leaders[0]![0]).toMatchObject({ address: vip, interface: 'host0', kubeconfig: '/etc/kubernetes/super-admin.conf' });
      expect(leaders.slice(1).map((l) => l.length)).toEqual([0, 0]);
      for (const h of hosts.slice(1)) {
        const followers = (await log(h, '/var/log/kubelet-standin.log')).filter((e) => e.event === 'kube-vip-follower');
        expect(followers.at(-1), h.name).toMatchObject({ leader: hosts[0]!.name, lease: 'plndr-cp-lock' });
      }
      const held = await Promise.all(hosts.map((h) => h.sh('ip -o -4 addr show dev host0')));
      expect(held.map((text) => text.includes(` ${vip}/32 `))).toEqual([true, false, false]);
    });

    it('joins the control planes one at a time (stacked etcd grows one member at a time)', async () => {
      const spans = [];
      for (const h of hosts.slice(1)) {
        const join = (await log(h, '/var/log/kubeadm-standin.log')).find((c) => c.argv?.[0] === 'join' && c.exit === 0)!;
        const start = Date.parse(join.time!);
        spans.push({ host: h.name, start, end: start + join.durationMs! });
      }
      spans.sort((a, b) => a.start - b.start);
      expect(spans[1]!.start, JSON.stringify(spans)).toBeGreaterThanOrEqual(spans[0]!.end);
    });

    it('has every node Ready (watched through the VIP)', () => {
      for (const h of hosts) expect(firstRun).toMatch(new RegExp(`^${h.name}\\s+\\S+\\s+ok\\s+Ready\\s`, 'm'));
    });

    it('changes nothing on a second run', async () => {
      const calls = async (h: TestHost) => (await log(h, '/var/log/kubeadm-standin.log')).filter((c) => c.argv?.[0] !== 'version').length;
      const before = await Promise.all(hosts.map(calls));
      const manifests = await Promise.all(hosts.map((h) => h.sh(`sha256sum ${MANIFEST}; stat -c %Y ${MANIFEST}`)));
      const second = await kubeforge(['up', '-i', file]);
      expect(second.code, second.stdout + second.stderr).toBe(0);
      const ledger = JSON.parse(await fs.readFile(path.join(dir, 'up', '.kubeforge', 'last-run.json'), 'utf8')) as {
        hosts: Array<{ host: string; steps: Array<{ key: string; status: string }> }>;
      };
      expect(ledger.hosts).toHaveLength(3);
      for (const h of ledger.hosts) {
        for (const s of h.steps) expect(['unchanged', 'verified'], `${h.host} ${s.key}`).toContain(s.status);
        expect(h.steps.map((s) => s.key)).toContain('kubernetes/kube-vip');
      }
      expect(await Promise.all(hosts.map(calls))).toEqual(before);
      expect(await Promise.all(hosts.map((h) => h.sh(`sha256sum ${MANIFEST}; stat -c %Y ${MANIFEST}`)))).toEqual(manifests);
    });

    it('reset --all takes the manifests and the VIP away (the init host last), so the address is free again', async () => {
      const r = await kubeforge(['reset', '-i', file, '--all', '--yes']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      for (const h of hosts) {
        expect(await h.sh(`test -e ${MANIFEST}; echo $?`)).toMatch(/^1\s*$/);
        expect(await h.sh('ip -o -4 addr show dev host0')).not.toContain(` ${vip}/32 `);
      }
      const released = (await log(hosts[0]!, '/var/log/kubeadm-standin.log')).filter((c) => c.argv?.[0] === 'reset' && c.kubeVipReleased);
      expect(released.map((c) => c.kubeVipReleased)).toEqual([{ address: vip, interface: 'host0' }]);
    });
  });
});
