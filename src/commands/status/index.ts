// `kubeforge status`: the last run's table, from the ledger.
import path from 'node:path';
import { InputError } from '../../errors.js';
import { hostsReset, hostsToRetry, readLastRun, readState } from '../../ledger/ledger.js';
import { summaryTable } from '../../ui/plain.js';
import { loadInventory } from '../../inventory/index.js';
import { initHost } from '../../model.js';
import { sshConnector } from '../../ssh/remote.js';
import { readNodes, type NodeReadiness } from '../../cluster/kubectl.js';
import { Redactor } from '../../cluster/secrets.js';
import { certificatesText, liveCertificates } from './certificates.js';

/** The nodes as the cluster's API server sees them, through kubectl on the init host. */
async function liveNodes(inventory: string): Promise<{ nodes?: NodeReadiness[]; error?: string; expected: string[] }> {
  const { cluster } = await loadInventory(inventory);
  const expected = cluster.hosts.map((h) => h.name);
  const signal = AbortSignal.timeout(60_000);
  try {
    const remote = await sshConnector()(initHost(cluster), signal);
    try {
      return { nodes: await readNodes(remote, { signal, redact: new Redactor().redact }), expected };
    } finally {
      remote.close();
    }
  } catch (err) {
    return { error: (err as Error).message, expected };
  }
}

function nodesTable(live: { nodes?: NodeReadiness[]; error?: string; expected: string[] }): string {
  if (!live.nodes) return `nodes: cannot ask the cluster: ${live.error ?? 'unknown error'}`;
  const rows = live.expected.map((name) => {
    const n = live.nodes!.find((x) => x.name === name);
    return [name, n ? (n.ready ? 'Ready' : 'NotReady') : 'not registered', n && !n.ready ? n.message : ''];
  });
  for (const n of live.nodes) if (!live.expected.includes(n.name)) rows.push([n.name, n.ready ? 'Ready' : 'NotReady', 'not in this inventory']);
  const header = ['NODE', 'READY', 'WHY'];
  const widths = header.map((t, i) => Math.max(t.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export async function statusCommand(flags: { inventory: string; json?: boolean; nodes?: boolean }): Promise<number> {
  const inventoryPath = path.resolve(flags.inventory);
  const last = await readLastRun(inventoryPath);
  if (!last) throw new InputError(flags.inventory, 'no run is recorded beside this inventory yet', 'run `kubeforge up` first');
  const state = (await readState(inventoryPath)) ?? {};
  const ask = flags.nodes !== false && last.kubeconfigPath !== undefined;
  const [live, certs] = ask ? await Promise.all([liveNodes(flags.inventory), liveCertificates(flags.inventory)]) : [undefined, undefined];
  if (flags.json) {
    process.stdout.write(JSON.stringify({ lastRun: last, hosts: state, ...(live ? { nodes: live.nodes ?? null, nodesError: live.error } : {}), ...(certs ? { certificates: certs } : {}) }, null, 2) + '\n');
    return 0;
  }
  const out = (line: string) => process.stdout.write(line + '\n');
  out(`last run ${last.id} (${last.command}${last.limitedTo ? ` limited to ${last.limitedTo.join(', ')}` : ''}): ` +
    `${last.interrupted ? 'interrupted' : last.exitCode === 0 ? 'ok' : 'failed'}, ${(last.durationMs / 1000).toFixed(1)} s, finished ${last.finishedAt}`);
  out('');
  out(summaryTable(last.hosts));
  const failing = hostsToRetry(state);
  const resets = hostsReset(state);
  if (failing.length || resets.done.length || resets.failed.length) out('');
  if (failing.length) out(`hosts to retry (kubeforge up --retry-failed): ${failing.join(', ')}`);
  if (resets.done.length) out(`hosts reset (a plain kubeforge up brings them back): ${resets.done.join(', ')}`);
  if (resets.failed.length) out(`hosts whose reset did not finish (run it again: kubeforge reset --limit ${resets.failed.join(',')}): ${resets.failed.join(', ')}`);
  if (live) out(`\n${nodesTable(live)}`);
  if (certs) out(`\n${certificatesText(certs, flags.inventory)}`);
  if (last.kubeconfigPath) out(`\nkubeconfig: ${last.kubeconfigPath}`);
  return 0;
}
