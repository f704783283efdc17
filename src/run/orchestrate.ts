// One run of `kubeforge up`, as ordered phases per host with barriers only where the cluster
// needs them: every host runs its own playbook steps in parallel (bounded), the init host then
// runs kubeadm init, control planes join one at a time after it, workers join in parallel.
// A host that fails stops only its own pipeline; hosts that need a failed host are "blocked".
import path from 'node:path';
import pLimit from 'p-limit';
import { fetchAdminConf, initCluster, isInitialized, isMember, joinHost, mintJoinMaterial, type KubeadmContext } from '../cluster/kubeadm.js';
import { Redactor, type JoinMaterial } from '../cluster/secrets.js';
import { initHost, type Cluster, type Host } from '../model.js';
import type { HostPlan } from '../playbook/plan.js';
import { runHostSteps, sweepTemporaries } from '../playbook/run-steps.js';
import { RemoteCommandError, type Remote } from './remote.js';
import { rootAccessProblem } from './root-access.js';
import type { HostResult, RunEvents, StepResult, StepStatus } from './outcome.js';

export interface UpOptions {
  hostConcurrency: number;
  uploadConcurrency: number;
  signal: AbortSignal;
  stepTimeoutMs?: number;
  kubeadmTimeoutMs: number;
  /** Run only these hosts (reruns, --limit); undefined = every host. */
  only?: ReadonlySet<string>;
  /** Where admin.conf goes on the laptop. */
  kubeconfigPath: string;
  /** Stop starting new hosts once this many have failed. */
  maxFailures?: number;
}

export interface UpResult {
  hosts: HostResult[];
  kubeconfigPath?: string;
}

export type Connector = (host: Host, signal: AbortSignal) => Promise<Remote>;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined); // observed later, or never when no host waits
  return { promise, resolve, reject };
}

class Blocked extends Error {}

