// One host's part of a Kubernetes upgrade, in the order of the Kubernetes docs ("Upgrading
// kubeadm clusters"): kubeadm first (`upgrade plan` + `upgrade apply` on the init host,
// `upgrade node` elsewhere), then drain, swap the kubelet and kubectl staged by the playbook's
// binaries step, restart the kubelet, wait until the node is Ready at the new version, uncordon.
// Each failure says in which state it left the node (UpgradeStopped.nodeState).
import { REMOTE_STATE_DIR } from '../playbook/plan.js';
import { RemoteCommandError, tailLines, type Remote } from '../run/remote.js';
import type { Version } from '../model.js';
import type { KubeadmContext } from './kubeadm.js';
import { ROOT_PATH, type KubectlContext } from './kubectl.js';
import { drainNode, setSchedulable } from './node-drain.js';
import { readNodeVersions } from './upgrade-facts.js';

/** Where the binaries step leaves the new kubelet and kubectl on a node of a running cluster. */
export const STAGED_BIN_DIR = `${REMOTE_STATE_DIR}/upgrade/bin`;

/** A host's upgrade stopped: why, and what state the node is in now (said to the user). */
export class UpgradeStopped extends RemoteCommandError {
  constructor(message: string, exitCode: number, output: string, readonly nodeState: string) {
    super(message, exitCode, output);
    this.name = 'UpgradeStopped';
  }
}

export interface UpgradeContext {
  kubeadm: KubeadmContext;
  kubectl: KubectlContext;
  /** kubectl runs here (the init host, with admin.conf): drain, uncordon, node versions. */
  api: () => Promise<Remote>;
  target: Version;
  from: string;
  /** How long the node may take to be Ready at the new version. */
  readyTimeoutMs: number;
  /** Wait for Ready too (only with a network add-on can a node be Ready at all). */
  requireReady: boolean;
  drainTimeoutMs: number;
  /** What the host is doing now (the live view). */
  activity: (text: string) => void;
}

async function kubeadm(remote: Remote, ctx: UpgradeContext, args: string, what: string, state: string): Promise<string> {
  const r = await remote.exec(`${ROOT_PATH}\nkubeadm ${args}`, { env: { KF_VERSION: `v${ctx.target.text}` }, signal: ctx.kubeadm.signal, timeoutMs: ctx.kubeadm.timeoutMs });
  if (r.code !== 0) {
    const output = tailLines(ctx.kubeadm.redactor.redact(`${r.stdout}\n${r.stderr}`));
    // kubeadm's last line is often its "To see the stack trace…" advice: the reason is above it.
    const lines = output.split('\n').filter((l) => l.trim() && !l.startsWith('To see the stack trace'));
    const why = lines.filter((l) => /error|fatal|failed|refus/i.test(l)).at(-1) ?? lines.at(-1) ?? '';
    throw new UpgradeStopped(`kubeadm ${what} on ${remote.name} failed (exit ${r.code}): ${why.trim().slice(0, 300)}`, r.code, output, state);
  }
  return r.stdout;
}

/** `kubeadm upgrade plan vX` (its verdict: it must accept the version) then `upgrade apply vX --yes`. */
export async function applyControlPlane(remote: Remote, ctx: UpgradeContext): Promise<void> {
  const untouched = `nothing changed: the control plane and the kubelet on ${remote.name} still run ${ctx.from}, the node is schedulable`;
  ctx.activity(`kubeadm upgrade plan v${ctx.target.text}`);
  await kubeadm(remote, ctx, 'upgrade plan "$KF_VERSION"', 'upgrade plan', untouched);
  ctx.activity(`kubeadm upgrade apply v${ctx.target.text}`);
  // kubeadm rolls a failed apply back itself (it restores the manifests it had replaced).
  await kubeadm(remote, ctx, 'upgrade apply "$KF_VERSION" --yes', 'upgrade apply', `kubeadm rolled its changes back: ${remote.name}'s control plane and kubelet still run ${ctx.from}, the node is schedulable`);
}

/** `kubeadm upgrade node`: a control plane's manifests, or a worker's kubelet config, for the cluster's new version. */
export async function upgradeNodeConfig(remote: Remote, ctx: UpgradeContext): Promise<void> {
  ctx.activity('kubeadm upgrade node');
  await kubeadm(remote, ctx, 'upgrade node', 'upgrade node', `the node was not drained and its kubelet still runs ${ctx.from}; it is schedulable`);
}

