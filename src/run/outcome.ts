// What happened to each host and step in a run: the vocabulary the runner, the progress views,
// the summary and the ledger share.

/**
 * unchanged: its fingerprint and check already held, nothing done. changed: it acted.
 * verified: a check-only step passed. failed: it failed on this host. blocked: not attempted
 * because something it depends on (an earlier step, the init host) failed. cancelled: the run
 * was interrupted before or while it ran.
 */
export type StepStatus = 'unchanged' | 'changed' | 'verified' | 'failed' | 'blocked' | 'cancelled';

export interface StepError {
  message: string;
  /** The remote command's exit code, when a command failed. */
  exitCode?: number;
  /** Last lines of the command's output (redacted of secrets). */
  output?: string;
  hint?: string;
}

export interface StepResult {
  key: string;
  title: string;
  status: StepStatus;
  fingerprint?: string;
  startedAt: string;
  durationMs: number;
  error?: StepError;
  /** e.g. "2 files written, containerd bundle uploaded (36.6 MB)" */
  detail?: string;
}

/** reset: `kubeforge reset` took the host out of the cluster and removed what kubeforge installed. */
export type HostStatus = 'ok' | 'failed' | 'blocked' | 'cancelled' | 'reset';

export interface HostResult {
  host: string;
  role: string;
  status: HostStatus;
  steps: StepResult[];
  /** The step that failed or blocked the host, and why. */
  reason?: string;
  /** Its node's Ready condition at the end of the run (when kubeforge waited for it). */
  node?: { ready: boolean; message: string };
  /** Preflight warnings: what kubeadm only warns about. */
  warnings?: string[];
}

/** Events a run emits, for the progress views (live terminal view, plain lines, JSON). */
export interface RunEvents {
  hostActivity(host: string, text: string): void;
  stepStart(host: string, key: string, title: string): void;
  /** `from`: the peer relaying the copy (no `from`: this machine is sending it). */
  uploadProgress(host: string, key: string, bundle: string, sent: number, total: number, from?: string): void;
  stepEnd(host: string, result: StepResult): void;
  hostEnd(result: HostResult): void;
}
