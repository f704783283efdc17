// `kubeforge reset`: hosts out of the cluster and back to what they were before kubeforge —
// inventory → which hosts, in which order (refusals here, before any connection) → confirmation
// → per host: drain (through a control plane that stays), reset on the host, delete its node
// → ledger and summary.
import fs from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { ExitCode, InputError, InterruptedError } from '../../errors.js';
import { loadInventory } from '../../inventory/index.js';
import { newRunId, readState, writeRun } from '../../ledger/ledger.js';
import type { Cluster, Host } from '../../model.js';
import { loadPlaybooks } from '../../playbook/load.js';
import { parseDuration, planCluster, type HostPlan } from '../../playbook/plan.js';
import { defaultKubeconfigPath } from '../../run/orchestrate.js';
import type { HostResult, RunEvents, StepResult, StepStatus } from '../../run/outcome.js';
import { RemoteCommandError, type Remote } from '../../run/remote.js';
import { sshConnector } from '../../ssh/remote.js';
import { Redactor } from '../../cluster/secrets.js';
import type { KubectlContext } from '../../cluster/kubectl.js';
import { clusterAnswers, deleteNode, drainNode } from '../../cluster/node-drain.js';
import { jsonReporter } from '../../ui/json.js';
import { plainReporter, summaryTable } from '../../ui/plain.js';
import { askHidden, askSudoPassword } from '../up/sudo-password.js';
import { confirmReset, describeReset } from './confirm.js';
import { hostResetScript, parseResetReport, type PartOutcome } from './host-script.js';
import { selectForReset, type ResetSelection } from './select.js';

export interface ResetFlags {
  inventory: string;
  limit?: string;
  all?: boolean;
  yes?: boolean;
  removeImages?: boolean;
  json?: boolean;
  acceptNewHostKeys?: boolean;
  askSudoPassword?: boolean;
  playbooks?: string;
  drainTimeout: string;
  concurrency: string;
}

/** How long the reset script may run on one host (kubeadm reset, stopping services, removing files). */
const HOST_RESET_TIMEOUT_MS = 10 * 60_000;

