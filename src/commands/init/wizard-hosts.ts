// The hosts, one at a time: each is contacted as soon as it is added, so a problem is met while
// the person who can fix it is still there. Then its name, role and node IP.
import { lookup } from 'node:dns/promises';
import { InputError } from '../../errors.js';
import type { Role, SshSettings } from '../../model.js';
import { formatHostPort, isIP, parseHostPort } from '../../inventory/address.js';
import type { HostAnswer } from './answers.js';
import { defaultRole, suggestHostName } from './defaults.js';
import { describeFacts, type HostFacts } from './facts.js';
import { addressProblem, hostNameProblem, internalAddressProblem, userProblem } from './validate.js';
import { ask, validateWith } from './wizard-ask.js';
import { hostFailure, probeHost, probeProblems, type BundleSources, type KnownHost } from './wizard-host-check.js';
import type { HostSpec, WizardDeps } from './wizard.js';

export interface HostContext {
  user: string;
  port: number;
  settings: (user: string, port: number) => SshSettings;
  bundles: BundleSources;
}

export interface AskedHosts {
  hosts: HostAnswer[];
  /** Some host's sudo asks for a password. */
  sudoPasswordNeeded: boolean;
}

interface FoundHost {
  address: string;
  port: number;
  user: string;
  facts: HostFacts | undefined;
  kept: string[];
}

export async function askHosts(deps: WizardDeps, ctx: HostContext): Promise<AskedHosts> {
  const roster = new HostRoster(deps, ctx);
  await roster.fill();
  return { hosts: roster.hosts, sudoPasswordNeeded: roster.sudoPasswordNeeded };
}

class HostRoster {
  readonly hosts: HostAnswer[] = [];
  sudoPasswordNeeded = false;
  private readonly added: KnownHost[] = [];

  constructor(
    private readonly deps: WizardDeps,
    private readonly ctx: HostContext,
  ) {}

  async fill(): Promise<void> {
    const { preset, prompts } = this.deps;
    if (preset.hosts !== undefined) {
      for (const spec of preset.hosts) await this.addHost(spec, true);
      if (this.hosts.length === 0) throw new InputError('--host', 'every host given was dropped; the inventory needs at least one');
      if (!this.hosts.some((h) => h.role === 'control-plane')) throw new InputError('--host', 'no host has role control-plane', 'give the first host role=control-plane');
      return;
    }
    for (;;) {
      const first = this.hosts.length === 0;
      const address = await prompts.input({
        message: first ? 'Address of the first host (IP or DNS name, optionally :port)' : `Address of host ${this.hosts.length + 1} (empty when done)`,
        ...(first ? {} : { default: '' }),
        validate: validateWith((v) => {
          if (v.trim() !== '' || first) return addressProblem(v, this.added, this.ctx.port);
          return this.hosts.some((h) => h.role === 'control-plane') ? undefined : 'no host is a control plane yet: add one with role control-plane';
        }),
        flag: '--host',
      });
      if (address.trim() === '') return;
      await this.addHost({ address: address.trim() }, false);
    }
  }

  /** Probe, offer choices about problems, then name, role and node IP. */
  private async addHost(spec: HostSpec, fromFlags: boolean): Promise<void> {
    const { prompts, say } = this.deps;
    const { ctx } = this;
    let address = spec.address;
    let user = ctx.user;
    for (;;) {
      const problem = addressProblem(address, this.added, ctx.port);
      if (problem) throw new InputError('--host', problem);
      const parsed = parseHostPort(address)!;
      const port = parsed.port ?? ctx.port;
      const probed = await probeHost(this.deps, parsed.host, port, ctx.settings(user, port));
      const problems = probeProblems(probed, user, ctx.bundles, this.added);
      if (probed.facts) say(`  ${describeFacts(probed.facts, user)}`);
      for (const p of problems) say(`  problem: ${p}`);
      const found = { address: parsed.host, port, user, facts: probed.facts };

      if (problems.length === 0) return this.nameHost(spec, fromFlags, { ...found, kept: [] });
      if (!prompts.interactive) throw hostFailure(address, problems, probed.problem);
      const choice = await askAboutProblems(this.deps, address);
      if (choice === 'drop') {
        say(`  dropped ${address}`);
        return;
      }
      if (choice === 'keep') return this.nameHost(spec, fromFlags, { ...found, kept: problems });
      address = (
        await prompts.input({ message: 'Address', default: address, validate: validateWith((v) => addressProblem(v, this.added, ctx.port)), flag: '--host' })
      ).trim();
      user = (await prompts.input({ message: `SSH user for ${address}`, default: user, validate: validateWith(userProblem), flag: '--user' })).trim();
    }
  }

