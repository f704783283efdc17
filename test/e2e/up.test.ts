// `kubeforge up` end to end: an inventory of 3 full hosts (1 control plane, 2 workers) becomes
// a cluster on containerd, every node Ready in the stand-in API server, with everything kubeadm
// needs installed offline (OS packages, crictl, CNI plugins, images); a second run changes nothing.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, type Artifacts } from '../hosts/artifacts.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { loadPlaybooks } from '../../src/playbook/load.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

interface StandinCall {
  argv: string[];
  exit_code?: number;
  exit?: number;
  documents?: Array<Record<string, unknown>>;
  preflightErrors?: string[];
  preflightWarnings?: string[];
  [key: string]: unknown;
}

async function standinLog(host: TestHost): Promise<StandinCall[]> {
  const text = await host.sh('cat /var/log/kubeadm-standin.log 2>/dev/null || true');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as StandinCall);
}

async function kubectlLog(host: TestHost): Promise<StandinCall[]> {
  const text = await host.sh('cat /var/log/kubectl-standin.log 2>/dev/null || true');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as StandinCall);
}

/** The nodes as the stand-in API server has them, asked with kubectl on the control plane. */
async function kubectlNodes(cp: TestHost): Promise<Array<{ name: string; ready: string }>> {
  const list = JSON.parse(await cp.sh('kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json')) as {
    items: Array<{ metadata: { name: string }; status: { conditions: Array<{ type: string; status: string }> } }>;
  };
  return list.items
    .map((n) => ({ name: n.metadata.name, ready: n.status.conditions.find((c) => c.type === 'Ready')?.status ?? 'none' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe.skipIf(unavailable)('kubeforge up on 3 full hosts', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let dir: string;
  let inventory: string;
  let firstRun: { code: number; stdout: string; stderr: string };
  let firstSeconds: number;

  beforeAll(async () => {
    // A fourth host waits outside the inventory until the last test adds it.
    [fleet, artifacts] = await Promise.all([startFleet({ full: 4 }), buildArtifacts('1.30.2')]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-up-'));
    inventory = await writeFleetInventory(fleet, dir, { artifacts, clusterName: 'e2e', hosts: fleet.full.slice(0, 3) });
    const started = Date.now();
    firstRun = await kubeforge(['up', '-i', inventory]);
    firstSeconds = (Date.now() - started) / 1000;
    console.log(`FIGURE first up on 3 full hosts: ${firstSeconds.toFixed(1)} s`);
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('finishes with exit code 0 and a summary saying every host is ok', () => {
    expect(firstRun.code, firstRun.stdout + firstRun.stderr).toBe(0);
    for (const h of fleet.full.slice(0, 3)) expect(firstRun.stdout).toMatch(new RegExp(`^${h.name}\\s+\\S+\\s+ok\\s`, 'm'));
    // Plain, timestamped lines prefixed with the host name when not a terminal.
    expect(firstRun.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z full-2 containerd\/binaries changed/m);
  });

  it('sends each bundle from this machine once; the other hosts get it relayed from a peer', async () => {
    const ledger = JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as {
      hosts: Array<{ host: string; steps: Array<{ detail?: string }> }>;
    };
    const routes = new Map<string, string[]>();
    for (const h of ledger.hosts) {
      for (const detail of h.steps.map((st) => st.detail ?? '')) {
        for (const m of detail.matchAll(/(\S+) (uploaded|relayed from (\S+)) \(/g)) {
          routes.set(m[1]!, [...(routes.get(m[1]!) ?? []), m[3] ? `${h.host}<${m[3]}` : `${h.host}<laptop`]);
        }
      }
    }
    expect(routes.size, JSON.stringify(ledger.hosts.map((h) => h.steps.map((st) => st.detail)))).toBeGreaterThanOrEqual(3);
    for (const [bundle, how] of routes) {
      expect(how, bundle).toHaveLength(3);
      expect(how.filter((r) => r.endsWith('<laptop')), `${bundle}: ${how.join(' ')}`).toHaveLength(1);
    }
  });

  it('runs containerd under systemd with SystemdCgroup on, as containerd itself reports its config', async () => {
    for (const host of fleet.full.slice(0, 3)) {
      expect(await host.sh('systemctl is-active containerd; systemctl is-enabled containerd')).toBe('active\nenabled');
      expect(await host.sh('systemctl show -p MainPID --value containerd | xargs -I{} cat /proc/{}/comm')).toBe('containerd');
      const dump = await host.sh('containerd config dump');
      expect(dump).toMatch(/SystemdCgroup = true/);
      // The pause image kubeadm 1.30 expects (3.9), not a later one.
      expect(dump).toMatch(/sandbox_image = "registry\.k8s\.io\/pause:3\.9"/);
      const grpc = /\[grpc\][^[]*?address = "([^"]+)"/.exec(dump)?.[1];
      expect(grpc).toBe('/run/containerd/containerd.sock');
      const crictl = parseYaml(await host.sh('cat /etc/crictl.yaml')) as Record<string, string>;
      expect(crictl['runtime-endpoint']).toBe(`unix://${grpc}`);
      expect(crictl['image-endpoint']).toBe(`unix://${grpc}`);
      expect(await host.sh(`ctr --address ${grpc} plugins ls | awk '$2 == "cri" {print $NF}'`)).toBe('ok');
    }
  });

  it('refuses, with containerd 1.6 on a real host, a config.toml key containerd does not know (it drops it silently)', async () => {
    const playbooks = await loadPlaybooks();
    const validate = playbooks.find((p) => p.name === 'containerd')!.steps.find((st) => st.id === 'config')!.files![0]!.validate!;
    const cp = fleet.full[0]!;
    const good = await cp.sh('cat /etc/containerd/config.toml');
    const misspelt = good.replace('sandbox_image =', 'sandbox_imag =');
    expect(misspelt).not.toBe(good);
    const check = async (text: string) => {
      await cp.exec(`cat > /root/candidate.toml <<'EOF'\n${text}\nEOF`);
      return cp.exec(`KF_FILE=/root/candidate.toml; export KF_FILE\n${validate}`, { allowFail: true });
    };
    expect((await check(good)).code).toBe(0);
    const refused = await check(misspelt);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('plugins."io.containerd.grpc.v1.cri".sandbox_imag');
    await cp.exec('rm -f /root/candidate.toml');
  });

  it('imports the offline image into the k8s.io namespace on every host', async () => {
    for (const host of fleet.full.slice(0, 3)) {
      const images = (await host.sh('ctr -n k8s.io images ls -q')).split('\n');
      expect(images).toContain(artifacts.imageRef);
    }
  });

  it('runs kubeadm init on the control plane and joins the workers with exactly the token and CA hash init produced', async () => {
    const [cp, ...workers] = fleet.full.slice(0, 3);
    const initCalls = (await standinLog(cp!)).filter((c) => c.argv[0] === 'init');
    expect(initCalls).toHaveLength(1);
    const state = JSON.parse(await cp!.sh('cat /var/lib/kubeadm-standin/state.json')) as Record<string, unknown>;
    const stateText = JSON.stringify(state);
    const token = /[a-z0-9]{6}\.[a-z0-9]{16}/.exec(stateText)?.[0];
    const caHash = /sha256:[0-9a-f]{64}/.exec(stateText)?.[0];
    expect(token).toBeDefined();
    expect(caHash).toBeDefined();
    for (const w of workers) {
      const joins = (await standinLog(w)).filter((c) => c.argv[0] === 'join');
      expect(joins, `${w.name} joins`).toHaveLength(1);
      const call = JSON.stringify(joins[0]);
      expect(call).toContain(token!);
      expect(call).toContain(caHash!);
      // The token came in a config file, never on the command line.
      expect(joins[0]!.argv.join(' ')).not.toContain(token!);
      expect(await w.sh('test -f /etc/kubernetes/kubelet.conf && systemctl is-active kubelet')).toBe('active');
      // The 0600 join config was removed after use.
      expect(await w.sh('ls -A /var/lib/kubeforge/secrets 2>/dev/null || true')).toBe('');
    }
    expect(await cp!.sh('systemctl is-active kubelet')).toBe('active');
  });

  it('hands the operator admin.conf on the laptop with mode 0600', async () => {
    const file = path.join(dir, '.kubeforge', 'e2e-admin.conf');
    const st = await fs.stat(file);
    expect(st.mode & 0o777).toBe(0o600);
    const conf = parseYaml(await fs.readFile(file, 'utf8')) as { kind: string; clusters: Array<{ cluster: { server: string } }> };
    expect(conf.kind).toBe('Config');
    expect(conf.clusters[0]!.cluster.server).toBe(`https://${fleet.full[0]!.address}:6443`);
    expect(firstRun.stdout).toContain(file);
    expect(await fs.readFile(file, 'utf8')).toBe(await fleet.full[0]!.sh('cat /etc/kubernetes/admin.conf').then((s) => s + '\n'));
  });

  it('installs what kubeadm needs from the offline OS-packages bundle: iptables, conntrack, ebtables, ethtool, socat, and crictl', async () => {
    for (const host of fleet.full.slice(0, 3)) {
      expect(await host.sh('for b in iptables conntrack ebtables ethtool socat crictl; do command -v $b >/dev/null || echo "missing $b"; done; true'), host.name).toBe('');
      expect(await host.sh("dpkg-query -W -f='${Status}\\n' iptables conntrack socat")).toBe('install ok installed\ninstall ok installed\ninstall ok installed');
      // Nothing came from a mirror: the hosts have none they can reach.
      expect(await host.sh('ls /var/lib/apt/lists | grep -c _Packages || true')).toBe('0');
    }
  });

  it('puts the real CNI plugins in /opt/cni/bin and makes every node name resolvable on every node', async () => {
    for (const host of fleet.full.slice(0, 3)) {
      for (const plugin of ['loopback', 'bridge', 'host-local', 'portmap']) {
        expect(await host.sh(`head -c 4 /opt/cni/bin/${plugin} | od -An -c | tr -d ' '`), `${host.name} ${plugin}`).toBe('177ELF');
      }
      for (const other of fleet.full.slice(0, 3)) {
        expect(await host.sh(`getent ahostsv4 ${other.name} | awk '{ print $1 }' | sort -u`).then((s) => s.split('\n')), `${other.name} on ${host.name}`).toContain(other.address);
      }
      expect(await host.sh('grep -c "^# BEGIN kubeforge cluster e2e " /etc/hosts')).toBe('1');
    }
  });

  it('passes kubeadm\'s preflight with no error and no warning it could avoid, on init and every join', async () => {
    for (const host of fleet.full.slice(0, 3)) {
      const calls = (await standinLog(host)).filter((c) => c.argv[0] === 'init' || c.argv[0] === 'join');
      expect(calls, host.name).toHaveLength(1);
      expect(calls[0]!.preflightErrors ?? [], host.name).toEqual([]);
      expect(calls[0]!.preflightWarnings ?? [], host.name).toEqual([]);
    }
  });

  it('applies the network add-on once and ends with every node Ready in the API server', async () => {
    const cp = fleet.full[0]!;
    expect(await kubectlNodes(cp)).toEqual(fleet.full.slice(0, 3).map((h) => ({ name: h.name, ready: 'True' })));
    const applies = (await kubectlLog(cp)).filter((c) => c.argv.includes('apply'));
    expect(applies).toHaveLength(1);
    for (const host of fleet.full.slice(0, 3)) {
      expect(firstRun.stdout).toMatch(new RegExp(`^${host.name}\\s+\\S+\\s+ok\\s+Ready\\s`, 'm'));
      // Flannel's CNI config, written where the kubelet (and containerd) look for it.
      expect(await host.sh('cat /etc/cni/net.d/10-flannel.conflist')).toContain('"type": "flannel"');
    }
  });

  it('changes nothing on a second run: every step unchanged, no new kubeadm call but `version`', async () => {
    // The kubernetes/verify step asks `kubeadm version` on every run; nothing else may be called.
    const changingCalls = async (h: TestHost) => (await standinLog(h)).filter((c) => c.argv[0] !== 'version').length;
    const hosts = fleet.full.slice(0, 3);
    const before = await Promise.all(hosts.map(changingCalls));
    const mtimes = await Promise.all(hosts.map((h) => h.sh('stat -c %Y /etc/containerd/config.toml /usr/local/bin/containerd; systemctl show -p ExecMainStartTimestamp --value containerd')));
    const started = Date.now();
    const second = await kubeforge(['up', '-i', inventory]);
    console.log(`FIGURE second up on 3 full hosts: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const ledger = JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as {
      hosts: Array<{ host: string; steps: Array<{ key: string; status: string }> }>;
    };
    expect(ledger.hosts).toHaveLength(3);
    for (const h of ledger.hosts) {
      for (const s of h.steps) expect(['unchanged', 'verified'], `${h.host} ${s.key}`).toContain(s.status);
      expect(h.steps.map((s) => s.key)).toContain(h.host === 'full-1' ? 'cluster/init' : 'cluster/join');
    }
    expect(await Promise.all(hosts.map(changingCalls))).toEqual(before);
    expect((await kubectlLog(fleet.full[0]!)).filter((c) => c.argv.includes('apply'))).toHaveLength(1);
    expect(await Promise.all(hosts.map((h) => h.sh('stat -c %Y /etc/containerd/config.toml /usr/local/bin/containerd; systemctl show -p ExecMainStartTimestamp --value containerd')))).toEqual(mtimes);
  });

  it('joins a host added to the inventory later with a plain up, minting a fresh token, leaving the others alone', async () => {
    const [cp, , , added] = fleet.full as [TestHost, TestHost, TestHost, TestHost];
    await writeFleetInventory(fleet, dir, { artifacts, clusterName: 'e2e', hosts: fleet.full });
    const initCalls = (await standinLog(cp)).filter((c) => c.argv[0] === 'init').length;
    const run = await kubeforge(['up', '-i', inventory]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const ledger = JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as {
      hosts: Array<{ host: string; steps: Array<{ key: string; status: string }> }>;
    };
    // The others change one thing only: the new node's name in their /etc/hosts block.
    for (const h of ledger.hosts.filter((x) => x.host !== added.name)) {
      for (const s of h.steps) expect(s.key === 'prepare/hosts-file' ? ['changed'] : ['unchanged', 'verified'], `${h.host} ${s.key}`).toContain(s.status);
    }
    for (const h of fleet.full) expect(await h.sh(`getent ahostsv4 ${added.name} | awk '{ print $1 }' | sort -u`).then((s) => s.split('\n'))).toContain(added.address);
    expect(await kubectlNodes(cp)).toEqual(fleet.full.map((h) => ({ name: h.name, ready: 'True' })));
    expect(ledger.hosts.find((h) => h.host === added.name)!.steps.find((st) => st.key === 'cluster/join')).toMatchObject({ status: 'changed' });
    // The init token may have expired: a fresh one was minted on the init host, and the new
    // host joined with exactly that one.
    const cpCalls = await standinLog(cp);
    expect(cpCalls.filter((c) => c.argv[0] === 'init')).toHaveLength(initCalls);
    const minted = cpCalls.filter((c) => c.argv[0] === 'token' && c.argv[1] === 'create');
    expect(minted).toHaveLength(1);
    const mintedToken = /[a-z0-9]{6}\.[a-z0-9]{16}/.exec(JSON.stringify(minted[0]))?.[0];
    expect(mintedToken).toBeDefined();
    const joins = (await standinLog(added)).filter((c) => c.argv[0] === 'join');
    expect(joins).toHaveLength(1);
    expect(JSON.stringify(joins[0])).toContain(mintedToken!);
    expect(await added.sh('systemctl is-active containerd kubelet')).toBe('active\nactive');
  });
});
