// The read-only side of `kubeforge plan`, per host: the same gathers `up` makes (root access and
// host facts in one round trip, then every step's marker, files and check), and for the steps
// that would run, what the report shows: the host's current content of each file that differs
// (bounded) and whether each bundle is already on the host. Nothing here writes anything: no
// prelude (no directories made, nothing swept), no marker, no upload, no relay.
import type { ClusterVersions } from '../../cluster/decide.js';
import { readClusterVersions } from '../../cluster/upgrade-facts.js';
import { randomBytes } from 'node:crypto';
import { isInitialised } from '../../cluster/kubeadm.js';
import { readNetworkAddonMarker } from '../../cluster/kubectl.js';
import type { Cluster } from '../../model.js';
import { decideStep, type StepDecision } from '../../playbook/decide.js';
import { gatherRequest, parseGather, type StepFacts } from '../../playbook/gather.js';
import type { HostPlan, PlannedBundle, PlannedFile } from '../../playbook/plan.js';
import { gatherFactsAsRoot, type HostFacts } from '../../run/facts.js';
import { vipProbeFor } from '../../run/vip-preflight.js';
import { preflight, type BundleContents, type PreflightResult } from '../../run/preflight.js';
import { tailLines, type Remote } from '../../run/remote.js';

/** Most bytes of a host's file fetched for a diff; a larger file is reported by its size. */
export const MAX_DIFF_BYTES = 256 * 1024;

/** A host file as the plan fetched it: its text, or why there is none to show. */
export type HostFile = { content: string } | { notShown: string };

export interface StepSurvey {
  index: number;
  decision: StepDecision;
}

export interface HostSurvey {
  facts: HostFacts;
  preflight: PreflightResult;
  /** The plan made again with the host's facts, as `up` does. */
  plan: HostPlan;
  steps: StepSurvey[];
  /** Current content of each file that differs (not fetched: missing or not world-readable). */
  files: Map<string, HostFile>;
  /** remotePath → a copy of the right size is already on the host. */
  bundlesOnHost: Map<string, boolean>;
  /** Octal mode of each of the steps' files the host has (absent: not on the host). */
  hostModes: Map<string, string>;
}

export interface SurveyOptions {
  signal: AbortSignal;
  bundleContents: BundleContents;
  replan: (plan: HostPlan, facts: HostFacts) => HostPlan;
  redact: (text: string) => string;
}

/** Root access is refused: the plan for this host stops there (as `up` would). */
export class RootAccessDenied extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export async function surveyHost(cluster: Cluster, remote: Remote, plan: HostPlan, opts: SurveyOptions): Promise<HostSurvey> {
  const reached = await gatherFactsAsRoot(remote, plan.host.ssh.user, opts.signal, vipProbeFor(cluster, plan.host));
  if ('denied' in reached) throw new RootAccessDenied(reached.denied.message, reached.denied.hint);
  const { facts } = reached;
  const pre = preflight(cluster, plan.host, facts, opts.bundleContents);
  const replanned = opts.replan(plan, facts);
  const gathered = await gatherEveryStep(remote, replanned, opts);
  const steps = replanned.steps.map((step, index) => {
    const stepFacts = gathered.get(index);
    if (!stepFacts) throw new Error(`the host said nothing about step ${step.key}`);
    return { index, decision: decideStep(step, stepFacts) };
  });
  const running = steps.flatMap((s) => (s.decision.action === 'run' ? [s.decision] : []));
  const differing = running.flatMap((d) => d.files);
  const bundles = running.flatMap((d) => d.bundles);
  const hostModes = new Map<string, string>();
  for (const [index, f] of gathered) for (const file of replanned.steps[index]!.files) {
    const have = f.files.get(file.path);
    if (have) hostModes.set(file.path, have.mode);
  }
  const { files, bundlesOnHost } = await readForReport(remote, differing, hostModes, bundles, opts.signal);
  return { facts, preflight: pre, plan: replanned, steps, files, bundlesOnHost, hostModes };
}

/** Every step's facts, in as few round trips as the command line allows (usually one). */
async function gatherEveryStep(remote: Remote, plan: HostPlan, opts: SurveyOptions): Promise<Map<number, StepFacts>> {
  const all = new Map<number, StepFacts>();
  for (let from = 0; from < plan.steps.length; ) {
    const request = gatherRequest(plan.steps, from, { everyStep: true });
    const r = await remote.exec(request.script, { env: request.env, signal: opts.signal, timeoutMs: request.backstopMs });
    let facts: Map<number, StepFacts>;
    try {
      facts = parseGather(request, plan.steps, r.stdout, r.stderr);
    } catch (err) {
      throw new Error(`gathering the steps' facts failed (exit ${r.code}): ${(err as Error).message}: ${tailLines(opts.redact(r.stderr), 3)}`);
    }
    for (const [i, f] of facts) all.set(i, f);
    from += request.count;
  }
  return all;
}

