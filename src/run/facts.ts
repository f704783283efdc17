// Facts about a host, gathered once per run in one round trip with the root-access check, and
// handed to the preflight and the planner: nothing later re-probes what is here.
import { randomBytes } from 'node:crypto';
import type { PackageFamily } from '../playbook/os-packages.js';
import type { PlanFacts } from '../playbook/plan.js';
import type { ExecResult, Remote } from './remote.js';
import { CONTAINERD_RESTART_MARKER } from '../cluster/containerd-roll.js';
import { ConnectError, SudoError } from '../ssh/errors.js';
import { rootAccessError, rootAccessFrom, type RootAccessProblem } from './root-access.js';

export type { PackageFamily };

/** Binaries kubeadm's preflight looks for in PATH, and the ones kubeforge itself needs. */
export const PROBED_BINARIES = [
  'iptables',
  'conntrack',
  'crictl',
  'ip',
  'mount',
  'nsenter',
  'ebtables',
  'ethtool',
  'socat',
  'tc',
  'touch',
  'kubeadm',
  'kubelet',
  'kubectl',
  'apt-get',
  'dpkg',
  'dnf',
  'yum',
  'zypper',
] as const;
export type ProbedBinary = (typeof PROBED_BINARIES)[number];

export interface HostFacts {
  /** /etc/os-release ID and ID_LIKE, e.g. "debian", "ubuntu debian". */
  osId: string;
  osLike: string;
  osVersion: string;
  arch: string;
  hostname: string;
  /** CPUs this process may run on (what Go's runtime.NumCPU, and so kubeadm, counts). */
  cpus: number;
  /** MemTotal in MiB. */
  memoryMiB: number;
  /** "cgroup2fs" on a unified (v2) hierarchy; anything else is v1 or hybrid. */
  cgroupFs: string;
  kernelRelease: string;
  /** Where the kernel config can be read from (kubeadm's SystemVerification needs one), or "". */
  kernelConfig: string;
  /** Absolute path of each probed binary in root's PATH, or undefined. */
  binaries: Partial<Record<ProbedBinary, string>>;
  /** TCP ports something listens on (IPv4 and IPv6); not asked, so empty, on a cluster member (memberOf). */
  listeningPorts: Set<number>;
  /** The API server this host's kubelet.conf points at, when it is already a cluster member. */
  memberOf?: string;
  /** /var/lib/etcd exists and is not empty (kubeadm's DirAvailable--var-lib-etcd). */
  etcdDataPresent: boolean;
  /** Swap devices in use. */
  swapDevices: number;
  /** A containerd restart was left to the rolling phase (by this run's steps or an earlier run's). */
  containerdRestartPending: boolean;
  /** Read on control planes only with kubernetes.controlPlaneVip (the VIP preflight's facts). */
  vip?: VipFacts;
}

export interface VipFacts {
  /** `ip` was found: without it nothing below could be read. */
  ipFound: boolean;
  /** Every IPv4 address of the host with its prefix, as `ip -o -4 addr` lists them. */
  addresses: Array<{ interface: string; cidr: string }>;
  /**
   * The link-layer address that answered ARP for the VIP after one connection attempt to it
   * (undefined: nobody answered, or the VIP is this host's own address and was not probed).
   */
  answeredBy?: string;
}

