// A fleet: N full and M light test hosts on one private bridge, with one client key that all
// of them accept and a known_hosts file holding each host's own (freshly generated) key.
import fs from 'node:fs/promises';
import path from 'node:path';
import { run, sleep } from './exec.js';
import { CGROUP_HIERARCHIES, CGROUP_PARENT, startFullHost } from './full-host.js';
import { TestHost, type TestHostRecord } from './host.js';
import { generateKey } from './keys.js';
import { startLightHost, netnsPids } from './light-host.js';
import { removeLossRules } from './links.js';
import { isStale, pidAlive, tryLock } from './lock.js';
import {
  FLEETS_DIR,
  SLOTS,
  SLOT_PREFIX_LENGTH,
  SLOT_SIZE,
  SUBNET_PREFIX,
  bridgeName,
  slotAddress,
  slotDir,
} from './paths.js';
import { ensureRootfs } from './rootfs.js';

export interface FleetOptions {
  full?: number;
  light?: number;
  /** Light hosts also accept passwords (sshd PasswordAuthentication yes). */
  passwordAuthentication?: boolean;
  log?: (line: string) => void;
}

export interface FleetRecord {
  slot: number;
  ownerPid: number;
  bridge: string;
  gateway: string;
  clientKey: string;
  knownHosts: string;
  hosts: TestHostRecord[];
}

export class Fleet {
  readonly hosts: TestHost[];
  constructor(readonly record: FleetRecord) {
    this.hosts = record.hosts.map((h) => new TestHost(h));
  }
  get slot(): number {
    return this.record.slot;
  }
  get dir(): string {
    return slotDir(this.record.slot);
  }
  /** This machine's address on the fleet bridge: the hosts' gateway, where the test process can serve them. */
  get gateway(): string {
    return this.record.gateway;
  }
  /** Private key (ed25519, no passphrase) every host accepts for root. */
  get clientKey(): string {
    return this.record.clientKey;
  }
  /** known_hosts with every host's key, OpenSSH format. */
  get knownHosts(): string {
    return this.record.knownHosts;
  }
  get full(): TestHost[] {
    return this.hosts.filter((h) => h.kind === 'full');
  }
  get light(): TestHost[] {
    return this.hosts.filter((h) => h.kind === 'light');
  }
  host(name: string): TestHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no test host named ${name}`);
    return h;
  }
  async destroy(): Promise<void> {
    await destroySlot(this.record.slot);
  }
}

/** Bring up a fleet. Stale fleets of crashed runs are cleaned first. */
export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const log = opts.log ?? (() => {});
  const fullCount = opts.full ?? 0;
  const lightCount = opts.light ?? 0;
  if (fullCount + lightCount > 61) throw new Error('a fleet holds at most 61 hosts (one /26)');

  await cleanupStale(log);
  const rootfs = fullCount > 0 ? await ensureRootfs(log) : '';
  const slot = await claimSlot();
  const dir = slotDir(slot);
  try {
    const bridge = bridgeName(slot);
    const gateway = slotAddress(slot, 1);
    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await run('ip', ['addr', 'add', `${gateway}/${SLOT_PREFIX_LENGTH}`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);

    const clientKey = path.join(dir, 'client_ed25519');
    const authorizedKey = await generateKey(clientKey, `kubeforge-tests@fleet-${slot}`);

    const starts: Promise<TestHostRecord>[] = [];
    let n = 2;
    for (let i = 1; i <= fullCount; i++, n++) {
      const name = `full-${i}`;
      starts.push(
        startFullHost({
          name,
          machine: `kf${slot}-${name}`,
          address: slotAddress(slot, n),
          prefixLength: SLOT_PREFIX_LENGTH,
          gateway,
          bridge,
          dir: path.join(dir, name),
          rootfs,
          authorizedKey,
        }),
      );
    }
    for (let i = 1; i <= lightCount; i++, n++) {
      const name = `light-${i}`;
      starts.push(
        startLightHost({
          name,
          netns: `kf${slot}-${name}`,
          veth: `kfv${slot}x${i}`,
          address: slotAddress(slot, n),
          prefixLength: SLOT_PREFIX_LENGTH,
          bridge,
          dir: path.join(dir, name),
          authorizedKey,
          passwordAuthentication: opts.passwordAuthentication ?? false,
        }),
      );
    }
    const settled = await Promise.allSettled(starts);
    const hosts = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const record: FleetRecord = { slot, ownerPid: process.pid, bridge, gateway, clientKey, knownHosts: path.join(dir, 'known_hosts'), hosts };
    await fs.writeFile(path.join(dir, 'fleet.json'), JSON.stringify(record, null, 2));
    const failed = settled.flatMap((s) => (s.status === 'rejected' ? [String((s.reason as Error).message ?? s.reason)] : []));
    if (failed.length > 0) throw new Error(`test hosts failed to start:\n${failed.join('\n')}`);
    await fs.writeFile(record.knownHosts, hosts.map((h) => `${h.address} ${h.hostKeyPublic}\n`).join(''), { mode: 0o600 });
    log(`fleet ${slot}: ${fullCount} full + ${lightCount} light hosts up`);
    return new Fleet(record);
  } catch (err) {
    await destroySlot(slot).catch(() => {});
    throw err;
  }
}

/** Load a fleet that another process (e.g. `npm run demo`) started. */
export async function loadFleet(slot: number): Promise<Fleet> {
  const text = await fs.readFile(path.join(slotDir(slot), 'fleet.json'), 'utf8');
  return new Fleet(JSON.parse(text) as FleetRecord);
}

/** How long a fleet waits for a slot that another process on this machine holds. */
const SLOT_WAIT_MS = Number(process.env.KUBEFORGE_TESTHOSTS_SLOT_WAIT_MS ?? 20 * 60_000);

/**
 * A free slot, waiting while other processes (a demo, a second test run) hold them all. Slots
 * this process holds itself are never waited for: that is a fleet a test forgot to destroy.
 */
async function claimSlot(): Promise<number> {
  const deadline = Date.now() + SLOT_WAIT_MS;
  let told = false;
  for (;;) {
    let heldHere = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      if (await tryLock(slotDir(slot))) return slot;
      const owner = await fs.readFile(path.join(slotDir(slot), 'owner.pid'), 'utf8').catch(() => '');
      if (Number(owner.trim()) === process.pid) heldHere++;
    }
    if (heldHere === SLOTS || Date.now() > deadline) {
      throw new Error(`all ${SLOTS} test fleet slots are in use (see ${FLEETS_DIR}; \`node dist/test/hosts/cli.js down --all\` frees them)`);
    }
    if (!told) process.stderr.write(`all ${SLOTS} test fleet slots are in use by other processes; waiting up to ${Math.round(SLOT_WAIT_MS / 60_000)} min for one\n`);
    told = true;
    await sleep(5_000);
    // A holder that died while this one waited leaves its slot behind.
    await cleanupStale();
  }
}

