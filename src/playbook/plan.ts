// The planner: playbooks + a resolved cluster → for each host, the list of steps to bring it
// to the desired state, with every file rendered and every value the commands need. Pure:
// no I/O, so what a run will do can be tested (and shown) without a host.
import { createHash } from 'node:crypto';
import { parseDuration as parseInventoryDuration } from '../inventory/duration.js';
import type { Bundle, Cluster, Host } from '../model.js';
import { BIN_DIR, registryHostsFiles, renderHostsBlock, templates, type TemplateContext } from '../render/index.js';
import { aptPackageMap } from './os-packages.js';
import type { BundleKind, PlaybookFile, StepDef } from './schema.js';

/** Where kubeforge keeps its own state on a host. */
export const REMOTE_STATE_DIR = '/var/lib/kubeforge';
export const REMOTE_BUNDLE_DIR = `${REMOTE_STATE_DIR}/bundles`;
export const REMOTE_MARKER_DIR = `${REMOTE_STATE_DIR}/steps`;

export interface PlannedFile {
  path: string;
  content: string;
  mode: number;
  sha256: string;
  /** Shell command that must accept the candidate file (at $KF_FILE) before it replaces the old one. */
  validate?: string;
}

export interface PlannedBundle {
  kind: BundleKind;
  bundle: Bundle;
  /** Where it lives on the host: content-addressed, so an unchanged bundle is never re-sent. */
  remotePath: string;
}

export interface PlannedStep {
  /** "playbook/step", unique in a run; the ledger and progress lines use it. */
  key: string;
  playbook: string;
  id: string;
  title: string;
  files: PlannedFile[];
  bundles: PlannedBundle[];
  /** Send the bundles only when the check fails. */
  bundlesIfNeeded: boolean;
  check?: string;
  run?: string;
  verify?: string;
  verifyOnly: boolean;
  rollback: boolean;
  timeoutMs: number;
  /** The KF_* variables the step's commands name (quoted by the runner, never spliced into the text). */
  env: Record<string, string>;
  /** Hash of everything that defines the step on this host: a changed input means run again. */
  fingerprint: string;
  /**
   * `kubeforge reset`'s undo of `run` (the files are removed apart from it), with the KF_*
   * variables it names. Not part of the fingerprint: how to undo a step does not change what it does.
   */
  reset?: { script: string; env: Record<string, string> };
}

export interface HostPlan {
  host: Host;
  steps: PlannedStep[];
}

export interface PlanOptions {
  /** Per-step timeout when a step gives none. */
  defaultTimeoutMs: number;
  /** What the host's facts say the plan depends on (known after connecting; defaults before). */
  hostFacts: PlanFacts;
}

/** The few facts of a host that rendered files depend on. */
export interface PlanFacts {
  /** Where the kubelet is when no Kubernetes bundle installs it (distribution packages: /usr/bin). */
  kubeletPath?: string;
}

export const DEFAULT_STEP_TIMEOUT_MS = 5 * 60_000;

export function planCluster(cluster: Cluster, playbooks: PlaybookFile[], opts?: Partial<PlanOptions>): HostPlan[] {
  const values = clusterValues(cluster);
  return cluster.hosts.map((host) => planHostWith(values, cluster, host, playbooks, opts));
}

export function planHost(cluster: Cluster, host: Host, playbooks: PlaybookFile[], opts: Partial<PlanOptions> = {}): HostPlan {
  return planHostWith(clusterValues(cluster), cluster, host, playbooks, opts);
}

function planHostWith(values: ClusterValues, cluster: Cluster, host: Host, playbooks: PlaybookFile[], opts: Partial<PlanOptions> = {}): HostPlan {
  const kubeletPath = cluster.kubernetes.bundle ? `${BIN_DIR}/kubelet` : (opts.hostFacts?.kubeletPath ?? '/usr/bin/kubelet');
  const ctx: TemplateContext = { cluster, host, kubeletPath };
  const steps: PlannedStep[] = [];
  for (const playbook of playbooks) {
    for (const def of playbook.steps) {
      if (!applies(def, cluster, host)) continue;
      steps.push(planStep(playbook.name, def, ctx, values, opts.defaultTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS));
    }
  }
  return { host, steps };
}

/** The KF_* values that are the same on every host: made once per plan, not once per step. */
interface ClusterValues {
  hostsBlock: { begin: string; end: string; text: string };
  imageRefs: string;
  packageMap: string;
  nodeNames: string;
}

function clusterValues(cluster: Cluster): ClusterValues {
  return {
    hostsBlock: renderHostsBlock(cluster),
    imageRefs: cluster.kubernetes.images.flatMap((b) => b.imageRefs ?? []).join('\n'),
    packageMap: aptPackageMap(),
    nodeNames: cluster.hosts.map((h) => h.name).join('\n'),
  };
}

function applies(def: StepDef, cluster: Cluster, host: Host): boolean {
  const when = def.when;
  if (!when) return true;
  if (when.role && when.role !== host.role) return false;
  switch (when.has) {
    case 'images':
      return cluster.kubernetes.images.length > 0;
    case 'kubernetes-bundle':
      return cluster.kubernetes.bundle !== undefined;
    case 'registry-mirrors':
      return Object.keys(cluster.containerd.registryMirrors).length > 0;
    case 'cri-tools':
      return cluster.kubernetes.criTools !== undefined;
    case 'cni-plugins':
      return cluster.kubernetes.cniPlugins !== undefined;
    case 'control-plane-vip':
      return cluster.kubernetes.controlPlaneVip !== undefined;
    default:
      return true;
  }
}