// Read-only: prints KEY=VALUE lines. PATH is set as root's login shell would have it, so a
// binary in /usr/sbin counts even when sudo's secure_path would be narrower. What the shell can
// read itself (the hostname, /proc/meminfo, /proc/swaps, kubelet.conf) it reads without starting
// a process: this runs on every host at every run.
const GATHER = `
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
if [ -r /etc/os-release ]; then . /etc/os-release; fi
echo "os_id=\${ID:-}"
echo "os_like=\${ID_LIKE:-}"
echo "os_version=\${VERSION_ID:-}"
# The kernel release and the machine from /proc (kernel.arch since Linux 6.1), else from uname,
# which prints the fields in its own order: the release, then the machine.
kf_kr=
kf_arch=
if [ -r /proc/sys/kernel/osrelease ] && [ -r /proc/sys/kernel/arch ]; then
  read -r kf_kr </proc/sys/kernel/osrelease || true
  read -r kf_arch </proc/sys/kernel/arch || true
fi
if [ -z "$kf_kr" ] || [ -z "$kf_arch" ]; then
  set -- $(uname -r -m)
  kf_kr=\${1:-}
  kf_arch=\${2:-}
fi
echo "arch=$kf_arch"
kf_name=
read -r kf_name </proc/sys/kernel/hostname 2>/dev/null || kf_name=$(hostname 2>/dev/null || true)
echo "hostname=$kf_name"
echo "cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
kf_mem=
while read -r kf_k kf_v _; do
  if [ "$kf_k" = MemTotal: ]; then kf_mem=$kf_v; break; fi
done </proc/meminfo
echo "mem_kb=$kf_mem"
# cgroup.controllers is in the root of a cgroup2 mount only: a process fewer on most hosts.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo "cgroup_fs=cgroup2fs"; else echo "cgroup_fs=$(stat -fc %T /sys/fs/cgroup 2>/dev/null)"; fi
echo "kernel_release=$kf_kr"
kc=
for f in /proc/config.gz "/boot/config-$kf_kr" "/lib/modules/$kf_kr/config"; do
  if [ -r "$f" ]; then kc=$f; break; fi
done
echo "kernel_config=$kc"
# As \`command -v\` finds them (the first executable file along PATH), without a subshell each.
for b in $KF_BINARIES; do
  kf_ifs=$IFS
  IFS=:
  for d in $PATH; do
    if [ -f "$d/$b" ] && [ -x "$d/$b" ]; then echo "bin_$b=$d/$b"; break; fi
  done
  IFS=$kf_ifs
done
# Listening TCP ports: ss asks the kernel for listening sockets only. Reading /proc/net/tcp
# walks the whole established-connection table, which is sized by memory: milliseconds of
# kernel time per read on a big host. It is the fallback (no ss, or one without -H).
# A node of a cluster (kubelet.conf) is not asked: the preflight's port checks are for hosts
# kubeadm has not set up yet, and a converged rerun saves a process per host.
ports=
if [ -f /etc/kubernetes/kubelet.conf ]; then
  echo "listen_dec="
elif command -v ss >/dev/null 2>&1 && kf_ss=$(ss -Hltn 2>/dev/null); then
  while read -r _ _ _ kf_local _; do
    if [ -n "$kf_local" ]; then ports="$ports\${kf_local##*:} "; fi
  done <<KF_SS
$kf_ss
KF_SS
  echo "listen_dec=$ports"
else
  set --
  for f in /proc/net/tcp /proc/net/tcp6; do
    if [ -r "$f" ]; then set -- "$@" "$f"; fi
  done
  if [ $# -gt 0 ]; then
    ports=$(awk '$4 == "0A" { split($2, a, ":"); if (!(a[2] in seen)) { seen[a[2]] = 1; printf "%s ", a[2] } }' "$@" </dev/null)
  fi
  echo "listen_hex=$ports"
fi
if [ -f /etc/kubernetes/kubelet.conf ]; then
  kf_server=
  while read -r kf_k kf_v _; do
    if [ "$kf_k" = server: ]; then kf_server=$kf_v; break; fi
  done </etc/kubernetes/kubelet.conf
  echo "member_of=$kf_server"
fi
if [ -d /var/lib/etcd ] && [ -n "$(ls -A /var/lib/etcd 2>/dev/null)" ]; then echo "etcd_data=1"; fi
if [ -f ${CONTAINERD_RESTART_MARKER} ]; then echo "containerd_restart=1"; fi
kf_swaps=0
if [ -r /proc/swaps ]; then
  while read -r _; do kf_swaps=$((kf_swaps + 1)); done </proc/swaps
  if [ "$kf_swaps" -gt 0 ]; then kf_swaps=$((kf_swaps - 1)); fi
fi
echo "swap=$kf_swaps"
# The VIP preflight (control planes, with kubernetes.controlPlaneVip): the IPv4 addresses, and
# whether anything on the link answers ARP for the VIP. One TCP connection attempt to it makes
# the kernel ask (bash's /dev/tcp: no ping or arping on a minimal host); the neighbour entry then
# holds a link-layer address only if some machine answered. Nothing is sent when the VIP is
# already this host's own address (a rerun, kube-vip holds it), or not on its link.
if [ -n "\${KF_VIP:-}" ]; then
  if command -v ip >/dev/null 2>&1; then
    echo "vip_ip=1"
    kf_own=
    kf_addrs=$(ip -o -4 addr show 2>/dev/null || true)
    while read -r _ kf_if _ kf_cidr _; do
      if [ -n "$kf_cidr" ]; then
        echo "addr4=\${kf_if%%@*} $kf_cidr"
        if [ "\${kf_cidr%/*}" = "$KF_VIP" ]; then kf_own=1; fi
      fi
    done <<KF_ADDRS
$kf_addrs
KF_ADDRS
    # Only a VIP on this host's own link is probed: one that routes through a gateway is the
    # preflight's "outside the subnet", and is not sent anything.
    case "$(ip route get "$KF_VIP" 2>/dev/null)" in
      *" via "*) kf_own=routed ;;
    esac
    if [ -z "$kf_own" ]; then
      if command -v bash >/dev/null 2>&1; then
        timeout 2 bash -c ': </dev/tcp/"$KF_VIP"/6443' >/dev/null 2>&1 || true
      fi
      echo "vip_neigh=$(ip neigh show to "$KF_VIP" 2>/dev/null | head -n 1)"
    fi
  else
    echo "vip_ip=0"
  fi
fi
`;

