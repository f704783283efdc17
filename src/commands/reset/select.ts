// Which hosts `kubeforge reset` takes, in which order, and through which control plane their
// nodes are drained and deleted. Pure: every refusal happens here, before any connection.
import { InputError } from '../../errors.js';
import type { LedgerState } from '../../ledger/ledger.js';
import { initHost, type Cluster, type Host } from '../../model.js';
import { parseLimit } from '../up/select.js';

export interface ResetChoice {
  limit?: string;
  all?: boolean;
}

export interface ResetSelection {
  /**
   * The hosts in the order they go: workers (at once), then the other control planes (one at a
   * time: each takes its etcd member with it), then the init host.
   */
  groups: { hosts: Host[]; oneAtATime: boolean }[];
  /** Every host being reset, in inventory order. */
  hosts: Host[];
  /**
   * The control plane whose kubectl drains and deletes the nodes: the init host while it stays
   * (or, with --all, until its own turn comes last); none when only the init host is left.
   */
  via?: Host;
  /** The hosts whose node is drained and deleted through `via` (never `via` itself). */
  drained: Set<string>;
}

export function selectForReset(cluster: Cluster, choice: ResetChoice, state: LedgerState | undefined): ResetSelection {
  if (choice.all && choice.limit) throw new InputError('--all', 'cannot be combined with --limit', 'give either --limit HOSTS or --all');
  if (!choice.all && !choice.limit) {
    throw new InputError('reset', 'which hosts? nothing is reset without --limit or --all', 'e.g. kubeforge reset --limit w3, or --all for the whole cluster');
  }
  const selected = choice.all ? new Set(cluster.hosts.map((h) => h.name)) : parseLimit(cluster, choice.limit!);
  const first = initHost(cluster);

  if (selected.has(first.name) && !choice.all) {
    // Hosts an earlier reset took out of the cluster no longer depend on the init host.
    const remaining = cluster.hosts.filter((h) => !selected.has(h.name) && state?.[h.name]?.status !== 'reset').map((h) => h.name);
    if (remaining.length > 0) {
      throw new InputError(
        '--limit',
        `${first.name} is the init host (the first control plane): resetting it takes the cluster's control plane and data away while ${remaining.join(', ')} ${remaining.length === 1 ? 'is' : 'are'} still in the cluster`,
        `reset the others first (kubeforge reset --limit ${remaining.join(',')}), or the whole cluster with --all`,
      );
    }
  }

  const hosts = cluster.hosts.filter((h) => selected.has(h.name));
  const workers = hosts.filter((h) => h.role === 'worker');
  const controlPlanes = hosts.filter((h) => h.role === 'control-plane' && h.name !== first.name);
  const groups = [
    { hosts: workers, oneAtATime: false },
    { hosts: controlPlanes, oneAtATime: true },
    { hosts: hosts.filter((h) => h.name === first.name), oneAtATime: true },
  ].filter((g) => g.hosts.length > 0);
  const via = selected.has(first.name) && !choice.all ? undefined : first;
  const drained = new Set(hosts.filter((h) => via && h.name !== via.name).map((h) => h.name));
  return { groups, hosts, ...(via ? { via } : {}), drained };
}
