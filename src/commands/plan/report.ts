// The plan as data: per host, each step that would run and why (files with their diffs, bundles,
// a failing check), and the cluster actions. Pure: made from what the survey gathered and the
// decisions decide.ts and cluster/decide.ts made; `--json` prints it as it is, render.ts for people.
import { initMakesCertificateKey, initNeeded, joinMaterialFrom, joinNeeded, waitsForReady, addonNeedsApply, decideUpgrade, describeUpgrade } from '../../cluster/decide.js';
import type { Redactor } from '../../cluster/secrets.js';
import type { Cluster } from '../../model.js';
import type { StepReason } from '../../playbook/decide.js';
import type { PreflightProblem } from '../../run/preflight.js';
import { boundedTail, cutLine } from '../../run/remote.js';
import { fileDiff } from './diff.js';
import type { HostSurvey, InitHostState } from './survey.js';

export interface FileChange {
  path: string;
  /** create: not on the host; modify: its content differs; mode: only its mode differs. */
  change: 'create' | 'modify' | 'mode';
  /** Octal modes, as `stat -c %a` prints them. */
  mode: { host?: string; planned: string };
  /** Unified diff of the redacted texts; '' when they differ only in what was redacted. */
  diff?: string;
  /** Why no diff is shown (too large, binary, not world-readable). */
  notShown?: string;
}

export interface BundleChange {
  name: string;
  kind: string;
  size: number;
  /** A copy of the right size is already on the host (content-addressed): nothing would be sent. */
  onHost: boolean;
}

export interface StepChange {
  key: string;
  title: string;
  /** run: it would act. fail: up would fail here (a verify that fails, a check that times out). */
  action: 'run' | 'fail';
  /** Why, in words: "never ran on this host", "/etc/x differs", "its check fails: …". */
  reasons: string[];
  files: FileChange[];
  bundles: BundleChange[];
  /** The check that fails (or the verify), with its exit code and last output line. */
  check?: { command: string; exitCode: number | 'timeout'; output: string };
}

export interface HostReport {
  host: string;
  role: string;
  /** planned: gathered and decided. unreachable: connect, root access or the gather failed. */
  status: 'planned' | 'unreachable';
  error?: { message: string; hint?: string };
  steps: StepChange[];
  /** Steps with nothing to do (unchanged, or a verify that holds). */
  unchanged: number;
  /** Verify steps after a step that would run: they check its work, so they run after it. */
  verifyAfter?: number;
  preflight?: { errors: string[]; warnings: string[]; willInstall: string[] };
}

export type ClusterAction =
  | { action: 'init'; host: string; certificateKey: boolean }
  | { action: 'mint-join-material'; on: string; certificateKey: boolean }
  | { action: 'join'; host: string; role: string; material: 'init' | 'mint' }
  | { action: 'apply-addon'; on: string; manifest: string }
  | { action: 'wait-ready'; hosts: string[]; timeoutMs: number }
  | { action: 'upgrade'; summary: string; from: string; to: string; apply?: string; controlPlanes: string[]; workerBatches: string[][] }
  | { action: 'refuse-upgrade'; message: string; hint: string };

export interface PlanReport {
  cluster: string;
  hosts: HostReport[];
  clusterActions: ClusterAction[];
  /** Something would change on a host or in the cluster. */
  changes: boolean;
  /** The plan is incomplete or `up` would fail: a host unreachable, a preflight error, a step that would fail. */
  problems: boolean;
}