/**
 * A read-only script that rides along with the facts, run only once root answered: its output
 * is handed back as it came (a converged host's step gather, see orchestrate.ts).
 */
export interface AlongWithFacts {
  script: string;
  env: Record<string, string>;
  /** Added to the facts' own time limit. */
  timeoutMs: number;
}

/** What the script that rode along printed, and whether it ran at all (root answered). */
export interface AlongOutput {
  stdout: string;
  stderr: string;
}

const FACTS_TIMEOUT_MS = 60_000;

/**
 * The root-access check and the facts in one round trip: `id -u` (through sudo for another
 * user) first, then the facts, read only when the commands ran as root; then, as root only, the
 * script `along` (its output is split off at a nonce line on both streams).
 */
export async function gatherFactsAsRoot(
  remote: Remote,
  user: string,
  signal: AbortSignal,
  opts: { vip?: string; along?: AlongWithFacts } = {},
): Promise<{ denied: RootAccessProblem } | { facts: HostFacts; along?: AlongOutput }> {
  let r: ExecResult;
  const separator = `kubeforge-facts-end-${randomBytes(8).toString('hex')}`;
  try {
    const env = { KF_BINARIES: PROBED_BINARIES.join(' '), ...(opts.vip ? { KF_VIP: opts.vip } : {}) };
    const script = opts.along
      ? [
          // A root login is uid 0 (as connect takes it); any other login asks, through sudo.
          remote.loginIsRoot === true ? 'kf_uid=0' : 'kf_uid=$(id -u)',
          'echo "kf_uid=$kf_uid"',
          // The facts in a subshell: their variables and their exit stay theirs.
          `(\n${GATHER}\n)`,
          'kf_frc=$?',
          // After the separator the facts are complete and good: a connection lost later leaves them usable.
          'if [ "$kf_uid" = 0 ] && [ "$kf_frc" = 0 ]; then',
          `  printf '\\n%s\\n' "$KF_ALONG_SEP"; printf '\\n%s\\n' "$KF_ALONG_SEP" >&2`,
          '  unset KF_BINARIES KF_VIP KF_ALONG_SEP',
          // Its failure is its own (an answer that cannot be read is asked for again), not the facts'.
          `  (\n${opts.along.script}\n) || true`,
          'fi',
          'exit $kf_frc',
        ].join('\n')
      : `echo "kf_uid=$(id -u)"\n${GATHER}`;
    r = await remote.exec(script, {
      env: opts.along ? { ...env, ...opts.along.env, KF_ALONG_SEP: separator } : env,
      signal,
      timeoutMs: FACTS_TIMEOUT_MS + (opts.along?.timeoutMs ?? 0),
    });
  } catch (err) {
    // sudo said no. A connection lost or a command timed out is not a question of root access:
    // it fails the facts (the preflight) with its own message.
    if (err instanceof SudoError) return { denied: rootAccessError(err, user) };
    // Lost while the other script ran: the facts had all arrived, and were good. Whatever comes
    // next on this host meets the lost connection and fails there, with that step's name.
    const partial = err instanceof ConnectError ? err.partialOutput?.stdout : undefined;
    const at = partial?.indexOf(`\n${separator}\n`) ?? -1;
    if (opts.along && partial !== undefined && at >= 0) {
      const factsText = partial.slice(0, at);
      if (/^kf_uid=0$/m.test(factsText)) return { facts: parseFacts(factsText) };
    }
    throw err;
  }
  const mark = `\n${separator}\n`;
  const split = (text: string): [string, string | undefined] => {
    const at = text.indexOf(mark);
    return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + mark.length)];
  };
  const [stdout, alongStdout] = split(r.stdout);
  const [stderr, alongStderr] = split(r.stderr);
  // What `id -u` alone would have answered: its line, or nothing when sudo refused to run it.
  const uid = /^kf_uid=(.*)$/m.exec(stdout)?.[1];
  const denied = rootAccessFrom(uid === undefined ? { ...r, stdout, stderr } : { code: 0, stdout: `${uid}\n`, stderr }, user);
  if (denied) return { denied };
  if (r.code !== 0) throw factsFailed({ ...r, stdout, stderr });
  const facts = parseFacts(stdout);
  return alongStdout === undefined ? { facts } : { facts, along: { stdout: alongStdout, stderr: alongStderr ?? '' } };
}

