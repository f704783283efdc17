// One node's containerd restart onto new binaries or config, during a rolling phase: the
// playbook's containerd steps only leave a marker on a node of a running cluster (the restart
// would take every node's pods at once); here the node is drained, containerd restarted and
// checked (the server's version through ctr, the CRI through crictl), the kubelet restarted on
// the new runtime, the node Ready again, uncordoned, the marker removed.
import { REMOTE_STATE_DIR } from '../playbook/plan.js';
import { tailLines, type Remote } from '../run/remote.js';
import { setSchedulable } from './node-drain.js';
import { ROOT_PATH } from './kubectl.js';
import { drainOrStop, UpgradeStopped, waitReadyAt, type UpgradeContext } from './upgrade.js';

/** Left by the containerd steps on a node whose containerd must restart in the rolling phase. */
export const CONTAINERD_RESTART_MARKER = `${REMOTE_STATE_DIR}/upgrade/containerd-restart`;
/** The sha256 of what containerd last started from (config, unit, binaries). */
const CONTAINERD_STARTED = `${REMOTE_STATE_DIR}/upgrade/containerd-started`;
/** The config files containerd ran on before a pending restart (kept by the containerd config step). */
const CONTAINERD_PREV = `${REMOTE_STATE_DIR}/upgrade/containerd-prev`;
/** The restart script's exit code when it put the previous files back and containerd runs on them. */
const ROLLED_BACK = 4;


/** Whether this host's containerd waits for its rolling restart. */
export async function containerdRestartPending(remote: Remote, signal: AbortSignal): Promise<boolean> {
  const r = await remote.exec('test -f "$KF_MARKER"', { env: { KF_MARKER: CONTAINERD_RESTART_MARKER }, signal });
  return r.code === 0;
}

export async function rollContainerd(remote: Remote, node: string, socket: string, ctx: UpgradeContext): Promise<void> {
  const api = await drainOrStop(node, ctx, 'containerd was not restarted');
  ctx.activity('restarting containerd');
  const r = await remote.exec(
    `${ROOT_PATH}
     answers() {
       for i in $(seq 1 25); do timeout 2 ctr --address "$KF_SOCKET" version >/dev/null 2>&1 && return 0; sleep 0.2; done
       return 1
     }
     # systemctl fails at once when containerd does not start (Type=notify): no wait for an answer then.
     if ! { systemctl restart containerd && answers; }; then
       # Not on the new files: the ones it ran on go back (kept by the containerd config step),
       # and containerd with them, so the node keeps a runtime.
       if ls "$KF_PREV"/* >/dev/null 2>&1; then
         cp -p "$KF_PREV/config.toml" /etc/containerd/config.toml 2>/dev/null || true
         cp -p "$KF_PREV/containerd.service" /etc/systemd/system/containerd.service 2>/dev/null || true
         systemctl daemon-reload
         if systemctl restart containerd && answers; then
           systemctl restart kubelet
           echo "containerd did not start on its new files; the previous ones were put back and containerd runs on them" >&2
           exit ${ROLLED_BACK}
         fi
       fi
       echo "containerd does not answer on $KF_SOCKET after its restart: $(systemctl status containerd 2>&1 | tail -n 5)" >&2
       exit 1
     fi
     server=$(timeout 5 ctr --address "$KF_SOCKET" version 2>&1 | awk '/^Server:/ { s = 1 } s && /Version:/ { print $2; exit }')
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
     rm -rf "$KF_PREV"
     echo "containerd $server"`,
    { env: { KF_SOCKET: socket, KF_MARKER: CONTAINERD_RESTART_MARKER, KF_STARTED: CONTAINERD_STARTED, KF_PREV: CONTAINERD_PREV }, signal: ctx.kubeadm.signal, timeoutMs: 120_000 },
  );
  const cordoned = `left cordoned (drained): kubectl uncordon ${node} once it is fixed, or rerun kubeforge up`;
  if (r.code === ROLLED_BACK) {
    // containerd runs on its previous files: the node is usable again, so it is not left cordoned.
    const output = tailLines(ctx.kubeadm.redactor.redact(`${r.stdout}\n${r.stderr}`));
    const back = await setSchedulable(api, node, true, ctx.kubectl).then(() => 'the node was uncordoned', (e: Error) => `the node is still cordoned (uncordon failed: ${e.message})`);
    throw new UpgradeStopped(`containerd on ${remote.name} did not start on its new files`, r.code, output, `containerd runs on its previous config again (put back, the restart still pending); ${back}`);
  }
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
