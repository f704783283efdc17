// `kubeforge plan`: what `up` would do, changing nothing. The same input checks as up (before
// any connection), the same gathers (facts, every step's marker, files and check), the same
// decisions (playbook/decide.ts, cluster/decide.ts) — and no act: nothing is written on a host
// or beside the inventory (no ledger run, no admin.conf, no known_hosts entry).
import pLimit from 'p-limit';
import { initHost, type Cluster } from '../../model.js';
import { Redactor } from '../../cluster/secrets.js';
import { bundleContents } from '../../bundle/contents.js';
import { detailedExitCodeOf, formatError, InputError, planExitCode } from '../../errors.js';
import { loadInventory } from '../../inventory/index.js';
import { loadPlaybooks } from '../../playbook/load.js';
import { parseDuration, planCluster, planHost } from '../../playbook/plan.js';
import { planFactsFrom, type HostFacts } from '../../run/facts.js';
import { clusterMayHoldVip, vipProblems } from '../../run/vip-preflight.js';
import type { Remote } from '../../run/remote.js';
import { HostKeyError } from '../../ssh/errors.js';
import { sshConnector } from '../../ssh/remote.js';
import { parseLimit } from '../up/select.js';
import { askHidden, askSudoPassword } from '../up/sudo-password.js';
import { renderPlan } from './render.js';
import { clusterActions, hostReport, planReport, unreachableReport, type HostReport } from './report.js';
import { RootAccessDenied, surveyHost, surveyInitHost, type InitHostState } from './survey.js';

export interface PlanFlags {
  inventory: string;
  limit?: string;
  json?: boolean;
  detailedExitcode?: boolean;
  concurrency: string;
  playbooks?: string;
  askSudoPassword?: boolean;
  wait: string;
  /** up's --max-unavailable, for what the plan says about an upgrade's batches. */
  maxUnavailable?: string;
}

export async function planCommand(flags: PlanFlags): Promise<number> {
  try {
    return await plan(flags);
  } catch (e) {
    // Under --detailed-exitcode an error is never 2 (that means "changes"), bad input included.
    if (!flags.detailedExitcode) throw e;
    process.stderr.write(formatError(e) + '\n');
    return detailedExitCodeOf(e);
  }
}

