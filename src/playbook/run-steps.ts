// The step runner for one host, in the k0sctl manner: for each step gather facts (its marker,
// its files' hashes, its check), decide whether anything needs doing, then act. That makes a
// rerun cheap and safe: a step whose inputs and check still hold is left alone.
import { RemoteCommandError, tailLines, type Remote } from '../run/remote.js';
import type { RunEvents, StepResult, StepStatus } from '../run/outcome.js';
import { sweepEnv, sweepScript } from '../relay/scripts.js';
import { REMOTE_BUNDLE_DIR, REMOTE_MARKER_DIR, REMOTE_STATE_DIR, type HostPlan, type PlannedBundle, type PlannedStep } from './plan.js';

/** How a bundle reached the host: already there, sent from the laptop, or relayed from a peer. */
export interface BundleSent {
  status: 'unchanged' | 'uploaded' | 'relayed';
  /** The host it was relayed from. */
  from?: string;
  /** A relay was tried first and failed: why (the laptop then sent it). */
  relayFailed?: string;
}

/** Puts one bundle on this host (verified by sha256 at its final path), by whatever route. */
export type SendBundle = (bundle: PlannedBundle, signal: AbortSignal, onProgress: (sent: number, total: number, from?: string) => void) => Promise<BundleSent>;

export interface StepRunOptions {
  signal: AbortSignal;
  /** Applied to every secret-free but possibly sensitive output before it is kept. */
  redact: (text: string) => string;
  /** Sends a bundle to this host (the laptop's upload slots and the relay live behind it). */
  sendBundle: SendBundle;
  /** This run's relay id: traces of other runs' relays are swept when the host starts. */
  relayRunId?: string;
  /** Overrides every step's own timeout (from the command line). */
  stepTimeoutMs?: number;
}

/**
 * Leftovers of a run that lost its connection mid-step (a dead link, a killed sshd, a second
 * Ctrl-C): partial uploads, staging dirs, secret config files. Swept at the start of every run
 * on the host and after an interrupted one; never a file at a final path.
 */
const SWEEP_TEMPORARIES = [
  'rm -rf "$KF_D1"/staging.*',
  'rm -f "$KF_D1"/secrets/kubeadm-*.yaml',
  'find "$KF_D2" -maxdepth 1 -name ".*.kubeforge-*.tmp" -type f -delete',
].join('\n');

/** Removes what an interrupted step left behind, on a fresh deadline (the run's signal is spent). */
export async function sweepTemporaries(remote: Remote, plan: HostPlan): Promise<void> {
  const dirs = [...new Set(plan.steps.flatMap((s) => s.files.map((f) => f.path.replace(/\/[^/]+$/, '') || '/')))];
  const inWritten = perPath('KF_W', dirs, (d) => `[ -d "${d}" ] && find "${d}" -maxdepth 1 \\( -name ".*.kubeforge-*.tmp" -o -name ".*.kubeforge-candidate" \\) -type f -delete`);
  const env = { ...inWritten.env, KF_D1: REMOTE_STATE_DIR, KF_D2: REMOTE_BUNDLE_DIR };
  await remote
    .exec(`${SWEEP_TEMPORARIES}\n${inWritten.script}\ntrue`, { env, signal: AbortSignal.timeout(15_000) })
    .catch(() => undefined);
}

export async function runHostSteps(remote: Remote, plan: HostPlan, events: RunEvents, opts: StepRunOptions): Promise<StepResult[]> {
  const host = plan.host.name;
  const results: StepResult[] = [];
  await remote.exec(`umask 022; mkdir -p "$KF_D1" "$KF_D2" "$KF_D3"\n${SWEEP_TEMPORARIES}\n${sweepScript}`, {
    env: { KF_D1: REMOTE_STATE_DIR, KF_D2: REMOTE_BUNDLE_DIR, KF_D3: REMOTE_MARKER_DIR, ...sweepEnv(plan.host.ssh.user, opts.relayRunId) },
    signal: opts.signal,
  });
  const markers = await readMarkers(remote, opts.signal);
  let failed: string | undefined;
  for (const step of plan.steps) {
    if (failed || opts.signal.aborted) {
      results.push(notRun(step, opts.signal.aborted ? 'cancelled' : 'blocked', failed));
      events.stepEnd(host, results.at(-1)!);
      continue;
    }
    events.stepStart(host, step.key, step.title);
    const result = await runStep(remote, step, markers.get(markerName(step)), events, host, opts);
    results.push(result);
    events.stepEnd(host, result);
    if (result.status === 'failed' || result.status === 'cancelled') failed = step.key;
  }
  return results;
}