/** Free every slot whose owning process is gone: a crashed or killed earlier run. */
export async function cleanupStale(log: (line: string) => void = () => {}): Promise<number[]> {
  const cleaned: number[] = [];
  for (let slot = 0; slot < SLOTS; slot++) {
    if (await isStale(slotDir(slot))) {
      log(`cleaning stale test fleet in slot ${slot}`);
      await destroySlot(slot);
      cleaned.push(slot);
    }
  }
  // Leftovers with no slot dir at all (e.g. the dir was removed by hand).
  for (let slot = 0; slot < SLOTS; slot++) {
    try {
      await fs.stat(slotDir(slot));
    } catch {
      if ((await leftovers(slot)).length > 0) {
        await destroySlot(slot);
        cleaned.push(slot);
      }
    }
  }
  return cleaned;
}

/**
 * Tear a slot down from what can be found on the machine, not only from fleet.json (which a
 * crash may not have written): processes started from the slot dir, the slot's named network
 * namespaces and links, and mounts below the slot dir.
 */
export async function destroySlot(slot: number): Promise<void> {
  const dir = slotDir(slot);
  const prefix = `kf${slot}-`;

  // Kill host inits first: killing a PID namespace's init kills everything inside it.
  const launchers = await processesMentioning(dir);
  for (const netns of await namedNetns(prefix)) {
    for (const pid of await netnsPids(netns)) launchers.push(pid);
  }
  for (const cg of await cgroupsOf(slot)) launchers.push(...(await cgroupPids(cg)));
  const inits: number[] = [];
  for (const pid of launchers) inits.push(...(await childrenOf(pid)));
  signalAll([...inits, ...launchers], 'SIGKILL');
  await waitGone([...inits, ...launchers], 10_000);

  for (const netns of await namedNetns(prefix)) {
    await run('ip', ['netns', 'del', netns], { allowFail: true });
  }
  for (const link of await linksOf(slot)) {
    await run('ip', ['link', 'del', link], { allowFail: true });
  }
  for (const cg of await cgroupsOf(slot)) await removeCgroup(cg);
  await removeLossRules((address) => inSlot(slot, address));
  for (const mount of (await mountsBelow(dir)).reverse()) {
    const r = await run('umount', [mount], { allowFail: true });
    if (r.code !== 0) await run('umount', ['-l', mount], { allowFail: true });
  }
  await fs.rm(dir, { recursive: true, force: true });
}

