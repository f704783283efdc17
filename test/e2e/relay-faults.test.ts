// The relay when things go wrong, on light hosts with the real CLI: the link between the two
// peers of a relay cut mid-transfer, Ctrl-C while a copy is on its way, and a third host on the
// same bridge listening to everything the two peers say to each other. What is checked is on
// the hosts (every copy whole, no key, line, process, listener or file left behind), in the
// ledger (where each copy came from) and, for the listener, in the frames it captured.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContainerdBundle } from '../hosts/artifacts.js';
import { PYTHON3, readFrames, startCapture, tcpSegments, type Capture, type CaptureStats } from '../hosts/capture.js';
import { tarInto } from '../hosts/debian-artifacts.js';
import { run, type RunResult } from '../hosts/exec.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { healLink, slowLink } from '../hosts/links.js';
import { makeInventoryFixture, type InventoryFixture } from '../inventories/fixtures.js';
import { corruptBundles, readLedger, relayStagingFiles, relayTraces, relayWriters, stepDetails } from './relay-support.js';
import { markAsCluster, writeStubInventory, writeStubPlaybooks } from './stub-cluster.js';
import { e2eUnavailableReason, kubeforge, kubeforgeInBackground, waitFor, type RunningCli } from './support.js';

const unavailable = e2eUnavailableReason();

/**
 * Every host's link, so that the ~32 MiB containerd bundle takes several seconds to cross it.
 * tbf shapes what goes TO a host; a copy from one host to another crosses the target's link
 * too, so relays are as slow as uploads.
 */
const SLOW_KBIT = 30_000;

