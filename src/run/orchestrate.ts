// One run of `kubeforge up`, as ordered phases per host with barriers only where the cluster
// needs them: every host runs its own playbook steps in parallel (bounded), the init host then
// runs kubeadm init, control planes join one at a time after it, workers join in parallel.
// A host that fails stops only its own pipeline; hosts that need a failed host are "blocked".
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import pLimit from 'p-limit';
import { ADMIN_CONF, initCluster, isInitialised, isMember, joinHost, mintJoinMaterial, readAdminConf, saveAdminConf, type KubeadmContext } from '../cluster/kubeadm.js';
import { containerdRollGroups, decideUpgrade, describeUpgrade, initNeeded, joinMaterialFrom, joinNeeded, waitsForReady, type ClusterVersions, type UpgradeDecision } from '../cluster/decide.js';
import { containerdRestartPending } from '../cluster/containerd-roll.js';
import { readInitialisedClusterVersions } from '../cluster/upgrade-facts.js';
import { rollOutContainerd, rollOutUpgrade, type RolloutContext } from './upgrade-rollout.js';
import { Redactor, type JoinMaterial } from '../cluster/secrets.js';
import { InputError, InternalError } from '../errors.js';
import { initHost, type Cluster, type Host } from '../model.js';
import type { HostPlan } from '../playbook/plan.js';
import { gatherAhead, runHostSteps, sweepTemporaries, type GatherAhead } from '../playbook/run-steps.js';
import { BundleRouter } from '../relay/router.js';
import { sshRoutes, sweepRelay } from '../relay/routes.js';
import { RemoteCommandError, type Remote } from './remote.js';
import { gatherFactsAsRoot, type AlongOutput, type HostFacts } from './facts.js';
import { clusterMayHoldVip, vipProbeFor, vipProblems } from './vip-preflight.js';
import { preflight, type BundleContents, type PreflightProblem, type PreflightResult } from './preflight.js';
import { applyNetworkAddon, readNetworkAddonMarker, ReadinessWatcher, waitForApiServer, type KubectlContext, type NodeReadiness } from '../cluster/kubectl.js';
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
  /** How long a host waits for its node to be Ready after joining (0: do not wait). */
  waitReadyMs: number;
  /** What the bundles on the laptop carry (crictl, kubectl), for the preflight. */
  bundleContents: BundleContents;
  /** Hosts pass bundles on to each other (default: the inventory's relay.enabled). */
  relay?: boolean;
  /** The host's plan again, with what its facts say (where its kubelet is). */
  replan: (plan: HostPlan, facts: HostFacts) => HostPlan;
  /** An upgrade's workers drained and upgraded at once (--max-unavailable; default 1). */
  maxUnavailable?: number;
}

