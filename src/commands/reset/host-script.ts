// What `kubeforge reset` runs on one host, as one script: kubeadm reset, then every step of the
// host's plan undone in reverse order — the step's own `reset` command from its playbook (its
// service stopped, the binaries its bundle put in place), its files and their backups, its
// marker — then kubeforge's state folder. The list of what kubeforge installed is the plan
// itself, so a step added to a playbook is reset with no second list to keep in step.
// Pure: the script names values only as variables, and says per part how it went.
import { randomBytes } from 'node:crypto';
import type { Cluster } from '../../model.js';
import { markerName } from '../../playbook/gather.js';
import { REMOTE_MARKER_DIR, REMOTE_STATE_DIR, type HostPlan, type PlannedStep } from '../../playbook/plan.js';
import { criEndpoint } from '../../render/cri-endpoint.js';

export interface HostResetOptions {
  /** Also remove containerd's images and content (/var/lib/containerd). */
  removeImages: boolean;
  /** A fixed nonce (tests); a random one otherwise. */
  nonce?: string;
}

/** One part of a host's reset, as the report names it. */
export interface ResetPart {
  key: string;
  title: string;
}

export interface HostResetScript {
  script: string;
  env: Record<string, string>;
  nonce: string;
  /** The parts in the order they run. */
  parts: ResetPart[];
}

export const RESET_PRELUDE = String.raw`PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH
kf_failed=
# Centiseconds since boot, without starting a process ("1$kf_csec - 100": "08" is not octal 8).
kf_now() { IFS='. ' read -r kf_sec kf_csec _ </proc/uptime; kf_now=$((kf_sec * 100 + 1$kf_csec - 100)); }
kf_now; kf_t0=$kf_now
# kf_report PART STATUS [CODE]: how a part went and how long it took; the next part starts now.
kf_report() { kf_now; printf '%s %s %s %s\n' "$KFR_NONCE" "$1" "$((kf_now - kf_t0))" "$2"; kf_t0=$kf_now; }
# kf_output PART TEXT: the last lines of a part's output, each marked as that part's.
kf_output() { printf '%s\n' "$2" | tail -n 20 | while IFS= read -r kf_l; do printf '%s out %s %s\n' "$KFR_NONCE" "$1" "$kf_l"; done; }
# kf_rmdirs DIR: DIR and the parents it leaves empty, up to the folders the system itself owns
# (an empty /usr/local/bin or /etc/modules-load.d on a minimal host is not ours to remove).
kf_rmdirs() {
  kf_d=$1
  while :; do
    case "$kf_d" in
      /|/etc|/etc/default|/etc/systemd|/etc/systemd/system|/etc/sysctl.d|/etc/modules-load.d|/etc/modprobe.d|/usr|/usr/local|/usr/local/*bin|/usr/local/lib|/usr/local/share|/opt|/var|/var/lib|/run) return 0 ;;
    esac
    rmdir "$kf_d" 2>/dev/null || return 0
    kf_d=$(dirname "$kf_d")
  done
}
# kf_undo I: step I's reset command (in a subshell, under sh -eu, with KF_STEP_MARKER: the
# step's marker, there when it once succeeded here), then its files, their backups and the
# folders they leave empty, then its marker.
kf_undo() {
  eval "kf_s=\${KFR_$1_S:-} kf_files=\${KFR_$1_F:-} kf_m=\$KFR_$1_M"
  kf_rc=0
  kf_out=
  if [ -n "$kf_s" ]; then kf_out=$( (KF_STEP_MARKER=$kf_m; export KF_STEP_MARKER; sh -euc "$kf_s") </dev/null 2>&1 ) || kf_rc=$?; fi
  if [ "$kf_rc" != 0 ]; then
    kf_output "step$1" "$kf_out"
    kf_report "step$1" "failed $kf_rc"
    kf_failed=yes
    return 0
  fi
  if [ -n "$kf_files" ]; then
    printf '%s\n' "$kf_files" | while IFS= read -r kf_f; do
      [ -n "$kf_f" ] || continue
      rm -f "$kf_f" "$kf_f.kubeforge-prev"
      kf_rmdirs "$(dirname "$kf_f")"
    done
  fi
  rm -f "$kf_m"
  if [ -n "$kf_s$kf_files" ]; then kf_report "step$1" ok; else kf_report "step$1" none; fi
}
`;

const KUBEADM_RESET = String.raw`if command -v kubeadm >/dev/null 2>&1; then
  if kf_out=$(kubeadm reset -f --cri-socket "$KFR_CRI_SOCKET" </dev/null 2>&1); then
    kf_report kubeadm ok
  else
    kf_rc=$?
    kf_output kubeadm "$kf_out"
    kf_report kubeadm "failed $kf_rc"
    # Nothing else is undone: kubeadm (and its binary) must still be there for the next try.
    exit 0
  fi
else
  kf_report kubeadm absent
fi
`;