describe.skipIf(unavailable)('relay faults', () => {
  let fleet: Fleet;
  let fixture: InventoryFixture;
  let dir: string;
  let inventory: string;
  let playbooks: string;
  let hosts: TestHost[];

  beforeAll(async () => {
    fleet = await startFleet({ light: 3 });
    hosts = fleet.light;
    fixture = makeInventoryFixture();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-relay-faults-'));
    const built = await buildContainerdBundle();
    playbooks = await writeStubPlaybooks(dir, 'test -s "$KF_BUNDLE_CONTAINERD"', { sendsContainerdBundle: true });
    inventory = await writeStubInventory(fleet, fixture, dir, hosts, { containerd: { bundle: built.path, version: built.version } });
    await markAsCluster(hosts);
  }, 300_000);

  afterAll(async () => {
    await fleet?.destroy();
    fixture?.remove();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /** No bundle and no step record on any host: the next `up` sends everything again. */
  const freshHosts = () => Promise.all(hosts.map((h) => h.sh('rm -rf /var/lib/kubeforge/bundles/* /var/lib/kubeforge/steps/*')));
  const upArgs = () => ['up', '-i', inventory, '--playbooks', playbooks, '--no-progress'];

  it('a peer link cut mid-relay: the target gets its copy from this machine, the run succeeds, no relay trace is left', async () => {
    await freshHosts();
    let cut: { netns: string; source: string } | undefined;
    let cli: RunningCli | undefined;
    try {
      for (const h of hosts) await slowLink(h, SLOW_KBIT);
      cli = kubeforgeInBackground(upArgs());
      const { target } = await relayInFlight(hosts, cli, dir);
      const source = await relaySourceOf(hosts, target);
      // Only the two peers lose each other: this machine still reaches both.
      cut = { netns: target.record.netns!, source: source.address };
      await cutFrom(cut.netns, cut.source, true);
      const cutAt = Date.now();

      const r = await finished(cli, 300_000);
      console.log(`FIGURE relay cut: run ended ${((Date.now() - cutAt) / 1000).toFixed(1)} s after the cut (${target.name} from ${source.name})`);
      expect(r.code, r.stdout + r.stderr).toBe(0);

      const details = stepDetails(await readLedger(dir));
      const all = [...details].map(([h, d]) => `${h}: ${d}`).join('\n');
      expect(details.get(target.name), all).toMatch(new RegExp(`relay failed \\(from ${source.name}: .+\\).* uploaded \\(`));
      for (const h of hosts) {
        expect(await h.sh('ls /var/lib/kubeforge/bundles | grep -c containerd || true'), h.name).toBe('1');
        expect(await corruptBundles(h), h.name).toEqual([]);
        expect(await relayTraces(h), h.name).toBe('');
      }

      // The target's end of the broken transfer (sshd's forced-command writer, waiting on a
      // connection whose peer is gone, holding the deleted staging file) is stopped too.
      expect(await relayWriters(target)).toBe('');
    } finally {
      if (cli && cli.child.exitCode === null) cli.child.kill('SIGKILL');
      if (cut) await cutFrom(cut.netns, cut.source, false);
      for (const h of hosts) await healLink(h);
    }
  }, 400_000);

  it('Ctrl-C during a relay: exit 130, every trace swept from every host, then a plain up converges', async () => {
    await freshHosts();
    const listenersBefore = await Promise.all(hosts.map(listeners));
    let cli: RunningCli | undefined;
    try {
      for (const h of hosts) await slowLink(h, SLOW_KBIT);
      cli = kubeforgeInBackground(upArgs());
      const { target, file } = await relayInFlight(hosts, cli, dir);
      // .<name>.kubeforge-relay-<run>-<transfer>.tmp: this run's relays, not an earlier test's.
      const runId = /\.kubeforge-relay-([0-9a-f]+)-[0-9a-f]+\.tmp$/.exec(file)?.[1];
      expect(runId, file).toBeTruthy();
      const interruptedAt = Date.now();
      cli.child.kill('SIGINT');
      const r = await finished(cli, 180_000);
      console.log(`FIGURE relay Ctrl-C: exit ${((Date.now() - interruptedAt) / 1000).toFixed(1)} s after SIGINT (relay to ${target.name} in flight)`);
      expect(r.code, r.stdout + r.stderr).toBe(130);
      expect(r.stderr).toContain('interrupted');

      for (const [i, h] of hosts.entries()) {
        expect(await relayTraces(h), h.name).toBe('');
        expect(await listeners(h), h.name).toEqual(listenersBefore[i]);
        // The target's forced command ends once its client is gone (killed on the source).
        let writers = '';
        await waitFor(`${h.name}: no process writing a relayed copy of run ${runId}`, async () => {
          writers = (await relayWriters(h)).split('\n').filter((l) => l.includes(`kubeforge-relay-${runId}-`)).join('\n');
          return writers === '';
        }, 20_000, 250).catch((err: Error) => {
          throw new Error(`${err.message}:\n${writers}`);
        });
      }
    } finally {
      if (cli && cli.child.exitCode === null) cli.child.kill('SIGKILL');
      for (const h of hosts) await healLink(h);
    }

    const again = await kubeforge(upArgs(), { timeoutMs: 240_000 });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect((await readLedger(dir)).hosts.map((h) => h.status)).toEqual(hosts.map(() => 'ok'));
    for (const h of hosts) {
      expect(await h.sh('ls /var/lib/kubeforge/bundles | grep -c containerd || true'), h.name).toBe('1');
      expect(await corruptBundles(h), h.name).toEqual([]);
      expect(await relayTraces(h), h.name).toBe('');
    }
  }, 500_000);

  it('a relayed image archive is encrypted in transit: a host on the same bridge never sees its contents', async () => {
    await freshHosts();
    const [a, b, c] = hosts as [TestHost, TestHost, TestHost];
    const work = path.join(dir, 'encrypted');
    await fs.mkdir(work, { recursive: true });
    const marker = `kubeforge-marker-${randomBytes(16).toString('hex')}`;
    const archive = path.join(work, 'marker-images.tar');
    await writeMarkerImageArchive(work, archive, marker, 8 << 20);
    const archiveSize = (await fs.stat(archive)).size;
    // Uncompressed: the marker is there in plain text for anyone who reads the copy.
    expect((await fs.readFile(archive)).includes(marker)).toBe(true);

    // Only A and B are in the inventory; C is the eavesdropper.
    const ownPlaybooks = await writeStubPlaybooks(work, 'true');
    await fs.writeFile(
      path.join(ownPlaybooks, 'prepare.yaml'),
      'name: prepare\nsteps:\n  - id: work\n    title: send the image archive\n    bundles: [images]\n    run: test -s "$KF_BUNDLE_IMAGES"\n',
    );
    const ownInventory = await writeStubInventory(fleet, fixture, work, [a, b]);
    const doc = parse(await fs.readFile(ownInventory, 'utf8')) as { kubernetes: { images: string[]; offline: boolean } };
    doc.kubernetes.images = [archive];
    doc.kubernetes.offline = false;
    await fs.writeFile(ownInventory, stringify(doc));

    const bridge = fleet.record.bridge;
    const ageing = (await fs.readFile(`/sys/class/net/${bridge}/bridge/ageing_time`, 'utf8')).trim();
    let capture: Capture | undefined;
    let r: RunResult;
    let stats: CaptureStats;
    try {
      // A bridge that learns no address floods every frame to every port, C's too.
      await run('ip', ['link', 'set', 'dev', bridge, 'type', 'bridge', 'ageing_time', '0']);
      capture = await startCapture(c.record.netns!, 'eth0', path.join(work, 'capture.bin'));

      // The positive control: the marker from A to B in plain TCP, which C must see.
      await plainTcp(a, b, CONTROL_PORT, marker, 2000);

      r = await kubeforge(['up', '-i', ownInventory, '--playbooks', ownPlaybooks, '--no-progress'], { timeoutMs: 240_000 });
      stats = await capture.stop();
    } finally {
      await capture?.stop().catch(() => undefined);
      await run('ip', ['link', 'set', 'dev', bridge, 'type', 'bridge', 'ageing_time', ageing], { allowFail: true });
    }
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const details = stepDetails(await readLedger(work));
    const all = [...details].map(([h, d]) => `${h}: ${d}`).join('\n');
    const relayed = [...details.values()].filter((d) => new RegExp(`marker-images\\.tar relayed from (${a.name}|${b.name}) \\(`).test(d));
    expect(relayed, all).toHaveLength(1);
    expect([...details.values()].filter((d) => / uploaded \(/.test(d)), all).toHaveLength(1);

    const frames = await readFrames(capture!.file);
    const segments = tcpSegments(frames);
    const between = (s: { src: string; dst: string }) => (s.src === a.address && s.dst === b.address) || (s.src === b.address && s.dst === a.address);
    const isControl = (s: (typeof segments)[number]) => between(s) && (s.srcPort === CONTROL_PORT || s.dstPort === CONTROL_PORT);
    const needle = Buffer.from(marker);
    const seen = `${stats.frames} frames captured, ${stats.drops} dropped by the kernel`;
    // The capture could read plain text between A and B...
    expect(segments.filter(isControl).some((s) => s.payload.includes(needle)), `the control stream's marker was not seen: ${seen}`).toBe(true);
    // ...and saw the relay go by: at least one archive's worth of SSH between A and B...
    const relayBytes = segments.filter((s) => between(s) && (s.srcPort === 22 || s.dstPort === 22)).reduce((n, s) => n + s.payload.length, 0);
    console.log(`FIGURE relay capture: ${relayBytes} bytes of SSH between the peers for a ${archiveSize}-byte archive (${seen})`);
    expect(relayBytes, seen).toBeGreaterThanOrEqual(archiveSize);
    // (This machine's upload to the seed went by too.)
    const fromHere = (s: { src: string; dst: string }) => (s.src === fleet.gateway && (s.dst === a.address || s.dst === b.address));
    expect(segments.filter(fromHere).reduce((n, s) => n + s.payload.length, 0), seen).toBeGreaterThanOrEqual(archiveSize);
    // ...in which the archive's contents never appear (nor in this machine's upload to the seed).
    const controlFrames = new Set(segments.filter(isControl).map((s) => s.frame));
    const leaks = frames.filter((f) => !controlFrames.has(f.data) && f.data.includes(needle));
    expect(leaks.length, 'frames outside the control stream that carry the marker').toBe(0);
    // Nor half of it: a plain copy cut at a frame boundary would still show one half whole.
    const half = Buffer.from(marker.slice(Math.floor(marker.length / 2)));
    expect(frames.filter((f) => !controlFrames.has(f.data) && f.data.includes(half)).length).toBe(0);

    for (const h of [a, b]) {
      expect(await h.sh('ls /var/lib/kubeforge/bundles | grep -c marker-images || true'), h.name).toBe('1');
      expect(await corruptBundles(h), h.name).toEqual([]);
      expect(await relayTraces(h), h.name).toBe('');
    }
  }, 400_000);
});

const CONTROL_PORT = 47_001;

/** Waits for a relay's staging file to grow on some host: that host is the target of a relay in flight. Fails if the run ends first. */
async function relayInFlight(hosts: TestHost[], cli: RunningCli, ledgerDir: string): Promise<{ target: TestHost; file: string }> {
  const sizes = new Map<string, number>();
  let found: { target: TestHost; file: string } | undefined;
  let exited = false;
  void cli.done.then(() => (exited = true));
  await waitFor(
    'a relayed copy growing on some host',
    async () => {
      if (exited) {
        const staged = [...sizes].map(([k, v]) => `${k} ${v} bytes`).join(', ') || 'none';
        const details = await readLedger(ledgerDir).then(
          (l) => [...stepDetails(l)].map(([h, d]) => `${h}: ${d}`).join('\n'),
          (err: Error) => `(no ledger: ${err.message})`,
        );
        throw new Error(`kubeforge ended before a relay was seen in flight (staging files seen: ${staged}); the ledger says:\n${details}\n${cli.output()}`);
      }
      for (const h of hosts) {
        for (const f of await relayStagingFiles(h)) {
          const key = `${h.name} ${f.path}`;
          const before = sizes.get(key);
          sizes.set(key, f.size);
          if (!found && before !== undefined && f.size > before) found = { target: h, file: f.path };
        }
      }
      return found !== undefined;
    },
    240_000,
    200,
  );
  return found!;
}

/** The host whose OpenSSH client is sending to `target` (its command line ends with the target's address). */
async function relaySourceOf(hosts: TestHost[], target: TestHost): Promise<TestHost> {
  let source: TestHost | undefined;
  await waitFor(
    `the host sending to ${target.name}`,
    async () => {
      for (const h of hosts) {
        if (h === target) continue;
        const procs = await h.sh("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done");
        if (procs.split('\n').some((l) => l.includes('HostKeyAlias=kubeforge-peer') && l.trim().endsWith(` -- ${target.address}`))) source = h;
      }
      return source !== undefined;
    },
    15_000,
    100,
  );
  return source!;
}

/** Drops (or stops dropping) everything from `address` arriving in network namespace `netns`. */
async function cutFrom(netns: string, address: string, on: boolean): Promise<void> {
  await run('ip', ['netns', 'exec', netns, 'iptables', '-w', on ? '-I' : '-D', 'INPUT', '-s', `${address}/32`, '-j', 'DROP'], { allowFail: !on });
}

/** The run's result, or the test fails (and the CLI is killed) after ms. */
async function finished(cli: RunningCli, ms: number): Promise<RunResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      cli.done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          cli.child.kill('SIGKILL');
          reject(new Error(`kubeforge did not end within ${ms / 1000} s:\n${cli.output()}`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The TCP and UDP sockets listening in the host's network namespace ("PROTO ADDRESS:PORT" lines, sorted). */
async function listeners(host: TestHost): Promise<string[]> {
  const r = await run('ip', ['netns', 'exec', host.record.netns!, 'ss', '-Hltun']);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return `${f[0]} ${f[4]}`;
    })
    .sort();
}

/** Sends `text` repeated `times` from `from` to `to`:`port` over plain TCP (python3 on both ends, in their netns). */
async function plainTcp(from: TestHost, to: TestHost, port: number, text: string, times: number): Promise<void> {
  const server = spawn(
    'ip',
    [
      'netns', 'exec', to.record.netns!, PYTHON3, '-c',
      [
        'import socket, sys',
        's = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
        's.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(60)',
        "print('ready', flush=True)",
        'c, _ = s.accept(); c.settimeout(60); n = 0',
        'while True:',
        '    d = c.recv(65536)',
        '    if not d: break',
        '    n += len(d)',
        "print('got %d' % n, flush=True)",
      ].join('\n'),
      to.address, String(port),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  server.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  server.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number>((resolve) => server.on('close', (code) => resolve(code ?? 1)));
  try {
    await waitFor('the control listener', async () => out.includes('ready') || server.exitCode !== null, 15_000, 50);
    await run('ip', [
      'netns', 'exec', from.record.netns!, PYTHON3, '-c',
      'import socket, sys\nc = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)\nc.sendall(sys.argv[3].encode() * int(sys.argv[4]))\nc.close()',
      to.address, String(port), text, String(times),
    ]);
    const code = await exited;
    expect(`${code} ${out.trim().split('\n').pop()}`, out).toBe(`0 got ${text.length * times}`);
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

/**
 * A docker-archive (manifest.json, a config blob, one uncompressed layer) whose layer holds
 * /marker.txt: `marker` repeated to about `size` bytes. kubeforge accepts it as an image archive
 * (it reads the RepoTags of manifest.json).
 */
async function writeMarkerImageArchive(work: string, out: string, marker: string, size: number): Promise<void> {
  const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
  const stage = path.join(work, 'image');
  await fs.rm(stage, { recursive: true, force: true });
  await fs.mkdir(path.join(stage, 'rootfs'), { recursive: true });
  await fs.writeFile(path.join(stage, 'rootfs', 'marker.txt'), `${marker}\n`.repeat(Math.ceil(size / (marker.length + 1))));
  const layerTar = path.join(stage, 'layer.tar');
  await tarInto(path.join(stage, 'rootfs'), layerTar, ['marker.txt'], false);
  const layerSha = sha256(await fs.readFile(layerTar));
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerSha}`] },
    history: [{ created_by: 'kubeforge relay-faults test: a marker file' }],
  });
  const configSha = sha256(config);
  const archive = path.join(stage, 'archive');
  await fs.mkdir(path.join(archive, layerSha), { recursive: true });
  await fs.rename(layerTar, path.join(archive, layerSha, 'layer.tar'));
  await fs.writeFile(path.join(archive, `${configSha}.json`), config);
  await fs.writeFile(path.join(archive, 'manifest.json'), JSON.stringify([{ Config: `${configSha}.json`, RepoTags: ['kubeforge.test/relay-marker:1'], Layers: [`${layerSha}/layer.tar`] }]));
  await tarInto(archive, out, ['manifest.json', `${configSha}.json`, `${layerSha}/layer.tar`], false);
}
