// `kubeforge status`: the last run's table, from the ledger.
import path from 'node:path';
import { InputError } from '../../errors.js';
import { readLastRun, readState } from '../../ledger/ledger.js';
import { summaryTable } from '../../ui/plain.js';

export async function statusCommand(flags: { inventory: string; json?: boolean }): Promise<number> {
  const inventoryPath = path.resolve(flags.inventory);
  const last = await readLastRun(inventoryPath);
  if (!last) throw new InputError(flags.inventory, 'no run is recorded beside this inventory yet', 'run `kubeforge up` first');
  const state = (await readState(inventoryPath)) ?? {};
  if (flags.json) {
    process.stdout.write(JSON.stringify({ lastRun: last, hosts: state }, null, 2) + '\n');
    return 0;
  }
  const out = (line: string) => process.stdout.write(line + '\n');
  out(`last run ${last.id} (${last.command}${last.limitedTo ? ` limited to ${last.limitedTo.join(', ')}` : ''}): ` +
    `${last.interrupted ? 'interrupted' : last.exitCode === 0 ? 'ok' : 'failed'}, ${(last.durationMs / 1000).toFixed(1)} s, finished ${last.finishedAt}`);
  out('');
  out(summaryTable(last.hosts));
  const failing = Object.entries(state).filter(([, h]) => h.status !== 'ok');
  if (failing.length) {
    out('');
    out(`hosts to retry (kubeforge up --retry-failed): ${failing.map(([n]) => n).join(', ')}`);
  }
  if (last.kubeconfigPath) out(`\nkubeconfig: ${last.kubeconfigPath}`);
  return 0;
}
