// Benchmark: "the containerd stage" on N light test hosts, kubeforge against parallel-scp +
// parallel-ssh and Ansible doing the same work. Per host: receive the containerd release tarball
// (the real ~37 MB one the test harness builds from Debian's containerd and runc), untar it into
// /usr/local, write /etc/containerd/config.toml and /etc/crictl.yaml, run `ctr --version`.
//
//   kubeforge     `kubeforge up --no-progress` with bench playbooks written at run time (the
//                 containerd playbook does the stage, the others are verifyOnly stubs) against a
//                 stub cluster (kubeadm's files in place, so the cluster phase has nothing to do).
//                 kubeforge runs with its own defaults (--concurrency 64, --upload-concurrency 8),
//                 started through its own #! line, as a user's `kubeforge` is. Each run must exit 0.
//   parallel-ssh  parallel-scp of the bundle, then parallel-ssh of a script that untars it, writes
//                 both files and runs ctr; -p N, -t 0, host keys checked. It resends on every run.
//   Ansible       ansible-core: copy, unarchive (remote_src, creates: /usr/local/bin/ctr), copy
//                 content, command; forks = N, pipelining, host keys checked, gather_facts off
//                 (nothing here needs facts).
// After every run every host must have /usr/local/bin/ctr and both files, or the bench fails.
// The config files pssh and Ansible write are the very bytes kubeforge rendered on its first run.
//
// Figures (printed, never asserted; "target" columns say what we aim for):
//   - cold run at N=50, the three tools in rotating order, 3 repetitions: median (min–max);
//     with the busy CPU seconds of the whole machine during each (the laptop's side and every
//     host's share these cores, so a tool is as fast as the CPU work it makes here); and the
//     floor no tool can beat here: N untars' CPU seconds (one measured alone) over the cores;
//   - converged rerun, each tool right after its own cold run; kubeforge's rerun at 200 hosts;
//   - shaped uplink at N=20: tbf 100 Mbit/s on the fleet bridge, i.e. on everything this machine
//     (the "laptop") sends to the hosts, while host-to-host traffic is bridged port to port and
//     not shaped. kubeforge with its relay (hosts pass bundles on), with `--relay off`, and
//     parallel-scp+ssh; the bytes this machine sent into the bridge; the floors N × bundle and
//     1 × bundle at 100 Mbit/s, and one bundle through the uplink followed by N untars on the
//     cores (a copy is untarred only once verified). Builds without `--relay` print "not
//     available" for those rows;
//   - kubeforge's peak RSS (VmHWM, polled every 50 ms) on cold runs at 50, 100 and 200 hosts;
//     past 62 hosts they span several fleets, i.e. networks with no route between them (the
//     table says how many, and how many bundles the laptop sent);
//   - time from spawning `kubeforge up` to its first byte of output, median of 5, small fleet.
// 100 and 200 hosts do not fit in memory with the hosts' files on their tmpfs (about 140 MB
// each), so for those runs each host's /usr/local/{bin,sbin} and /var/lib/kubeforge are bind
// mounts of folders on this machine's disk (the table says so). That changes neither the peak
// RSS nor what a converged rerun does.
//
// Needs root, pssh and ansible-core (scripts/setup-machine.sh installs them). Run:
//   npm run bench                      the full set (20–40 minutes)
//   npm run bench -- --quick           4 hosts, one repetition, no 100/200, shaped at 1 Gbit/s: about a minute (CI runs it)
//   npm run bench -- --hosts 10        N=10 instead of 50 (the shaped runs use min(N, 20))
//   npm run bench -- --only scale      only kubeforge at 100 and 200 hosts (about 5 minutes)
// It exits non-zero when a tool's run fails, never because of a timing.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { buildContainerdBundle } from '../test/hosts/artifacts.js';
import { run, sleep } from '../test/hosts/exec.js';
import { startFleet, type Fleet } from '../test/hosts/fleet.js';
import type { TestHost } from '../test/hosts/host.js';
import { makeInventoryFixture, type InventoryFixture } from '../test/inventories/fixtures.js';
import { markAsCluster, writeStubInventory } from '../test/e2e/stub-cluster.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
/** Where pssh and Ansible put the tarball on a host. */
const REMOTE_TARBALL = '/var/tmp/kf-bench-containerd.tar.gz';
/** A fleet holds at most 61 hosts; 50 a fleet keeps 200 hosts within the harness's 4 slots. */
const HOSTS_PER_FLEET = 50;
const SLOT_WAIT_MS = 10 * 60_000;
/** kubeforge alone at these sizes: peak RSS of a cold run; the converged rerun at the largest. */
const SCALE = [100, 200];
/** On disk, not tmpfs, and not overlaid inside light hosts (they overlay /etc, /usr/local, /var, /opt). */
const DISK_ROOT = '/srv/kubeforge-bench';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  /** Only kubeforge at 100 and 200 hosts (peak RSS, the rerun at 200): --only scale. */
  onlyScale: boolean;
  hosts: number;
  shapedHosts: number;
  reps: number;
  scale: number[];
  firstOutputRuns: number;
  /** The shaped uplink's rate (quick mode shapes at 1 Gbit/s so it fits in a minute). */
  shapedMbit: number;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const i = argv.indexOf('--hosts');
  const hosts = i >= 0 ? Number(argv[i + 1]) : quick ? 4 : 50;
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 200) throw new Error('--hosts takes a whole number from 1 to 200');
  const o = argv.indexOf('--only');
  const only = o >= 0 ? argv[o + 1] : undefined;
  if (o >= 0 && only !== 'scale') throw new Error('--only takes "scale" (kubeforge alone at 100 and 200 hosts)');
  const valued = new Set(['--hosts', '--only']);
  const unknown = argv.filter((a, j) => a.startsWith('-') && a !== '--quick' && !valued.has(a) && !valued.has(argv[j - 1] ?? ''));
  if (unknown.length) throw new Error(`unknown option(s): ${unknown.join(' ')} (known: --quick, --hosts N, --only scale)`);
  return {
    quick,
    onlyScale: only === 'scale',
    hosts,
    shapedHosts: Math.min(hosts, 20),
    reps: quick ? 1 : 3,
    scale: quick ? [] : SCALE,
    firstOutputRuns: quick ? 3 : 5,
    shapedMbit: quick ? 1000 : 100,
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const benchStart = performance.now();
const loadAverage = () => os.loadavg()[0]!.toFixed(1);
function progress(line: string): void {
  console.log(`bench [${((performance.now() - benchStart) / 1000).toFixed(0).padStart(4)} s, load ${loadAverage().padStart(4)}] ${line}`);
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const MiB = 1024 * 1024;
const secs = (s: number) => (s < 10 ? s.toFixed(2) : s.toFixed(1));
/** "12.3 (11.9–13.0)": the median, and the spread when there is more than one value. */
const spread = (xs: number[], fmt = secs) => (xs.length > 1 ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : fmt(xs[0]!));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

// ---------------------------------------------------------------------------------------------
// Hosts: fleets, the stub cluster, cold state

class Hosts {
  readonly fleets: Fleet[] = [];
  get all(): TestHost[] {
    return this.fleets.flatMap((f) => f.light);
  }

  /** Starts fleets until there are n hosts; marks them all as members of the stub cluster. */
  async growTo(n: number): Promise<void> {
    const started = performance.now();
    while (this.all.length < n) {
      this.fleets.push(await startFleetWhenFree(Math.min(HOSTS_PER_FLEET, n - this.all.length)));
    }
    // The cluster phase then finds an initialised control plane (the first host) and joined workers.
    await markAsCluster(this.all);
    progress(`${this.all.length} light hosts up (${secs((performance.now() - started) / 1000)} s)`);
  }

  fleetOf(host: TestHost): Fleet {
    return this.fleets.find((f) => f.hosts.includes(host))!;
  }

  async destroy(): Promise<void> {
    for (const f of this.fleets) await f.destroy();
  }
}

/**
 * The harness has 4 fleet slots on this machine, shared with whoever else runs tests here: wait
 * up to SLOT_WAIT_MS for one to free up rather than fail at once.
 */
async function startFleetWhenFree(light: number): Promise<Fleet> {
  const deadline = Date.now() + SLOT_WAIT_MS;
  for (;;) {
    try {
      return await startFleet({ light });
    } catch (err) {
      const busy = /slots are in use/.test((err as Error).message);
      if (!busy || Date.now() > deadline) throw err;
      progress('all test-fleet slots are in use (another run on this machine); waiting');
      await sleep(15_000);
    }
  }
}

/** Removes everything any of the three tools leaves, so that the next run is really cold. */
async function resetCold(hosts: TestHost[], bundleFiles: string[]): Promise<void> {
  const installed = bundleFiles.map((f) => shq(`/usr/local/${f}`)).join(' ');
  // /var/lib/kubeforge may be a mount point (disk-backed hosts): empty it rather than remove it.
  const script = `rm -f ${installed} ${REMOTE_TARBALL}
    rm -rf /etc/containerd /etc/crictl.yaml /root/.ansible /var/tmp/.ansible
    if [ -d /var/lib/kubeforge ]; then find /var/lib/kubeforge -mindepth 1 -delete; rmdir /var/lib/kubeforge 2>/dev/null || true; fi`;
  await Promise.all(hosts.map((h) => h.exec(script)));
}

/** Fails loudly unless every host has ctr and both files: a tool's "success" is checked, not trusted. */
async function assertStaged(hosts: TestHost[], who: string): Promise<void> {
  const missing: string[] = [];
  await Promise.all(
    hosts.map(async (h) => {
      const r = await h.exec('test -x /usr/local/bin/ctr && test -s /etc/containerd/config.toml && test -s /etc/crictl.yaml', { allowFail: true });
      if (r.code !== 0) missing.push(h.name);
    }),
  );
  if (missing.length) throw new Error(`${who}: ${missing.length} host(s) lack /usr/local/bin/ctr or the config files: ${missing.slice(0, 10).join(', ')}`);
}

/**
 * Each host's /usr/local/{bin,sbin} and /var/lib/kubeforge become bind mounts of folders on this
 * machine's disk (inside the host's own mount namespace), for fleets whose files would not fit in
 * memory on the hosts' tmpfs. The mounts go with the host.
 */
async function keepFilesOnDisk(hosts: TestHost[]): Promise<void> {
  await Promise.all(
    hosts.map(async (h) => {
      const base = path.join(DISK_ROOT, `${h.record.netns ?? h.name}`);
      for (const sub of ['bin', 'sbin', 'state']) await fs.mkdir(path.join(base, sub), { recursive: true });
      // What is there already moves along (the stub cluster's stand-in kubectl on the first host).
      await h.exec(
        `mountpoint -q /var/lib/kubeforge 2>/dev/null && exit 0
         mkdir -p /var/lib/kubeforge /usr/local/bin /usr/local/sbin
         cp -a /usr/local/bin/. ${shq(`${base}/bin/`)} && cp -a /usr/local/sbin/. ${shq(`${base}/sbin/`)} && cp -a /var/lib/kubeforge/. ${shq(`${base}/state/`)}
         mount --bind ${shq(`${base}/bin`)} /usr/local/bin
         mount --bind ${shq(`${base}/sbin`)} /usr/local/sbin
         mount --bind ${shq(`${base}/state`)} /var/lib/kubeforge`,
      );
    }),
  );
}

/** Whether n hosts' copies of the tarball and its contents would take more than 40% of free memory. */
async function tooBigForMemory(n: number, perHostBytes: number): Promise<boolean> {
  const meminfo = await fs.readFile('/proc/meminfo', 'utf8');
  const availableKb = Number(/MemAvailable:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);
  return n * perHostBytes > 0.4 * availableKb * 1024;
}

// ---------------------------------------------------------------------------------------------
// The work, and one "stage": a set of hosts with each tool's inventory and settings written

interface Bundle {
  path: string;
  version: string;
  size: number;
  /** Paths inside the tarball ("bin/ctr", ...): what untarring it into /usr/local creates. */
  files: string[];
  /** Bytes a host holds after the stage: the tarball and what it unpacks to. */
  footprint: number;
  /** CPU seconds of one `tar -xzf` of it on this machine, alone (median of 3): the work every tool's hosts do. */
  untarCpuSeconds: number;
}

async function loadBundle(): Promise<Bundle> {
  const b = await buildContainerdBundle();
  const size = (await fs.stat(b.path)).size;
  const listing = await run('tar', ['-tzvf', b.path]);
  const entries = listing.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  const files = entries.filter((e) => e[0]!.startsWith('-')).map((e) => e.at(-1)!.replace(/^\.\//, ''));
  const unpacked = entries.reduce((sum, e) => sum + Number(e[2] ?? 0), 0);
  return { ...b, size, files, footprint: size + unpacked, untarCpuSeconds: await untarCpuSeconds(b.path) };
}

/**
 * One untar's CPU seconds (user + system of tar and its gzip), median of 3, measured alone: with
 * fifty at once on shared cores each costs more, so floors built on it are lower bounds.
 */
async function untarCpuSeconds(bundlePath: string): Promise<number> {
  const ticks = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-bench-untar-'));
    try {
      // The shell's own /proc stat, read after tar exits: cutime and cstime hold its children's CPU.
      const r = await run('sh', ['-c', 'tar -C "$1" -xzf "$2" && cat /proc/$$/stat', 'sh', dir, bundlePath]);
      const fields = r.stdout.slice(r.stdout.lastIndexOf(')') + 2).trim().split(' ');
      xs.push((Number(fields[13]) + Number(fields[14])) / ticks);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
  return median(xs);
}

/** The config files' bytes, as kubeforge rendered them: pssh and Ansible write the same. */
interface NodeFiles {
  config: string;
  crictl: string;
}

async function readNodeFiles(host: TestHost): Promise<NodeFiles> {
  const config = (await host.exec('cat /etc/containerd/config.toml')).stdout;
  const crictl = (await host.exec('cat /etc/crictl.yaml')).stdout;
  return { config, crictl };
}

/** Playbooks for kubeforge: the containerd playbook is the stage; prepare and kubernetes are stubs. */
async function writeBenchPlaybooks(dir: string): Promise<string> {
  const playbooks = path.join(dir, 'playbooks');
  await fs.mkdir(playbooks, { recursive: true });
  const stub = (name: string) => `name: ${name}\nsteps:\n  - { id: nothing, title: nothing, verifyOnly: true, verify: "true" }\n`;
  await fs.writeFile(path.join(playbooks, 'prepare.yaml'), stub('prepare'));
  await fs.writeFile(path.join(playbooks, 'kubernetes.yaml'), stub('kubernetes'));
  await fs.writeFile(
    path.join(playbooks, 'containerd.yaml'),
    `name: containerd
steps:
  - id: stage
    title: containerd bundle into /usr/local, config.toml and crictl.yaml, ctr --version
    bundles: [containerd]
    files:
      - { path: /etc/containerd/config.toml, template: containerd/config.toml }
      - { path: /etc/crictl.yaml, template: crictl.yaml }
    check: test -x /usr/local/bin/ctr
    run: |
      tar -C /usr/local -xzf "$KF_BUNDLE_CONTAINERD"
      /usr/local/bin/ctr --version
`,
  );
  return playbooks;
}

interface Stage {
  hosts: TestHost[];
  dir: string;
  inventory: string;
  playbooks: string;
  knownHosts: string;
  /** Each fleet's client key (a host accepts its own fleet's). */
  keys: string[];
  /** The client key of each host's fleet, in the order of `hosts`. */
  hostKeys: string[];
  bridges: string[];
  psshHosts: string;
}

async function makeStage(all: Hosts, hosts: TestHost[], root: string, fixture: InventoryFixture, bundle: Bundle, name: string): Promise<Stage> {
  const dir = path.join(root, name);
  await fs.mkdir(dir, { recursive: true });
  const fleets = [...new Set(hosts.map((h) => all.fleetOf(h)))];
  const inventory = await writeStubInventory(fleets, fixture, dir, hosts, {
    containerd: { bundle: bundle.path, version: bundle.version },
    ssh: { connectTimeout: '10s' },
  });
  const psshHosts = path.join(dir, 'pssh-hosts');
  await fs.writeFile(psshHosts, hosts.map((h) => `root@${h.address}\n`).join(''));
  return {
    hosts,
    dir,
    inventory,
    playbooks: await writeBenchPlaybooks(dir),
    knownHosts: path.join(dir, 'known_hosts'), // written by writeStubInventory: every fleet's host keys
    keys: fleets.map((f) => f.clientKey),
    hostKeys: hosts.map((h) => all.fleetOf(h).clientKey),
    bridges: fleets.map((f) => f.record.bridge),
    psshHosts,
  };
}

// ---------------------------------------------------------------------------------------------
// Running a tool: wall time, peak RSS, bytes this machine sent into the bridges

interface Spawned {
  code: number;
  output: string;
  seconds: number;
  /** VmHWM of the spawned process, last value seen (kB). */
  peakRssKb: number;
  /** Seconds from spawn to the first byte on stdout or stderr. */
  firstOutput: number | undefined;
  /** Killed after RUN_TIMEOUT_MS. */
  timedOut: boolean;
}

/**
 * No run here takes a tenth of this (a cold run at 200 hosts: ~3 min): a tool that takes longer
 * has hung, and the bench says so and fails instead of waiting forever (CI's --quick too).
 */
const RUN_TIMEOUT_MS = 20 * 60_000;

async function vmHwmKb(pid: number): Promise<number | undefined> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmHWM:\s+(\d+)/.exec(status);
  return m ? Number(m[1]) : undefined;
}

function spawnTimed(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd, env: { ...process.env, ...opts.env } });
    let output = '';
    let firstOutput: number | undefined;
    const onData = (d: Buffer) => {
      firstOutput ??= (performance.now() - t0) / 1000;
      output += d.toString('utf8');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let peakRssKb = 0;
    // The high-water mark only grows while the process lives: the last value read is its peak.
    const poll = setInterval(() => {
      if (child.pid) void vmHwmKb(child.pid).then((kb) => (peakRssKb = Math.max(peakRssKb, kb ?? 0)));
    }, 50);
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('error', (err) => {
      clearInterval(poll);
      clearTimeout(deadline);
      reject(new Error(`cannot run ${file}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(deadline);
      const seconds = (performance.now() - t0) / 1000;
      resolve({ code: code ?? (signal ? 128 : 1), output, seconds, peakRssKb, firstOutput, timedOut });
    });
  });
}

function mustSucceed(who: string, r: Spawned): void {
  if (r.code === 0 && !r.timedOut) return;
  const tail = r.output.trim().split('\n').slice(-25).join('\n');
  throw new Error(`${who} ${r.timedOut ? `did not finish in ${RUN_TIMEOUT_MS / 60_000} minutes (killed)` : `exited ${r.code}`}:\n${tail}`);
}

/**
 * CPU time the whole machine spent busy so far (seconds, from /proc/stat): the laptop's side and
 * every test host's, since they share this machine's cores. Idle and iowait do not count.
 */
async function busyCpuSeconds(): Promise<number> {
  const line = (await fs.readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
}
/** USER_HZ: /proc/stat counts in these (100 on every Linux build this runs on). */
const CLOCK_TICKS = 100;

async function txBytes(bridges: string[]): Promise<number> {
  const counts = await Promise.all(bridges.map((b) => fs.readFile(`/sys/class/net/${b}/statistics/tx_bytes`, 'utf8')));
  return counts.reduce((sum, c) => sum + Number(c.trim()), 0);
}

interface Measured {
  seconds: number;
  peakRssKb: number;
  sentBytes: number;
  /** Busy CPU seconds of the whole machine during the run (busyCpuSeconds). */
  cpuSeconds: number;
}

type Tool = 'kubeforge' | 'pssh' | 'ansible';
const TOOL_LABEL: Record<Tool, string> = { kubeforge: 'kubeforge', pssh: 'parallel-ssh', ansible: 'Ansible' };

interface Runner {
  /** The file contents pssh and Ansible write; known once kubeforge has run. */
  nodeFiles?: NodeFiles;
  bundle: Bundle;
}

function kubeforge(stage: Stage, extra: string[] = []): Promise<Spawned> {
  return spawnTimed(CLI, ['up', '-i', stage.inventory, '--playbooks', stage.playbooks, '--no-progress', ...extra], { cwd: stage.dir });
}

/** parallel-scp the tarball, then parallel-ssh the rest: one wall time for both. */
async function pssh(stage: Stage, files: NodeFiles, bundle: Bundle): Promise<Spawned> {
  const common = [
    '-h', stage.psshHosts,
    '-p', String(stage.hosts.length),
    '-t', '0',
    '-x', `${stage.keys.map((k) => `-i ${k}`).join(' ')} -o UserKnownHostsFile=${stage.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`,
  ];
  const script = [
    'set -e',
    `tar -C /usr/local -xzf ${REMOTE_TARBALL}`,
    'mkdir -p /etc/containerd',
    `cat > /etc/containerd/config.toml <<'KF_BENCH_EOF'\n${files.config.replace(/\n$/, '')}\nKF_BENCH_EOF`,
    `cat > /etc/crictl.yaml <<'KF_BENCH_EOF'\n${files.crictl.replace(/\n$/, '')}\nKF_BENCH_EOF`,
    '/usr/local/bin/ctr --version',
  ].join('\n');
  const scp = await spawnTimed('parallel-scp', [...common, bundle.path, REMOTE_TARBALL]);
  mustSucceed('parallel-scp', scp);
  const ssh = await spawnTimed('parallel-ssh', [...common, script]);
  mustSucceed('parallel-ssh', ssh);
  return { ...ssh, seconds: scp.seconds + ssh.seconds, output: scp.output + ssh.output, peakRssKb: 0 };
}

/** ansible.cfg, inventory and playbook in DIR/ansible; control sockets live there too. */
async function writeAnsible(stage: Stage, files: NodeFiles, bundle: Bundle): Promise<{ cfg: string; playbook: string; controlDir: string }> {
  const dir = path.join(stage.dir, 'ansible');
  const controlDir = path.join(dir, 'cp');
  await fs.mkdir(controlDir, { recursive: true });
  const inventory = path.join(dir, 'hosts.ini');
  const lines = stage.hosts.map((h, i) => `${h.address} ansible_ssh_private_key_file=${stage.hostKeys[i]}`);
  await fs.writeFile(inventory, `[bench]\n${lines.join('\n')}\n\n[bench:vars]\nansible_user=root\nansible_python_interpreter=/usr/bin/python3\n`);
  const cfg = path.join(dir, 'ansible.cfg');
  await fs.writeFile(
    cfg,
    [
      '[defaults]',
      `inventory = ${inventory}`,
      `forks = ${stage.hosts.length}`,
      'host_key_checking = True',
      'retry_files_enabled = False',
      `local_tmp = ${path.join(dir, 'tmp')}`,
      // On the same filesystem as the tarball's destination, as ~/.ansible usually is.
      'remote_tmp = /var/tmp/.ansible/tmp',
      '',
      '[ssh_connection]',
      'pipelining = True',
      `control_path_dir = ${controlDir}`,
      // ssh_common_args adds to Ansible's default ssh_args (-C, ControlMaster, ControlPersist=60s).
      `ssh_common_args = -o UserKnownHostsFile=${stage.knownHosts} -o StrictHostKeyChecking=yes`,
      '',
    ].join('\n'),
  );
  const playbook = path.join(dir, 'containerd.yml');
  await fs.writeFile(
    playbook,
    stringify([
      {
        name: 'containerd stage',
        hosts: 'bench',
        gather_facts: false,
        tasks: [
          { name: 'containerd tarball', 'ansible.builtin.copy': { src: bundle.path, dest: REMOTE_TARBALL, mode: '0644' } },
          { name: 'unpack into /usr/local', 'ansible.builtin.unarchive': { src: REMOTE_TARBALL, dest: '/usr/local', remote_src: true, creates: '/usr/local/bin/ctr' } },
          { name: '/etc/containerd', 'ansible.builtin.file': { path: '/etc/containerd', state: 'directory', mode: '0755' } },
          { name: 'config.toml', 'ansible.builtin.copy': { content: files.config, dest: '/etc/containerd/config.toml', mode: '0644' } },
          { name: 'crictl.yaml', 'ansible.builtin.copy': { content: files.crictl, dest: '/etc/crictl.yaml', mode: '0644' } },
          { name: 'ctr --version', 'ansible.builtin.command': '/usr/local/bin/ctr --version', changed_when: false },
        ],
      },
    ]),
  );
  return { cfg, playbook, controlDir };
}

async function ansible(stage: Stage, files: NodeFiles, bundle: Bundle): Promise<Spawned> {
  const { cfg, playbook } = await writeAnsible(stage, files, bundle);
  return spawnTimed('ansible-playbook', [playbook], { cwd: stage.dir, env: { ANSIBLE_CONFIG: cfg, ANSIBLE_NOCOLOR: '1' } });
}

/** Ends Ansible's ControlPersist masters, so that the next cold run starts without connections. */
async function closeAnsibleConnections(stage: Stage): Promise<void> {
  const controlDir = path.join(stage.dir, 'ansible', 'cp');
  for (const sock of await fs.readdir(controlDir).catch(() => [] as string[])) {
    await run('ssh', ['-o', `ControlPath=${path.join(controlDir, sock)}`, '-O', 'exit', 'bench'], { allowFail: true });
  }
}

/** One run of a tool on a stage, checked on every host; its time, kubeforge's peak RSS, bytes sent. */
async function runTool(tool: Tool, stage: Stage, runner: Runner, what: string, extra: string[] = []): Promise<Measured> {
  const before = await txBytes(stage.bridges);
  const cpuBefore = await busyCpuSeconds();
  let r: Spawned;
  if (tool === 'kubeforge') {
    r = await kubeforge(stage, extra);
    mustSucceed(`kubeforge up ${extra.join(' ')}`.trim(), r);
    runner.nodeFiles ??= await readNodeFiles(stage.hosts[0]!);
  } else {
    if (!runner.nodeFiles) throw new Error('bench bug: pssh and Ansible run only after kubeforge rendered the config files');
    r = tool === 'pssh' ? await pssh(stage, runner.nodeFiles, runner.bundle) : await ansible(stage, runner.nodeFiles, runner.bundle);
    mustSucceed(TOOL_LABEL[tool], r);
  }
  const cpuSeconds = (await busyCpuSeconds()) - cpuBefore;
  const sentBytes = (await txBytes(stage.bridges)) - before;
  await assertStaged(stage.hosts, `${TOOL_LABEL[tool]} ${extra.join(' ')}`.trim());
  const rss = tool === 'kubeforge' ? `, peak RSS ${(r.peakRssKb / 1024).toFixed(0)} MiB, sent ${(sentBytes / 2 ** 20).toFixed(0)} MiB` : '';
  progress(`${TOOL_LABEL[tool]}${extra.length ? ` ${extra.join(' ')}` : ''}, ${what}, ${stage.hosts.length} hosts: ${secs(r.seconds)} s, ${cpuSeconds.toFixed(1)} CPU-s${rss}`);
  return { seconds: r.seconds, peakRssKb: r.peakRssKb, sentBytes, cpuSeconds };
}

// ---------------------------------------------------------------------------------------------
// The phases

interface Figures {
  cold: Record<Tool, number[]>;
  /** Busy CPU seconds of the whole machine during each cold run. */
  coldCpu: Record<Tool, number[]>;
  rerun: Record<Tool, number[]>;
  peakRssMiB: Map<number, number>;
  rerunScale: Map<number, number[]>;
  diskBacked: number[];
  /** Scale runs: how many networks (fleet bridges, no route between them) the hosts were on, and what the laptop sent. */
  scaleSpread: Map<number, { networks: number; sentBytes: number }>;
  /** Why the 100/200-host runs did not happen, when they could not. */
  scaleSkipped?: string;
  firstOutput: number[];
  firstOutputHosts: number;
  shaped: ShapedRow[];
  relay: boolean;
  loadAtStart: string;
}

interface ShapedRow {
  label: string;
  result?: Measured;
}

/**
 * Cold run then converged rerun per tool, the tools' order rotating between repetitions.
 * `whileConverged` runs once, right after kubeforge's first rerun, while the hosts are converged.
 */
async function coldAndRerun(stage: Stage, runner: Runner, opts: Options, figures: Figures, whileConverged: () => Promise<void>): Promise<void> {
  const tools: Tool[] = ['kubeforge', 'pssh', 'ansible'];
  for (let rep = 0; rep < opts.reps; rep++) {
    // kubeforge leads the first repetition: its rendered config files are what the others write.
    const order = tools.map((_, i) => tools[(i + rep) % tools.length]!);
    for (const tool of order) {
      await resetCold(stage.hosts, runner.bundle.files);
      const cold = await runTool(tool, stage, runner, `cold, rep ${rep + 1}/${opts.reps}`);
      const rerun = await runTool(tool, stage, runner, `rerun, rep ${rep + 1}/${opts.reps}`);
      figures.cold[tool].push(cold.seconds);
      figures.coldCpu[tool].push(cold.cpuSeconds);
      figures.rerun[tool].push(rerun.seconds);
      if (tool === 'kubeforge') figures.peakRssMiB.set(stage.hosts.length, Math.max(figures.peakRssMiB.get(stage.hosts.length) ?? 0, cold.peakRssKb / 1024));
      if (tool === 'kubeforge' && rep === 0) await whileConverged();
      if (tool === 'ansible') await closeAnsibleConnections(stage);
    }
  }
}

/**
 * Time to kubeforge's first byte of output (plain progress lines to a pipe) on hosts kubeforge
 * has converged; one unmeasured run first makes sure there is nothing left to do.
 */
async function firstOutput(stage: Stage, opts: Options, figures: Figures): Promise<void> {
  const up = () => spawnTimed(CLI, ['up', '-i', stage.inventory, '--playbooks', stage.playbooks], { cwd: stage.dir });
  mustSucceed('kubeforge up (converging before the first-output runs)', await up());
  for (let i = 0; i < opts.firstOutputRuns; i++) {
    const r = await up();
    mustSucceed('kubeforge up (first output)', r);
    if (r.firstOutput === undefined) throw new Error('kubeforge up printed nothing');
    figures.firstOutput.push(r.firstOutput);
    progress(`kubeforge first output, run ${i + 1}/${opts.firstOutputRuns}, ${stage.hosts.length} hosts: ${(r.firstOutput * 1000).toFixed(0)} ms`);
  }
  figures.firstOutputHosts = stage.hosts.length;
}

async function shapeUplink(bridge: string, mbit: number): Promise<void> {
  await run('tc', ['qdisc', 'replace', 'dev', bridge, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', `${Math.max(256, mbit * 3)}kbit`, 'latency', '400ms']);
}

async function unshapeUplink(bridge: string): Promise<void> {
  await run('tc', ['qdisc', 'del', 'dev', bridge, 'root'], { allowFail: true });
}

/** Cold runs with this machine's uplink into the fleet limited to opts.shapedMbit. */
async function shaped(stage: Stage, runner: Runner, figures: Figures, mbit: number): Promise<void> {
  const bridge = stage.bridges[0]!;
  const kfRuns: Array<[string, string[] | undefined]> = figures.relay
    ? [['kubeforge, relay on (default)', []], ['kubeforge --relay off', ['--relay', 'off']]]
    : [['kubeforge, relay on (default)', undefined], ['kubeforge --relay off', undefined], ['kubeforge (no --relay in this build)', []]];
  await shapeUplink(bridge, mbit);
  try {
    for (const [label, extra] of kfRuns) {
      if (!extra) {
        figures.shaped.push({ label });
        continue;
      }
      await resetCold(stage.hosts, runner.bundle.files);
      figures.shaped.push({ label, result: await runTool('kubeforge', stage, runner, `cold, shaped ${mbit} Mbit/s`, extra) });
    }
    await resetCold(stage.hosts, runner.bundle.files);
    figures.shaped.push({ label: 'parallel-scp + parallel-ssh', result: await runTool('pssh', stage, runner, `cold, shaped ${mbit} Mbit/s`) });
  } finally {
    await unshapeUplink(bridge);
  }
}

/** kubeforge alone at 100 and 200 hosts: peak RSS of a cold run, and the converged rerun at the largest. */
async function scale(hosts: Hosts, runner: Runner, opts: Options, figures: Figures, root: string, fixture: InventoryFixture): Promise<void> {
  for (const n of opts.scale) {
    try {
      await hosts.growTo(n);
    } catch (err) {
      // Not a tool's failure: the machine has no room for more hosts now. Said in the table.
      figures.scaleSkipped = `not run: ${(err as Error).message.split('\n')[0]}`;
      progress(`${n} hosts: ${figures.scaleSkipped}`);
      return;
    }
    const stage = await makeStage(hosts, hosts.all.slice(0, n), root, fixture, runner.bundle, `scale-${n}`);
    await resetCold(stage.hosts, runner.bundle.files);
    if (await tooBigForMemory(n, runner.bundle.footprint)) {
      await keepFilesOnDisk(stage.hosts);
      figures.diskBacked.push(n);
    }
    const cold = await runTool('kubeforge', stage, runner, 'cold');
    figures.peakRssMiB.set(n, cold.peakRssKb / 1024);
    figures.scaleSpread.set(n, { networks: stage.bridges.length, sentBytes: cold.sentBytes });
    if (figures.diskBacked.includes(n)) progress(`host files on this machine's disk: ${(await run('du', ['-sh', DISK_ROOT])).stdout.split('\t')[0]}`);
    if (n !== opts.scale.at(-1)) continue;
    const reruns: number[] = [];
    for (let rep = 0; rep < opts.reps; rep++) reruns.push((await runTool('kubeforge', stage, runner, `rerun, rep ${rep + 1}/${opts.reps}`)).seconds);
    figures.rerunScale.set(n, reruns);
  }
}

async function relayAvailable(): Promise<boolean> {
  const help = await run(CLI, ['up', '--help']);
  return /--relay\b/.test(help.stdout);
}

// ---------------------------------------------------------------------------------------------
// The table

function formatTable(rows: string[][]): string {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, [...cell].length)), []);
  return rows.map((row) => row.map((cell, i) => cell + ' '.repeat(widths[i]! - [...cell].length)).join('  ').trimEnd()).join('\n');
}

/** "met" / "missed" beside a target: printed, never asserted. */
const met = (ok: boolean) => (ok ? 'met' : 'missed');

function printTable(figures: Figures, opts: Options, bundle: Bundle): void {
  const n = opts.hosts;
  const notRun = opts.quick ? 'not run (--quick)' : (figures.scaleSkipped ?? 'not run');
  const kf = (xs: Record<Tool, number[]>) => median(xs.kubeforge);
  const rows: string[][] = [['figure', 'kubeforge', 'parallel-ssh', 'Ansible', 'kf/pssh', 'kf/Ansible', 'target', '']];
  const c = figures.cold;
  const coldPssh = kf(c) / median(c.pssh);
  const coldAnsible = kf(c) / median(c.ansible);
  rows.push([
    `cold, ${n} hosts, s`, spread(c.kubeforge), spread(c.pssh), spread(c.ansible),
    ratio(kf(c), median(c.pssh)), ratio(kf(c), median(c.ansible)),
    'kf ≤ 0.45× pssh, ≤ 0.2× Ansible', met(coldPssh <= 0.45 && coldAnsible <= 0.2),
  ]);
  // Everything here shares this machine's cores: a tool is as fast as the CPU work it makes.
  const cpu = figures.coldCpu;
  const cores = os.cpus().length;
  rows.push([
    `cold, ${n} hosts, busy CPU-s (machine)`, spread(cpu.kubeforge, (x) => x.toFixed(0)), spread(cpu.pssh, (x) => x.toFixed(0)), spread(cpu.ansible, (x) => x.toFixed(0)),
    ratio(median(cpu.kubeforge), median(cpu.pssh)), ratio(median(cpu.kubeforge), median(cpu.ansible)),
    `÷ ${cores} cores = ${(median(cpu.kubeforge) / cores).toFixed(1)} s kf floor`, '',
  ]);
  // The hosts share this machine's cores, and every tool's hosts untar the bundle: no tool can
  // finish before N untars' CPU seconds have passed through those cores.
  const untarFloor = (n * bundle.untarCpuSeconds) / cores;
  rows.push([
    `floor: ${n} × untar (${bundle.untarCpuSeconds.toFixed(2)} CPU-s alone) ÷ ${cores} cores, s`, secs(untarFloor), '', '',
    ratio(untarFloor, median(c.pssh)), ratio(untarFloor, median(c.ansible)), 'any tool, on these shared cores', '',
  ]);
  const r = figures.rerun;
  rows.push([
    `rerun, ${n} hosts, s`, spread(r.kubeforge), spread(r.pssh), spread(r.ansible),
    ratio(kf(r), median(r.pssh)), ratio(kf(r), median(r.ansible)),
    'kf ≤ 1.5 s', met(kf(r) <= 1.5),
  ]);
  for (const size of SCALE.slice(-1)) {
    const xs = figures.rerunScale.get(size);
    rows.push([`rerun, ${size} hosts, s`, xs ? spread(xs) : notRun, '', '', '', '', 'kf ≤ 5 s', xs ? met(median(xs) <= 5) : '']);
  }
  for (const size of [n, ...SCALE.filter((s) => s !== n)]) {
    const rss = figures.peakRssMiB.get(size);
    const disk = scaleNote(figures, size, bundle.size);
    rows.push([
      `kubeforge peak RSS, cold, ${size} hosts${disk}`, rss === undefined ? notRun : `${rss.toFixed(0)} MiB`, '', '', '', '',
      size === 200 ? '≤ 200 MB' : '', size === 200 && rss !== undefined ? met(rss * 1024 * 1024 <= 200e6) : '',
    ]);
  }
  const fo = median(figures.firstOutput);
  rows.push([
    `first output, ${figures.firstOutputHosts} converged hosts, ms`, `${(fo * 1000).toFixed(0)} (${(Math.min(...figures.firstOutput) * 1000).toFixed(0)}–${(Math.max(...figures.firstOutput) * 1000).toFixed(0)})`,
    '', '', '', '', '≤ 300 ms', met(fo <= 0.3),
  ]);

  const sn = opts.shapedHosts;
  const rateBits = opts.shapedMbit * 1e6;
  const floorN = (sn * bundle.size * 8) / rateBits;
  const floor1 = (bundle.size * 8) / rateBits;
  const psshShaped = figures.shaped.find((s) => s.label.startsWith('parallel-scp'))?.result;
  const shapedRows: string[][] = [['run (cold)', 's', 'busy CPU-s', 'laptop bytes sent', '× bundle', 'pssh / this', 'target', '']];
  for (const s of figures.shaped) {
    if (!s.result) {
      shapedRows.push([s.label, 'relay: not available in this build', '', '', '', '', '', '']);
      continue;
    }
    const speedup = psshShaped ? psshShaped.seconds / s.result.seconds : NaN;
    const times = s.result.sentBytes / bundle.size;
    const isRelay = s.label.includes('relay on');
    shapedRows.push([
      s.label, secs(s.result.seconds), s.result.cpuSeconds.toFixed(0), `${(s.result.sentBytes / MiB).toFixed(1)} MiB`, times.toFixed(2),
      s.result === psshShaped ? '' : `${speedup.toFixed(1)}×`,
      isRelay ? '≥ 10× faster than pssh, bytes ≤ 2× bundle' : '', isRelay ? met(speedup >= 10 && times <= 2) : '',
    ]);
  }
  shapedRows.push([`floor: ${sn} × bundle / ${opts.shapedMbit} Mbit/s`, secs(floorN), '', `${((sn * bundle.size) / MiB).toFixed(1)} MiB`, String(sn), '', '', '']);
  shapedRows.push([`floor: 1 × bundle / ${opts.shapedMbit} Mbit/s`, secs(floor1), '', `${(bundle.size / MiB).toFixed(1)} MiB`, '1', '', '', '']);
  // A copy is untarred only once its sha256 matched, so after the last byte arrived: the
  // quickest possible relay run is one bundle through the uplink, then N untars on these cores.
  const verifiedFloor = floor1 + (sn * bundle.untarCpuSeconds) / os.cpus().length;
  shapedRows.push([
    `floor: 1 × bundle, then ${sn} × untar ÷ ${os.cpus().length} cores`, secs(verifiedFloor), '', `${(bundle.size / MiB).toFixed(1)} MiB`, '1',
    psshShaped ? `${(psshShaped.seconds / verifiedFloor).toFixed(1)}×` : '', 'the best ratio possible here', '',
  ]);

  console.log('');
  console.log(`== containerd stage: kubeforge vs parallel-scp+ssh vs Ansible ${opts.quick ? '(--quick) ' : ''}==`);
  console.log(`bundle ${path.basename(bundle.path)}, ${(bundle.size / MiB).toFixed(1)} MiB; light test hosts on this machine (${os.cpus().length} cores)`);
  console.log(`1-minute load average: ${figures.loadAtStart} at the start, ${loadAverage()} at the end (times drift when other work shares the cores)`);
  console.log(`median (min–max) of ${opts.reps} repetition(s), tools in rotating order; kubeforge with its defaults, pssh -p N, Ansible forks N`);
  console.log('');
  console.log(formatTable(rows));
  console.log('');
  console.log(`shaped: this machine's uplink into the fleet bridge at ${opts.shapedMbit} Mbit/s (tbf), ${sn} hosts`);
  console.log(formatTable(shapedRows));
  console.log('');
}

/**
 * How a scale run's hosts were spread: past one fleet's 62 hosts they sit on several bridges
 * with no route between them, so the relay works one network at a time (a copy per network
 * from the laptop).
 */
function scaleNote(figures: Figures, size: number, bundleSize: number): string {
  const notes: string[] = [];
  if (figures.diskBacked.includes(size)) notes.push('host files on disk');
  const spread = figures.scaleSpread.get(size);
  if (spread) notes.push(`${spread.networks} network${spread.networks > 1 ? 's' : ''}, laptop sent ${(spread.sentBytes / bundleSize).toFixed(1)}× bundle`);
  return notes.length ? ` (${notes.join('; ')})` : '';
}

/** --only scale: the rows of the table that scale() fills. */
function printScale(figures: Figures, bundle: Bundle): void {
  const rows: string[][] = [['figure', 'kubeforge', 'target', '']];
  for (const size of SCALE) {
    const rss = figures.peakRssMiB.get(size);
    const disk = scaleNote(figures, size, bundle.size);
    rows.push([`kubeforge peak RSS, cold, ${size} hosts${disk}`, rss === undefined ? (figures.scaleSkipped ?? 'not run') : `${rss.toFixed(0)} MiB`, size === 200 ? '≤ 200 MB' : '', size === 200 && rss !== undefined ? met(rss * 1024 * 1024 <= 200e6) : '']);
  }
  const xs = figures.rerunScale.get(SCALE.at(-1)!);
  rows.push([`rerun, ${SCALE.at(-1)} hosts, s`, xs ? spread(xs) : (figures.scaleSkipped ?? 'not run'), 'kf ≤ 5 s', xs ? met(median(xs) <= 5) : '']);
  console.log('');
  console.log(`== containerd stage, kubeforge alone at ${SCALE.join(' and ')} hosts (--only scale) ==`);
  console.log(formatTable(rows));
  console.log('');
}

// ---------------------------------------------------------------------------------------------

function emptyFigures(relay: boolean): Figures {
  return {
    cold: { kubeforge: [], pssh: [], ansible: [] },
    coldCpu: { kubeforge: [], pssh: [], ansible: [] },
    rerun: { kubeforge: [], pssh: [], ansible: [] },
    peakRssMiB: new Map(),
    rerunScale: new Map(),
    diskBacked: [],
    scaleSpread: new Map(),
    firstOutput: [],
    firstOutputHosts: 0,
    shaped: [],
    relay,
    loadAtStart: loadAverage(),
  };
}

/** Resolves like Promise.all, but only once every promise has settled: nothing runs on after a failure. */
async function allSettled<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (it starts test hosts in network namespaces)');
  const hosts = new Hosts();
  const fixture = makeInventoryFixture();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-bench-containerd-'));
  let report: () => void;
  try {
    // The bundle check (apt-cache) and the fleet start take seconds each: side by side.
    const [bundle, relay] = await allSettled<[Bundle, boolean, void]>([loadBundle(), relayAvailable(), hosts.growTo(opts.hosts)]);
    progress(`bundle ${(bundle.size / MiB).toFixed(1)} MiB; N=${opts.hosts}, shaped N=${opts.shapedHosts}, ${opts.reps} rep(s); relay ${relay ? 'available' : 'not available in this build'}`);
    const figures = emptyFigures(relay);
    const runner: Runner = { bundle };
    const stageOf = (n: number, name: string) => makeStage(hosts, hosts.all.slice(0, n), root, fixture, bundle, name);

    if (!opts.onlyScale) {
      const small = await stageOf(Math.min(4, opts.hosts), 'first-output');
      await coldAndRerun(await stageOf(opts.hosts, `n-${opts.hosts}`), runner, opts, figures, () => firstOutput(small, opts, figures));
      await shaped(await stageOf(opts.shapedHosts, `shaped-${opts.shapedHosts}`), runner, figures, opts.shapedMbit);
      await resetCold(hosts.all, bundle.files); // frees the hosts' memory before more hosts start
    }
    await scale(hosts, runner, opts, figures, root, fixture);
    report = () => (opts.onlyScale ? printScale(figures, bundle) : printTable(figures, opts, bundle));
  } finally {
    for (const f of hosts.fleets) await unshapeUplink(f.record.bridge);
    await hosts.destroy();
    await fs.rm(DISK_ROOT, { recursive: true, force: true });
    await fs.rm(root, { recursive: true, force: true });
    fixture.remove();
  }
  report();
  progress('done');
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
