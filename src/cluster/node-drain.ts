// Taking a node out of the cluster and putting it back, through kubectl on a control plane:
// cordon, drain (cordon + evict its pods), uncordon, delete. `reset` drains and deletes;
// maintenance (cordon, drain, uncordon) uses the same calls.
import { RemoteCommandError, tailLines } from '../run/remote.js';
import type { Remote } from '../run/remote.js';
import { kubectl, type KubectlContext } from './kubectl.js';

/** What a node operation found: done, or nothing to do because the cluster has no such node. */
export type NodeOutcome = 'done' | 'not-found';

function notFound(node: string, stderr: string): boolean {
  return stderr.includes(`nodes "${node}" not found`);
}

function failure(what: string, node: string, r: { code: number; stdout: string; stderr: string }, ctx: KubectlContext): RemoteCommandError {
  const output = tailLines(ctx.redact(`${r.stdout}\n${r.stderr}`));
  const lines = output.split('\n');
  // kubectl ends with "error: ..." lines: the last one says why.
  const why = [...lines].reverse().find((l) => /^error: /.test(l)) ?? lines.at(-1) ?? '';
  return new RemoteCommandError(`kubectl ${what} ${node} failed (exit ${r.code}): ${why.replace(/^error: /, '')}`, r.code, output);
}

/** Whether the API server answers through the admin kubeconfig on this control plane (one try). */
export async function clusterAnswers(remote: Remote, ctx: KubectlContext): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    const r = await kubectl(remote, ctx, 'get --raw /readyz', {}, 30_000);
    if (r.code === 0 && r.stdout.trim() === 'ok') return { ok: true };
    return { ok: false, why: ctx.redact(`${r.stdout}\n${r.stderr}`.trim().split('\n').pop() ?? `exit ${r.code}`) };
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  }
}

/** `kubectl cordon` / `uncordon`: the node (un)schedulable. */
export async function setSchedulable(remote: Remote, node: string, schedulable: boolean, ctx: KubectlContext): Promise<NodeOutcome> {
  const verb = schedulable ? 'uncordon' : 'cordon';
  const r = await kubectl(remote, ctx, `${verb} "$KF_NODE"`, { KF_NODE: node });
  if (r.code === 0) return 'done';
  if (notFound(node, r.stderr)) return 'not-found';
  throw failure(verb, node, r, ctx);
}

export interface DrainOptions {
  /** kubectl's --timeout: how long evictions may take in all. */
  timeoutMs: number;
}

/**
 * `kubectl drain`: cordons the node and evicts its pods, except DaemonSet-managed ones (their
 * controller would put them straight back); pods with emptyDir data and pods no controller
 * manages go too, since the node is going away. A PodDisruptionBudget can still refuse.
 */
export async function drainNode(remote: Remote, node: string, ctx: KubectlContext, opts: DrainOptions): Promise<NodeOutcome> {
  const seconds = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
  const r = await kubectl(
    remote,
    ctx,
    `drain "$KF_NODE" --ignore-daemonsets --delete-emptydir-data --force --timeout="$KF_TIMEOUT"`,
    { KF_NODE: node, KF_TIMEOUT: `${seconds}s` },
    // kubectl stops at its own --timeout; this only catches a kubectl that hangs past it.
    opts.timeoutMs + 60_000,
  );
  if (r.code === 0) return 'done';
  if (notFound(node, r.stderr)) return 'not-found';
  throw failure('drain', node, r, ctx);
}

/** `kubectl delete node`: the Node object goes (a node that is already gone is no error). */
export async function deleteNode(remote: Remote, node: string, ctx: KubectlContext): Promise<NodeOutcome> {
  const r = await kubectl(remote, ctx, 'delete node "$KF_NODE" --ignore-not-found', { KF_NODE: node });
  if (r.code !== 0) throw failure('delete node', node, r, ctx);
  return r.stdout.includes(`node "${node}" deleted`) ? 'done' : 'not-found';
}