function factsFailed(r: ExecResult): Error {
  return new Error(`gathering host facts failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
}

export function parseFacts(text: string): HostFacts {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const get = (k: string) => kv.get(k) ?? '';
  const binaries: HostFacts['binaries'] = {};
  for (const b of PROBED_BINARIES) {
    const p = kv.get(`bin_${b}`);
    if (p) binaries[b] = p;
  }
  const ports = (key: string, radix: number) =>
    get(key)
      .split(/\s+/)
      .filter(Boolean)
      .map((p) => parseInt(p, radix))
      .filter((n) => Number.isFinite(n));
  const listeningPorts = new Set([...ports('listen_hex', 16), ...ports('listen_dec', 10)]);
  const memberOf = kv.get('member_of');
  const vip = vipFactsFrom(text, kv);
  return {
    osId: get('os_id'),
    osLike: get('os_like'),
    osVersion: get('os_version'),
    arch: get('arch'),
    hostname: get('hostname'),
    cpus: Number(get('cpus')) || 0,
    memoryMiB: Math.floor((Number(get('mem_kb')) || 0) / 1024),
    cgroupFs: get('cgroup_fs'),
    kernelRelease: get('kernel_release'),
    kernelConfig: get('kernel_config'),
    binaries,
    listeningPorts,
    ...(memberOf ? { memberOf } : {}),
    etcdDataPresent: get('etcd_data') === '1',
    swapDevices: Number(get('swap')) || 0,
    containerdRestartPending: get('containerd_restart') === '1',
    ...(vip ? { vip } : {}),
  };
}

function vipFactsFrom(text: string, kv: Map<string, string>): VipFacts | undefined {
  const found = kv.get('vip_ip');
  if (found === undefined) return undefined;
  const addresses = [...text.matchAll(/^addr4=(\S+) (\S+)$/gm)].map((m) => ({ interface: m[1]!, cidr: m[2]! }));
  const answeredBy = /\blladdr (\S+)/.exec(kv.get('vip_neigh') ?? '')?.[1];
  return { ipFound: found === '1', addresses, ...(answeredBy ? { answeredBy } : {}) };
}

/** What the planner needs of the facts (up and plan replan each host with it). */
export function planFactsFrom(facts: HostFacts): PlanFacts {
  return facts.binaries.kubelet ? { kubeletPath: facts.binaries.kubelet } : {};
}

/** The host's package family, from the tools present. */
export function packageFamily(facts: HostFacts): PackageFamily {
  if (facts.binaries['apt-get'] && facts.binaries.dpkg) return 'apt';
  if (facts.binaries.dnf) return 'dnf';
  if (facts.binaries.yum) return 'yum';
  if (facts.binaries.zypper) return 'zypper';
  return 'none';
}
