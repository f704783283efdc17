// Benchmark: send the containerd bundle to N light test hosts at once, kubeforge's upload
// (SFTP fastPut to a temp name, sha256 verified on the host, renamed) against OpenSSH scp
// driven by parallel-scp (pssh) with the same parallelism, run side by side, alternating.
// Prints wall times, the ratio, and kubeforge's peak RSS (the bundle is streamed, never held).
//
//   npm run build && node dist/bench/upload-fanout.js [hosts=20] [parallel=8] [rounds=3]
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import type { SshSettings } from '../src/model.js';
import { connect, upload } from '../src/ssh/index.js';
import { hashFile } from '../src/inventory/hash-file.js';
import { buildContainerdBundle } from '../test/hosts/artifacts.js';
import { run } from '../test/hosts/exec.js';
import { startFleet } from '../test/hosts/fleet.js';

const [hostCount = 20, parallel = 8, rounds = 3] = process.argv.slice(2).map(Number);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const bundle = await buildContainerdBundle();
  const { sha256, size } = await hashFile(bundle.path);
  const fleet = await startFleet({ light: hostCount });
  try {
    const settings: SshSettings = {
      user: 'root',
      port: 22,
      keyFile: fleet.clientKey,
      knownHostsFile: fleet.knownHosts,
      acceptNewHostKeys: false,
      connectTimeoutMs: 10_000,
      keepaliveIntervalMs: 5_000,
    };
    const conns = await Promise.all(fleet.hosts.map((h) => connect({ host: h.address, port: 22, name: h.name }, settings)));
    const clean = () => Promise.all(fleet.hosts.map((h) => h.sh('rm -rf /var/tmp/kf-bench')));
    const hostsFile = `${fleet.dir}/pssh-hosts`;
    await import('node:fs/promises').then((fs) => fs.writeFile(hostsFile, fleet.hosts.map((h) => `root@${h.address}`).join('\n') + '\n'));

    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      await clean();
      const limit = pLimit(parallel);
      let t = performance.now();
      await Promise.all(conns.map((c) => limit(() => upload(c, bundle.path, '/var/tmp/kf-bench/containerd.tar.gz', { sha256, size }))));
      ours.push(performance.now() - t);

      await clean();
      await Promise.all(fleet.hosts.map((h) => h.sh('mkdir -p /var/tmp/kf-bench')));
      t = performance.now();
      await run('parallel-scp', [
        '-h', hostsFile,
        '-p', String(parallel),
        '-t', '0',
        '-x', `-i ${fleet.clientKey} -o UserKnownHostsFile=${fleet.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`,
        bundle.path,
        '/var/tmp/kf-bench/containerd.tar.gz',
      ]);
      theirs.push(performance.now() - t);
    }
    clearInterval(sampler);
    // Same bytes arrived either way.
    const sums = await Promise.all(fleet.hosts.map((h) => h.sh('sha256sum < /var/tmp/kf-bench/containerd.tar.gz | cut -d" " -f1')));
    if (sums.some((s) => s !== sha256)) throw new Error('parallel-scp delivered different bytes');
    for (const c of conns) c.close();

    const mb = (size * hostCount) / 1024 / 1024;
    const a = median(ours);
    const b = median(theirs);
    console.log(`upload fan-out: ${(size / 1024 / 1024).toFixed(1)} MiB bundle to ${hostCount} light hosts, ${parallel} at a time, median of ${rounds} rounds`);
    console.log(`  kubeforge upload (sftp fastPut + sha256 verify + rename): ${(a / 1000).toFixed(2)} s  (${(mb / (a / 1000)).toFixed(0)} MiB/s)`);
    console.log(`  parallel-scp (OpenSSH scp, no verification):             ${(b / 1000).toFixed(2)} s  (${(mb / (b / 1000)).toFixed(0)} MiB/s)`);
    console.log(`  ratio kubeforge / parallel-scp: ${(a / b).toFixed(2)}`);
    console.log(`  kubeforge peak RSS while sending ${mb.toFixed(0)} MiB: ${(peakRss / 1024 / 1024).toFixed(0)} MiB`);
  } finally {
    await fleet.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
