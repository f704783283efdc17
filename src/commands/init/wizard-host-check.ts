// What the wizard learns about a host as it is added: contact it (asking about an unknown host
// key), and turn what it found into problems a person can fix, keep or drop the host for.
import { basename } from 'node:path';
import { KubeforgeError } from '../../errors.js';
import type { SshSettings } from '../../model.js';
import { formatHostPort } from '../../inventory/address.js';
import type { UnknownHostKey } from '../../ssh/index.js';
import { bundleArchMismatch, unsupportedReasons, type HostFacts } from './facts.js';
import type { ProbeProblem } from './probe.js';
import type { AddedHost } from './validate.js';
import type { WizardDeps } from './wizard.js';

/** A host already added, with what tells it apart from its clones. */
export type KnownHost = AddedHost & { machineId?: string; hostname?: string };

/** [label, path or URL] of bundles whose file name may tell an architecture. */
export type BundleSources = [string, string | undefined][];

export interface ProbeResult {
  facts?: HostFacts;
  problem?: ProbeProblem;
}

/** Nothing when there is no prober (--no-probe). */
export async function probeHost(deps: WizardDeps, address: string, port: number, settings: SshSettings): Promise<ProbeResult> {
  const { probe, say, signal } = deps;
  if (!probe) return {};
  say(`  contacting ${settings.user}@${formatHostPort(address, port)} …`);
  const outcome = await probe({
    name: address,
    address,
    port,
    settings,
    askHostKey: (key) => askHostKey(deps, key),
    ...(signal ? { signal } : {}),
  });
  return outcome.ok ? { facts: outcome.facts } : { problem: outcome.problem };
}

function askHostKey(deps: WizardDeps, key: UnknownHostKey): Promise<boolean> {
  deps.say(`  ${formatHostPort(key.host, key.port)} is not in ${key.knownHostsFile}; it presents this host key:`);
  deps.say(`    ${key.keyType} ${key.fingerprint}`);
  return deps.prompts.confirm({
    message: `Trust this key and record it in ${key.knownHostsFile}?`,
    default: false,
    flag: '--accept-new-host-keys',
  });
}

export function probeProblems(probed: ProbeResult, user: string, bundles: BundleSources, added: KnownHost[]): string[] {
  if (probed.facts) return factProblems(probed.facts, user, bundles, added);
  return probed.problem ? [problemText(probed.problem)] : [];
}

function factProblems(facts: HostFacts, user: string, bundles: BundleSources, added: KnownHost[]): string[] {
  const problems = unsupportedReasons(facts, user);
  for (const [label, source] of bundles) {
    const mismatch = source ? bundleArchMismatch(facts, basename(source), label) : undefined;
    if (mismatch) problems.push(mismatch);
  }
  // Clones share a machine-id (so do containers started from one image): only together with
  // the hostname is it a sign of one machine added under two addresses.
  const twin = facts.machineId ? added.find((h) => h.machineId === facts.machineId && h.hostname === facts.hostname) : undefined;
  if (twin) problems.push(`this looks like host ${twin.name} again (same hostname ${facts.hostname} and /etc/machine-id)`);
  return problems;
}

function problemText(problem: ProbeProblem): string {
  return problem.hint ? `${problem.message} (${problem.hint})` : problem.message;
}

/** The error when nobody is there to choose what to do about a host's problems. */
export function hostFailure(address: string, problems: string[], probeProblem: ProbeProblem | undefined): KubeforgeError {
  const hint =
    probeProblem?.kind === 'host-key'
      ? "check the host's key fingerprint, then pass --accept-new-host-keys to trust and record keys of new hosts"
      : 'fix the host, or leave out its --host; --no-probe writes the inventory without contacting any host';
  // Problems from SSH already start with the address; those from the facts do not.
  const lines = problems.map((p) => (p.startsWith(address) ? p : `${address}: ${p}`));
  return new KubeforgeError(lines.join('\n'), hint);
}
