// Which hosts a run takes: all, --limit NAME,NAME / --limit role=worker, or --retry-failed
// (from the ledger). Pure, apart from the ledger read done by the caller.
import { InputError } from '../../errors.js';
import type { Cluster } from '../../model.js';

export function parseLimit(cluster: Cluster, limit: string): Set<string> {
  const selected = new Set<string>();
  for (const item of limit.split(',').map((s) => s.trim()).filter(Boolean)) {
    const role = /^role=(.+)$/.exec(item)?.[1];
    if (role !== undefined) {
      if (role !== 'control-plane' && role !== 'worker') {
        throw new InputError('--limit', `unknown role "${role}"`, 'roles are control-plane and worker');
      }
      for (const h of cluster.hosts) if (h.role === role) selected.add(h.name);
      continue;
    }
    if (!cluster.hosts.some((h) => h.name === item)) {
      throw new InputError('--limit', `no host named "${item}" in the inventory`, `hosts: ${cluster.hosts.map((h) => h.name).join(', ')}`);
    }
    selected.add(item);
  }
  if (selected.size === 0) throw new InputError('--limit', 'selects no host', 'give host names, or role=worker / role=control-plane');
  return selected;
}