export interface UpResult {
  hosts: HostResult[];
  kubeconfigPath?: string;
  /** The run stopped after the preflight: problems on some hosts, nothing changed anywhere. */
  preflightFailed?: boolean;
  /** The inventory asks for an upgrade kubeadm cannot make (a skipped minor, a downgrade): nothing changed. */
  refused?: InputError;
  /** The upgrade this run made (or started), in one line. */
  upgrade?: string;
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

/** The running cluster's answers through the init host; empty when it was never initialised. */
interface ClusterReads {
  versions?: ClusterVersions;
  adminConf?: string;
}

/** Relays one host serves at once: two streams fill a host's link; more only share it. */
const RELAY_FANOUT = 2;

export async function up(cluster: Cluster, plans: HostPlan[], connect: Connector, events: RunEvents, opts: UpOptions): Promise<UpResult> {
  // The run stops on the user's Ctrl-C, or once --max-fail hosts have failed.
  const stop = new AbortController();
  const signal = AbortSignal.any([opts.signal, stop.signal]);
  // Every host's commands listen on the run's signal: hundreds of listeners are expected, not a leak.
  setMaxListeners(0, signal, stop.signal, opts.signal);
  const stopReason = () => {
    if (!opts.signal.aborted) return `run stopped: ${opts.maxFailures} host(s) failed, the --max-fail bound`;
    const reason: unknown = opts.signal.reason;
    return reason instanceof InternalError ? `run stopped: ${reason.message}` : 'interrupted';
  };
  const redactor = new Redactor();
  for (const h of cluster.hosts) redactor.add(h.ssh.password, h.ssh.passphrase, h.ssh.sudoPassword);
  const kctx: KubeadmContext = { cluster, redactor, signal, timeoutMs: opts.kubeadmTimeoutMs };
  const first = initHost(cluster);
  const selected = plans.filter((p) => !opts.only || opts.only.has(p.host.name));
  // The init host first: hosts that wait for it must never hold every slot while it queues.
  selected.sort((a, b) => rank(a.host, first) - rank(b.host, first));

  const hostLimit = pLimit(opts.hostConcurrency);
  const reachLimit = pLimit(opts.hostConcurrency);
  const uploadLimit = pLimit(opts.uploadConcurrency);
  const joinControlPlane = pLimit(1);
  const remotes = new Map<string, Remote>();
  let failures = 0;
  // Bundles: from the laptop to one host, then host to host (created once every host is reached).
  const relayRunId = randomBytes(4).toString('hex');
  let router: BundleRouter | undefined;

  // The init host, reached for kubeadm init (when it is in this run) or only to mint join
  // material (a rerun of other hosts).
  const initReady = deferred<void>();
  let initRemote: Promise<Remote> | undefined;
  const getInitRemote = () => (initRemote ??= remotes.has(first.name) ? Promise.resolve(remotes.get(first.name)!) : connect(first, signal));
  const initSelected = selected.some((p) => p.host.name === first.name);
  if (!initSelected) initReady.resolve();
  // Nodes can only become Ready once the network add-on is applied (by the init host).
  const addonApplied = deferred<void>();
  if (!initSelected || !cluster.network) addonApplied.resolve();
  let initMaterial: JoinMaterial | undefined;
  const minted = new Map<string, Promise<JoinMaterial>>();
  const materialFor = (controlPlane: boolean): Promise<JoinMaterial> => {
    if (initMaterial && joinMaterialFrom(initMaterial, controlPlane) === 'init') return Promise.resolve(initMaterial);
    const kind = controlPlane ? 'control-plane' : 'worker';
    let p = minted.get(kind);
    if (!p) {
      p = getInitRemote().then((r) => mintJoinMaterial(r, kctx, controlPlane));
      minted.set(kind, p);
    }
    return p;
  };

  const kubectlCtx: KubectlContext = { signal, redact: redactor.redact };
  const readiness = new ReadinessWatcher(getInitRemote, kubectlCtx);

  // What the running cluster says through the init host (its versions, for an upgrade's skew
  // check; admin.conf, for the operator): read once. Started as soon as the init host's facts
  // show it is a member, while the other hosts are still being reached; only reads.
  let clusterReads: Promise<ClusterReads> | undefined;
  const readCluster = (): Promise<ClusterReads> =>
    (clusterReads ??= (async () => {
      const api = await getInitRemote();
      if (!(await isInitialised(api, signal))) return {};
      // An API server that is starting (the init host just rebooted) gets a minute to answer.
      await waitForApiServer(api, kubectlCtx, 60_000);
      const [versions, adminConf] = await Promise.all([readInitialisedClusterVersions(api, kubectlCtx), readAdminConf(api, kctx)]);
      return { versions, ...(adminConf !== undefined ? { adminConf } : {}) };
    })());

  // Nodes of the running cluster (kubelet.conf at the facts): a rolling phase after phase 2 may
  // still act on them (an upgrade, a containerd restart), so their end is reported after it.
  const rolling = new Set<string>();
  const endLater: HostResult[] = [];
  const finisher = (host: Host, steps: StepResult[]) => {
    const finish = (status: HostResult['status'], reason?: string, extra: Partial<HostResult> = {}): HostResult => {
      const result: HostResult = { host: host.name, role: host.role, status, steps, ...(reason ? { reason } : {}), ...extra };
      if (status === 'failed') {
        failures++;
        if (opts.maxFailures !== undefined && failures >= opts.maxFailures) stop.abort();
      }
      if (status === 'ok' && rolling.has(host.name)) endLater.push(result);
      else events.hostEnd(result);
      return result;
    };
    return finish;
  };

  // Phase 1, every host before any host changes: connect, prove root access, gather the facts
  // and decide the preflight. A host that cannot be reached fails alone; a preflight problem on
  // any host stops the whole run before anything changed anywhere (as kubeadm would, later).
  interface Reached {
    plan: HostPlan;
    remote: Remote;
    facts: HostFacts;
    preflight: PreflightResult;
    steps: StepResult[];
    /** When the facts were asked for: the preflight step's start. */
    preflightStarted: number;
    /** The first step gather, asked along with the facts, and what the host answered. */
    ahead?: { gather: GatherAhead; output?: AlongOutput };
  }
  const reachHost = async (plan: HostPlan): Promise<Reached | HostResult> => {
    const host = plan.host;
    const steps: StepResult[] = [];
    const finish = finisher(host, steps);
    const isInit = host.name === first.name;
    if (signal.aborted) return finish('cancelled', stopReason());

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
      if (signal.aborted) return finish('cancelled', stopReason());
      return finish('failed', `connect: ${e.message}`);
    }

    // Commands reach root (directly or through sudo), proven before anything is changed; the
    // facts come in the same round trip (read-only, and read only when root answered).
    const started = Date.now();
    events.hostActivity(host.name, 'preflight');
    let reachedAsRoot: Awaited<ReturnType<typeof gatherFactsAsRoot>>;
    // A converged host then needs no second round trip before its steps are decided.
    const ahead = gatherAhead(plan, opts.stepTimeoutMs ? { stepTimeoutMs: opts.stepTimeoutMs } : {});
    try {
      reachedAsRoot = await gatherFactsAsRoot(remote, host.ssh.user, signal, { ...vipProbeFor(cluster, host), ...(ahead ? { along: ahead.along } : {}) });
    } catch (err) {
      events.stepStart(host.name, 'preflight', 'host facts and preflight checks');
      steps.push(stepResult('preflight', 'host facts and preflight checks', signal.aborted ? 'cancelled' : 'failed', started, (err as Error).message));
      events.stepEnd(host.name, steps.at(-1)!);
      if (isInit) initReady.reject(new Blocked(`init host ${host.name} failed at preflight`));
      if (signal.aborted) return finish('cancelled', stopReason());
      return finish('failed', `preflight: ${(err as Error).message}`);
    }
    if ('denied' in reachedAsRoot) {
      const { denied } = reachedAsRoot;
      steps.push(stepResult('root-access', 'run commands as root', signal.aborted ? 'cancelled' : 'failed', connectStart, denied.message, denied.hint));
      events.stepEnd(host.name, steps.at(-1)!);
      if (isInit) initReady.reject(new Blocked(`init host ${host.name} failed: no root access`));
      if (signal.aborted) return finish('cancelled', stopReason());
      return finish('failed', `root-access: ${denied.message}`);
    }
    events.stepStart(host.name, 'preflight', 'host facts and preflight checks');
    const { facts } = reachedAsRoot;
    if (isInit && facts.memberOf !== undefined) readCluster().catch(() => undefined); // awaited after the barrier
    return {
      plan,
      remote,
      facts,
      preflight: preflight(cluster, host, facts, opts.bundleContents),
      steps,
      preflightStarted: started,
      ...(ahead ? { ahead: { gather: ahead, ...(reachedAsRoot.along ? { output: reachedAsRoot.along } : {}) } } : {}),
    };
  };