export async function resetCommand(flags: ResetFlags): Promise<number> {
  const out = (line: string) => process.stdout.write(line + '\n');
  const err = (line: string) => process.stderr.write(line + '\n');
  const inventoryPath = path.resolve(flags.inventory);

  // Every input problem and every refusal before any host is contacted.
  const { cluster, warnings } = await loadInventory(flags.inventory);
  for (const w of warnings) err(`warning: ${w}`);
  if (flags.acceptNewHostKeys) for (const h of cluster.hosts) h.ssh.acceptNewHostKeys = true;
  const selection = selectForReset(cluster, { ...(flags.limit ? { limit: flags.limit } : {}), ...(flags.all ? { all: true } : {}) }, await readState(inventoryPath));
  let drainTimeoutMs: number;
  try {
    drainTimeoutMs = parseDuration(flags.drainTimeout);
  } catch {
    throw new InputError('--drain-timeout', `"${flags.drainTimeout}" is not a duration`, 'e.g. 5m or 90s');
  }
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InputError('--concurrency', `expects a whole number of at least 1, got "${flags.concurrency}"`);
  const plans = new Map(planCluster(cluster, await loadPlaybooks(flags.playbooks)).map((p) => [p.host.name, p]));

  err(describeReset(cluster, selection, flags.removeImages === true));
  const interactive = process.stdin.isTTY === true;
  if (!(await confirmReset(selection.hosts.length, { yes: flags.yes === true, interactive }))) {
    err('nothing was reset');
    return ExitCode.hostsFailed;
  }
  if (flags.askSudoPassword) await askSudoPassword(cluster, interactive, askHidden);

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts === 1) {
      err('\ninterrupted: stopping the running commands (Ctrl-C again to exit at once)');
      controller.abort(new InterruptedError());
    } else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  const events: RunEvents = flags.json ? jsonReporter(out) : plainReporter(out);
  const started = new Date();
  try {
    const results = await runReset(cluster, selection, plans, events, {
      signal: controller.signal,
      removeImages: flags.removeImages === true,
      drainTimeoutMs,
      concurrency,
      note: (line) => (flags.json ? out(JSON.stringify({ time: new Date().toISOString(), event: 'note', text: line })) : err(line)),
    });
    const interrupted = controller.signal.aborted;
    const allReset = results.every((h) => h.status === 'reset');
    const exitCode = interrupted ? ExitCode.interrupted : allReset ? ExitCode.ok : ExitCode.hostsFailed;

    // The laptop's admin.conf names a cluster that is gone once its init host is reset.
    const first = cluster.hosts.find((h) => h.role === 'control-plane')!;
    const initGone = results.some((r) => r.host === first.name && r.status === 'reset');
    const kubeconfig = defaultKubeconfigPath(cluster);
    let kubeconfigPath: string | undefined;
    if (initGone) await fs.rm(kubeconfig, { force: true });
    else if (await exists(kubeconfig)) kubeconfigPath = kubeconfig;

    const finished = new Date();
    const ledgerFile = await writeRun(inventoryPath, {
      id: newRunId(started),
      command: 'reset',
      inventory: inventoryPath,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      exitCode,
      ...(flags.all ? {} : { limitedTo: selection.hosts.map((h) => h.name) }),
      interrupted,
      hosts: results,
      ...(kubeconfigPath ? { kubeconfigPath } : {}),
    });
    if (flags.json) {
      out(JSON.stringify({ event: 'summary', exitCode, hosts: results.map((h) => ({ host: h.host, status: h.status, reason: h.reason })), ledger: ledgerFile }));
      return exitCode;
    }
    out('');
    out(summaryTable(results));
    out('');
    for (const h of results.filter((x) => x.status === 'failed')) {
      const failed = h.steps.find((s) => s.status === 'failed');
      if (failed?.error?.output) out(`${h.host} ${failed.key} output (last lines):\n${failed.error.output.split('\n').map((l) => `    ${l}`).join('\n')}`);
      if (failed?.error?.hint) out(`${h.host} hint: ${failed.error.hint}`);
    }
    if (initGone) out(`removed ${displayPath(kubeconfig)}: its cluster is gone`);
    out(`took ${((finished.getTime() - started.getTime()) / 1000).toFixed(1)} s; ledger: ${displayPath(ledgerFile)}`);
    if (allReset) out(`bring them back with: kubeforge up -i ${flags.inventory}`);
    else if (!interrupted) out(`fix the cause, then run the same reset again: it takes up where it stopped`);
    return exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Relative to the working directory when inside it, absolute otherwise. */
function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

interface RunOptions {
  signal: AbortSignal;
  removeImages: boolean;
  drainTimeoutMs: number;
  concurrency: number;
  note: (line: string) => void;
}

/** The reset itself, group after group; each host's outcome (in inventory order). */
async function runReset(cluster: Cluster, selection: ResetSelection, plans: Map<string, HostPlan>, events: RunEvents, opts: RunOptions): Promise<HostResult[]> {
  const connect = sshConnector();
  const redactor = new Redactor();
  for (const h of cluster.hosts) redactor.add(h.ssh.password, h.ssh.passphrase, h.ssh.sudoPassword);
  const kctx: KubectlContext = { signal: opts.signal, redact: redactor.redact };

  // The control plane the nodes are drained and deleted through, when the cluster answers there.
  let via: Remote | undefined;
  if (selection.via && selection.drained.size > 0) {
    const name = selection.via.name;
    try {
      const remote = await connect(selection.via, opts.signal);
      const answer = await clusterAnswers(remote, kctx);
      if (answer.ok) via = remote;
      else {
        remote.close();
        opts.note(`the cluster does not answer through ${name} (${answer.why}): nodes are not drained or deleted; the hosts are reset all the same`);
      }
    } catch (e) {
      opts.note(`cannot reach ${name} to drain the nodes (${(e as Error).message}): nodes are not drained or deleted; the hosts are reset all the same`);
    }
  }

  const results: HostResult[] = [];
  try {
    for (const group of selection.groups) {
      const limit = pLimit(group.oneAtATime ? 1 : opts.concurrency);
      results.push(
        ...(await Promise.all(
          group.hosts.map((host) =>
            limit(() => resetHost(cluster, host, plans.get(host.name)!, { ...opts, events, connect, kctx, redactor, ...(via && selection.drained.has(host.name) ? { via } : {}) })),
          ),
        )),
      );
    }
  } finally {
    via?.close();
  }
  const order = new Map(cluster.hosts.map((h, i) => [h.name, i]));
  return results.sort((a, b) => order.get(a.host)! - order.get(b.host)!);
}

interface HostContext extends RunOptions {
  events: RunEvents;
  connect: ReturnType<typeof sshConnector>;
  kctx: KubectlContext;
  redactor: Redactor;
  /** kubectl on a control plane that stays: this host's node is drained before and deleted after. */
  via?: Remote;
}

async function resetHost(cluster: Cluster, host: Host, plan: HostPlan, ctx: HostContext): Promise<HostResult> {
  const steps: StepResult[] = [];
  const finish = (status: HostResult['status'], reason?: string): HostResult => {
    const result: HostResult = { host: host.name, role: host.role, status, steps, ...(reason ? { reason } : {}) };
    ctx.events.hostEnd(result);
    return result;
  };
  const record = (step: StepResult) => {
    steps.push(step);
    ctx.events.stepEnd(host.name, step);
    return step;
  };
  if (ctx.signal.aborted) return finish('cancelled', 'interrupted');

  // 1. The node's pods go elsewhere first.
  if (ctx.via) {
    const t = Date.now();
    ctx.events.hostActivity(host.name, 'waiting for kubectl drain');
    try {
      const drained = await drainNode(ctx.via, host.name, ctx.kctx, { timeoutMs: ctx.drainTimeoutMs });
      record(stepResult('cluster/drain', `drain node ${host.name}`, drained === 'done' ? 'changed' : 'unchanged', t, drained === 'not-found' ? { detail: 'the cluster has no such node' } : {}));
    } catch (e) {
      const failed = record(failedStep('cluster/drain', `drain node ${host.name}`, t, e, ctx, `the node stays cordoned and nothing on ${host.name} was changed; see the pods kubectl names, then run the reset again (kubectl uncordon ${host.name} puts the node back in service)`));
      return finish(ctx.signal.aborted ? 'cancelled' : 'failed', `${failed.key}: ${failed.error?.message ?? ''}`);
    }
  }

  // 2. The host itself.
  let remote: Remote;
  const connectStarted = Date.now();
  ctx.events.hostActivity(host.name, 'connecting');
  try {
    remote = await ctx.connect(host, ctx.signal);
  } catch (e) {
    const failed = record(failedStep('connect', 'connect over SSH', connectStarted, e, ctx));
    return finish(ctx.signal.aborted ? 'cancelled' : 'failed', `connect: ${failed.error?.message ?? ''}`);
  }
  let outcomes: PartOutcome[];
  const resetStarted = Date.now();
  const reset = hostResetScript(cluster, plan, { removeImages: ctx.removeImages });
  try {
    ctx.events.hostActivity(host.name, 'kubeadm reset, then removing what kubeforge installed');
    const r = await remote.exec(reset.script, { env: reset.env, signal: ctx.signal, timeoutMs: HOST_RESET_TIMEOUT_MS });
    outcomes = parseResetReport(reset, plan, r.stdout);
    if (r.code !== 0 && outcomes.every((o) => o.status !== 'failed')) {
      throw new RemoteCommandError(`the reset script failed (exit ${r.code}): ${ctx.redactor.redact(r.stderr).trim().split('\n').pop() ?? ''}`, r.code, ctx.redactor.redact(r.stderr));
    }
  } catch (e) {
    remote.close();
    const failed = record(failedStep('reset', 'reset the host', resetStarted, e, ctx));
    return finish(ctx.signal.aborted ? 'cancelled' : 'failed', `reset: ${failed.error?.message ?? ''}`);
  }
  remote.close();
  const titles = new Map(reset.parts.map((p) => [p.key, p.title]));
  let partStarted = resetStarted;
  for (const o of outcomes) {
    const title = titles.get(o.key) ?? o.key;
    const status: StepStatus = { ok: 'changed', none: 'unchanged', absent: 'unchanged', kept: 'unchanged', failed: 'failed', 'not-run': 'blocked' }[o.status] as StepStatus;
    const detail = { absent: 'not installed', none: 'nothing to undo', kept: 'kept: a part above failed and needs what is there to be undone next time' }[o.status as string];
    const step: StepResult = { ...stepResult(o.key, title, status, partStarted, detail ? { detail } : {}), durationMs: o.ms ?? 0 };
    partStarted += o.ms ?? 0;
    if (o.status === 'failed') {
      step.error = { message: `${title} failed (exit ${o.exitCode ?? '?'})${o.output ? `: ${ctx.redactor.redact(o.output).split('\n').pop()}` : ''}`, ...(o.exitCode !== undefined ? { exitCode: o.exitCode } : {}), ...(o.output ? { output: ctx.redactor.redact(o.output) } : {}) };
    }
    record(step);
  }
  const bad = outcomes.find((o) => o.status === 'failed');
  if (bad) return finish('failed', `${bad.key}: ${steps.find((s) => s.key === bad.key)?.error?.message ?? 'failed'}`);

  // 3. The node object goes once nothing on the host can register it again.
  if (ctx.via) {
    const t = Date.now();
    try {
      const deleted = await deleteNode(ctx.via, host.name, ctx.kctx);
      record(stepResult('cluster/delete-node', `delete node ${host.name}`, deleted === 'done' ? 'changed' : 'unchanged', t, deleted === 'not-found' ? { detail: 'the cluster has no such node' } : {}));
    } catch (e) {
      const failed = record(failedStep('cluster/delete-node', `delete node ${host.name}`, t, e, ctx, `the host is reset; remove the node with kubectl delete node ${host.name}, or run the reset again`));
      return finish(ctx.signal.aborted ? 'cancelled' : 'failed', `${failed.key}: ${failed.error?.message ?? ''}`);
    }
  }
  return finish('reset');
}

function stepResult(key: string, title: string, status: StepStatus, startedMs: number, extra: Partial<StepResult> = {}): StepResult {
  return { key, title, status, startedAt: new Date(startedMs).toISOString(), durationMs: Date.now() - startedMs, ...extra };
}

function failedStep(key: string, title: string, startedMs: number, e: unknown, ctx: HostContext, hint?: string): StepResult {
  const err = e as Error & { hint?: string };
  const step = stepResult(key, title, ctx.signal.aborted ? 'cancelled' : 'failed', startedMs);
  const h = err.hint ?? hint;
  step.error = { message: ctx.redactor.redact(err.message), ...(h ? { hint: h } : {}) };
  if (e instanceof RemoteCommandError) step.error = { ...step.error, exitCode: e.exitCode, output: e.output };
  return step;
}
