// The step runner for one host, in the k0sctl manner: gather facts (each step's marker, its
// files' hashes, its check), decide whether anything needs doing, then act. That makes a rerun
// cheap and safe: a step whose inputs and check still hold is left alone. The facts of every
// step come in one round trip (gather.ts), gathered again for the steps after one that acted.
import { RemoteCommandError, tailLines, type Remote } from '../run/remote.js';
import type { RunEvents, StepResult, StepStatus } from '../run/outcome.js';
import { NO_RELAY_TRACES, sweepEnv, sweepScript } from '../relay/scripts.js';
import type { AlongOutput, AlongWithFacts } from '../run/facts.js';
import { decideStep } from './decide.js';
import { GatherError, gatherRequest, markerName, NOTHING_TO_SWEEP, parseGather, SWEEP_TEMPORARIES, type GatherOptions, type StepFacts } from './gather.js';
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
  /** The first gather, already answered (gatherAhead): used instead of asking the host again. */
  gathered?: Map<number, StepFacts>;
}

/**
 * The first gather of a host, asked ahead: it rides along with the host's facts (one round trip
 * where a converged host took two), before the preflight has passed everywhere. So it only
 * looks: no prelude (no directories made, nothing swept), and the checks and verifies it runs
 * only look, as they must anyway. It runs only when the prelude would have had nothing to do
 * (NOTHING_TO_SWEEP, NO_RELAY_TRACES: a host kubeforge has converged before), and its answer is
 * used only when the host's plan after its facts has exactly the steps it asked about;
 * otherwise the host is gathered as usual, prelude first.
 */
export interface GatherAhead {
  along: AlongWithFacts;
  /** The facts for runHostSteps' `gathered`, or undefined when the host must be asked again. */
  read(output: AlongOutput | undefined, plan: HostPlan): Map<number, StepFacts> | undefined;
}

export function gatherAhead(plan: HostPlan, opts: { stepTimeoutMs?: number } = {}): GatherAhead | undefined {
  if (plan.steps.length === 0) return undefined;
  const request = gatherRequest(plan.steps, 0, opts.stepTimeoutMs ? { stepTimeoutMs: opts.stepTimeoutMs } : {});
  const clean = `${request.nonce} nothing-to-sweep`;
  const sweepVars = Object.fromEntries(Object.entries(sweepEnv(plan.host.ssh.user, undefined)).filter(([name]) => !(name in request.env)));
  // Where the answer could not be used, the checks do not run ahead at all: they run once, later.
  const script = [
    `if {\n${NOTHING_TO_SWEEP} &&\n${NO_RELAY_TRACES}\n} </dev/null >/dev/null 2>&1; then`,
    `printf '%s\\n' "$KFA_CLEAN"`,
    // The checks see their own variables only.
    `unset KFA_CLEAN ${Object.keys(sweepVars).join(' ')}`,
    request.script,
    'fi',
  ].join('\n');
  const asked = plan.steps.map(stepIdentity);
  return {
    along: { script, env: { ...request.env, ...sweepVars, KFA_CLEAN: clean }, timeoutMs: request.backstopMs },
    read(output, replanned) {
      if (!output || output.stdout.split('\n', 1)[0] !== clean) return undefined;
      const now = replanned.steps.map(stepIdentity);
      if (now.length !== asked.length || now.some((id, i) => id !== asked[i])) return undefined;
      try {
        return parseGather(request, replanned.steps, output.stdout, output.stderr);
      } catch {
        return undefined; // asked again, with the usual error if it fails again
      }
    },
  };
}

