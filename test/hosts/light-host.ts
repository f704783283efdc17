// A light test host: one sshd in its own network, mount, UTS and PID namespaces, no systemd.
// Private /etc, /usr/local, /var and /opt are overlays whose upper layers live on the host's
// own tmpfs /run; /tmp and /root are empty tmpfs (an empty root home keeps the machine's
// shell profile from running at every login).
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { run, sh, sleep } from './exec.js';
import type { TestHostRecord } from './host.js';
import { childPids } from './full-host.js';
import { generateKey } from './keys.js';
import { waitForSshBanner } from './wait.js';

export interface LightHostSpec {
  name: string;
  netns: string;
  /** This machine's end of the veth pair (at most 15 characters). */
  veth: string;
  address: string;
  prefixLength: number;
  bridge: string;
  dir: string;
  authorizedKey: string;
  /** Let sshd accept passwords too (for password-auth tests); keys only by default. */
  passwordAuthentication?: boolean;
}

const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

/** Runs inside the new namespaces, then becomes sshd. Arguments: name, sshd config. */
const INSIDE = `
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/sshd /run/.testhost
for d in etc usr/local var opt; do
  k=$(printf %s "$d" | tr / _)
  mkdir -p "/run/.testhost/upper/$k" "/run/.testhost/work/$k"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=/run/.testhost/upper/$k,workdir=/run/.testhost/work/$k" "/$d"
done
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0700 tmpfs /root
mount -t proc proc /proc
hostname "$1"
printf '%s\\n' "$1" > /etc/hostname
printf '127.0.0.1 localhost\\n127.0.1.1 %s\\n' "$1" > /etc/hosts
exec /usr/sbin/sshd -D -e -f "$2"
`;

export async function startLightHost(spec: LightHostSpec): Promise<TestHostRecord> {
  await fs.mkdir(spec.dir, { recursive: true });
  const hostKey = path.join(spec.dir, 'ssh_host_ed25519_key');
  const hostKeyPublic = await generateKey(hostKey, `root@${spec.name}`);
  const authorizedKeys = path.join(spec.dir, 'authorized_keys');
  await fs.writeFile(authorizedKeys, `${spec.authorizedKey}\n`, { mode: 0o600 });
  const config = path.join(spec.dir, 'sshd_config');
  await fs.writeFile(
    config,
    [
      'Port 22',
      `ListenAddress ${spec.address}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorizedKeys} .ssh/authorized_keys`,
      spec.passwordAuthentication ? 'PermitRootLogin yes' : 'PermitRootLogin prohibit-password',
      `PasswordAuthentication ${spec.passwordAuthentication ? 'yes' : 'no'}`,
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PidFile /run/sshd.pid',
      'MaxStartups 200:30:400',
      'MaxSessions 20',
      `Subsystem sftp ${SFTP_SERVER}`,
      '',
    ].join('\n'),
  );

  await sh(
    `ip netns add "$1"
     ip link add "$2" type veth peer name eth0 netns "$1"
     ip link set "$2" master "$3" up
     ip -n "$1" addr add "$4/$5" dev eth0
     ip -n "$1" link set eth0 up
     ip -n "$1" link set lo up`,
    [spec.netns, spec.veth, spec.bridge, spec.address, String(spec.prefixLength)],
  );

  const log = openSync(path.join(spec.dir, 'sshd.log'), 'a');
  const child = spawn(
    'ip',
    ['netns', 'exec', spec.netns, 'unshare', '--mount', '--uts', '--pid', '--fork', '--propagation', 'private', '--', '/bin/sh', '-eu', '-c', INSIDE, 'sh', spec.name, config],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  child.unref();
  const launcherPid = child.pid;
  if (launcherPid === undefined) throw new Error(`could not start light host ${spec.name}`);

  let initPid: number | undefined;
  const deadline = Date.now() + 10_000;
  while (initPid === undefined && Date.now() < deadline) {
    initPid = (await childPids(launcherPid))[0];
    if (initPid === undefined) await sleep(20);
  }
  if (initPid === undefined) throw new Error(`light host ${spec.name}: unshare started no child`);
  await waitForSshBanner(spec.address, 22, 20_000).catch(async (err: Error) => {
    const tail = await fs.readFile(path.join(spec.dir, 'sshd.log'), 'utf8').catch(() => '');
    throw new Error(`${spec.name}: ${err.message}\nsshd log:\n${tail}`);
  });
  return {
    name: spec.name,
    kind: 'light',
    address: spec.address,
    port: 22,
    hostInterface: spec.veth,
    hostKeyPublic,
    dir: spec.dir,
    launcherPid,
    initPid,
    netns: spec.netns,
  };
}

export async function netnsPids(netns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', netns], { allowFail: true });
  return r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}