function notRun(step: PlannedStep, status: StepStatus, after?: string): StepResult {
  return {
    key: step.key,
    title: step.title,
    status,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    ...(after ? { error: { message: `not run: ${after} failed` } } : {}),
  };
}

function markerName(step: PlannedStep): string {
  return `${step.playbook}.${step.id}`;
}

async function readMarkers(remote: Remote, signal: AbortSignal): Promise<Map<string, string>> {
  const r = await remote.exec(
    `for f in "$KF_DIR"/*; do [ -f "$f" ] && printf '%s %s\\n' "\${f##*/}" "$(cat "$f")"; done; true`,
    { env: { KF_DIR: REMOTE_MARKER_DIR }, signal },
  );
  const markers = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const [name, fingerprint] = line.split(' ');
    if (name && fingerprint) markers.set(name, fingerprint);
  }
  return markers;
}

async function runStep(
  remote: Remote,
  step: PlannedStep,
  marker: string | undefined,
  events: RunEvents,
  host: string,
  opts: StepRunOptions,
): Promise<StepResult> {
  const startedAt = new Date();
  const timeoutMs = opts.stepTimeoutMs ?? step.timeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([opts.signal, timeout]);
  const done = (status: StepStatus, extra: Partial<StepResult> = {}): StepResult => ({
    key: step.key,
    title: step.title,
    status,
    fingerprint: step.fingerprint,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    ...extra,
  });
  const sh = (script: string, env: Record<string, string> = {}) =>
    remote.exec(script, { env: { ...step.env, ...env }, signal, timeoutMs });
  const mustRun = async (what: string, script: string, env?: Record<string, string>) => {
    const r = await sh(script, env);
    if (r.code !== 0) {
      const output = tailLines(opts.redact(`${r.stdout}\n${r.stderr}`));
      throw new RemoteCommandError(`${what} failed (exit ${r.code})${firstLine(output)}`, r.code, output);
    }
  };

  try {
    if (step.verifyOnly) {
      await mustRun('verify', step.verify!);
      return done('verified');
    }

    // Gather: what the host has now.
    events.hostActivity(host, `${step.key}: checking`);
    const changedFiles = await filesThatDiffer(remote, step, signal);
    const checkHolds = step.check ? (await sh(step.check)).code === 0 : true;
    if (marker === step.fingerprint && changedFiles.length === 0 && checkHolds) {
      return done('unchanged');
    }

    // Act.
    const details: string[] = [];
    // A bundle the host may not need at all (OS packages it already has) goes only when the check fails.
    const bundles = step.bundlesIfNeeded && checkHolds ? [] : step.bundles;
    for (const b of bundles) {
      events.hostActivity(host, `${step.key}: sending ${b.kind} bundle`);
      const sent = await opts.sendBundle(b, signal, (n, total, from) => events.uploadProgress(host, step.key, b.bundle.name, n, total, from));
      if (sent.relayFailed) details.push(`relay failed (${sent.relayFailed})`);
      if (sent.status === 'uploaded') details.push(`${b.bundle.name} uploaded (${formatBytes(b.bundle.size)})`);
      if (sent.status === 'relayed') details.push(`${b.bundle.name} relayed from ${sent.from} (${formatBytes(b.bundle.size)})`);
    }
    for (const file of changedFiles) {
      events.hostActivity(host, `${step.key}: writing ${file.path}`);
      await remote.writeFile(file.path, file.content, {
        mode: file.mode,
        validate: file.validate,
        keepPrevious: step.rollback,
        signal,
      });
    }
    if (changedFiles.length) details.push(`${changedFiles.length} file${changedFiles.length > 1 ? 's' : ''} written`);

    try {
      if (step.run) {
        events.hostActivity(host, `${step.key}: running`);
        await mustRun('run', step.run);
      }
      if (step.verify) await mustRun('verify', step.verify);
      if (step.check && (await sh(step.check)).code !== 0) {
        throw new RemoteCommandError('the step ran but its check still fails', 1, '');
      }
    } catch (err) {
      if (step.rollback && changedFiles.length > 0 && !signal.aborted) {
        const restored = await rollBack(remote, step, changedFiles.map((f) => f.path), signal);
        if (err instanceof Error) err.message += restored ? '; the previous files were put back' : '; putting the previous files back failed too';
      }
      throw err;
    }
    if (step.rollback) await dropPrevious(remote, changedFiles.map((f) => f.path), signal);
    await remote.exec(`umask 022; printf '%s\\n' "$KF_FP" > "$KF_MARKER.tmp" && mv -f "$KF_MARKER.tmp" "$KF_MARKER"`, {
      env: { KF_FP: step.fingerprint, KF_MARKER: `${REMOTE_MARKER_DIR}/${markerName(step)}` },
      signal,
    });
    return done('changed', details.length ? { detail: details.join(', ') } : {});
  } catch (err) {
    if (opts.signal.aborted) return done('cancelled', { error: { message: 'interrupted' } });
    if (timeout.aborted) {
      return done('failed', {
        error: { message: `timed out after ${Math.round(timeoutMs / 1000)} s`, hint: 'raise the step timeout with --step-timeout or the playbook\'s `timeout`' },
      });
    }
    if (err instanceof RemoteCommandError) {
      return done('failed', { error: { message: opts.redact(err.message), exitCode: err.exitCode, output: err.output } });
    }
    const e = err as Error & { hint?: string };
    return done('failed', { error: { message: opts.redact(e.message), ...(e.hint ? { hint: e.hint } : {}) } });
  }
}

