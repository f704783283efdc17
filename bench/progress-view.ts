// Benchmark: does the display slow the run? The same `kubeforge up` (the containerd bundle sent
// to N light test hosts: about a thousand upload-progress events per host) with its output piped
// (plain lines), in a real terminal (tmux, 50x160: the live view), and in a pty of size 0x0
// (`script`, as the issue measured). Side by side, alternating order, median of the rounds; wall
// time and kubeforge's CPU time (user + sys), with the ratios against the plain run. Printed, never
// asserted.
//
//   npm run build && node dist/bench/progress-view.js [hosts=50] [rounds=3]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildContainerdBundle } from '../test/hosts/artifacts.js';
import { startFleet, type Fleet } from '../test/hosts/fleet.js';
import { makeInventoryFixture } from '../test/inventories/fixtures.js';
import { markAsCluster, writeStubInventory, writeStubPlaybooks } from '../test/e2e/stub-cluster.js';

const [hostCount = 50, rounds = 3] = process.argv.slice(2).map(Number);
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

type Mode = 'plain' | 'terminal 50x160' | 'pty 0x0';
const MODES: Mode[] = ['plain', 'terminal 50x160', 'pty 0x0'];

/** One run in `mode`; returns [wall s, CPU s] as bash's `time` measures the kubeforge process. */
function runOnce(mode: Mode, args: string[], timeFile: string): [number, number] {
  const kubeforge = [process.execPath, CLI, ...args].map(q).join(' ');
  // The run's exit code and its stderr go to files: a failed run is reported, not timed silently.
  const command = `TIMEFORMAT='%R %U %S'; { time ${kubeforge} 2>${q(`${timeFile}.err`)}; echo $? >${q(`${timeFile}.code`)}; } 2>${q(timeFile)}`;
  if (mode === 'plain') {
    execFileSync('bash', ['-c', `${command} >${q(`${timeFile}.out`)}`], { stdio: 'ignore' });
  } else if (mode === 'pty 0x0') {
    execFileSync('script', ['-qec', `bash -c ${q(command)}`, '/dev/null'], { stdio: ['ignore', 'ignore', 'ignore'] });
  } else {
    const socket = `kf-bench-${process.pid}`;
    execFileSync('tmux', ['-L', socket, 'new-session', '-d', '-s', 'bench', '-x', '160', '-y', '50', `bash -c ${q(command)}; tmux -L ${socket} wait-for -S bench-done`]);
    execFileSync('tmux', ['-L', socket, 'wait-for', 'bench-done']);
    try {
      execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // the server ended with its only session
    }
  }
  const code = execFileSync('cat', [`${timeFile}.code`], { encoding: 'utf8' }).trim();
  if (code !== '0') {
    const why = execFileSync('bash', ['-c', `tail -n 15 ${q(`${timeFile}.err`)}; tail -n 15 ${q(`${timeFile}.out`)} 2>/dev/null || true`], { encoding: 'utf8' });
    throw new Error(`kubeforge up exited ${code} in mode ${mode}:\n${why}`);
  }
  const [wall, user, sys] = execFileSync('cat', [timeFile], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  return [wall!, user! + sys!];
}

async function main(): Promise<void> {
  const bundle = await buildContainerdBundle();
  // A fleet holds at most 61 hosts (one /26 of the test network): 200 hosts take four.
  const fleets: Fleet[] = [];
  for (let left = hostCount; left > 0; left -= 50) fleets.push(await startFleet({ light: Math.min(50, left) }));
  const all = fleets.flatMap((f) => f.light);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-bench-view-'));
  try {
    await markAsCluster(all);
    const playbooks = await writeStubPlaybooks(dir, 'true', { sendsContainerdBundle: true });
    const inventory = await writeStubInventory(fleets, makeInventoryFixture(), dir, all, { containerd: { bundle: bundle.path, version: bundle.version }, ssh: { connectTimeout: '10s' } });
    const args = ['up', '-i', inventory, '--playbooks', playbooks, '--concurrency', String(hostCount), '--upload-concurrency', String(Math.min(hostCount, 16))];
    const results = new Map<Mode, Array<[number, number]>>(MODES.map((m) => [m, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? MODES : [...MODES].reverse();
      for (const mode of order) {
        // Every run sends the bundle again: nothing is left on the hosts from the last one.
        await Promise.all(all.map((h) => h.exec('rm -rf /var/lib/kubeforge')));
        results.get(mode)!.push(runOnce(mode, args, path.join(dir, 'time')));
      }
    }
    const plain = results.get('plain')!;
    const [plainWall, plainCpu] = [median(plain.map((r) => r[0])), median(plain.map((r) => r[1]))];
    console.log(`\nkubeforge up, containerd bundle (${(bundle ? (await fs.stat(bundle.path)).size / 1024 / 1024 : 0).toFixed(1)} MiB) to ${hostCount} light hosts, median of ${rounds}:`);
    console.log('  mode               wall s   CPU s   wall/plain   CPU/plain');
    for (const mode of MODES) {
      const r = results.get(mode)!;
      const [wall, cpu] = [median(r.map((x) => x[0])), median(r.map((x) => x[1]))];
      console.log(`  ${mode.padEnd(17)} ${wall.toFixed(1).padStart(7)} ${cpu.toFixed(1).padStart(7)}   ${(wall / plainWall).toFixed(2).padStart(10)}   ${(cpu / plainCpu).toFixed(2).padStart(9)}`);
    }
  } finally {
    for (const f of fleets) await f.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