  // Phase 2, per host: its playbook steps, then kubeadm init or join, then its node Ready.
  const runHost = async (reached: Reached): Promise<HostResult> => {
    const { remote, steps } = reached;
    const plan = opts.replan(reached.plan, reached.facts);
    const gatheredAhead = reached.ahead?.gather.read(reached.ahead.output, plan);
    const host = plan.host;
    const finish = finisher(host, steps);
    const cancelled = async () => {
      await sweepTemporaries(remote, plan);
      return finish('cancelled', stopReason());
    };
    if (signal.aborted) return cancelled();
    const isInit = host.name === first.name;

    steps.push(
      ...(await runHostSteps(remote, plan, events, {
        signal,
        redact: redactor.redact,
        sendBundle: (b, stepSignal, onProgress) =>
          router!.send(host.name, b, stepSignal, { priority: rank(host, first), onProgress, onActivity: (text) => events.hostActivity(host.name, text) }),
        relayRunId,
        ...(opts.stepTimeoutMs ? { stepTimeoutMs: opts.stepTimeoutMs } : {}),
        ...(gatheredAhead ? { gathered: gatheredAhead } : {}),
      })),
    );
    const bad = steps.find((s) => s.status === 'failed' || s.status === 'cancelled');
    if (bad) {
      if (isInit) initReady.reject(new Blocked(`init host ${host.name} failed at ${bad.key}`));
      if (bad.status === 'cancelled') return cancelled();
      return finish('failed', `${bad.key}: ${bad.error?.message ?? bad.status}`);
    }

    // Join the cluster (init on the init host).
    const key = isInit ? 'cluster/init' : 'cluster/join';
    const title = isInit ? 'kubeadm init' : host.role === 'control-plane' ? 'kubeadm join (control plane)' : 'kubeadm join';
    let started = Date.now();
    let current = { key, title };
    events.stepStart(host.name, key, title);
    try {
      let status: StepStatus = 'unchanged';
      if (isInit) {
        // The add-on's marker is read alongside (nothing before the add-on step changes it).
        const addonMarker = cluster.network ? readNetworkAddonMarker(remote, kubectlCtx) : undefined;
        addonMarker?.catch(() => undefined); // awaited by the add-on step, or never when init fails
        try {
          // admin.conf there: initialised (read once, for both answers).
          // Read with the cluster's versions when it was running; the init host's steps do not touch it.
          let adminConf = (clusterReads ? await clusterReads.catch(() => undefined) : undefined)?.adminConf ?? (await readAdminConf(remote, kctx));
          if (initNeeded(adminConf !== undefined)) {
            events.hostActivity(host.name, 'kubeadm init');
            initMaterial = await initCluster(remote, host, kctx);
            status = 'changed';
          }
          // The API server answers before anything needs it: the add-on, the joins' discovery.
          if (status === 'changed' || cluster.network) {
            events.hostActivity(host.name, 'waiting for the API server');
            await waitForApiServer(remote, kubectlCtx);
          }
          events.hostActivity(host.name, 'fetching admin.conf');
          adminConf ??= await readAdminConf(remote, kctx);
          if (adminConf === undefined) throw new RemoteCommandError(`kubeadm init succeeded but wrote no ${ADMIN_CONF} on ${host.name}`, 1, '');
          await saveAdminConf(adminConf, opts.kubeconfigPath);
        } catch (err) {
          initReady.reject(new Blocked(`init host ${host.name} failed at cluster/init`));
          addonApplied.reject(new Blocked(`init host ${host.name} failed at cluster/init`));
          throw err;
        }
        initReady.resolve();
        steps.push(stepResult(key, title, status, started));
        events.stepEnd(host.name, steps.at(-1)!);

        // The network add-on, once, from the init host.
        if (cluster.network) {
          current = { key: 'cluster/network', title: 'network add-on (kubectl apply)' };
          started = Date.now();
          events.stepStart(host.name, current.key, current.title);
          events.hostActivity(host.name, 'applying the network add-on');
          try {
            const applied = await applyNetworkAddon(remote, cluster.network.manifest, kubectlCtx, await addonMarker!);
            steps.push(stepResult(current.key, current.title, applied, started));
            events.stepEnd(host.name, steps.at(-1)!);
            addonApplied.resolve();
          } catch (err) {
            addonApplied.reject(new Blocked(`the network add-on failed on ${host.name}`));
            throw err;
          }
        }
      } else {
        events.hostActivity(host.name, 'waiting for the init host');
        await initReady.promise;
        // kubelet.conf was there at the facts and nothing on this host changed since: a member.
        const untouched = steps.every((s) => s.status === 'unchanged' || s.status === 'verified');
        const member = (untouched && reached.facts.memberOf !== undefined) || (await isMember(remote, kctx));
        if (joinNeeded(member)) {
          const controlPlane = host.role === 'control-plane';
          const join = async () => {
            events.hostActivity(host.name, 'kubeadm join');
            await joinHost(remote, host, await materialFor(controlPlane), kctx);
          };
          await (controlPlane ? joinControlPlane(join) : join());
          status = 'changed';
        }
        steps.push(stepResult(key, title, status, started));
        events.stepEnd(host.name, steps.at(-1)!);
      }

      // The node Ready (bounded): only with a network add-on can it become Ready at all.
      if (!waitsForReady(cluster, opts.waitReadyMs)) return finish('ok');
      current = { key: 'cluster/ready', title: 'node Ready' };
      started = Date.now();
      events.stepStart(host.name, current.key, current.title);
      await addonApplied.promise;
      events.hostActivity(host.name, 'waiting for the node to be Ready');
      const node: NodeReadiness = await readiness.wait(host.name, opts.waitReadyMs);
      if (signal.aborted) return cancelled();
      if (node.ready) {
        steps.push(stepResult(current.key, current.title, 'verified', started));
        events.stepEnd(host.name, steps.at(-1)!);
        return finish('ok', undefined, { node: { ready: true, message: 'Ready' } });
      }
      const message = `node ${host.name} not Ready after ${Math.round(opts.waitReadyMs / 1000)} s: ${node.message}`;
      steps.push(stepResult(current.key, current.title, 'failed', started, message, 'see `kubectl describe node` and the network add-on\'s pods; rerun `kubeforge up` (or raise --wait) once fixed'));
      events.stepEnd(host.name, steps.at(-1)!);
      return finish('failed', `ready: ${message}`, { node: { ready: false, message: node.message } });
    } catch (err) {
      if (err instanceof Blocked) {
        if (signal.aborted) return cancelled();
        steps.push(stepResult(current.key, current.title, 'blocked', started, err.message));
        events.stepEnd(host.name, steps.at(-1)!);
        return finish('blocked', err.message);
      }
      const e = err as Error;
      const result = stepResult(current.key, current.title, signal.aborted ? 'cancelled' : 'failed', started, redactor.redact(e.message));
      if (err instanceof RemoteCommandError) result.error = { ...result.error!, exitCode: err.exitCode, output: err.output };
      steps.push(result);
      events.stepEnd(host.name, result);
      if (signal.aborted) return cancelled();
      return finish('failed', `${current.key}: ${result.error?.message}`);
    }
  };