function firstLine(output: string): string {
  const line = output.split('\n').find((l) => l.trim() !== '');
  return line ? `: ${line.trim().slice(0, 200)}` : '';
}

/** One round trip: the sha256 of every file the step manages, compared with the plan. */
async function filesThatDiffer(remote: Remote, step: PlannedStep, signal: AbortSignal) {
  if (step.files.length === 0) return [];
  const { env, script } = perPath(
    'KF_F',
    step.files.map((f) => f.path),
    (f, i) => `if [ -f "${f}" ]; then printf '%s %s %s\\n' ${i} "$(sha256sum < "${f}" | cut -d' ' -f1)" "$(stat -c %a "${f}")"; else echo ${i} missing; fi`,
  );
  const r = await remote.exec(script, { env, signal });
  const have = new Map<number, string>();
  for (const line of r.stdout.split('\n')) {
    const [i, sum, mode] = line.split(' ');
    if (i !== undefined && sum) have.set(Number(i), `${sum} ${mode ?? ''}`);
  }
  // Modes count too: the right content with the wrong mode (a secret left readable) is wrong.
  return step.files.filter((f, i) => have.get(i) !== `${f.sha256} ${f.mode.toString(8)}`);
}

async function rollBack(remote: Remote, step: PlannedStep, paths: string[], signal: AbortSignal): Promise<boolean> {
  const restore = perPath('KF_P', paths, (p) => `if [ -e "${p}.kubeforge-prev" ]; then mv -f "${p}.kubeforge-prev" "${p}"; else rm -f "${p}"; fi`);
  const r = await remote.exec(restore.script, { env: restore.env, signal });
  if (r.code !== 0) return false;
  // Bring the service back on the old files; its own result decides nothing further. The
  // marker is left alone: it was never moved to the new fingerprint, and still describes the
  // files that are back.
  if (step.run) await remote.exec(step.run, { env: step.env, signal }).catch(() => undefined);
  return true;
}

async function dropPrevious(remote: Remote, paths: string[], signal: AbortSignal): Promise<void> {
  const drop = perPath('KF_P', paths, (p) => `rm -f "${p}.kubeforge-prev"`);
  await remote.exec(drop.script, { env: drop.env, signal });
}

/**
 * A script with one line per path, each path passed as a quoted variable (PREFIX0, PREFIX1, …)
 * and referred to as `$PREFIXn` in its line: never spliced into the text.
 */
function perPath(prefix: string, paths: string[], line: (ref: string, i: number) => string): { env: Record<string, string>; script: string } {
  const env: Record<string, string> = {};
  const script = paths
    .map((p, i) => {
      env[`${prefix}${i}`] = p;
      return line(`$${prefix}${i}`, i);
    })
    .join('\n');
  return { env, script };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
