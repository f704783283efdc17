// The built-in VIP's preflight: pure over the facts, which the gather script reads on the host
// (run here with sh against this machine's loopback only).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../model.js';
import { testCluster, testHost } from '../render/fixtures.js';
import { gatherFactsAsRoot, parseFacts, type HostFacts } from './facts.js';
import type { ExecOptions, ExecResult, Remote } from './remote.js';
import { clusterMayHoldVip, inSubnet, vipProbeFor, vipProblems } from './vip-preflight.js';

function withVip(address = '10.0.0.100', iface = 'eth0'): Cluster {
  const cluster = testCluster();
  cluster.kubernetes.controlPlaneVip = { address, interface: iface, image: 'ghcr.io/kube-vip/kube-vip:v0.8.9' };
  cluster.kubernetes.controlPlaneEndpoint = `${address}:6443`;
  return cluster;
}

/** cp2 (10.0.0.12) as the gather reports it: eth0 in 10.0.0.0/24. */
function factsOf(extra = '', neigh = ''): HostFacts {
  return parseFacts(`os_id=debian\ncpus=2\nmem_kb=4026532\nvip_ip=1\naddr4=lo 127.0.0.1/8\naddr4=eth0 10.0.0.12/24\n${extra}vip_neigh=${neigh}\n`);
}

const messages = (cluster: Cluster, facts: HostFacts, exists = false) => vipProblems(cluster, testHost(cluster, 'cp2'), facts, exists).map((p) => p.message);

describe('VIP facts', () => {
  it('parses the addresses and who answered ARP for the VIP', () => {
    const facts = factsOf('', '10.0.0.100 dev eth0 lladdr 52:54:00:12:34:56 REACHABLE');
    expect(facts.vip).toEqual({
      ipFound: true,
      addresses: [
        { interface: 'lo', cidr: '127.0.0.1/8' },
        { interface: 'eth0', cidr: '10.0.0.12/24' },
      ],
      answeredBy: '52:54:00:12:34:56',
    });
    expect(factsOf('', '10.0.0.100 dev eth0 FAILED').vip?.answeredBy).toBeUndefined();
    expect(parseFacts('os_id=debian\n').vip).toBeUndefined();
  });

  it('are read by the gather script on the host only when a VIP is asked for (run here on loopback)', async () => {
    const remote: Remote = {
      name: 'cp2',
      exec: async (script: string, opts?: ExecOptions): Promise<ExecResult> => {
        const r = spawnSync('sh', ['-c', `set -eu\n${script}`], { env: { ...process.env, ...opts?.env }, encoding: 'utf8' });
        return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
      },
      upload: () => Promise.reject(new Error('not used')),
      writeFile: () => Promise.reject(new Error('not used')),
      close: () => undefined,
    };
    const signal = new AbortController().signal;
    const plain = await gatherFactsAsRoot(remote, 'root', signal);
    expect('facts' in plain && plain.facts.vip).toBeUndefined();
    // 127.0.0.2 is not an address of lo (127.0.0.1/8 is): probed, and nothing on a loopback answers ARP.
    const probed = await gatherFactsAsRoot(remote, 'root', signal, { vip: '127.0.0.2' });
    if (!('facts' in probed)) throw new Error('no facts');
    expect(probed.facts.vip?.ipFound).toBe(true);
    expect(probed.facts.vip?.addresses).toContainEqual({ interface: 'lo', cidr: '127.0.0.1/8' });
    expect(probed.facts.vip?.answeredBy).toBeUndefined();
  });

  it('are asked for on control planes only, with the built-in VIP', () => {
    const cluster = withVip();
    expect(vipProbeFor(cluster, testHost(cluster, 'cp2'))).toEqual({ vip: '10.0.0.100' });
    expect(vipProbeFor(cluster, testHost(cluster, 'w1'))).toEqual({});
    expect(vipProbeFor(testCluster(), testHost(testCluster(), 'cp1'))).toEqual({});
  });
});

