// kubectl on the init host, with the admin kubeconfig kubeadm init wrote: how kubeforge waits
// for the API server, applies the network add-on and reads the nodes' readiness.
import { remoteBundlePath, REMOTE_STATE_DIR } from '../playbook/plan.js';
import type { Bundle } from '../model.js';
import { RemoteCommandError, tailLines, type Remote } from '../run/remote.js';
import { addonNeedsApply } from './decide.js';
import { ADMIN_CONF } from './kubeadm.js';

export interface KubectlContext {
  signal: AbortSignal;
  redact: (text: string) => string;
}

/** The tools kubeadm installs live in /usr/local/bin or /usr/bin; a login's PATH may lack either. */
export const ROOT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH';

/** kubectl on a control plane with its admin.conf: `args` names values only as "$KF_*" variables. */
export async function kubectl(remote: Remote, ctx: KubectlContext, args: string, env: Record<string, string> = {}, timeoutMs = 60_000) {
  return remote.exec(`${ROOT_PATH}\nkubectl --kubeconfig "$KF_KUBECONFIG" --request-timeout=20s ${args}`, {
    env: { KF_KUBECONFIG: ADMIN_CONF, ...env },
    signal: ctx.signal,
    timeoutMs,
  });
}

/** Waits until the API server answers /readyz through the admin kubeconfig (bounded). */
export async function waitForApiServer(remote: Remote, ctx: KubectlContext, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = await kubectl(remote, ctx, 'get --raw /readyz');
    if (r.code === 0 && r.stdout.trim() === 'ok') return;
    last = ctx.redact(`${r.stdout}\n${r.stderr}`.trim().split('\n').pop() ?? '');
    if (Date.now() > deadline) throw new RemoteCommandError(`the API server did not become ready within ${Math.round(timeoutMs / 1000)} s: ${last}`, r.code, last);
    await sleep(1000, ctx.signal);
  }
}

/** A cluster-level record on the init host, apart from the per-host step markers. */
const CLUSTER_DIR = `${REMOTE_STATE_DIR}/cluster`;
const ADDON_MARKER = `${CLUSTER_DIR}/network-addon`;

/** The sha256 of the add-on manifest last applied from this init host ('' when none was). */
export async function readNetworkAddonMarker(remote: Remote, ctx: KubectlContext): Promise<string> {
  const marker = await remote.exec('cat "$KF_MARKER" 2>/dev/null || true', { env: { KF_MARKER: ADDON_MARKER }, signal: ctx.signal });
  return marker.stdout.trim();
}

/**
 * Applies the network add-on manifest once: the manifest's sha256 is kept in a marker on the
 * init host, so a rerun (or a rerun from another laptop) applies it again only when it changed.
 * `applied` is the marker as readNetworkAddonMarker read it (ahead, alongside other work).
 */
export async function applyNetworkAddon(remote: Remote, manifest: Bundle, ctx: KubectlContext, applied: string): Promise<'changed' | 'unchanged'> {
  if (!addonNeedsApply(applied, manifest)) return 'unchanged';
  // Kept with the cluster's record, not among the bundles every host holds alike.
  const remotePath = `${CLUSTER_DIR}/${remoteBundlePath(manifest).split('/').pop()}`;
  await remote.exec('umask 022; mkdir -p "$KF_DIR"', { env: { KF_DIR: CLUSTER_DIR }, signal: ctx.signal });
  await remote.upload(manifest.path, remotePath, { sha256: manifest.sha256, size: manifest.size, mode: 0o644, signal: ctx.signal });
  const r = await kubectl(remote, ctx, 'apply -f "$KF_MANIFEST"', { KF_MANIFEST: remotePath }, 180_000);
  if (r.code !== 0) {
    const output = tailLines(ctx.redact(`${r.stdout}\n${r.stderr}`));
    throw new RemoteCommandError(`kubectl apply of the network add-on failed (exit ${r.code}): ${output.split('\n').pop() ?? ''}`, r.code, output);
  }
  await remote.exec(`umask 022; printf '%s\\n' "$KF_SHA" > "$KF_MARKER.tmp" && mv -f "$KF_MARKER.tmp" "$KF_MARKER"`, {
    env: { KF_SHA: manifest.sha256, KF_MARKER: ADDON_MARKER },
    signal: ctx.signal,
  });
  return 'changed';
}

export interface NodeReadiness {
  name: string;
  ready: boolean;
  /** The Ready condition's reason and message (why a node is not Ready). */
  message: string;
}

/** `kubectl get nodes -o json`, reduced to each node's Ready condition. */
export async function readNodes(remote: Remote, ctx: KubectlContext): Promise<NodeReadiness[]> {
  const r = await kubectl(remote, ctx, 'get nodes -o json');
  if (r.code !== 0) {
    const output = tailLines(ctx.redact(`${r.stdout}\n${r.stderr}`), 5);
    throw new RemoteCommandError(`kubectl get nodes failed (exit ${r.code}): ${output.split('\n').pop() ?? ''}`, r.code, output);
  }
  return parseNodeList(r.stdout);
}

interface NodeListJson {
  items?: Array<{
    metadata?: { name?: string };
    status?: { conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> };
  }>;
}

export function parseNodeList(json: string): NodeReadiness[] {
  let list: NodeListJson;
  try {
    list = JSON.parse(json) as NodeListJson;
  } catch {
    throw new Error('kubectl get nodes -o json printed something that is not JSON');
  }
  return (list.items ?? []).map((item) => {
    const ready = item.status?.conditions?.find((c) => c.type === 'Ready');
    const why = [ready?.reason, ready?.message].filter(Boolean).join(': ');
    return {
      name: item.metadata?.name ?? '',
      ready: ready?.status === 'True',
      message: ready ? (ready.status === 'True' ? 'Ready' : why || 'NotReady') : 'no Ready condition reported yet',
    };
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Watches the nodes through one poller while hosts wait for their node to be Ready: each
 * waiter resolves when its node is Ready, or at its own deadline with the last condition seen.
 */
export class ReadinessWatcher {
  private readonly waiters = new Map<string, { deadline: number; resolve: (r: NodeReadiness) => void }>();
  private running = false;
  private lastError = '';

  constructor(
    private readonly remote: () => Promise<Remote>,
    private readonly ctx: KubectlContext,
    private readonly intervalMs = 1000,
  ) {}

  wait(node: string, timeoutMs: number): Promise<NodeReadiness> {
    return new Promise((resolve) => {
      this.waiters.set(node, { deadline: Date.now() + timeoutMs, resolve });
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.waiters.size > 0 && !this.ctx.signal.aborted) {
        let nodes: NodeReadiness[] | undefined;
        try {
          nodes = await readNodes(await this.remote(), this.ctx);
        } catch (err) {
          this.lastError = (err as Error).message;
        }
        const now = Date.now();
        for (const [name, w] of [...this.waiters]) {
          const node = nodes?.find((n) => n.name === name);
          if (node?.ready || now >= w.deadline) {
            this.waiters.delete(name);
            w.resolve(node ?? { name, ready: false, message: nodes ? 'the node has not registered with the API server' : this.lastError });
          }
        }
        if (this.waiters.size > 0) await sleep(this.intervalMs, this.ctx.signal).catch(() => undefined);
      }
    } finally {
      for (const [name, w] of this.waiters) w.resolve({ name, ready: false, message: 'interrupted' });
      this.waiters.clear();
      this.running = false;
    }
  }
}