async function plan(flags: PlanFlags): Promise<number> {
  const out = (text: string) => process.stdout.write(text + '\n');
  const err = (line: string) => process.stderr.write(line + '\n');

  // Everything that can be wrong with the input is found before any host is contacted, as in up.
  const { cluster, warnings } = await loadInventory(flags.inventory);
  for (const w of warnings) err(`warning: ${w}`);
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InputError('--concurrency', `expects a whole number of at least 1, got "${flags.concurrency}"`);
  let waitReadyMs: number;
  try {
    waitReadyMs = parseDuration(flags.wait);
  } catch {
    throw new InputError('--wait', `"${flags.wait}" is not a duration`, 'e.g. 5m, 90s');
  }
  const maxUnavailable = Number(flags.maxUnavailable ?? '1');
  if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1) throw new InputError('--max-unavailable', `expects a whole number of at least 1, got "${flags.maxUnavailable}"`, 'e.g. --max-unavailable 2');
  const only = flags.limit ? parseLimit(cluster, flags.limit) : undefined;
  const playbooks = await loadPlaybooks(flags.playbooks);
  const plans = planCluster(cluster, playbooks).filter((p) => !only || only.has(p.host.name));
  const contents = await bundleContents(cluster);
  // A plan records no host key: an unknown one is reported, never trusted (nor written down).
  for (const h of cluster.hosts) neverAcceptNewKeys(h.ssh);
  if (flags.askSudoPassword) await askSudoPassword(cluster, process.stdin.isTTY === true, askHidden);

  const redactor = new Redactor();
  for (const h of cluster.hosts) redactor.add(h.ssh.password, h.ssh.passphrase, h.ssh.sudoPassword);
  const controller = new AbortController();
  // Ctrl-C stops the gathers (nothing to clean up: nothing was written); a second one exits at once.
  const onSigint = () => (controller.signal.aborted ? process.exit(130) : controller.abort());
  process.on('SIGINT', onSigint);
  const signal = controller.signal;
  const connect = sshConnector();
  const first = initHost(cluster);
  const limit = pLimit(concurrency);
  const remotes: Remote[] = [];
  let initState: InitHostState | undefined;
  const members = new Map<string, boolean>();
  const factsByHost = new Map<string, HostFacts>();
  try {
    const hosts: HostReport[] = await Promise.all(
      plans.map((p) =>
        limit(async () => {
          let remote: Remote;
          try {
            remote = await connect(p.host, signal);
            remotes.push(remote);
          } catch (e) {
            const hint = e instanceof HostKeyError && e.kind === 'unknown' ? unknownKeyHint(p.host.ssh.knownHostsFile) : (e as { hint?: string }).hint;
            return unreachableReport(p.host, `connect: ${(e as Error).message}`, hint);
          }
          try {
            const isInit = p.host.name === first.name;
            const [survey, state] = await Promise.all([
              surveyHost(cluster, remote, p, {
                signal,
                bundleContents: contents,
                redact: redactor.redact,
                replan: (hp, facts) => planHost(cluster, hp.host, playbooks, { hostFacts: planFactsFrom(facts) }),
              }),
              isInit ? surveyInitHost(cluster, remote, signal, redactor.redact) : Promise.resolve(undefined),
            ]);
            if (state) initState = state;
            members.set(p.host.name, survey.facts.memberOf !== undefined);
            factsByHost.set(p.host.name, survey.facts);
            return hostReport(survey, redactor);
          } catch (e) {
            const where = e instanceof RootAccessDenied ? 'root-access' : 'gather';
            return unreachableReport(p.host, `${where}: ${redactor.redact((e as Error).message)}`, (e as { hint?: string }).hint);
          }
        }),
      ),
    );
    if (signal.aborted) {
      err('interrupted');
      return 130;
    }
    addVipProblems(cluster, hosts, factsByHost, plans.some((p) => p.host.name === first.name));
    const actions = clusterActions({
      cluster,
      selected: plans.map((p) => p.host.name),
      initHost: first.name,
      ...(initState ? { initState } : {}),
      members,
      changedHosts: new Set(hosts.filter((h) => h.steps.some((s) => s.action === 'run')).map((h) => h.host)),
      waitReadyMs,
      maxUnavailable,
    });
    const report = planReport(cluster, hosts, actions);
    if (flags.json) out(JSON.stringify(report));
    else out(renderPlan(report));
    return planExitCode(report, flags.detailedExitcode === true);
  } finally {
    process.off('SIGINT', onSigint);
    for (const r of remotes) r.close();
  }
}

/** The built-in VIP's preflight, as `up` decides it: it needs every surveyed host's facts. */
function addVipProblems(cluster: Cluster, hosts: HostReport[], factsByHost: Map<string, HostFacts>, initHostInRun: boolean): void {
  const surveyed = cluster.hosts.filter((h) => factsByHost.has(h.name)).map((h) => ({ host: h, facts: factsByHost.get(h.name)! }));
  const held = clusterMayHoldVip(surveyed, initHostInRun);
  for (const { host, facts } of surveyed) {
    const report = hosts.find((r) => r.host === host.name);
    if (!report?.preflight) continue;
    report.preflight.errors.push(...vipProblems(cluster, host, facts, held).map((p) => `[${p.check}] ${p.message} (fix: ${p.fix})`));
  }
}

/** The host's own settings and every bastion's: none may record a key during a plan. */
function neverAcceptNewKeys(ssh: { acceptNewHostKeys: boolean; proxyJump?: Array<{ ssh: { acceptNewHostKeys: boolean } }> }): void {
  ssh.acceptNewHostKeys = false;
  for (const hop of ssh.proxyJump ?? []) hop.ssh.acceptNewHostKeys = false;
}

function unknownKeyHint(knownHosts: string): string {
  return `plan never trusts or records a host key: check the fingerprint, then add the key to ${knownHosts} (or let \`kubeforge up --accept-new-host-keys\` record it) and plan again`;
}