describe('VIP preflight', () => {
  it('passes a free VIP in the subnet of the named interface', () => {
    expect(messages(withVip(), factsOf('', '10.0.0.100 dev eth0 FAILED'))).toEqual([]);
  });

  it('refuses a VIP outside the control plane\'s subnet, naming host, interface and subnet', () => {
    const problems = vipProblems(withVip('10.0.1.100'), testHost(withVip(), 'cp2'), factsOf(), false);
    expect(problems.map((p) => p.message)).toEqual([
      "10.0.1.100 (kubernetes.controlPlaneVip.address) is outside cp2's subnet on eth0 (10.0.0.12/24): ARP does not reach it there",
    ]);
    expect(problems[0]!.fix).toMatch(/inside 10\.0\.0\.12\/24/);
    expect(problems[0]!.check).toBe('ControlPlaneVip');
  });

  it('refuses the subnet\'s network and broadcast addresses', () => {
    expect(messages(withVip('10.0.0.255'), factsOf())).toEqual(['10.0.0.255 (kubernetes.controlPlaneVip.address) is the network or broadcast address of 10.0.0.12/24 on cp2']);
    expect(messages(withVip('10.0.0.0'), factsOf())).toHaveLength(1);
  });

  it('refuses a VIP equal to one of the host\'s own addresses', () => {
    expect(messages(withVip('10.0.0.12'), factsOf())).toContain('10.0.0.12 (kubernetes.controlPlaneVip.address) is already an address of cp2 (eth0 10.0.0.12/24)');
  });

  it('refuses a VIP something already answers, before any cluster exists', () => {
    const facts = factsOf('', '10.0.0.100 dev eth0 lladdr 52:54:00:12:34:56 REACHABLE');
    expect(messages(withVip(), facts)).toEqual([
      "10.0.0.100 (kubernetes.controlPlaneVip.address) is taken: 52:54:00:12:34:56 answers ARP for it on cp2's link, and no cluster exists yet",
    ]);
    // Once the cluster exists, kube-vip on another control plane answers it: expected.
    expect(messages(withVip(), facts, true)).toEqual([]);
  });

  it('accepts the VIP as a /32 on the named interface once the cluster exists (kube-vip holds it), not before', () => {
    const held = factsOf('addr4=eth0 10.0.0.100/32\n');
    expect(messages(withVip(), held, true)).toEqual([]);
    expect(messages(withVip(), held, false)).toEqual(['10.0.0.100 (kubernetes.controlPlaneVip.address) is already an address of cp2 (eth0 10.0.0.100/32)']);
  });

  it('names the interface that carries the internal address when the named one has no address', () => {
    const problems = vipProblems(withVip('10.0.0.100', 'ens3'), testHost(withVip(), 'cp2'), factsOf(), false);
    expect(problems.map((p) => p.message)).toEqual(['interface ens3 (kubernetes.controlPlaneVip.interface) has no IPv4 address on cp2 (its interfaces: lo, eth0)']);
    expect(problems[0]!.fix).toMatch(/set kubernetes\.controlPlaneVip\.interface to eth0/);
  });

  it('says so when ip is missing, and asks nothing of workers or clusters without a VIP', () => {
    const noIp = parseFacts('os_id=debian\nvip_ip=0\n');
    expect(messages(withVip(), noIp)).toEqual(['cannot read the network interfaces on cp2: ip not found']);
    const cluster = withVip();
    expect(vipProblems(cluster, testHost(cluster, 'w1'), noIp, false)).toEqual([]);
    expect(vipProblems(testCluster(), testHost(testCluster(), 'cp2'), noIp, false)).toEqual([]);
  });

  it('knows the cluster exists when a host is a member or the init host is not in the run', () => {
    const cluster = withVip();
    const none = [{ host: testHost(cluster, 'cp1'), facts: factsOf() }];
    expect(clusterMayHoldVip(none, true)).toBe(false);
    expect(clusterMayHoldVip(none, false)).toBe(true);
    expect(clusterMayHoldVip([{ host: testHost(cluster, 'cp1'), facts: parseFacts('member_of=https://10.0.0.100:6443\n') }], true)).toBe(true);
  });

  it('computes subnets', () => {
    expect(inSubnet('10.77.0.30', '10.77.0.2/26')).toBe(true);
    expect(inSubnet('10.77.0.64', '10.77.0.2/26')).toBe(false);
    expect(inSubnet('10.77.0.64', 'bogus')).toBe(false);
  });
});