  private async nameHost(spec: HostSpec, fromFlags: boolean, found: FoundHost): Promise<void> {
    const roleByDefault = defaultRole(this.hosts.map((h) => h.role));
    const name = await this.askName(spec, fromFlags, found, spec.role ?? roleByDefault);
    const role: Role = spec.role ?? (fromFlags ? roleByDefault : await askRole(this.deps, name, roleByDefault));
    const internalAddress = isIP(found.address) ? undefined : await this.askInternalAddress(spec, fromFlags, found.address, name);
    if (found.facts?.sudo === 'password') this.sudoPasswordNeeded = true;
    this.record(name, role, internalAddress, found);
    this.deps.say(`  added ${name} (${formatHostPort(found.address, found.port)}) as ${role}`);
  }

  private askName(spec: HostSpec, fromFlags: boolean, found: FoundHost, role: Role): Promise<string> {
    const suggested = suggestHostName({
      ...(found.facts?.hostname ? { hostname: found.facts.hostname } : {}),
      address: found.address,
      role,
      taken: this.hosts.map((h) => h.name),
    });
    return ask(
      this.deps.prompts,
      { message: `Node name of ${found.address}`, default: suggested, validate: validateWith((v) => hostNameProblem(v, this.added)), flag: '--host ADDRESS,name=NAME' },
      spec.name ?? (fromFlags ? suggested : undefined),
    );
  }

  /** For a host added by DNS name: the IP the node advertises, offered from DNS. */
  private async askInternalAddress(spec: HostSpec, fromFlags: boolean, address: string, name: string): Promise<string> {
    const resolved = await (this.deps.resolveAddress ?? resolveAddress)(address);
    return ask(
      this.deps.prompts,
      {
        message: `IP address of ${name} on the cluster network`,
        ...(resolved ? { default: resolved } : {}),
        validate: validateWith((v) => internalAddressProblem(v, this.added)),
        flag: '--host ADDRESS,internal=IP',
      },
      spec.internalAddress ?? (fromFlags ? resolved : undefined),
    );
  }

  private record(name: string, role: Role, internalAddress: string | undefined, found: FoundHost): void {
    const { ctx } = this;
    this.added.push({
      name,
      address: found.address,
      port: found.port,
      ...(internalAddress ? { internalAddress } : {}),
      ...(found.facts?.machineId ? { machineId: found.facts.machineId, hostname: found.facts.hostname } : {}),
    });
    this.hosts.push({
      name,
      address: found.address,
      ...(found.port !== ctx.port ? { port: found.port } : {}),
      role,
      ...(internalAddress ? { internalAddress } : {}),
      ...(found.user !== ctx.user ? { user: found.user } : {}),
      ...(found.facts ? { checked: describeFacts(found.facts, found.user) } : {}),
      kept: found.kept,
    });
  }
}

type ProblemChoice = 'fix' | 'keep' | 'drop';

function askAboutProblems(deps: WizardDeps, address: string): Promise<ProblemChoice> {
  return deps.prompts.select<ProblemChoice>({
    message: `What about ${address}?`,
    choices: [
      { value: 'fix', name: 'fix it: enter the address (and user) again, and check again' },
      { value: 'keep', name: 'keep it as it is (the problem is written above the host in the inventory)' },
      { value: 'drop', name: 'drop this host' },
    ],
    default: 'fix',
  });
}

function askRole(deps: WizardDeps, name: string, roleByDefault: Role): Promise<Role> {
  return deps.prompts.select<Role>({
    message: `Role of ${name}`,
    choices: [
      { value: 'control-plane', name: 'control-plane', description: 'runs the API server and etcd; the first one runs kubeadm init' },
      { value: 'worker', name: 'worker', description: 'runs the workloads' },
    ],
    default: roleByDefault,
    flag: '--host ADDRESS,role=ROLE',
  });
}

async function resolveAddress(name: string): Promise<string | undefined> {
  try {
    return (await lookup(name)).address;
  } catch {
    return undefined;
  }
}
