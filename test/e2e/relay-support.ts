// What the relay's end-to-end tests look at on the hosts and in the ledger: traces a relay could
// leave behind, processes still writing a relayed copy, the bundles' integrity, where each copy
// came from.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TestHost } from '../hosts/host.js';

export interface LedgerRun {
  exitCode?: number;
  interrupted?: boolean;
  hosts: Array<{ host: string; status: string; steps: Array<{ key: string; status: string; detail?: string }> }>;
}

/** Every relay trace a host could keep: keys, authorized_keys lines, staged copies, clients. */
export async function relayTraces(host: TestHost): Promise<string> {
  return host.sh(`
    ls -A /var/lib/kubeforge/relay 2>/dev/null
    ls -d /var/tmp/kubeforge-relay-* 2>/dev/null
    ls -A /var/lib/kubeforge/bundles 2>/dev/null | grep -F .kubeforge- || true
    grep -F kubeforge-relay /root/.ssh/authorized_keys 2>/dev/null || true
    for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -E 'HostKeyAlias=kubeforge-pee[r]' || true; done
    true`);
}

/**
 * Processes on the host that still hold a relay's staging file open ("PID PATH" lines): the
 * forced command writing a relayed copy, even after its file was removed (the space it fills
 * stays in use until it exits).
 */
export async function relayWriters(host: TestHost): Promise<string> {
  return host.sh(`
    for fd in /proc/[0-9]*/fd/*; do
      l=$(readlink "$fd" 2>/dev/null) || continue
      case "$l" in *kubeforge-relay*) p=\${fd#/proc/}; echo "\${p%%/*} $(tr '\\0' ' ' < /proc/\${p%%/*}/cmdline 2>/dev/null) -> $l" ;; esac
    done
    true`);
}

/** The relay staging files on the host now, with their sizes ("SIZE PATH" lines). */
export async function relayStagingFiles(host: TestHost): Promise<Array<{ path: string; size: number }>> {
  const out = await host.sh(`for f in /var/lib/kubeforge/bundles/.*.kubeforge-relay-*.tmp; do [ -f "$f" ] && stat -c '%s %n' "$f"; done; true`);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [size, ...rest] = line.split(' ');
      return { path: rest.join(' '), size: Number(size) };
    });
}

/** Every bundle on the host whose name does not start with the first 16 hex of its sha256 ("NAME SUM" lines). */
export async function corruptBundles(host: TestHost): Promise<string[]> {
  const sums = await host.sh('for f in /var/lib/kubeforge/bundles/*; do [ -f "$f" ] && printf "%s %s\\n" "${f##*/}" "$(sha256sum < "$f" | cut -c1-16)"; done; true');
  return sums
    .split('\n')
    .filter(Boolean)
    .filter((line) => {
      const [name, sum] = line.split(' ');
      return name!.slice(0, 16) !== sum;
    });
}

export async function readLedger(dir: string): Promise<LedgerRun> {
  return JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as LedgerRun;
}

/** Each host's record of how its bundles came (the `detail` of its step `key`). */
export function stepDetails(ledger: LedgerRun, key = 'prepare/work'): Map<string, string> {
  return new Map(ledger.hosts.map((h) => [h.host, h.steps.find((s) => s.key === key)?.detail ?? '']));
}
