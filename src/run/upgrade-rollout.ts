// The upgrade's rollout across hosts, after every host's playbook steps (so each has its new
// kubeadm installed and its new kubelet staged): group after group as decide.upgradeGroups orders
// them (init host, other control planes one at a time, worker batches of --max-unavailable). The
// first failure stops the rollout before the next group; the hosts left are "blocked" with where
// it stopped, and a rerun decides again from the cluster's facts (hosts at the target are done).
import { upgradeGroups, type UpgradeDecision } from '../cluster/decide.js';
import { applyControlPlane, rollKubelet, upgradeNodeConfig, UpgradeStopped, type UpgradeContext } from '../cluster/upgrade.js';
import type { HostResult, RunEvents, StepResult } from './outcome.js';
import type { Remote } from './remote.js';

export const UPGRADE_STEP = 'cluster/upgrade';

export interface RolloutContext {
  decision: Extract<UpgradeDecision, { kind: 'upgrade' }>;
  /** This run's results so far; the hosts in the rollout have not been reported ended yet. */
  results: Map<string, HostResult>;
  remotes: ReadonlyMap<string, Remote>;
  events: RunEvents;
  upgrade: Omit<UpgradeContext, 'activity'>;
  signal: AbortSignal;
}

export async function rollOut(ctx: RolloutContext): Promise<void> {
  const { decision, results, events } = ctx;
  const groups = upgradeGroups(decision);
  const notReady = groups.flat().filter((name) => results.get(name)?.status !== 'ok');
  // Every host of the rollout must have its new binaries first; otherwise nothing starts.
  let stoppedAt = notReady.length > 0 ? `the upgrade to ${decision.to} did not start: ${notReady.join(', ')} did not finish their steps` : undefined;
  for (const group of groups) {
    await Promise.all(
      group.map(async (name) => {
        const result = results.get(name)!;
        if (result.status !== 'ok') return; // already reported
        const title = name === decision.apply ? `kubeadm upgrade apply v${decision.to}, kubelet` : `kubeadm upgrade node, kubelet ${decision.to}`;
        const started = Date.now();
        events.stepStart(name, UPGRADE_STEP, title);
        const step = (status: StepResult['status'], error?: StepResult['error']): StepResult => ({
          key: UPGRADE_STEP,
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
          else delete result.reason;
          events.hostEnd(result);
        };
        if (stoppedAt || ctx.signal.aborted) {
          const why = ctx.signal.aborted ? 'interrupted' : stoppedAt!;
          return end(step(ctx.signal.aborted ? 'cancelled' : 'blocked', { message: why }), ctx.signal.aborted ? 'cancelled' : 'blocked', why);
        }
        const remote = ctx.remotes.get(name)!;
        const uctx: UpgradeContext = { ...ctx.upgrade, activity: (text) => events.hostActivity(name, text) };
        try {
          if (name === decision.apply) await applyControlPlane(remote, uctx);
          else await upgradeNodeConfig(remote, uctx);
          await rollKubelet(remote, name, uctx);
          end(step('changed'), 'ok');
        } catch (err) {
          const e = err as Error & { exitCode?: number; output?: string };
          const state = err instanceof UpgradeStopped ? err.nodeState : 'unknown: see the error';
          stoppedAt ??= `the upgrade stopped at ${name}`;
          end(
            step(ctx.signal.aborted ? 'cancelled' : 'failed', {
              message: e.message,
              ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
              ...(e.output ? { output: e.output } : {}),
              hint: `node ${name}: ${state}. Fix the cause, then run kubeforge up again: it continues from ${name} (hosts already at ${decision.to} are skipped)`,
            }),
            ctx.signal.aborted ? 'cancelled' : 'failed',
            `${UPGRADE_STEP}: ${e.message}`,
          );
        }
      }),
    );
  }
}