/** What a gather asks about a step: its marker's fingerprint, its files, its probe. */
function stepIdentity(step: PlannedStep): string {
  return JSON.stringify([step.key, step.fingerprint, step.files.map((f) => f.path), step.verifyOnly ? step.verify : step.check, step.env, step.timeoutMs]);
}

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
  // Facts of the steps still to decide, from the last gather; dropped once a step acted, since
  // what it did can change what the steps after it find.
  let gathered: Map<number, StepFacts> | undefined = opts.gathered;
  // Answered ahead only when the prelude had nothing to do (gatherAhead).
  let firstGather = opts.gathered === undefined;
  const factsOf = async (index: number): Promise<StepFacts> => {
    let facts = gathered?.get(index);
    if (!facts) {
      // The first gather of the run also creates kubeforge's directories and sweeps leftovers
      // (with other runs' relay traces).
      const prelude = firstGather ? { script: sweepScript, env: sweepEnv(plan.host.ssh.user, opts.relayRunId) } : undefined;
      gathered = await gatherStepFacts(remote, plan.steps, index, {
        signal: opts.signal,
        redact: opts.redact,
        ...(prelude ? { prelude } : {}),
        ...(opts.stepTimeoutMs ? { stepTimeoutMs: opts.stepTimeoutMs } : {}),
      });
      firstGather = false;
      facts = gathered.get(index);
      if (!facts) throw new GatherError(`the host said nothing about step ${plan.steps[index]!.key}`);
    }
    return facts;
  };
  let failed: string | undefined;
  for (const [index, step] of plan.steps.entries()) {
    if (failed || opts.signal.aborted) {
      results.push(notRun(step, opts.signal.aborted ? 'cancelled' : 'blocked', failed));
      events.stepEnd(host, results.at(-1)!);
      continue;
    }
    events.stepStart(host, step.key, step.title);
    const result = await runStep(remote, step, () => factsOf(index), events, host, opts);
    results.push(result);
    events.stepEnd(host, result);
    if (result.status === 'changed') gathered = undefined;
    if (result.status === 'failed' || result.status === 'cancelled') failed = step.key;
  }
  return results;
}

/** One round trip: the facts of steps[from..] (the host stops after the first that will act). */
async function gatherStepFacts(
  remote: Remote,
  steps: PlannedStep[],
  from: number,
  opts: GatherOptions & { signal: AbortSignal; redact: (text: string) => string },
): Promise<Map<number, StepFacts>> {
  const { signal, redact, ...gatherOptions } = opts;
  const request = gatherRequest(steps, from, gatherOptions);
  // Each check has its own timeout on the host; this one only bounds a host without timeout(1).
  const r = await remote.exec(request.script, { env: request.env, signal, timeoutMs: request.backstopMs });
  try {
    return parseGather(request, steps, r.stdout, r.stderr);
  } catch (err) {
    const output = tailLines(redact(r.stderr));
    throw new RemoteCommandError(`gathering the steps' facts failed (exit ${r.code}): ${(err as Error).message}${firstLine(output)}`, r.code, output);
  }
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

async function runStep(
  remote: Remote,
  step: PlannedStep,
  gather: () => Promise<StepFacts>,
  events: RunEvents,
  host: string,
  opts: StepRunOptions,
): Promise<StepResult> {
  const startedAt = new Date();
  const timeoutMs = opts.stepTimeoutMs ?? step.timeoutMs;
  // Set when the step acts: what is left of its time after its check ran.
  let timeout: AbortSignal | undefined;
  let signal = opts.signal;
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
    if (r.code !== 0) throw commandFailed(what, r.code, `${r.stdout}\n${r.stderr}`, opts.redact);
  };

  try {
    // Gather: what the host has now (this step's share of one round trip for many steps).
    if (!step.verifyOnly) events.hostActivity(host, `${step.key}: checking`);
    const facts = await gather();
    const probe = facts.probe;

    // Decide (decide.ts: the same decision `kubeforge plan` prints).
    const decision = decideStep(step, facts);
    if (decision.action === 'fail') {
      if (decision.why === 'timeout') throw new StepTimedOut();
      throw commandFailed('verify', decision.probe.code, `${decision.probe.stdout}\n${decision.probe.stderr}`, opts.redact);
    }
    if (decision.action === 'verified') return done('verified');
    if (decision.action === 'unchanged') return done('unchanged');
    const changedFiles = decision.files;

    // Act, with what is left of the step's time after its check.
    timeout = AbortSignal.timeout(Math.max(1, timeoutMs - (probe?.ms ?? 0)));
    signal = AbortSignal.any([opts.signal, timeout]);
    const details: string[] = [];
    for (const b of decision.bundles) {
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
    if (err instanceof StepTimedOut || timeout?.aborted) {
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

/** The step's check or verify ran out the step's time on the host. */
class StepTimedOut extends Error {}

function commandFailed(what: string, code: number, output: string, redact: (text: string) => string): RemoteCommandError {
  const tail = tailLines(redact(output));
  return new RemoteCommandError(`${what} failed (exit ${code})${firstLine(tail)}`, code, tail);
}

function firstLine(output: string): string {
  const line = output.split('\n').find((l) => l.trim() !== '');
  return line ? `: ${line.trim().slice(0, 200)}` : '';
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
