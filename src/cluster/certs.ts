// Certificates on one control plane, through kubeadm: read their expiry, renew them, and restart
// the static Pods so that they load the new ones. kubeadm's documented procedure ("Certificate
// Management with kubeadm", Manual certificate renewal): `kubeadm certs renew all`, then restart
// the control-plane Pods; static Pods are the kubelet's, not the API server's, so the way is to
// move their manifests out of /etc/kubernetes/manifests, let the kubelet stop them
// (fileCheckFrequency, 20 s by default), and move them back.
import type { Version } from '../model.js';
import { RemoteCommandError, tailLines, type Remote } from '../run/remote.js';
import { checkExpirationArgs, parseCheckExpiration, type ExpirationInfo } from './certs-expiry.js';

export interface CertsContext {
  signal: AbortSignal;
  redact: (text: string) => string;
}

function failure(what: string, r: { code: number; stdout: string; stderr: string }, ctx: CertsContext): RemoteCommandError {
  const output = tailLines(ctx.redact(`${r.stdout}\n${r.stderr}`));
  return new RemoteCommandError(`${what} failed (exit ${r.code}): ${output.split('\n').at(-1) ?? ''}`, r.code, output);
}

/** `kubeadm certs check-expiration` on this host, parsed. */
export async function readCertExpiry(remote: Remote, version: Version, ctx: CertsContext): Promise<ExpirationInfo> {
  const args = checkExpirationArgs(version);
  const r = await remote.exec(`kubeadm ${args.join(' ')}`, { signal: ctx.signal, timeoutMs: 60_000 });
  if (r.code !== 0) throw failure(`kubeadm ${args.join(' ')}`, r, ctx);
  return parseCheckExpiration(r.stdout, version);
}

/**
 * `kubeadm certs renew all`. kubeadm exits 0 even where a certificate is missing ("MISSING! ...",
 * a worker has none) or cannot be renewed (an external CA): on a control plane both are failures.
 */
export async function renewAll(remote: Remote, ctx: CertsContext): Promise<string[]> {
  const r = await remote.exec('kubeadm certs renew all', { signal: ctx.signal, timeoutMs: 120_000 });
  if (r.code !== 0) throw failure('kubeadm certs renew all', r, ctx);
  const lines = r.stdout.split('\n');
  const problems = lines.filter((l) => /^MISSING! |^Detected external /.test(l));
  if (problems.length > 0) {
    throw new RemoteCommandError(`kubeadm certs renew all did not renew everything: ${problems.join('; ')}`, 0, tailLines(ctx.redact(r.stdout)));
  }
  if (!lines.some((l) => l.startsWith('Done renewing certificates.'))) throw failure('kubeadm certs renew all', { ...r, code: 0 }, ctx);
  return lines.filter((l) => l.endsWith(' renewed')).map((l) => l.slice(0, -' renewed'.length));
}

/** The control plane's static Pods, in the order they are moved out and back. */
export const CONTROL_PLANE_PODS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'] as const;

/** kubeadm's staticPodPath. */
export const MANIFESTS_DIR = '/etc/kubernetes/manifests';

/** Where the manifests wait while their Pods are stopped: outside the kubelet's staticPodPath. */
export const RESTART_HOLD_DIR = '/etc/kubernetes/kubeforge-restart';

const EXIT_NOT_CONTROL_PLANE = 3;
const EXIT_NOT_STOPPED = 4;
const EXIT_NOT_STARTED = 5;

/**
 * The restart, in one script on the host. The manifests go back whatever happens (an EXIT trap,
 * and at the start of the next restart if the connection died in between). With crictl the
 * script watches the kubelet act: every Pod's container gone, then every Pod running in a new
 * container. Without crictl it waits the kubelet's default fileCheckFrequency (20 s) and a margin
 * each way.
 */
export const RESTART_STATIC_PODS_SCRIPT = `m="$KF_MANIFESTS"
hold="$KF_HOLD"
restore() {
  for f in "$hold"/*.yaml; do
    [ -e "$f" ] || continue
    b=\${f##*/}
    if [ -e "$m/$b" ]; then rm -f "$f"; else mv -f "$f" "$m/$b"; fi
  done
}
mkdir -p "$hold"; chmod 0700 "$hold"
restore
trap restore EXIT
# A lost connection (HUP) or a signal still puts the manifests back (a SIGKILL cannot: then the
# next restart does it first).
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM
for c in $KF_PODS; do
  [ -f "$m/$c.yaml" ] || { echo "$m/$c.yaml is not there: not a kubeadm control plane" >&2; exit ${EXIT_NOT_CONTROL_PLANE}; }
done
if command -v crictl >/dev/null 2>&1; then watch=yes; else watch=no; fi
running() { crictl ps --name "^$1\\$" --state running -q 2>/dev/null | head -n 1; }
old=""
if [ $watch = yes ]; then for c in $KF_PODS; do old="$old $(running "$c")"; done; fi
for c in $KF_PODS; do mv -f "$m/$c.yaml" "$hold/$c.yaml"; done
echo "manifests moved out of $m"
deadline=$(( $(date +%s) + KF_WAIT_S ))
if [ $watch = yes ]; then
  for c in $KF_PODS; do
    while [ -n "$(running "$c")" ]; do
      [ "$(date +%s)" -lt "$deadline" ] || { echo "the kubelet did not stop $c within \${KF_WAIT_S}s of its manifest leaving $m" >&2; exit ${EXIT_NOT_STOPPED}; }
      sleep 1
    done
    echo "stopped $c"
  done
else
  echo "no crictl: waiting 25 s for the kubelet (fileCheckFrequency 20 s)"; sleep 25
fi
restore
echo "manifests back in $m"
deadline=$(( $(date +%s) + KF_WAIT_S ))
if [ $watch = yes ]; then
  for c in $KF_PODS; do
    while :; do
      id=$(running "$c")
      if [ -n "$id" ]; then case " $old " in *" $id "*) ;; *) break ;; esac; fi
      [ "$(date +%s)" -lt "$deadline" ] || { echo "the kubelet did not start $c again within \${KF_WAIT_S}s" >&2; exit ${EXIT_NOT_STARTED}; }
      sleep 1
    done
    echo "started $c (container $id)"
  done
else
  sleep 25
fi
`;

/** Moves the control-plane manifests out and back, and returns what the host said it did. */
export async function restartStaticPods(remote: Remote, ctx: CertsContext, waitSeconds = 120): Promise<string[]> {
  const r = await remote.exec(RESTART_STATIC_PODS_SCRIPT, {
    env: { KF_MANIFESTS: MANIFESTS_DIR, KF_HOLD: RESTART_HOLD_DIR, KF_PODS: CONTROL_PLANE_PODS.join(' '), KF_WAIT_S: String(waitSeconds) },
    signal: ctx.signal,
    timeoutMs: (2 * waitSeconds + 60) * 1000,
  });
  if (r.code !== 0) throw failure('restarting the control-plane static Pods', r, ctx);
  return r.stdout.split('\n').filter(Boolean);
}