export async function up(cluster: Cluster, plans: HostPlan[], connect: Connector, events: RunEvents, opts: UpOptions): Promise<UpResult> {
  // The run stops on the user's Ctrl-C, or once --max-fail hosts have failed.
  const stop = new AbortController();
  const signal = AbortSignal.any([opts.signal, stop.signal]);
  const stopReason = () => (opts.signal.aborted ? 'interrupted' : `run stopped: ${opts.maxFailures} host(s) failed, the --max-fail bound`);
  const redactor = new Redactor();
  for (const h of cluster.hosts) redactor.add(h.ssh.password, h.ssh.passphrase, h.ssh.sudoPassword);
  const kctx: KubeadmContext = { cluster, redactor, signal, timeoutMs: opts.kubeadmTimeoutMs };
  const first = initHost(cluster);
  const selected = plans.filter((p) => !opts.only || opts.only.has(p.host.name));
  // The init host first: hosts that wait for it must never hold every slot while it queues.
  selected.sort((a, b) => rank(a.host, first) - rank(b.host, first));

  const hostLimit = pLimit(opts.hostConcurrency);
  const uploadLimit = pLimit(opts.uploadConcurrency);
  const joinControlPlane = pLimit(1);
  const remotes = new Map<string, Remote>();
  let failures = 0;

  // The init host, reached for kubeadm init (when it is in this run) or only to mint join
  // material (a rerun of other hosts).
  const initReady = deferred<void>();
  let initRemote: Promise<Remote> | undefined;
  const getInitRemote = () => (initRemote ??= remotes.has(first.name) ? Promise.resolve(remotes.get(first.name)!) : connect(first, signal));
  const initSelected = selected.some((p) => p.host.name === first.name);
  if (!initSelected) initReady.resolve();
  let initMaterial: JoinMaterial | undefined;
  const minted = new Map<string, Promise<JoinMaterial>>();
  const materialFor = (controlPlane: boolean): Promise<JoinMaterial> => {
    if (initMaterial && (!controlPlane || initMaterial.certificateKey)) return Promise.resolve(initMaterial);
    const kind = controlPlane ? 'control-plane' : 'worker';
    let p = minted.get(kind);
    if (!p) {
      p = getInitRemote().then((r) => mintJoinMaterial(r, kctx, controlPlane));
      minted.set(kind, p);
    }
    return p;
  };

  const runHost = async (plan: HostPlan): Promise<HostResult> => {
    const host = plan.host;
    const steps: StepResult[] = [];
    const finish = (status: HostResult['status'], reason?: string): HostResult => {
      const result: HostResult = { host: host.name, role: host.role, status, steps, ...(reason ? { reason } : {}) };
      if (status === 'failed') {
        failures++;
        if (opts.maxFailures !== undefined && failures >= opts.maxFailures) stop.abort();
      }
      events.hostEnd(result);
      return result;
    };
    const cancelled = async (remote: Remote | undefined) => {
      if (remote) await sweepTemporaries(remote, plan);
      return finish('cancelled', stopReason());
    };
    if (signal.aborted) return cancelled(undefined);
    const isInit = host.name === first.name;

    // Phase 1: connect.
    events.hostActivity(host.name, 'connecting');
    let remote: Remote;
    const connectStart = Date.now();
    try {
      remote = await connect(host, signal);
      remotes.set(host.name, remote);
    } catch (err) {
      const e = err as Error & { hint?: string };
      steps.push(stepResult('connect', 'connect over SSH', signal.aborted ? 'cancelled' : 'failed', connectStart, e.message, e.hint));
      events.stepEnd(host.name, steps.at(-1)!);
      if (isInit) initReady.reject(new Blocked(`init host ${host.name} failed: cannot connect`));
      if (signal.aborted) return cancelled(undefined);
      return finish('failed', `connect: ${e.message}`);
    }

    // Phase 1b: commands reach root (directly or through sudo), proven before anything is changed.
    const denied = await rootAccessProblem(remote, host.ssh.user, signal);
    if (denied) {
      steps.push(stepResult('root-access', 'run commands as root', signal.aborted ? 'cancelled' : 'failed', connectStart, denied.message, denied.hint));
      events.stepEnd(host.name, steps.at(-1)!);
      if (isInit) initReady.reject(new Blocked(`init host ${host.name} failed: no root access`));
      if (signal.aborted) return cancelled(remote);
      return finish('failed', `root-access: ${denied.message}`);
    }

    // Phase 2: the host's own playbook steps.
    steps.push(
      ...(await runHostSteps(remote, plan, events, {
        signal,
        redact: redactor.redact,
        uploadSlot: (fn) => uploadLimit(fn),
        ...(opts.stepTimeoutMs ? { stepTimeoutMs: opts.stepTimeoutMs } : {}),
      })),
    );
    const bad = steps.find((s) => s.status === 'failed' || s.status === 'cancelled');
    if (bad) {
      if (isInit) initReady.reject(new Blocked(`init host ${host.name} failed at ${bad.key}`));
      if (bad.status === 'cancelled') return cancelled(remote);
      return finish('failed', `${bad.key}: ${bad.error?.message ?? bad.status}`);
    }

    // Phase 3: join the cluster (init on the init host).
    const key = isInit ? 'cluster/init' : 'cluster/join';
    const title = isInit ? 'kubeadm init' : host.role === 'control-plane' ? 'kubeadm join (control plane)' : 'kubeadm join';
    const started = Date.now();
    events.stepStart(host.name, key, title);
    try {
      let status: StepStatus = 'unchanged';
      if (isInit) {
        try {
          if (!(await isInitialized(remote, kctx))) {
            events.hostActivity(host.name, 'kubeadm init');
            initMaterial = await initCluster(remote, host, kctx);
            status = 'changed';
          }
          events.hostActivity(host.name, 'fetching admin.conf');
          await fetchAdminConf(remote, opts.kubeconfigPath, kctx);
        } catch (err) {
          initReady.reject(new Blocked(`init host ${host.name} failed at cluster/init`));
          throw err;
        }
        initReady.resolve();
      } else {
        events.hostActivity(host.name, 'waiting for the init host');
        await initReady.promise;
        if (!(await isMember(remote, kctx))) {
          const controlPlane = host.role === 'control-plane';
          const join = async () => {
            events.hostActivity(host.name, 'kubeadm join');
            await joinHost(remote, host, await materialFor(controlPlane), kctx);
          };
          await (controlPlane ? joinControlPlane(join) : join());
          status = 'changed';
        }
      }
      steps.push(stepResult(key, title, status, started));
      events.stepEnd(host.name, steps.at(-1)!);
      return finish('ok');
    } catch (err) {
      if (err instanceof Blocked) {
        if (signal.aborted) return cancelled(remote);
        steps.push(stepResult(key, title, 'blocked', started, err.message));
        events.stepEnd(host.name, steps.at(-1)!);
        return finish('blocked', err.message);
      }
      const e = err as Error;
      const result = stepResult(key, title, signal.aborted ? 'cancelled' : 'failed', started, redactor.redact(e.message));
      if (err instanceof RemoteCommandError) result.error = { ...result.error!, exitCode: err.exitCode, output: err.output };
      steps.push(result);
      events.stepEnd(host.name, result);
      if (signal.aborted) return cancelled(remote);
      return finish('failed', `${key}: ${result.error?.message}`);
    }
  };

  try {
    const hosts = await Promise.all(selected.map((plan) => hostLimit(() => runHost(plan))));
    const kubeconfigPath = hosts.some((h) => h.host === first.name && h.status === 'ok') ? opts.kubeconfigPath : undefined;
    return { hosts: orderAsInventory(cluster, hosts), ...(kubeconfigPath ? { kubeconfigPath } : {}) };
  } finally {
    for (const r of remotes.values()) r.close();
    if (initRemote && !remotes.has(first.name)) await initRemote.then((r) => r.close()).catch(() => undefined);
  }
}

function rank(host: Host, first: Host): number {
  if (host.name === first.name) return 0;
  return host.role === 'control-plane' ? 1 : 2;
}

function orderAsInventory(cluster: Cluster, results: HostResult[]): HostResult[] {
  const order = new Map(cluster.hosts.map((h, i) => [h.name, i]));
  return [...results].sort((a, b) => (order.get(a.host) ?? 0) - (order.get(b.host) ?? 0));
}

function stepResult(key: string, title: string, status: StepStatus, startedMs: number, message?: string, hint?: string): StepResult {
  return {
    key,
    title,
    status,
    startedAt: new Date(startedMs).toISOString(),
    durationMs: Date.now() - startedMs,
    ...(message ? { error: { message, ...(hint ? { hint } : {}) } } : {}),
  };
}

export function defaultKubeconfigPath(cluster: Cluster): string {
  return path.join(path.dirname(cluster.inventoryPath), '.kubeforge', `${cluster.name}-admin.conf`);
}
