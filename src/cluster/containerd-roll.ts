// One node's containerd restart onto new binaries or config, during a rolling phase: the
// playbook's containerd steps only leave a marker on a node of a running cluster (the restart
// would take every node's pods at once); here the node is drained, containerd restarted and
// checked (the server's version through ctr, the CRI through crictl), the kubelet restarted on
// the new runtime, the node Ready again, uncordoned, the marker removed.
import { REMOTE_STATE_DIR } from '../playbook/plan.js';
import { tailLines, type Remote, type RemoteCommandError } from '../run/remote.js';
import { drainNode, setSchedulable } from './node-drain.js';
import { UpgradeStopped, waitReadyAt, type UpgradeContext } from './upgrade.js';

/** Left by the containerd steps on a node whose containerd must restart in the rolling phase. */
export const CONTAINERD_RESTART_MARKER = `${REMOTE_STATE_DIR}/upgrade/containerd-restart`;
/** The sha256 of what containerd last started from (config, unit, binaries). */
const CONTAINERD_STARTED = `${REMOTE_STATE_DIR}/upgrade/containerd-started`;

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH';

/** Whether this host's containerd waits for its rolling restart. */
export async function containerdRestartPending(remote: Remote, signal: AbortSignal): Promise<boolean> {
  const r = await remote.exec('test -f "$KF_MARKER"', { env: { KF_MARKER: CONTAINERD_RESTART_MARKER }, signal });
  return r.code === 0;
}

export async function rollContainerd(remote: Remote, node: string, socket: string, ctx: UpgradeContext): Promise<void> {
  const api = await ctx.api();
  ctx.activity('draining');
  try {
    await drainNode(api, node, ctx.kubectl, { timeoutMs: ctx.drainTimeoutMs });
  } catch (err) {
    const back = await setSchedulable(api, node, true, ctx.kubectl).then(() => 'uncordoned again', (e: Error) => `left cordoned (uncordon failed: ${e.message})`);
    const e = err as RemoteCommandError;
    throw new UpgradeStopped(e.message, e.exitCode ?? 1, e.output ?? '', `the drain did not finish; ${back}; containerd was not restarted`);
  }
  ctx.activity('restarting containerd');
  const r = await remote.exec(
    `${PATH}
     systemctl restart containerd
     for i in $(seq 1 50); do ctr --address "$KF_SOCKET" version >/dev/null 2>&1 && break; sleep 0.2; done
     server=$(ctr --address "$KF_SOCKET" version 2>&1 | awk '/^Server:/ { s = 1 } s && /Version:/ { print $2; exit }')
     binary=$(containerd --version | awk '{ print $3 }')
     test -n "$server" || { echo "containerd does not answer on $KF_SOCKET after its restart" >&2; exit 1; }
     test "$server" = "$binary" || { echo "containerd answers as $server, but the installed binary is $binary" >&2; exit 1; }
     if command -v crictl >/dev/null; then
       info=$(crictl info 2>&1) || { echo "crictl info failed: $info" >&2; exit 1; }
       printf '%s' "$info" | tr -d ' \\n\\t' | grep -q '"type":"RuntimeReady","status":true' || { echo "crictl info: the runtime is not ready" >&2; exit 1; }
     fi
     systemctl restart kubelet
     # What containerd started from, as the containerd steps compare it (playbooks/containerd.yaml).
     cat /etc/containerd/config.toml /etc/systemd/system/containerd.service /usr/local/bin/containerd /usr/local/sbin/runc 2>/dev/null | sha256sum | cut -d' ' -f1 > "$KF_STARTED"
     rm -f "$KF_MARKER"
     echo "containerd $server"`,
    { env: { KF_SOCKET: socket, KF_MARKER: CONTAINERD_RESTART_MARKER, KF_STARTED: CONTAINERD_STARTED }, signal: ctx.kubeadm.signal, timeoutMs: 120_000 },
  );
  const cordoned = `left cordoned (drained): kubectl uncordon ${node} once it is fixed, or rerun kubeforge up`;
  if (r.code !== 0) {
    const output = tailLines(ctx.kubeadm.redactor.redact(`${r.stdout}\n${r.stderr}`));
    throw new UpgradeStopped(`containerd restart on ${remote.name} failed (exit ${r.code}): ${output.split('\n').filter(Boolean).at(-1) ?? ''}`, r.code, output, cordoned);
  }
  ctx.activity('waiting for the node to be Ready');
  const seen = await waitReadyAt(api, node, ctx);
  if (seen) throw new UpgradeStopped(`node ${node} not Ready after its containerd restart (${Math.round(ctx.readyTimeoutMs / 1000)} s): ${seen}`, 1, seen, cordoned);
  ctx.activity('uncordon');
  await setSchedulable(api, node, true, ctx.kubectl).catch((e: Error) => {
    throw new UpgradeStopped(e.message, 1, '', `containerd restarted and the node Ready, but still cordoned: kubectl uncordon ${node}`);
  });
}