  try {
    const reachedOrDone = await Promise.all(selected.map((plan) => reachLimit(() => reachHost(plan))));
    const reached = reachedOrDone.filter((r): r is Reached => 'facts' in r);
    const done = reachedOrDone.filter((r): r is HostResult => !('facts' in r));
    // The built-in VIP's checks need every control plane's facts: is the cluster there already?
    const vipHeld = clusterMayHoldVip(reached.map((r) => ({ host: r.plan.host, facts: r.facts })), initSelected);
    for (const r of reached) r.preflight.errors.push(...vipProblems(cluster, r.plan.host, r.facts, vipHeld));
    const withErrors = reached.filter((r) => r.preflight.errors.length > 0);
    for (const r of reached) {
      const warnings = r.preflight.warnings.map(describeProblem);
      const status: StepStatus = r.preflight.errors.length > 0 ? 'failed' : signal.aborted ? 'cancelled' : 'verified';
      const result = stepResult('preflight', 'host facts and preflight checks', status, r.preflightStarted, r.preflight.errors.map(describeProblem).join('; ') || undefined, r.preflight.errors.map((p) => p.fix).join('; ') || undefined);
      if (warnings.length) result.detail = `warnings: ${warnings.join('; ')}`;
      if (r.preflight.willInstall.length) result.detail = [`will install ${r.preflight.willInstall.join(', ')}`, result.detail].filter(Boolean).join('; ');
      r.steps.push(result);
      events.stepEnd(r.plan.host.name, result);
    }
    if (withErrors.length > 0) {
      // Nothing changes on any host: the problems are reported together, each with its fix.
      const names = withErrors.map((r) => r.plan.host.name).join(', ');
      initReady.reject(new Blocked('preflight failed'));
      const stopped = reached.map((r) => {
        const finish = finisher(r.plan.host, r.steps);
        const warnings = r.preflight.warnings.map(describeProblem);
        const extra = warnings.length ? { warnings } : {};
        if (r.preflight.errors.length > 0) return finish('failed', `preflight: ${r.preflight.errors.map(describeProblem).join('; ')}`, extra);
        return finish('blocked', `preflight failed on ${names}; nothing was changed on any host`, extra);
      });
      return { hosts: orderAsInventory(cluster, [...done, ...stopped]), preflightFailed: true };
    }
    // An upgrade (the inventory's version newer than the cluster's) is decided from the cluster's
    // facts before anything changes: a request kubeadm cannot make stops the run here.
    const maxUnavailable = opts.maxUnavailable ?? 1;
    let upgrade: UpgradeDecision = { kind: 'none' };
    if (reached.some((r) => r.facts.memberOf !== undefined)) {
      let versions: ClusterReads['versions'];
      try {
        versions = (await readCluster()).versions;
      } catch (err) {
        // Without the cluster's versions there is no skew check: nothing may change anywhere.
        const why = `cannot read the cluster's versions through ${first.name} (${redactor.redact((err as Error).message)}); nothing was changed on any host`;
        initReady.reject(new Blocked(why));
        const stopped = reached.map((r) => finisher(r.plan.host, r.steps)('blocked', why));
        return { hosts: orderAsInventory(cluster, [...done, ...stopped]) };
      }
      if (versions) upgrade = decideUpgrade(cluster, cluster.kubernetes.version, versions, { hosts: new Set(reached.map((r) => r.plan.host.name)), maxUnavailable });
    }
    if (upgrade.kind === 'refuse') {
      initReady.reject(new Blocked('upgrade refused'));
      const refused = new InputError(`${cluster.inventoryPath}: kubernetes.version`, upgrade.message, `${upgrade.hint}; nothing was changed on any host`);
      const stopped = reached.map((r) => finisher(r.plan.host, r.steps)('blocked', `upgrade refused: ${upgrade.message}; nothing was changed on any host`));
      return { hosts: orderAsInventory(cluster, [...done, ...stopped]), refused };
    }
    for (const r of reached) if (r.facts.memberOf !== undefined) rolling.add(r.plan.host.name);
    // Whose facts showed a containerd restart waiting: on the others, only a step of this run
    // that acted can have left one.
    const restartPendingAtFacts = new Set(reached.filter((r) => r.facts.containerdRestartPending).map((r) => r.plan.host.name));
    const peers = new Map(reached.map((r) => [r.plan.host.name, { host: r.plan.host, remote: r.remote }]));
    router = new BundleRouter(sshRoutes(peers, relayRunId, uploadLimit), [...peers.keys()], {
      enabled: opts.relay ?? cluster.relay.enabled,
      fanout: RELAY_FANOUT,
      maxSourceFailures: 2,
      seedGatherMs: 100,
    });
    const hosts = [
      ...done,
      ...(await Promise.all(
        reached.map((r) =>
          hostLimit(async () => {
            const result = await runHost(r);
            const warnings = r.preflight.warnings.map(describeProblem);
            if (warnings.length) result.warnings = warnings;
            return result;
          }),
        ),
      )),
    ];
    {
      const rctx: RolloutContext = {
        results: new Map(hosts.map((h) => [h.host, h])),
        remotes,
        events,
        signal,
        upgrade: {
          kubeadm: kctx,
          kubectl: kubectlCtx,
          api: getInitRemote,
          target: cluster.kubernetes.version,
          from: upgrade.kind === 'upgrade' ? upgrade.from : cluster.kubernetes.version.text,
          readyTimeoutMs: opts.waitReadyMs > 0 ? opts.waitReadyMs : 5 * 60_000,
          requireReady: cluster.network !== undefined,
          drainTimeoutMs: 5 * 60_000,
        },
      };
      const upgraded = upgrade.kind === 'upgrade' ? await rollOutUpgrade(rctx, upgrade) : true;
      // containerd: the nodes whose containerd steps left the restart to this rolling phase.
      const pending = new Set<string>();
      await Promise.all(
        endLater.map(async (r) => {
          if (r.status !== 'ok') return;
          const untouched = r.steps.every((s) => s.status === 'unchanged' || s.status === 'verified');
          if (untouched && !restartPendingAtFacts.has(r.host)) return;
          if (await containerdRestartPending(remotes.get(r.host)!, signal).catch(() => false)) pending.add(r.host);
        }),
      );
      const groups = containerdRollGroups(cluster, pending, maxUnavailable);
      if (groups.length > 0) await rollOutContainerd(rctx, groups, cluster.containerd.socket, upgraded ? undefined : 'the Kubernetes upgrade stopped first');
      for (const r of endLater) events.hostEnd(r);
    }
    const kubeconfigPath = hosts.some((h) => h.host === first.name && h.steps.some((s) => s.key === 'cluster/init' && (s.status === 'changed' || s.status === 'unchanged'))) ? opts.kubeconfigPath : undefined;
    return { hosts: orderAsInventory(cluster, hosts), ...(kubeconfigPath ? { kubeconfigPath } : {}), ...(upgrade.kind === 'upgrade' ? { upgrade: describeUpgrade(upgrade, maxUnavailable) } : {}) };
  } finally {
    // Keys, authorized_keys lines and staged copies of this run's relays go, Ctrl-C or not.
    if (router && router.touched.size > 0) {
      await Promise.all([...router.touched].map((name) => (remotes.has(name) ? sweepRelay(remotes.get(name)!, cluster.hosts.find((h) => h.name === name)!.ssh.user) : undefined)));
    }
    for (const r of remotes.values()) r.close();
    if (initRemote && !remotes.has(first.name)) await initRemote.then((r) => r.close()).catch(() => undefined);
  }
}

function describeProblem(p: PreflightProblem): string {
  return `[${p.check}] ${p.message}`;
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