export function hostReport(survey: HostSurvey, redactor: Redactor): HostReport {
  const { plan } = survey;
  const host = plan.host.name;
  const steps: StepChange[] = [];
  let unchanged = 0;
  let verifyAfter = 0;
  let earlierRuns = false;
  for (const { index, decision } of survey.steps) {
    const step = plan.steps[index]!;
    if (decision.action === 'unchanged' || decision.action === 'verified') {
      if (step.verifyOnly && earlierRuns) verifyAfter++;
      else unchanged++;
      continue;
    }
    if (decision.action === 'fail') {
      // A verify after a step that would act checks that step's work: it runs after it, not now.
      if (decision.why === 'verify' && earlierRuns) {
        verifyAfter++;
        continue;
      }
      steps.push({
        key: step.key,
        title: step.title,
        action: 'fail',
        reasons: [decision.why === 'timeout' ? `its ${step.verifyOnly ? 'verify' : 'check'} ran out the step's time` : 'its verify fails'],
        files: [],
        bundles: [],
        check: probeReport(step.verifyOnly ? step.verify : step.check, decision.probe.code, `${decision.probe.stdout}\n${decision.probe.stderr}`, redactor),
      });
      continue;
    }
    earlierRuns = true;
    const check = decision.reasons.find((r): r is Extract<StepReason, { kind: 'check-fails' }> => r.kind === 'check-fails');
    steps.push({
      key: step.key,
      title: step.title,
      action: 'run',
      reasons: decision.reasons.map((r) => reasonText(r)),
      files: decision.files.map((f) => {
        const have = survey.files.get(f.path);
        const hostMode = survey.hostModes.get(f.path);
        const planned = f.mode.toString(8);
        if (hostMode === undefined) return { path: f.path, change: 'create' as const, mode: { planned }, diff: fileDiff(host, f.path, undefined, f.content, redactor) };
        const change: FileChange = { path: f.path, change: 'modify', mode: { host: hostMode, planned } };
        if (have && 'content' in have) {
          if (have.content === f.content) change.change = 'mode';
          else change.diff = fileDiff(host, f.path, have.content, f.content, redactor);
        } else change.notShown = have?.notShown ?? 'not read';
        return change;
      }),
      bundles: decision.bundles.map((b) => ({ name: b.bundle.name, kind: b.kind, size: b.bundle.size, onHost: survey.bundlesOnHost.get(b.remotePath) === true })),
      ...(check ? { check: probeReport(step.check, check.probe.code, `${check.probe.stdout}\n${check.probe.stderr}`, redactor) } : {}),
    });
  }
  const describe = (p: PreflightProblem) => `[${p.check}] ${p.message} (fix: ${p.fix})`;
  const pre = survey.preflight;
  return {
    host,
    role: plan.host.role,
    status: 'planned',
    steps,
    unchanged,
    ...(verifyAfter ? { verifyAfter } : {}),
    preflight: { errors: pre.errors.map(describe), warnings: pre.warnings.map((p) => `[${p.check}] ${p.message}`), willInstall: pre.willInstall },
  };
}

export function unreachableReport(host: { name: string; role: string }, message: string, hint: string | undefined): HostReport {
  return { host: host.name, role: host.role, status: 'unreachable', error: { message, ...(hint ? { hint } : {}) }, steps: [], unchanged: 0 };
}

function reasonText(r: StepReason): string {
  switch (r.kind) {
    case 'never-ran':
      return 'never ran on this host';
    case 'inputs-changed':
      return 'its inputs changed since it last ran';
    case 'files-differ':
      return `${r.files.map((f) => f.path).join(', ')} ${r.files.length > 1 ? 'differ' : 'differs'}`;
    case 'check-fails':
      return r.probe.code === 'timeout' ? 'its check timed out' : `its check fails (exit ${r.probe.code})`;
  }
}

