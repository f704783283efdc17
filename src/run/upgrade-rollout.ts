// Rolling phases across hosts, after every host's playbook steps: the Kubernetes upgrade (each
// host has its new kubeadm installed and its new kubelet staged) and then the containerd restart
// the containerd steps left pending on nodes of a running cluster. Group after group (a group
// finishes, all of it, before the next starts); the first failure stops the phase before the next
// group, the hosts left are "blocked" with where it stopped, and a rerun decides again from the
// hosts' facts (kubelet versions, the containerd marker).
import { upgradeGroups, type UpgradeDecision } from '../cluster/decide.js';
import { rollContainerd } from '../cluster/containerd-roll.js';
import { applyControlPlane, rollKubelet, upgradeNodeConfig, UpgradeStopped, type UpgradeContext } from '../cluster/upgrade.js';
import type { HostResult, RunEvents, StepResult } from './outcome.js';
import type { Remote } from './remote.js';

export const UPGRADE_STEP = 'cluster/upgrade';
export const CONTAINERD_ROLL_STEP = 'cluster/containerd-restart';

export interface RolloutContext {
  /** This run's results so far; their hosts' ends are reported by the caller afterwards. */
  results: Map<string, HostResult>;
  remotes: ReadonlyMap<string, Remote>;
  events: RunEvents;
  upgrade: Omit<UpgradeContext, 'activity'>;
  signal: AbortSignal;
}

interface Phase {
  key: string;
  groups: string[][];
  title: (host: string) => string;
  act: (host: string, remote: Remote, uctx: UpgradeContext) => Promise<void>;
  /** Where a rerun continues, for the hint. */
  continues: (host: string) => string;
  /** Why the phase cannot start when some of its hosts did not finish their steps. */
  notStarted: (hosts: string[]) => string;
}

/** Runs one phase's groups in order; false when it stopped (a later phase should not start). */
async function roll(ctx: RolloutContext, phase: Phase, blockedBy?: string): Promise<boolean> {
  const { results, events } = ctx;
  const notReady = phase.groups.flat().filter((name) => results.get(name)?.status !== 'ok');
  let stoppedAt = blockedBy ?? (notReady.length > 0 ? phase.notStarted(notReady) : undefined);
  for (const group of phase.groups) {
    await Promise.all(
      group.map(async (name) => {
        const result = results.get(name)!;
        if (result.status !== 'ok') return; // already reported
        const title = phase.title(name);
        const started = Date.now();
        events.stepStart(name, phase.key, title);
        const step = (status: StepResult['status'], error?: StepResult['error']): StepResult => ({
          key: phase.key,
          title,
          status,
          startedAt: new Date(started).toISOString(),
          durationMs: Date.now() - started,
          ...(error ? { error } : {}),
        });
        const end = (s: StepResult, status: HostResult['status'], reason?: string) => {
          result.steps.push(s);
          events.stepEnd(name, s);
          result.status = status;
          if (reason) result.reason = reason;
        };
        if (stoppedAt || ctx.signal.aborted) {
          const why = ctx.signal.aborted ? 'interrupted' : stoppedAt!;
          return end(step(ctx.signal.aborted ? 'cancelled' : 'blocked', { message: why }), ctx.signal.aborted ? 'cancelled' : 'blocked', why);
        }
        const uctx: UpgradeContext = { ...ctx.upgrade, activity: (text) => events.hostActivity(name, text) };
        try {
          await phase.act(name, ctx.remotes.get(name)!, uctx);
          end(step('changed'), 'ok');
        } catch (err) {
          const e = err as Error & { exitCode?: number; output?: string };
          const state = err instanceof UpgradeStopped ? err.nodeState : 'unknown: see the error';
          stoppedAt ??= `${phase.key} stopped at ${name}`;
          const status = ctx.signal.aborted ? 'cancelled' : 'failed';
          end(
            step(status, {
              message: e.message,
              ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
              ...(e.output ? { output: e.output } : {}),
              hint: `node ${name}: ${state}. Fix the cause, then run kubeforge up again: ${phase.continues(name)}`,
            }),
            status,
            `${phase.key}: ${e.message}`,
          );
        }
      }),
    );
  }
  return stoppedAt === undefined;
}

/** The Kubernetes upgrade, as decided (decide.upgradeGroups). */
export function rollOutUpgrade(ctx: RolloutContext, decision: Extract<UpgradeDecision, { kind: 'upgrade' }>): Promise<boolean> {
  return roll(ctx, {
    key: UPGRADE_STEP,
    groups: upgradeGroups(decision),
    title: (name) => (name === decision.apply ? `kubeadm upgrade apply v${decision.to}, kubelet` : `kubeadm upgrade node, kubelet ${decision.to}`),
    act: async (name, remote, uctx) => {
      if (name === decision.apply) await applyControlPlane(remote, uctx);
      else await upgradeNodeConfig(remote, uctx);
      await rollKubelet(remote, name, uctx);
    },
    continues: (name) => `it continues from ${name} (hosts already at ${decision.to} are skipped)`,
    notStarted: (hosts) => `the upgrade to ${decision.to} did not start: ${hosts.join(', ')} did not finish their steps`,
  });
}

/** containerd restarted onto its new binaries or config, node by node (decide.containerdRollGroups). */
export function rollOutContainerd(ctx: RolloutContext, groups: string[][], socket: string, blockedBy?: string): Promise<boolean> {
  return roll(
    ctx,
    {
      key: CONTAINERD_ROLL_STEP,
      groups,
      title: () => 'containerd restarted (drained, a batch at a time)',
      act: (name, remote, uctx) => rollContainerd(remote, name, socket, uctx),
      continues: () => 'the nodes whose containerd still waits for its restart continue',
      notStarted: (hosts) => `the containerd restart did not start: ${hosts.join(', ')} did not finish their steps`,
    },
    blockedBy,
  );
}
