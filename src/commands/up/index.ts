// `kubeforge up`: inventory → plan → run on every host → ledger and summary.
import path from 'node:path';
import { ExitCode, formatError, InputError, InternalError, InterruptedError } from '../../errors.js';
import { loadInventory } from '../../inventory/index.js';
import { hostsToRetry, newRunId, readState, writeRun } from '../../ledger/ledger.js';
import { loadPlaybooks } from '../../playbook/load.js';
import { planCluster, planHost, parseDuration } from '../../playbook/plan.js';
import { bundleContents } from '../../bundle/contents.js';
import { planFactsFrom } from '../../run/facts.js';
import { defaultKubeconfigPath, up } from '../../run/orchestrate.js';
import type { RunEvents } from '../../run/outcome.js';
import { sshConnector } from '../../ssh/remote.js';
import { shellQuote } from '../../ssh/quote.js';
import { jsonReporter } from '../../ui/json.js';
import { plainReporter, summaryTable } from '../../ui/plain.js';
import { liveProgress } from '../../ui/live.js';
import { sshSourceLines } from '../../ui/ssh-sources.js';
import { parseLimit } from './select.js';
import { askHidden, askSudoPassword } from './sudo-password.js';

export interface UpFlags {
  inventory: string;
  acceptNewHostKeys?: boolean;
  concurrency: string;
  uploadConcurrency: string;
  relay?: string;
  stepTimeout?: string;
  retryFailed?: boolean;
  limit?: string;
  maxFail?: string;
  json?: boolean;
  playbooks?: string;
  askSudoPassword?: boolean;
  /** --merge-kubeconfig: merge admin.conf into $KUBECONFIG / ~/.kube/config after a successful run. */
  mergeKubeconfig?: boolean;
  wait: string;
  /** -v: print where each host's SSH settings came from (inventory, ssh config file:line, default). */
  verbose?: boolean;
  /** --no-progress: nothing but the summary. */
  progress?: boolean;
  /** --max-unavailable: workers an upgrade drains and upgrades at once. */
  maxUnavailable?: string;
}

function silentReporter(): RunEvents {
  const nothing = () => {};
  return { hostActivity: nothing, stepStart: nothing, uploadProgress: nothing, stepEnd: nothing, hostEnd: nothing };
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InputError(flag, `expects a whole number of at least 1, got "${value}"`, `e.g. ${flag} 8`);
  return n;
}

/** --max-fail 3 (hosts) or 20% (of the hosts in this run). */
export function parseMaxFail(value: string, hostCount: number): number {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value);
  if (pct) return Math.max(1, Math.ceil((Number(pct[1]) / 100) * hostCount));
  return positiveInt('--max-fail', value);
}