/**
 * One round trip: the content of each differing file the host has (bounded, and only when it
 * is world-readable there and in the plan: a file kept from other users may hold secrets), and
 * the size of each bundle's copy on the host.
 */
async function readForReport(
  remote: Remote,
  differing: PlannedFile[],
  hostModes: Map<string, string>,
  bundles: PlannedBundle[],
  signal: AbortSignal,
): Promise<{ files: Map<string, HostFile>; bundlesOnHost: Map<string, boolean> }> {
  const files = new Map<string, HostFile>();
  const bundlesOnHost = new Map<string, boolean>();
  const toRead: string[] = [];
  for (const file of differing) {
    const mode = hostModes.get(file.path);
    if (mode === undefined) continue; // not on the host: a creation, nothing to fetch
    if (!worldReadable(parseInt(mode, 8)) || !worldReadable(file.mode)) files.set(file.path, { notShown: 'not world-readable, may hold secrets' });
    else if (!toRead.includes(file.path)) toRead.push(file.path);
  }
  const uniqueBundles = [...new Map(bundles.map((b) => [b.remotePath, b])).values()];
  if (toRead.length === 0 && uniqueBundles.length === 0) return { files, bundlesOnHost };

  const nonce = `kubeforge-plan-${randomBytes(8).toString('hex')}`;
  const env: Record<string, string> = { KF_NONCE: nonce, KF_MAX: String(MAX_DIFF_BYTES) };
  const lines: string[] = [];
  toRead.forEach((p, i) => {
    env[`KF_F${i}`] = p;
    lines.push(
      `if [ -f "$KF_F${i}" ]; then kf_size=$(stat -c %s "$KF_F${i}"); printf '\\n%s file ${i} %s\\n' "$KF_NONCE" "$kf_size"; head -c "$KF_MAX" "$KF_F${i}"; fi`,
    );
  });
  uniqueBundles.forEach((b, i) => {
    env[`KF_B${i}`] = b.remotePath;
    lines.push(`if [ -f "$KF_B${i}" ]; then printf '\\n%s bundle ${i} %s\\n' "$KF_NONCE" "$(stat -c %s "$KF_B${i}")"; fi`);
  });
  lines.push(`printf '\\n%s end\\n' "$KF_NONCE"`);
  const r = await remote.exec(lines.join('\n'), { env, signal, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`reading the host's files for the plan failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
  const parts = r.stdout.split(`\n${nonce} `);
  for (const part of parts.slice(1)) {
    const eol = part.indexOf('\n');
    const [kind, index, size] = part.slice(0, eol < 0 ? undefined : eol).split(' ');
    const body = eol < 0 ? '' : part.slice(eol + 1);
    if (kind === 'file') {
      const p = toRead[Number(index)]!;
      const bytes = Number(size);
      if (bytes > MAX_DIFF_BYTES) files.set(p, { notShown: `${bytes} bytes on the host, more than a plan shows` });
      else if (body.includes('\0')) files.set(p, { notShown: 'binary content' });
      else files.set(p, { content: body });
    } else if (kind === 'bundle') {
      const b = uniqueBundles[Number(index)]!;
      bundlesOnHost.set(b.remotePath, Number(size) === b.bundle.size);
    }
  }
  for (const b of uniqueBundles) if (!bundlesOnHost.has(b.remotePath)) bundlesOnHost.set(b.remotePath, false);
  return { files, bundlesOnHost };
}

function worldReadable(mode: number): boolean {
  return (mode & 0o004) !== 0;
}

/** What the cluster phase needs to know from the init host: initialised, and the add-on applied. */
export interface InitHostState {
  initialised: boolean;
  /** sha256 of the add-on manifest last applied ('' when none was). */
  addonApplied: string;
  /** The cluster's versions (kubeadm-config, each node's kubelet), when it is initialised: an upgrade's facts. */
  versions?: ClusterVersions;
}

export async function surveyInitHost(cluster: Cluster, remote: Remote, signal: AbortSignal, redact: (text: string) => string): Promise<InitHostState> {
  const [initialised, addonApplied, versions] = await Promise.all([
    isInitialised(remote, signal),
    cluster.network ? readNetworkAddonMarker(remote, { signal, redact }) : Promise.resolve(''),
    readClusterVersions(remote, { signal, redact }),
  ]);
  return { initialised, addonApplied, ...(versions ? { versions } : {}) };
}