function probeReport(script: string | undefined, code: number | 'timeout', output: string, redactor: Redactor): StepChange['check'] {
  // Its first line that does something (not a comment, nor a bare PATH=… or export), "…" when more follow.
  const lines = (script ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const first = lines.findIndex((l) => !/^(export\s+)?[A-Za-z_][A-Za-z0-9_]*=\S*$/.test(l) && !/^export\s+[A-Za-z_][A-Za-z0-9_ ]*$/.test(l));
  const command = first < 0 ? (lines[0] ?? '') : `${lines[first]}${first < lines.length - 1 ? ' …' : ''}`;
  const last = boundedTail(redactor.redact(output), { lines: 1, skipBlank: true });
  return { command: cutLine(command, 200), exitCode: code, output: last };
}

export interface ClusterInputs {
  cluster: Cluster;
  /** Hosts of this plan (--limit), by name. */
  selected: string[];
  initHost: string;
  /** The init host's state, when it was reached. */
  initState?: InitHostState;
  /** Per reached host: kubelet.conf is there (it is a member of a cluster). */
  members: Map<string, boolean>;
  /** Hosts whose steps would run (their nodes are waited for again). */
  changedHosts: Set<string>;
  waitReadyMs: number;
  /** up's --max-unavailable: workers an upgrade takes at once. */
  maxUnavailable?: number;
}

/** What the cluster phase of `up` would do, decided as orchestrate.ts decides it. */
export function clusterActions(input: ClusterInputs): ClusterAction[] {
  const { cluster, initHost } = input;
  const actions: ClusterAction[] = [];
  const initSelected = input.selected.includes(initHost);
  // What this run's init would make (its token, a certificate key): undefined when no init runs.
  let initMaterial: { certificateKey?: string } | undefined;
  if (initSelected && input.initState && initNeeded(input.initState.initialised)) {
    const certificateKey = initMakesCertificateKey(cluster);
    actions.push({ action: 'init', host: initHost, certificateKey });
    initMaterial = certificateKey ? { certificateKey: 'made at init' } : {};
  }
  const joins: ClusterAction[] = [];
  const mint = { any: false, certificateKey: false };
  for (const name of input.selected) {
    if (name === initHost) continue;
    const member = input.members.get(name);
    if (member === undefined || !joinNeeded(member)) continue;
    const role = cluster.hosts.find((h) => h.name === name)!.role;
    const material = joinMaterialFrom(initMaterial, role === 'control-plane');
    if (material === 'mint') {
      mint.any = true;
      if (role === 'control-plane') mint.certificateKey = true;
    }
    joins.push({ action: 'join', host: name, role, material });
  }
  if (mint.any) actions.push({ action: 'mint-join-material', on: initHost, certificateKey: mint.certificateKey });
  actions.push(...joins);
  if (initSelected && input.initState && cluster.network && addonNeedsApply(input.initState.addonApplied, cluster.network.manifest)) {
    actions.push({ action: 'apply-addon', on: initHost, manifest: cluster.network.manifest.name });
  }
  // An upgrade (or its refusal), decided from the same facts as up decides it.
  if (input.initState?.versions) {
    const maxUnavailable = input.maxUnavailable ?? 1;
    const d = decideUpgrade(cluster, cluster.kubernetes.version, input.initState.versions, { hosts: new Set(input.selected), maxUnavailable });
    if (d.kind === 'refuse') actions.push({ action: 'refuse-upgrade', message: d.message, hint: d.hint });
    if (d.kind === 'upgrade') {
      const { kind: _kind, ...rest } = d;
      actions.push({ action: 'upgrade', summary: describeUpgrade(d, maxUnavailable), ...rest });
    }
  }
  // Every node is waited for on every run; worth saying only for nodes that join or change.
  if (waitsForReady(cluster, input.waitReadyMs)) {
    const waited = input.selected.filter((n) => input.changedHosts.has(n) || actions.some((a) => (a.action === 'init' || a.action === 'join') && a.host === n));
    if (waited.length > 0) actions.push({ action: 'wait-ready', hosts: waited, timeoutMs: input.waitReadyMs });
  }
  return actions;
}

export function planReport(cluster: Cluster, hosts: HostReport[], actions: ClusterAction[]): PlanReport {
  const changes = hosts.some((h) => h.steps.some((s) => s.action === 'run')) || actions.some((a) => a.action !== 'wait-ready');
  const problems = actions.some((a) => a.action === 'refuse-upgrade') || hosts.some((h) => h.status === 'unreachable' || (h.preflight?.errors.length ?? 0) > 0 || h.steps.some((s) => s.action === 'fail'));
  return { cluster: cluster.name, hosts, clusterActions: actions, changes, problems };
}