export async function upCommand(flags: UpFlags): Promise<number> {
  const out = (line: string) => process.stdout.write(line + '\n');
  const err = (line: string) => process.stderr.write(line + '\n');
  const inventoryPath = path.resolve(flags.inventory);

  // Everything that can be wrong with the input is found before any host is contacted; the
  // flags first, so a mistyped one is reported before the inventory is read (or a password asked).
  if (flags.retryFailed && flags.limit) throw new InputError('--retry-failed', 'cannot be combined with --limit', 'use one: --retry-failed takes the hosts that failed, --limit the hosts you name');
  const hostConcurrency = positiveInt('--concurrency', flags.concurrency);
  const uploadConcurrency = positiveInt('--upload-concurrency', flags.uploadConcurrency);
  const relay = onOff('--relay', flags.relay);
  const maxUnavailable = positiveInt('--max-unavailable', flags.maxUnavailable ?? '1');
  let stepTimeoutMs: number | undefined;
  if (flags.stepTimeout) {
    try {
      stepTimeoutMs = parseDuration(flags.stepTimeout);
    } catch {
      throw new InputError('--step-timeout', `"${flags.stepTimeout}" is not a duration`, 'e.g. 90s or 10m');
    }
  }
  let waitReadyMs: number;
  try {
    waitReadyMs = parseDuration(flags.wait);
  } catch {
    throw new InputError('--wait', `"${flags.wait}" is not a duration`, 'e.g. 5m, 90s, or 0s not to wait for Ready nodes');
  }
  // A kubeconfig the merge could not read is bad input: found now, before any host is touched.
  if (flags.mergeKubeconfig) await (await import('../kubeconfig/index.js')).checkMergeTarget(process.env);
  const { cluster, warnings } = await loadInventory(flags.inventory);
  for (const w of warnings) err(`warning: ${w}`);
  if (flags.acceptNewHostKeys) {
    // Bastions' keys too: they are checked exactly like the hosts'.
    for (const h of cluster.hosts) for (const s of [h.ssh, ...(h.ssh.proxyJump ?? []).map((j) => j.ssh)]) s.acceptNewHostKeys = true;
  }
  if (flags.verbose && !flags.json) for (const line of sshSourceLines(cluster.hosts)) out(line);
  if (flags.askSudoPassword) await askSudoPassword(cluster, process.stdin.isTTY === true, askHidden);
  const playbooks = await loadPlaybooks(flags.playbooks);
  const plans = planCluster(cluster, playbooks);
  const contents = await bundleContents(cluster);

  let only: Set<string> | undefined;
  if (flags.limit) only = parseLimit(cluster, flags.limit);
  if (flags.retryFailed) {
    const state = await readState(inventoryPath);
    if (!state) throw new InputError('--retry-failed', 'no earlier run is recorded beside this inventory', 'run `kubeforge up` first');
    const retry = hostsToRetry(state).filter((name) => cluster.hosts.some((h) => h.name === name));
    // Hosts added to the inventory since are not "failed": a plain `up` joins them.
    if (retry.length === 0) {
      out('nothing to retry: every host succeeded in its latest run');
      return 0;
    }
    only = new Set(retry);
    err(`retrying ${retry.length} host(s) that failed or were blocked: ${retry.join(', ')}`);
  }
  const runCount = only ? only.size : cluster.hosts.length;
  const maxFailures = flags.maxFail ? parseMaxFail(flags.maxFail, runCount) : undefined;

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      err('\ninterrupted: stopping running steps and cleaning up (Ctrl-C again to exit at once)');
      controller.abort(new InterruptedError());
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  // Whatever escapes every handler during the run (an 'error' event nobody listens to, a promise
  // nobody awaits) is a bug: it stops the run in order, with a summary and a ledger, and exit 70,
  // instead of a stack trace and every host's work lost.
  let internal: InternalError | undefined;
  const onEscape = (escaped: unknown) => {
    if (internal) return;
    internal = new InternalError(escaped);
    err(`\nerror: ${internal.message}; stopping the run`);
    controller.abort(internal);
  };
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);

  const hostNames = cluster.hosts.filter((h) => !only || only.has(h.name)).map((h) => h.name);
  let events: RunEvents;
  let closeView = () => {};
  if (flags.json) events = jsonReporter(out);
  else if (flags.progress === false) events = silentReporter();
  else if (process.stdout.isTTY && process.env.CI !== 'true') {
    const live = liveProgress(hostNames, process.stdout, { color: !process.env.NO_COLOR });
    events = live.events;
    closeView = live.close;
  } else events = plainReporter(out);

  const started = new Date();
  const runId = newRunId(started);
  // The --json summary says, per host, where its SSH settings came from (as -v prints them).
  const sshOf = (name: string) => {
    const sources = cluster.hosts.find((h) => h.name === name)?.sshSources;
    return sources ? { ssh: sources } : {};
  };
  try {
    const result = await up(cluster, plans, sshConnector(), events, {
      hostConcurrency,
      uploadConcurrency,
      ...(relay !== undefined ? { relay } : {}),
      signal: controller.signal,
      ...(stepTimeoutMs ? { stepTimeoutMs } : {}),
      kubeadmTimeoutMs: stepTimeoutMs ?? 10 * 60_000,
      ...(only ? { only } : {}),
      kubeconfigPath: defaultKubeconfigPath(cluster),
      ...(maxFailures !== undefined ? { maxFailures } : {}),
      waitReadyMs,
      maxUnavailable,
      bundleContents: contents,
      replan: (plan, facts) => planHost(cluster, plan.host, playbooks, { hostFacts: planFactsFrom(facts) }),
    });
    closeView();
    if (result.refused) {
      // Like any input error: said once, exit 2, no run recorded (nothing was changed).
      err(formatError(result.refused));
      return ExitCode.input;
    }
    const interrupted = controller.signal.aborted && !internal;
    const allOk = result.hosts.every((h) => h.status === 'ok');
    const exitCode = internal ? ExitCode.internal : interrupted ? ExitCode.interrupted : allOk ? ExitCode.ok : ExitCode.hostsFailed;
    const finished = new Date();
    const ledgerFile = await writeRun(inventoryPath, {
      id: runId,
      command: 'up',
      inventory: inventoryPath,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      exitCode,
      ...(only ? { limitedTo: [...only] } : {}),
      interrupted,
      hosts: result.hosts,
      ...(result.kubeconfigPath ? { kubeconfigPath: result.kubeconfigPath } : {}),
    });
    if (!flags.json) {
      out('');
      out(summaryTable(result.hosts));
      out('');
      if (result.upgrade) out(result.upgrade);
      for (const h of result.hosts) for (const w of h.warnings ?? []) out(`${h.host} warning: ${w}`);
      if (result.preflightFailed) {
        out('preflight: nothing was changed on any host. Fix these, then run `kubeforge up` again:');
        for (const h of result.hosts) {
          const pre = h.steps.find((s) => s.key === 'preflight' && s.status === 'failed');
          if (pre?.error) out(`  ${h.host}: ${pre.error.message}\n    fix: ${pre.error.hint ?? ''}`);
        }
      }
      if (!cluster.network && result.kubeconfigPath) {
        out('warning: no network add-on (network.manifest): the nodes stay NotReady and CoreDNS Pending until you apply one (README "Network add-on")');
      }
      for (const h of result.hosts.filter((x) => x.status === 'failed')) {
        const failed = h.steps.find((s) => s.status === 'failed');
        if (failed?.error?.output) out(`${h.host} ${failed.key} output (last lines):\n${indent(failed.error.output)}`);
        if (failed?.error?.hint && failed.key !== 'preflight') out(`${h.host} hint: ${failed.error.hint}`);
      }
      // Commands to copy and paste: a path with a space or a quote must stay one word.
      if (result.kubeconfigPath) out(`kubeconfig: ${result.kubeconfigPath} (mode 0600)  —  export KUBECONFIG=${shellQuote(result.kubeconfigPath)}`);
      out(`took ${((finished.getTime() - started.getTime()) / 1000).toFixed(1)} s; ledger: ${displayPath(ledgerFile)}`);
      if (internal) out(formatError(internal));
      else if (!allOk && !interrupted) out(`fix the cause, then rerun the failed hosts only: kubeforge up -i ${shellQuote(flags.inventory)} --retry-failed`);
    } else {
      out(JSON.stringify({ event: 'summary', exitCode, hosts: result.hosts.map((h) => ({ host: h.host, status: h.status, reason: h.reason, ...(h.node ? { node: h.node } : {}), ...(h.warnings ? { warnings: h.warnings } : {}), ...sshOf(h.host) })), kubeconfig: result.kubeconfigPath, ...(result.upgrade ? { upgrade: result.upgrade } : {}), ledger: ledgerFile }));
    }
    if (flags.mergeKubeconfig) {
      const merge = await import('../kubeconfig/index.js');
      return await merge.mergeAfterUp({ exitCode, kubeconfigPath: result.kubeconfigPath, clusterName: cluster.name, inventory: flags.inventory }, process.env, flags.json ? err : out);
    }
    return exitCode;
  } catch (e) {
    closeView();
    err(formatError(e));
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  }
}

/** Relative to the working directory when inside it, absolute otherwise. */
function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function onOff(flag: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new InputError(flag, `must be on or off, not "${value}"`, `e.g. ${flag} off`);
}
