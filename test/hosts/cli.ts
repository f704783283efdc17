// Bring test fleets up and down by hand or from scripts (the demo uses it):
//   node dist/test/hosts/cli.js up --full 3 [--light 0] [--out fleet.json]
//   node dist/test/hosts/cli.js down SLOT | --all
import { cleanupStale, destroySlot, startFleet } from './fleet.js';
import { SLOTS } from './paths.js';
import { ensureRootfs } from './rootfs.js';

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const flag = (name: string, fallback: string) => {
    const i = rest.indexOf(name);
    return i >= 0 && rest[i + 1] !== undefined ? rest[i + 1]! : fallback;
  };
  const log = (line: string) => process.stderr.write(`testhosts: ${line}\n`);
  switch (command) {
    case 'rootfs':
      process.stdout.write(`${await ensureRootfs(log)}\n`);
      return;
    case 'up': {
      const started = Date.now();
      const fleet = await startFleet({ full: Number(flag('--full', '0')), light: Number(flag('--light', '0')), log });
      // The demo keeps the fleet after this process exits: hand ownership to nobody so the
      // stale-fleet sweep leaves it alone until `down`.
      fleet.record.ownerPid = Number(flag('--owner', String(process.ppid)));
      const { writeFile } = await import('node:fs/promises');
      const { join } = await import('node:path');
      await writeFile(join(fleet.dir, 'owner.pid'), `${fleet.record.ownerPid}\n`);
      await writeFile(join(fleet.dir, 'fleet.json'), JSON.stringify(fleet.record, null, 2));
      log(`up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      process.stdout.write(JSON.stringify(fleet.record, null, 2) + '\n');
      return;
    }
    case 'down': {
      const slots = rest.includes('--all') ? [...Array(SLOTS).keys()] : rest.map(Number);
      for (const slot of slots) await destroySlot(slot);
      return;
    }
    case 'clean':
      await cleanupStale(log);
      return;
    default:
      process.stderr.write('usage: cli.js rootfs | up --full N --light M [--owner PID] | down SLOT... | down --all | clean\n');
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`testhosts: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
