// The cached Debian 12 root filesystem that every full test host boots from (read-only, as
// the lower layer of each host's overlayfs). Built once with debootstrap, then reused.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathExists, run } from './exec.js';
import { withLock } from './lock.js';
import { CACHE_DIR } from './paths.js';

/** Packages beyond minbase: systemd as PID 1, sshd, and what kubeforge's steps and tests use. */
const INCLUDE = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'openssh-server',
  'iproute2',
  'kmod',
  'procps',
  'sudo',
  'python3-minimal', // the kubeadm/kubelet stand-ins are Python
  'python3-yaml',
];

const LAYOUT_VERSION = 1;

/**
 * What real kubeadm's preflight wants on a node and a minimal cloud image lacks: kubeforge
 * installs these itself (online with apt, or offline from an OS-packages bundle), so the
 * root filesystem must NOT have them, or the tests of that step prove nothing.
 */
export const NODE_PREREQUISITE_PACKAGES = ['iptables', 'conntrack', 'ebtables', 'ethtool', 'socat'] as const;

/** Fails loudly when the root filesystem has any of the node prerequisites, or lacks apt/dpkg. */
export async function assertMinimalRootfs(root: string): Promise<void> {
  const found: string[] = [];
  for (const name of NODE_PREREQUISITE_PACKAGES) {
    for (const dir of ['usr/sbin', 'usr/bin', 'sbin', 'bin']) {
      if (await pathExists(path.join(root, dir, name))) found.push(`/${dir}/${name}`);
    }
  }
  const status = await fs.readFile(path.join(root, 'var/lib/dpkg/status'), 'utf8').catch(() => '');
  for (const name of NODE_PREREQUISITE_PACKAGES) {
    if (new RegExp(`^Package: ${name}\\n(?:[^\\n]+\\n)*?Status: install ok installed$`, 'm').test(status)) found.push(`package ${name}`);
  }
  if (found.length > 0) {
    throw new Error(
      `the test-host root filesystem ${root} has node prerequisites kubeforge must install itself: ${[...new Set(found)].join(', ')}` +
        ' (check INCLUDE in test/hosts/rootfs.ts and what debootstrap pulls in)',
    );
  }
  for (const tool of ['usr/bin/apt-get', 'usr/bin/dpkg']) {
    if (!(await pathExists(path.join(root, tool)))) throw new Error(`the test-host root filesystem ${root} has no /${tool}`);
  }
}

export function rootfsKey(): string {
  return createHash('sha256')
    .update(JSON.stringify({ INCLUDE, LAYOUT_VERSION, suite: 'bookworm' }))
    .digest('hex')
    .slice(0, 12);
}

export function rootfsPath(): string {
  return path.join(CACHE_DIR, `rootfs-bookworm-${rootfsKey()}`);
}

/** The Debian mirror this machine's apt uses (the only place packages can come from). */
export async function debianMirror(): Promise<string> {
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of candidates) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      continue;
    }
    const deb822 = /^URIs:\s*(\S+)/m.exec(text);
    if (deb822?.[1] && !deb822[1].includes('security')) return deb822[1];
    const legacy = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (legacy?.[1]) return legacy[1];
  }
  return 'http://deb.debian.org/debian';
}


/** Returns the path of the cached root filesystem, building it first if needed (~1 min). */
export async function ensureRootfs(log: (line: string) => void = () => {}): Promise<string> {
  const final = rootfsPath();
  const ready = path.join(final, '.kubeforge-rootfs-ready');
  if (await pathExists(ready)) return final;
  return withLock(path.join(CACHE_DIR, 'rootfs.lock'), async () => {
    if (await pathExists(ready)) return final;
    const tmp = `${final}.tmp`;
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.rm(final, { recursive: true, force: true });
    const mirror = await debianMirror();
    log(`building the test-host root filesystem with debootstrap from ${mirror} (about a minute, once)`);
    await run('debootstrap', [
      '--variant=minbase',
      `--include=${INCLUDE.join(',')}`,
      'bookworm',
      tmp,
      mirror,
    ]);
    await prepare(tmp);
    await assertMinimalRootfs(tmp);
    await fs.writeFile(path.join(tmp, '.kubeforge-rootfs-ready'), `${new Date().toISOString()}\n`);
    await fs.rename(tmp, final);
    return final;
  });
}

/** Make the image boot straight to a networked sshd, with nothing host-specific left in it. */
async function prepare(root: string): Promise<void> {
  await run('chroot', [root, 'systemctl', 'enable', 'systemd-networkd', 'ssh']);
  // Nothing waits on these in a test host; masking them shortens boot.
  await run('chroot', [root, 'systemctl', 'mask', 'systemd-networkd-wait-online.service', 'console-getty.service', 'getty@.service']);
  for (const name of await fs.readdir(path.join(root, 'etc/ssh'))) {
    if (name.startsWith('ssh_host_')) await fs.rm(path.join(root, 'etc/ssh', name));
  }
  // An empty machine-id makes every boot generate its own.
  await fs.writeFile(path.join(root, 'etc/machine-id'), '');
  await fs.rm(path.join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
  await fs.mkdir(path.join(root, 'var/lib/apt/lists/partial'), { recursive: true });
  for (const deb of await fs.readdir(path.join(root, 'var/cache/apt/archives')).catch(() => [])) {
    if (deb.endsWith('.deb')) await fs.rm(path.join(root, 'var/cache/apt/archives', deb));
  }
}