/** The network add-on's CNI config (a DaemonSet wrote it; kubeadm reset leaves it, and says so). */
const ADDON_CNI = String.raw`if [ -d /etc/cni/net.d ]; then find /etc/cni/net.d -mindepth 1 -delete; fi
kf_report cni ok
`;

const FINISH = String.raw`if [ -n "$kf_failed" ]; then
  # The kept bundles are what the failed parts need to undo themselves next time.
  kf_report state kept
  exit 0
fi
rm -rf "$KFR_STATE_DIR"
if [ "$KFR_IMAGES" = yes ]; then rm -rf /var/lib/containerd; fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl reset-failed kubelet.service containerd.service >/dev/null 2>&1 || true
fi
kf_report state ok
`;

export function hostResetScript(cluster: Cluster, plan: HostPlan, opts: HostResetOptions): HostResetScript {
  const nonce = opts.nonce ?? `kf-reset-${randomBytes(8).toString('hex')}`;
  const env: Record<string, string> = {
    KFR_NONCE: nonce,
    KFR_CRI_SOCKET: criEndpoint(cluster.containerd.socket),
    KFR_STATE_DIR: REMOTE_STATE_DIR,
    KFR_IMAGES: opts.removeImages ? 'yes' : 'no',
  };
  const parts: ResetPart[] = [{ key: 'reset/kubeadm', title: 'kubeadm reset' }];
  let script = RESET_PRELUDE + KUBEADM_RESET;
  if (cluster.network) {
    parts.push({ key: 'reset/cni-config', title: "the network add-on's CNI config" });
    script += ADDON_CNI;
  }
  // Last applied, first undone: the kubelet goes before the binaries, containerd before its
  // plugins, and /etc/hosts last.
  const steps = plan.steps.map((step, i) => ({ step, i })).reverse();
  for (const { step, i } of steps) {
    Object.assign(env, stepEnv(step, env));
    env[`KFR_${i}_M`] = `${REMOTE_MARKER_DIR}/${markerName(step)}`;
    if (step.reset) env[`KFR_${i}_S`] = step.reset.script;
    if (step.files.length > 0) env[`KFR_${i}_F`] = step.files.map((f) => f.path).join('\n');
    parts.push({ key: `reset/${step.key}`, title: `undo ${step.title}` });
    script += `kf_undo ${i}\n`;
  }
  parts.push({ key: 'reset/state', title: `${REMOTE_STATE_DIR}${opts.removeImages ? ' and /var/lib/containerd' : ''}` });
  script += FINISH;
  return { script, env, nonce, parts };
}

/** A step's reset values; every step of a plan gives a variable the same value (checked). */
function stepEnv(step: PlannedStep, merged: Record<string, string>): Record<string, string> {
  const own = step.reset?.env ?? {};
  for (const [name, value] of Object.entries(own)) {
    if (name in merged && merged[name] !== value) throw new Error(`step ${step.key}: ${name} differs from another step's (a planner bug)`);
  }
  return own;
}

export interface PartOutcome {
  key: string;
  /** none: a step with nothing to undo beyond its marker (a check-only step, say). */
  status: 'ok' | 'none' | 'failed' | 'absent' | 'kept' | 'not-run';
  exitCode?: number;
  /** How long it took on the host. */
  ms?: number;
  output?: string;
}

/** Reads the script's report: each part's outcome, in the order of `parts` (not-run when it never said). */
export function parseResetReport(reset: HostResetScript, plan: HostPlan, stdout: string): PartOutcome[] {
  const said = new Map<string, { status: string; exitCode?: number; ms: number }>();
  const output = new Map<string, string[]>();
  const keyOf = (name: string): string => {
    if (name === 'kubeadm') return 'reset/kubeadm';
    if (name === 'cni') return 'reset/cni-config';
    if (name === 'state') return 'reset/state';
    const i = /^step(\d+)$/.exec(name)?.[1];
    const step = i !== undefined ? plan.steps[Number(i)] : undefined;
    return step ? `reset/${step.key}` : `reset/${name}`;
  };
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(`${reset.nonce} `)) continue;
    const rest = line.slice(reset.nonce.length + 1);
    const out = /^out (\S+) ?(.*)$/.exec(rest);
    if (out) {
      const key = keyOf(out[1]!);
      output.set(key, [...(output.get(key) ?? []), out[2]!]);
      continue;
    }
    const m = /^(\S+) (\d+) (\S+)(?: (\d+))?$/.exec(rest);
    if (m) said.set(keyOf(m[1]!), { status: m[3]!, ms: Number(m[2]) * 10, ...(m[4] !== undefined ? { exitCode: Number(m[4]) } : {}) });
  }
  return reset.parts.map(({ key }) => {
    const s = said.get(key);
    const status = (s && ['ok', 'none', 'failed', 'absent', 'kept'].includes(s.status) ? s.status : 'not-run') as PartOutcome['status'];
    return {
      key,
      status,
      ...(s ? { ms: s.ms } : {}),
      ...(s?.exitCode !== undefined ? { exitCode: s.exitCode } : {}),
      ...(output.has(key) ? { output: output.get(key)!.join('\n') } : {}),
    };
  });
}
