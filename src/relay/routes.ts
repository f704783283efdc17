// The router's routes over the run's SSH connections: a check on the host, an upload from the
// laptop through its bounded slots, a relay between two hosts (transfer.ts).
import { isIP } from 'node:net';
import type { PlannedBundle } from '../playbook/plan.js';
import type { Remote } from '../run/remote.js';
import type { Routes } from './router.js';
import { SHA256_FUNCTION } from '../ssh/sha256-shell.js';
import { sweepEnv, sweepScript } from './scripts.js';
import { canReceive, canSend, relayBundle, type RelayPeer } from './transfer.js';

const SWEEP_TIMEOUT_MS = 15_000;

export function sshRoutes(peers: ReadonlyMap<string, RelayPeer>, runId: string, laptopSlot: <T>(fn: () => Promise<T>) => Promise<T>): Routes {
  const peer = (name: string) => {
    const p = peers.get(name);
    if (!p) throw new Error(`relay: ${name} is not a host of this run`);
    return p;
  };
  const file = (b: PlannedBundle) => ({ KF_FILE: b.remotePath });
  return {
    async has(host, b, signal) {
      const r = await peer(host).remote.exec(`${SHA256_FUNCTION}\nif [ -f "$KF_FILE" ]; then kf_sha256 <"$KF_FILE"; fi`, { env: file(b), signal });
      return r.code === 0 && r.stdout.trim().split('\n').pop()?.split(/\s+/)[0] === b.bundle.sha256.toLowerCase();
    },
    async holds(host, b, signal) {
      const r = await peer(host).remote.exec('stat -c %s "$KF_FILE" 2>/dev/null || true', { env: file(b), signal });
      return r.code === 0 && r.stdout.trim().split('\n').pop() === String(b.bundle.size);
    },
    upload: (host, b, signal, onProgress, onStaging) =>
      laptopSlot(() =>
        peer(host).remote.upload(b.bundle.path, b.remotePath, { sha256: b.bundle.sha256, size: b.bundle.size, mode: 0o644, signal, onProgress, ...(onStaging ? { onStaging } : {}) }),
      ),
    relay: (from, to, b, signal, onProgress, stream) => relayBundle(peer(from), peer(to), b, runId, signal, onProgress, stream),
    canSend: (host) => canSend(peer(host)),
    canReceive: (host) => canReceive(peer(host)),
    address: (host) => {
      // Where a peer's ssh connects to (relayBundle's target address).
      const h = peer(host).host;
      const a = h.internalAddress || h.address;
      return isIP(a) !== 0 ? a : undefined;
    },
  };
}

/** Removes every relay trace from a host (keys, authorized_keys lines, staging files, clients). */
export async function sweepRelay(remote: Remote, user: string): Promise<void> {
  await remote.exec(sweepScript, { env: sweepEnv(user, undefined), signal: AbortSignal.timeout(SWEEP_TIMEOUT_MS) }).catch(() => undefined);
}