/** Everything of a slot still present on this machine, described; empty when it is clean. */
export async function leftovers(slot: number): Promise<string[]> {
  const dir = slotDir(slot);
  const found: string[] = [];
  for (const pid of await processesMentioning(dir)) found.push(`process ${pid}`);
  for (const ns of await namedNetns(`kf${slot}-`)) found.push(`netns ${ns}`);
  for (const link of await linksOf(slot)) found.push(`link ${link}`);
  for (const m of await mountsBelow(dir)) found.push(`mount ${m}`);
  for (const cg of await cgroupsOf(slot)) found.push(`cgroup ${cg}`);
  try {
    await fs.stat(dir);
    found.push(`dir ${dir}`);
  } catch {
    // gone, as it should be
  }
  return found;
}

async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.split('\0').some((arg) => arg === needle || arg.startsWith(needle + '/'))) pids.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function childrenOf(pid: number): Promise<number[]> {
  try {
    const text = await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function waitGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(pidAlive) && Date.now() < deadline) await sleep(50);
}

async function namedNetns(prefix: string): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { allowFail: true });
  return r.stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}

async function linksOf(slot: number): Promise<string[]> {
  const r = await run('ip', ['-o', 'link', 'show'], { allowFail: true });
  const names = r.stdout.split('\n').map((line) => /^\d+:\s+([^:@]+)/.exec(line)?.[1] ?? '');
  return names.filter(
    (n) => n === bridgeName(slot) || n.startsWith(`kfv${slot}x`) || n.startsWith(`vb-kf${slot}-`),
  );
}

async function mountsBelow(dir: string): Promise<string[]> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mp) => mp === dir || mp.startsWith(dir + '/'));
}

/** The per-host cgroups full hosts of this slot were started in (see full-host.ts). */
async function cgroupsOf(slot: number): Promise<string[]> {
  const found: string[] = [];
  for (const hierarchy of CGROUP_HIERARCHIES) {
    const parent = path.join(hierarchy, CGROUP_PARENT);
    for (const name of await fs.readdir(parent).catch(() => [] as string[])) {
      if (name.startsWith(`kf${slot}-`)) found.push(path.join(parent, name));
    }
  }
  return found;
}

async function cgroupPids(cgroup: string): Promise<number[]> {
  const pids: number[] = [];
  const text = await fs.readFile(path.join(cgroup, 'cgroup.procs'), 'utf8').catch(() => '');
  pids.push(...text.split('\n').filter(Boolean).map(Number));
  for (const entry of await fs.readdir(cgroup, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) pids.push(...(await cgroupPids(path.join(cgroup, entry.name))));
  }
  return pids;
}

/** cgroups are removed leaf first, with rmdir (their files cannot be deleted). */
async function removeCgroup(cgroup: string): Promise<void> {
  for (const entry of await fs.readdir(cgroup, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) await removeCgroup(path.join(cgroup, entry.name));
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await fs.rmdir(cgroup);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw err;
      await sleep(100); // the last processes are still exiting
    }
  }
}

function inSlot(slot: number, address: string): boolean {
  const last = Number(address.split('.').pop());
  return address.startsWith(`${SUBNET_PREFIX}.`) && last >= slot * SLOT_SIZE && last < (slot + 1) * SLOT_SIZE;
}
