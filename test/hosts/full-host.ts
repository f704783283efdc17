// A full test host: Debian 12 booted with systemd under systemd-nspawn, on its own overlayfs
// over the cached root filesystem, with a static address on the fleet bridge and sshd.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { run, sleep } from './exec.js';
import type { TestHostRecord } from './host.js';
import { generateKey } from './keys.js';
import { waitForSshBanner } from './wait.js';

/** cgroup hierarchies systemd (inside each host) manages on this machine's hybrid setup. */
export const CGROUP_HIERARCHIES = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'];
export const CGROUP_PARENT = 'kubeforge-testhosts';

export interface FullHostSpec {
  name: string;
  /** Machine name, unique on this machine (the fleet prefixes its slot). */
  machine: string;
  address: string;
  prefixLength: number;
  gateway: string;
  bridge: string;
  dir: string;
  rootfs: string;
  authorizedKey: string;
}

export async function startFullHost(spec: FullHostSpec): Promise<TestHostRecord> {
  const upper = path.join(spec.dir, 'upper');
  const work = path.join(spec.dir, 'work');
  const root = path.join(spec.dir, 'root');
  await Promise.all([upper, work, root].map((d) => fs.mkdir(d, { recursive: true })));
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${spec.rootfs},upperdir=${upper},workdir=${work}`, root]);

  const hostKeyPublic = await generateKey(path.join(spec.dir, 'ssh_host_ed25519_key'), `root@${spec.name}`);
  await writeInto(root, 'etc/hostname', `${spec.name}\n`, 0o644);
  await writeInto(root, 'etc/hosts', `127.0.0.1 localhost\n127.0.1.1 ${spec.name}\n${spec.address} ${spec.name}\n`, 0o644);
  // Must sort before /lib/systemd/network/80-container-host0.network, or host0 gets only a
  // link-local address.
  await writeInto(
    root,
    'etc/systemd/network/10-host0.network',
    `[Match]\nName=host0\n\n[Network]\nAddress=${spec.address}/${spec.prefixLength}\nGateway=${spec.gateway}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`,
    0o644,
  );
  for (const suffix of ['', '.pub']) {
    const content = await fs.readFile(path.join(spec.dir, `ssh_host_ed25519_key${suffix}`));
    await writeInto(root, `etc/ssh/ssh_host_ed25519_key${suffix}`, content, suffix ? 0o644 : 0o600);
  }
  await fs.mkdir(path.join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
  await writeInto(root, 'root/.ssh/authorized_keys', `${spec.authorizedKey}\n`, 0o600);

  const console = openSync(path.join(spec.dir, 'console.log'), 'a');
  // Each host gets its own cgroup in the hierarchies systemd manages. Without this, with
  // --keep-unit all containers share this process's cgroup, and their systemds trip over each
  // other's units at boot (seen: random units failing with status=219/CGROUP).
  const child = spawn(
    '/bin/sh',
    [
      '-eu',
      '-c',
      `for h in ${CGROUP_HIERARCHIES.join(' ')}; do
         [ -d "$h" ] || continue
         mkdir -p "$h/${CGROUP_PARENT}/$1"
         echo $$ > "$h/${CGROUP_PARENT}/$1/cgroup.procs"
       done
       shift
       exec systemd-nspawn "$@"`,
      'sh',
      spec.machine,
      '-D', root,
      '-M', spec.machine,
      '--boot',
      // This machine's PID 1 is not systemd: nothing to register with.
      '--register=no',
      '--keep-unit',
      `--network-bridge=${spec.bridge}`,
      '--capability=all',
      '--console=read-only',
    ],
    { detached: true, stdio: ['ignore', console, console] },
  );
  closeSync(console);
  child.unref();
  const launcherPid = child.pid;
  if (launcherPid === undefined) throw new Error(`could not start systemd-nspawn for ${spec.name}`);

  await waitForChild(launcherPid, 15_000, spec);
  await waitForSshBanner(spec.address, 22, 60_000).catch(async (err: Error) => {
    const tail = await fs.readFile(path.join(spec.dir, 'console.log'), 'utf8').catch(() => '');
    throw new Error(`${spec.name}: ${err.message}\nconsole:\n${tail.split('\n').slice(-20).join('\n')}`);
  });
  // Read only now: at start systemd-nspawn briefly has a helper child before the container's
  // init, and by the time sshd answers the init is the one child left.
  const initPid = (await childPids(launcherPid))[0];
  if (initPid === undefined) throw new Error(`${spec.name}: systemd-nspawn has no container process`);
  return {
    name: spec.name,
    kind: 'full',
    address: spec.address,
    port: 22,
    hostInterface: `vb-${spec.machine}`.slice(0, 15),
    hostKeyPublic,
    dir: spec.dir,
    launcherPid,
    initPid,
  };
}

async function writeInto(root: string, rel: string, content: string | Buffer, mode: number): Promise<void> {
  const file = path.join(root, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content, { mode });
  await fs.chmod(file, mode);
}

/** The container's PID 1 is systemd-nspawn's only child. */
async function waitForChild(parent: number, timeoutMs: number, spec: FullHostSpec): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const children = await childPids(parent);
    if (children[0] !== undefined) return children[0];
    try {
      process.kill(parent, 0);
    } catch {
      const tail = await fs.readFile(path.join(spec.dir, 'console.log'), 'utf8').catch(() => '');
      throw new Error(`systemd-nspawn for ${spec.name} exited at start:\n${tail}`);
    }
    await sleep(50);
  }
  throw new Error(`systemd-nspawn for ${spec.name} started no container within ${timeoutMs} ms`);
}

export async function childPids(parent: number): Promise<number[]> {
  try {
    const text = await fs.readFile(`/proc/${parent}/task/${parent}/children`, 'utf8');
    return text.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
