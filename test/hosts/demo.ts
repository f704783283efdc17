// `npm run demo`: three local full test hosts (Debian 12 with systemd, under systemd-nspawn),
// an inventory for them in .demo/, and a real `kubeforge up` against them. The hosts stay up
// so you can look around; `npm run demo:down` removes them.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildArtifacts } from './artifacts.js';
import { destroySlot, startFleet } from './fleet.js';
import { writeFleetInventory } from './inventory.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const demoDir = path.join(repo, '.demo');
const slotFile = path.join(demoDir, 'fleet-slot');
const log = (line: string) => process.stderr.write(`demo: ${line}\n`);

async function down(): Promise<void> {
  const slot = Number(await fs.readFile(slotFile, 'utf8').catch(() => 'NaN'));
  if (Number.isInteger(slot)) {
    log(`removing the demo hosts (fleet slot ${slot})`);
    await destroySlot(slot);
  }
  await fs.rm(demoDir, { recursive: true, force: true });
}

async function up(): Promise<number> {
  if (process.getuid?.() !== 0) {
    log('the demo hosts need root (network namespaces, mounts, systemd-nspawn): run it as root');
    return 1;
  }
  await down();
  log('building the test artifacts from Debian packages (containerd bundle, image archive, kubeadm/kubelet stand-ins)');
  const artifacts = await buildArtifacts('1.30.2');
  log('booting 3 Debian 12 hosts under systemd-nspawn');
  const fleet = await startFleet({ full: 3, log });
  // Owned by PID 1, so the test suite's stale-fleet sweep leaves the demo alone until `down`.
  await fs.writeFile(path.join(fleet.dir, 'owner.pid'), '1\n');
  await fs.mkdir(demoDir, { recursive: true });
  await fs.writeFile(slotFile, `${fleet.slot}\n`);
  const inventory = await writeFleetInventory(fleet, demoDir, { artifacts, clusterName: 'demo' });
  for (const h of fleet.hosts) log(`${h.name} at ${h.address}`);
  log(`inventory: ${path.relative(process.cwd(), inventory)}`);
  log('NOTE: kubeadm and the kubelet on these hosts are test STAND-INS (they cannot be installed here); containerd is real.');
  const cli = path.join(repo, 'dist/src/cli.js');
  const rel = path.relative(process.cwd(), inventory);
  log(`running: kubeforge up -i ${rel}\n`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [cli, 'up', '-i', inventory], { stdio: 'inherit' });
    child.on('exit', (c) => resolve(c ?? 1));
  });
  process.stderr.write('\n');
  log(`kubeforge up exited with ${code}. Try next:`);
  log(`  node dist/src/cli.js up -i ${rel}        # again: every step is unchanged`);
  log(`  node dist/src/cli.js status -i ${rel}`);
  log(`  ssh -i ${fleet.clientKey} -o UserKnownHostsFile=${path.relative(process.cwd(), path.join(demoDir, "known_hosts"))} root@${fleet.full[0]!.address} ctr -n k8s.io images ls`);
  log('  npm run demo:down                          # remove the demo hosts');
  return code;
}

const command = process.argv[2] ?? 'up';
(command === 'down' ? down().then(() => 0) : up()).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    log(`failed: ${(err as Error).message}`);
    process.exitCode = 1;
  },
);