function planStep(playbook: string, def: StepDef, ctx: TemplateContext, values: ClusterValues, defaultTimeoutMs: number): PlannedStep {
  const files: PlannedFile[] = (def.files ?? []).map((f) => {
    const render = templates[f.template];
    if (!render) throw new Error(`playbook ${playbook}, step ${def.id}: no template named "${f.template}"`);
    return plannedFile(f.path, render(ctx), f.mode ? parseInt(f.mode, 8) : 0o644, f.validate);
  });
  if (def.generated === 'registry-hosts') {
    for (const f of registryHostsFiles(ctx)) files.push(plannedFile(f.path, f.content, 0o644));
  }
  const bundles = (def.bundles ?? []).flatMap((kind) => bundlesOf(kind, ctx.cluster));
  // Only the variables the step's commands name: they are part of its fingerprint, and a value
  // a step does not use must not make it run again when it changes.
  const scripts = [def.check, def.run, def.verify, ...files.map((f) => f.validate)].filter((x): x is string => !!x);
  const allEnv = stepEnv(ctx, bundles, values);
  const env = Object.fromEntries(Object.entries(allEnv).filter(([name]) => names(def, name, scripts)));
  const step: Omit<PlannedStep, 'fingerprint'> = {
    key: `${playbook}/${def.id}`,
    playbook,
    id: def.id,
    title: def.title,
    files,
    bundles,
    bundlesIfNeeded: def.bundlesIfNeeded ?? false,
    check: def.check,
    run: def.run,
    verify: def.verify,
    verifyOnly: def.verifyOnly ?? false,
    rollback: def.rollback ?? false,
    timeoutMs: def.timeout ? parseDuration(def.timeout) : defaultTimeoutMs,
    env,
  };
  const reset = def.reset ? { script: def.reset, env: Object.fromEntries(Object.entries(allEnv).filter(([name]) => new RegExp(`\\b${name}\\b`).test(def.reset!))) } : undefined;
  return { ...step, fingerprint: fingerprintOf(step), ...(reset ? { reset } : {}) };
}

function plannedFile(path: string, content: string, mode: number, validate?: string): PlannedFile {
  return { path, content, mode, sha256: sha256(content), ...(validate ? { validate } : {}) };
}

function bundlesOf(kind: BundleKind, cluster: Cluster): PlannedBundle[] {
  const optional = (b: Bundle | undefined): Bundle[] => (b ? [b] : []);
  const list: Bundle[] = {
    containerd: () => [cluster.containerd.bundle],
    kubernetes: () => optional(cluster.kubernetes.bundle),
    images: () => cluster.kubernetes.images,
    'cri-tools': () => optional(cluster.kubernetes.criTools),
    'cni-plugins': () => optional(cluster.kubernetes.cniPlugins),
    'os-packages': () => optional(cluster.osPackages.bundle),
  }[kind]();
  return list.map((bundle) => ({ kind, bundle, remotePath: remoteBundlePath(bundle) }));
}

/** Content-addressed, and made only of safe characters whatever the local file was called. */
export function remoteBundlePath(bundle: Bundle): string {
  const base = bundle.path.split('/').pop() ?? 'bundle';
  const safe = base.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return `${REMOTE_BUNDLE_DIR}/${bundle.sha256.slice(0, 16)}-${safe}`;
}

/** Whether the step's commands name the variable: the same on every host, so asked once per step. */
const named = new WeakMap<StepDef, Map<string, boolean>>();
function names(def: StepDef, name: string, scripts: string[]): boolean {
  let known = named.get(def);
  if (!known) named.set(def, (known = new Map()));
  let found = known.get(name);
  if (found === undefined) known.set(name, (found = scripts.some((text) => new RegExp(`\\b${name}\\b`).test(text))));
  return found;
}

function stepEnv(ctx: TemplateContext, bundles: PlannedBundle[], values: ClusterValues): Record<string, string> {
  const { cluster, host } = ctx;
  const hostsBlock = values.hostsBlock;
  const env: Record<string, string> = {
    KF_HOST_NAME: host.name,
    KF_HOST_ROLE: host.role,
    KF_HOST_ADDRESS: host.internalAddress,
    KF_CONTAINERD_VERSION: cluster.containerd.version.text,
    KF_CONTAINERD_SOCKET: cluster.containerd.socket,
    KF_KUBERNETES_VERSION: cluster.kubernetes.version.text,
    KF_IMAGE_REFS: values.imageRefs,
    KF_KUBELET_PATH: ctx.kubeletPath,
    KF_OS_PACKAGE_MAP: values.packageMap,
    KF_HOSTS_BEGIN: hostsBlock.begin,
    KF_HOSTS_END: hostsBlock.end,
    KF_HOSTS_BLOCK: hostsBlock.text,
    KF_NODE_NAMES: values.nodeNames,
  };
  for (const kind of new Set(bundles.map((b) => b.kind))) {
    env[`KF_BUNDLE_${kind.toUpperCase().replace(/-/g, '_')}`] = bundles
      .filter((b) => b.kind === kind)
      .map((b) => b.remotePath)
      .join('\n');
  }
  return env;
}

function fingerprintOf(step: Omit<PlannedStep, 'fingerprint'>): string {
  const inputs = {
    key: step.key,
    files: step.files.map((f) => [f.path, f.mode, f.sha256, f.validate ?? '']),
    bundles: step.bundles.map((b) => [b.kind, b.bundle.sha256]),
    check: step.check ?? '',
    run: step.run ?? '',
    verify: step.verify ?? '',
    env: Object.entries(step.env).sort(([a], [b]) => a.localeCompare(b)),
  };
  return sha256(JSON.stringify(inputs));
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** "90s", "5m", "1m30s" → milliseconds (the inventory's duration syntax). */
export function parseDuration(text: string): number {
  const ms = parseInventoryDuration(text);
  if (ms === undefined) throw new Error(`not a duration: ${text}`);
  return ms;
}