/**
 * Drains the node for a rolling change; a drain that stopped part way leaves a cordoned node
 * with some pods gone, so it is made schedulable again and the rollout stops (`unchanged`: what
 * still holds on the node). Returns the remote kubectl runs on.
 */
export async function drainOrStop(node: string, ctx: UpgradeContext, unchanged: string): Promise<Remote> {
  const api = await ctx.api();
  ctx.activity('draining');
  try {
    await drainNode(api, node, ctx.kubectl, { timeoutMs: ctx.drainTimeoutMs });
  } catch (err) {
    const back = await setSchedulable(api, node, true, ctx.kubectl).then(() => 'uncordoned again', (e: Error) => `left cordoned (uncordon failed: ${e.message})`);
    const e = err as RemoteCommandError;
    throw new UpgradeStopped(e.message, e.exitCode ?? 1, e.output ?? '', `the drain did not finish; ${back}; ${unchanged}`);
  }
  return api;
}

/** drain → kubelet and kubectl swapped, kubelet restarted → Ready at the target → uncordon. */
export async function rollKubelet(remote: Remote, node: string, ctx: UpgradeContext): Promise<void> {
  const api = await drainOrStop(node, ctx, `its kubelet still runs ${ctx.from}`);
  const cordoned = `left cordoned (drained): kubectl uncordon ${node} once it is fixed, or rerun kubeforge up`;
  ctx.activity(`kubelet ${ctx.target.text}`);
  const swap = await remote.exec(
    `${ROOT_PATH}
     for n in kubelet kubectl; do
       if [ -f "$KF_STAGED/$n" ]; then
         install -m 0755 "$KF_STAGED/$n" "/usr/local/bin/.$n.kubeforge-tmp"
         mv -f "/usr/local/bin/.$n.kubeforge-tmp" "/usr/local/bin/$n"
         rm -f "$KF_STAGED/$n"
       fi
     done
     v=$(kubelet --version 2>&1 | awk '{print $2}')
     test "$v" = "$KF_VERSION" || { echo "the kubelet here is $v, not $KF_VERSION: none staged by the binaries step (kubernetes.bundle is needed for upgrades)" >&2; exit 3; }
     systemctl daemon-reload
     systemctl restart kubelet`,
    { env: { KF_STAGED: STAGED_BIN_DIR, KF_VERSION: `v${ctx.target.text}` }, signal: ctx.kubeadm.signal, timeoutMs: 120_000 },
  );
  if (swap.code !== 0) {
    const output = tailLines(ctx.kubeadm.redactor.redact(`${swap.stdout}\n${swap.stderr}`));
    throw new UpgradeStopped(`kubelet ${ctx.target.text} on ${remote.name} failed (exit ${swap.code}): ${output.split('\n').at(-1) ?? ''}`, swap.code, output, cordoned);
  }
  ctx.activity(ctx.requireReady ? `waiting for the node to be Ready at ${ctx.target.text}` : `waiting for the node to report ${ctx.target.text}`);
  const seen = await waitReadyAt(api, node, ctx);
  if (seen) throw new UpgradeStopped(`node ${node} not Ready at ${ctx.target.text} after ${Math.round(ctx.readyTimeoutMs / 1000)} s: ${seen}`, 1, seen, cordoned);
  ctx.activity('uncordon');
  await setSchedulable(api, node, true, ctx.kubectl).catch((e: Error) => {
    throw new UpgradeStopped(e.message, 1, '', `upgraded and Ready, but still cordoned: kubectl uncordon ${node}`);
  });
}

/** Polls until the node reports the target kubelet version and Ready; undefined when it did, else what was last seen. */
export async function waitReadyAt(api: Remote, node: string, ctx: UpgradeContext): Promise<string | undefined> {
  const deadline = Date.now() + ctx.readyTimeoutMs;
  let last = 'not seen yet';
  for (;;) {
    try {
      const n = (await readNodeVersions(api, ctx.kubectl)).find((x) => x.name === node);
      if (n && n.kubelet.text === ctx.target.text && (n.ready || !ctx.requireReady)) return undefined;
      last = n ? `kubelet ${n.kubelet.text}, ${n.ready ? 'Ready' : 'NotReady'}` : 'the node is not registered';
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline || ctx.kubectl.signal.aborted) return last;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
