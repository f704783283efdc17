// The questions of `kubeforge init`, in order, and what happens between them: each host is
// contacted as soon as it is added. Answers given as flags (the preset) skip their question but
// are checked like typed ones. Knows nothing of terminals or files: prompts, probing and output
// come in through WizardDeps, so tests drive it with rendered prompts and a fake prober.
import { lookup } from 'node:dns/promises';
import { basename } from 'node:path';
import { readImageRefs } from '../../bundle/image-refs.js';
import { InputError, KubeforgeError } from '../../errors.js';
import type { Role, SshSettings } from '../../model.js';
import { formatHostPort, isIP, parseHostPort } from '../../inventory/address.js';
import { privateKeyProblem, readableFileProblem } from '../../inventory/file-checks.js';
import { DEFAULTS } from '../../inventory/schema.js';
import type { UnknownHostKey } from '../../ssh/index.js';
import type { AuthAnswer, BundleAnswer, HostAnswer, InitAnswers } from './answers.js';
import {
  DEFAULT_CLUSTER_NAME,
  defaultRole,
  inventoryPathText,
  suggestHostName,
  supportedKubernetesMinors,
  tildePath,
  typedPathToAbsolute,
  versionFromBundle,
  type PathContext,
} from './defaults.js';
import { bundleArchMismatch, describeFacts, unsupportedReasons, type HostFacts } from './facts.js';
import type { Prober, ProbeProblem } from './probe.js';
import type { InputQuestion, Prompts } from './prompts.js';
import { keyNeedsPassphrase, passphraseProblem } from './ssh-keys.js';
import {
  addressProblem,
  clusterNameProblem,
  envVarProblem,
  hostNameProblem,
  internalAddressProblem,
  parseTypedBundle,
  sha256Problem,
  userProblem,
  versionProblem,
  type AddedHost,
} from './validate.js';

/** A host given on the command line: `--host ADDRESS[:PORT][,name=NAME][,role=ROLE][,internal=IP]`. */
export interface HostSpec {
  address: string;
  name?: string;
  role?: Role;
  internalAddress?: string;
}

/** Answers given as flags; undefined means "ask" (or, with --yes, take the default). */
export interface Preset {
  clusterName?: string;
  kubernetesVersion?: string;
  /** "" for none. */
  kubernetesBundle?: string;
  images?: string[];
  containerdBundle?: string;
  containerdVersion?: string;
  user?: string;
  port?: number;
  key?: string;
  agent?: boolean;
  passwordEnv?: string;
  passphraseEnv?: string;
  knownHostsFile?: string;
  hosts?: HostSpec[];
  acceptNewHostKeys?: boolean;
}

export interface WizardDeps {
  prompts: Prompts;
  preset: Preset;
  paths: PathContext;
  env: NodeJS.ProcessEnv;
  /** Private keys found in ~/.ssh, absolute paths, the usual names first. */
  foundKeys: string[];
  /** undefined: do not contact hosts (--no-probe). */
  probe?: Prober;
  say(line: string): void;
  signal?: AbortSignal;
  /** DNS lookup for a host added by name; the node's IP is offered from it. */
  resolveAddress?(name: string): Promise<string | undefined>;
}

export const CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_PASSPHRASE_ENV = 'KUBEFORGE_KEY_PASSPHRASE';
const DEFAULT_PASSWORD_ENV = 'KUBEFORGE_SSH_PASSWORD';
export const SUDO_PASSWORD_ENV = 'KUBEFORGE_SUDO_PASSWORD';

type Problem = (value: string) => string | undefined | Promise<string | undefined>;

/** inquirer's validate form from a "what is wrong" function. */
function validateWith(problem: Problem) {
  return async (value: string): Promise<true | string> => (await problem(value)) ?? true;
}

export async function runWizard(deps: WizardDeps): Promise<InitAnswers> {
  return new Wizard(deps).run();
}

interface Secrets {
  passphrase?: string;
  password?: string;
}

class Wizard {
  private readonly hosts: HostAnswer[] = [];
  private readonly added: (AddedHost & { machineId?: string; hostname?: string })[] = [];
  private sudoPasswordNeeded = false;

  constructor(private readonly deps: WizardDeps) {}

  async run(): Promise<InitAnswers> {
    const { preset } = this.deps;
    const clusterName = await this.ask(
      { message: 'Cluster name', default: DEFAULT_CLUSTER_NAME, validate: validateWith(clusterNameProblem), flag: '--name' },
      preset.clusterName,
    );
    const kubernetesBundle = await this.askBundle({
      message: 'Kubernetes bundle with bin/kubeadm and bin/kubelet (path or URL; empty: none)',
      flag: '--kubernetes-bundle',
      optional: true,
      preset: preset.kubernetesBundle,
    });
    const kubernetesVersion = await this.askKubernetesVersion(kubernetesBundle?.source);
    const images = await this.askImages();
    const containerdBundle = (await this.askBundle({
      message: 'containerd bundle, the release tarball (path or URL)',
      flag: '--containerd-bundle',
      optional: false,
      preset: preset.containerdBundle,
    }))!;
    const containerdVersion = versionFromBundle('containerd', containerdBundle.source)
      ? undefined
      : await this.ask(
          {
            message: "containerd version (the bundle's file name does not say it)",
            validate: validateWith((v) => versionProblem('containerd', v)),
            flag: '--containerd-version',
          },
          preset.containerdVersion,
        );

    const user = await this.ask({ message: 'SSH user on the hosts', default: DEFAULTS.ssh.user, validate: validateWith(userProblem), flag: '--user' }, preset.user);
    const port = preset.port ?? DEFAULTS.ssh.port;
    const auth = await this.askAuth();
    const secrets = this.deps.probe ? await this.askSecrets(auth) : {};
    const knownHostsTyped = preset.knownHostsFile;

    const settings = (hostUser: string, hostPort: number): SshSettings => this.probeSettings(hostUser, hostPort, auth, secrets, knownHostsTyped);
    await this.askHosts(user, port, settings, containerdBundle.source, kubernetesBundle?.source);

    return {
      clusterName,
      kubernetes: { version: kubernetesVersion, ...(kubernetesBundle ? { bundle: kubernetesBundle.answer } : {}), images },
      containerd: { bundle: containerdBundle.answer, ...(containerdVersion ? { version: containerdVersion } : {}) },
      ssh: {
        user,
        port,
        auth,
        ...(knownHostsTyped ? { knownHostsFile: inventoryPathText(knownHostsTyped, this.deps.paths) } : {}),
        ...(this.sudoPasswordNeeded ? { sudoPasswordEnv: SUDO_PASSWORD_ENV } : {}),
      },
      hosts: this.hosts,
    };
  }

  /** The preset answer (checked), or the question. */
  private async ask(question: InputQuestion, preset: string | undefined): Promise<string> {
    if (preset === undefined) return (await this.deps.prompts.input(question)).trim();
    const verdict = question.validate ? await question.validate(preset) : true;
    if (verdict !== true) throw new InputError(question.flag ?? question.message, verdict);
    return preset.trim();
  }

  private async askBundle(opts: {
    message: string;
    flag: string;
    optional: boolean;
    preset: string | undefined;
  }): Promise<{ answer: BundleAnswer; source: string } | undefined> {
    const text = await this.ask(
      {
        message: opts.message,
        ...(opts.optional ? { default: '' } : {}),
        validate: validateWith((v) => (opts.optional && v.trim() === '' ? undefined : this.bundleProblem(v))),
        flag: opts.flag,
      },
      opts.preset,
    );
    if (text === '') return undefined;
    return this.bundleAnswer(text, opts.flag);
  }

  private async bundleProblem(text: string): Promise<string | undefined> {
    const typed = parseTypedBundle(text);
    if (typeof typed === 'string') return typed;
    if (!('path' in typed)) return undefined;
    const problem = await readableFileProblem(typedPathToAbsolute(typed.path, this.deps.paths), 'file', '');
    return problem?.message;
  }

  /** A bundle that is also a readable image archive naming at least one image (as `up` requires). */
  private async imageProblem(text: string): Promise<string | undefined> {
    const problem = await this.bundleProblem(text);
    const typed = parseTypedBundle(text);
    if (problem || typeof typed === 'string' || !('path' in typed)) return problem;
    const file = typedPathToAbsolute(typed.path, this.deps.paths);
    try {
      const refs = await readImageRefs(file);
      return refs.length === 0 ? `${file} names no image (no RepoTags, no image name annotations)` : undefined;
    } catch (err) {
      return `${file} is not a usable image archive: ${(err as Error).message}`;
    }
  }

  private async bundleAnswer(text: string, flag: string): Promise<{ answer: BundleAnswer; source: string }> {
    const typed = parseTypedBundle(text);
    if (typeof typed === 'string') throw new InputError(flag, typed);
    if ('path' in typed) return { answer: { path: inventoryPathText(typed.path, this.deps.paths) }, source: typed.path };
    const sha256 =
      typed.sha256 ??
      (await this.ask(
        { message: `SHA-256 of ${basename(new URL(typed.url).pathname)} (the published checksum)`, validate: validateWith(sha256Problem), flag: `${flag} URL@sha256:HEX` },
        undefined,
      )).toLowerCase();
    return { answer: { url: typed.url, sha256 }, source: typed.url };
  }

  private async askKubernetesVersion(bundleSource: string | undefined): Promise<string> {
    const { preset, prompts } = this.deps;
    const check = validateWith((v) => versionProblem('kubernetes', v));
    if (preset.kubernetesVersion !== undefined) return this.ask({ message: 'Kubernetes version', validate: check, flag: '--kubernetes-version' }, preset.kubernetesVersion);
    const fromBundle = versionFromBundle('kubernetes', bundleSource);
    const minors = supportedKubernetesMinors();
    const picked = await prompts.select<string>({
      message: 'Kubernetes version',
      flag: '--kubernetes-version',
      choices: [
        ...(fromBundle ? [{ value: fromBundle, name: `${fromBundle} (the bundle's version)` }] : []),
        ...minors.map((minor) => ({ value: minor, name: `${minor}.x` })),
      ],
      default: fromBundle ?? minors[0]!,
    });
    if (picked === fromBundle) return picked;
    return this.ask({ message: `Kubernetes ${picked} release (X.Y.Z)`, default: `${picked}.0`, validate: check, flag: '--kubernetes-version' }, undefined);
  }

  private async askImages(): Promise<BundleAnswer[]> {
    const { preset, prompts } = this.deps;
    const images: BundleAnswer[] = [];
    const flag = '--image';
    if (preset.images !== undefined) {
      for (const text of preset.images) {
        const problem = await this.imageProblem(text);
        if (problem) throw new InputError(flag, problem);
        images.push((await this.bundleAnswer(text, flag)).answer);
      }
      return images;
    }
    for (;;) {
      const text = (
        await prompts.input({
          message: `Image archive for every host (docker save, ctr export; empty ${images.length === 0 ? 'for none' : 'when done'})`,
          default: '',
          validate: validateWith((v) => (v.trim() === '' ? undefined : this.imageProblem(v))),
          flag,
        })
      ).trim();
      if (text === '') return images;
      images.push((await this.bundleAnswer(text, flag)).answer);
    }
  }

  private async askAuth(): Promise<AuthAnswer> {
    const { preset, prompts, env, paths } = this.deps;
    if (preset.key !== undefined) return this.keyAuth(await this.ask({ message: 'Private key file', validate: validateWith((v) => this.keyProblem(v)), flag: '--key' }, preset.key));
    if (preset.agent) {
      if (!env.SSH_AUTH_SOCK) throw new InputError('--agent', 'SSH_AUTH_SOCK is not set, so there is no ssh-agent to use', 'start one (eval "$(ssh-agent)"; ssh-add) or pass --key FILE');
      return { kind: 'agent' };
    }
    if (preset.passwordEnv !== undefined) return this.passwordAuth(preset.passwordEnv);

    type Pick = { kind: 'found'; file: string } | { kind: 'agent' } | { kind: 'other-key' } | { kind: 'password' };
    const choices: { value: Pick; name: string; description?: string }[] = this.deps.foundKeys.map((file) => ({
      value: { kind: 'found', file },
      name: `key ${tildePath(file, paths.home)}`,
    }));
    if (env.SSH_AUTH_SOCK) choices.push({ value: { kind: 'agent' }, name: 'the keys of the ssh-agent ($SSH_AUTH_SOCK)' });
    choices.push({ value: { kind: 'other-key' }, name: 'another private key file…' });
    choices.push({ value: { kind: 'password' }, name: 'a password (read from an environment variable when kubeforge runs)' });
    const picked = await prompts.select<Pick>({ message: 'How does kubeforge log in?', choices, default: choices[0]!.value, flag: '--key' });
    switch (picked.kind) {
      case 'found':
        return this.keyAuth(tildePath(picked.file, paths.home));
      case 'agent':
        return { kind: 'agent' };
      case 'other-key':
        return this.keyAuth(await this.ask({ message: 'Private key file', validate: validateWith((v) => this.keyProblem(v)), flag: '--key' }, undefined));
      case 'password':
        return this.passwordAuth(undefined);
    }
  }

  private async keyProblem(typed: string): Promise<string | undefined> {
    if (typed.trim() === '') return 'give the path of a private key file';
    return (await privateKeyProblem(typedPathToAbsolute(typed, this.deps.paths), ''))?.message;
  }

  private async keyAuth(typed: string): Promise<AuthAnswer> {
    const keyFile = inventoryPathText(typed, this.deps.paths);
    if (!(await keyNeedsPassphrase(typedPathToAbsolute(typed, this.deps.paths)))) return { kind: 'key', keyFile };
    const passphraseEnv = await this.ask(
      { message: 'The key is encrypted. Environment variable that will hold its passphrase', default: DEFAULT_PASSPHRASE_ENV, validate: validateWith(envVarProblem), flag: '--passphrase-env' },
      this.deps.preset.passphraseEnv,
    );
    return { kind: 'key', keyFile, passphraseEnv };
  }

  private async passwordAuth(preset: string | undefined): Promise<AuthAnswer> {
    const passwordEnv = await this.ask(
      { message: 'Environment variable that will hold the SSH password', default: DEFAULT_PASSWORD_ENV, validate: validateWith(envVarProblem), flag: '--password-env' },
      preset,
    );
    return { kind: 'password', passwordEnv };
  }

  /** Secrets to probe with: from their variables when set, else asked (masked) and kept in memory. */
  private async askSecrets(auth: AuthAnswer): Promise<Secrets> {
    const { env, prompts, paths } = this.deps;
    if (auth.kind === 'key' && auth.passphraseEnv) {
      // keyFile is already written as the inventory names it: relative to the inventory's directory.
      const file = typedPathToAbsolute(auth.keyFile, { ...paths, cwd: paths.inventoryDir });
      const fromEnv = env[auth.passphraseEnv];
      if (fromEnv) {
        const problem = await passphraseProblem(file, fromEnv);
        if (problem) throw new InputError(auth.passphraseEnv, problem);
        return { passphrase: fromEnv };
      }
      const passphrase = await prompts.password({
        message: `Passphrase of ${auth.keyFile} (used now to check the hosts, never written; export ${auth.passphraseEnv} for kubeforge up)`,
        validate: validateWith((v) => passphraseProblem(file, v)),
        flag: `--passphrase-env (with ${auth.passphraseEnv} set)`,
      });
      return { passphrase };
    }
    if (auth.kind === 'password') {
      const fromEnv = env[auth.passwordEnv];
      if (fromEnv) return { password: fromEnv };
      const password = await prompts.password({
        message: `SSH password (used now to check the hosts, never written; export ${auth.passwordEnv} for kubeforge up)`,
        flag: `--password-env (with ${auth.passwordEnv} set)`,
      });
      return { password };
    }
    return {};
  }

  private probeSettings(user: string, port: number, auth: AuthAnswer, secrets: Secrets, knownHostsTyped: string | undefined): SshSettings {
    const { paths, env, preset } = this.deps;
    // The inventory's paths are relative to its own directory.
    const inInventory = { ...paths, cwd: paths.inventoryDir };
    return {
      user,
      port,
      ...(auth.kind === 'key' ? { keyFile: typedPathToAbsolute(auth.keyFile, inInventory) } : {}),
      ...(secrets.passphrase !== undefined ? { passphrase: secrets.passphrase } : {}),
      ...(auth.kind === 'agent' && env.SSH_AUTH_SOCK ? { agentSocket: env.SSH_AUTH_SOCK } : {}),
      ...(secrets.password !== undefined ? { password: secrets.password } : {}),
      knownHostsFile: typedPathToAbsolute(knownHostsTyped ?? DEFAULTS.ssh.knownHostsFile, paths),
      acceptNewHostKeys: preset.acceptNewHostKeys ?? false,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      keepaliveIntervalMs: 0,
    };
  }

  private async askHosts(
    user: string,
    port: number,
    settings: (user: string, port: number) => SshSettings,
    containerdSource: string,
    kubernetesSource: string | undefined,
  ): Promise<void> {
    const ctx: HostContext = { user, port, settings, bundles: [['containerd', containerdSource], ['Kubernetes', kubernetesSource]] };
    if (this.deps.preset.hosts !== undefined) {
      for (const spec of this.deps.preset.hosts) await this.addHost(ctx, spec, true);
      if (this.hosts.length === 0) throw new InputError('--host', 'every host given was dropped; the inventory needs at least one');
      if (!this.hosts.some((h) => h.role === 'control-plane')) throw new InputError('--host', 'no host has role control-plane', 'give the first host role=control-plane');
      return;
    }
    for (;;) {
      const first = this.hosts.length === 0;
      const address = await this.deps.prompts.input({
        message: first ? 'Address of the first host (IP or DNS name, optionally :port)' : `Address of host ${this.hosts.length + 1} (empty when done)`,
        ...(first ? {} : { default: '' }),
        validate: validateWith((v) => {
          if (v.trim() !== '' || first) return addressProblem(v, this.added, port);
          return this.hosts.some((h) => h.role === 'control-plane') ? undefined : 'no host is a control plane yet: add one with role control-plane';
        }),
        flag: '--host',
      });
      if (address.trim() === '') return;
      await this.addHost(ctx, { address: address.trim() }, false);
    }
  }

  /** Probe, offer choices about problems, then name, role and node IP. */
  private async addHost(ctx: HostContext, spec: HostSpec, fromFlags: boolean): Promise<void> {
    const { prompts, say } = this.deps;
    let address = spec.address;
    let user = ctx.user;
    for (;;) {
      const problem = addressProblem(address, this.added, ctx.port);
      if (problem) throw new InputError('--host', problem);
      const parsed = parseHostPort(address)!;
      const port = parsed.port ?? ctx.port;
      const probed = await this.probe(parsed.host, port, ctx.settings(user, port));
      const problems = probed.facts
        ? this.factProblems(probed.facts, user, ctx.bundles)
        : probed.problem
          ? [problemText(probed.problem)]
          : [];
      if (probed.facts) say(`  ${describeFacts(probed.facts, user)}`);
      for (const p of problems) say(`  problem: ${p}`);

      let kept: string[] = [];
      if (problems.length > 0) {
        if (!prompts.interactive) throw hostFailure(address, problems, probed.problem);
        const choice = await prompts.select<'fix' | 'keep' | 'drop'>({
          message: `What about ${address}?`,
          choices: [
            { value: 'fix', name: 'fix it: enter the address (and user) again, and check again' },
            { value: 'keep', name: 'keep it as it is (the problem is written above the host in the inventory)' },
            { value: 'drop', name: 'drop this host' },
          ],
          default: 'fix',
        });
        if (choice === 'drop') {
          say(`  dropped ${address}`);
          return;
        }
        if (choice === 'fix') {
          address = (
            await prompts.input({ message: 'Address', default: address, validate: validateWith((v) => addressProblem(v, this.added, ctx.port)), flag: '--host' })
          ).trim();
          user = (await prompts.input({ message: `SSH user for ${address}`, default: user, validate: validateWith(userProblem), flag: '--user' })).trim();
          continue;
        }
        kept = problems;
      }
      await this.nameHost(ctx, spec, fromFlags, { address: parsed.host, port, user, facts: probed.facts, kept });
      return;
    }
  }

  private async nameHost(
    ctx: HostContext,
    spec: HostSpec,
    fromFlags: boolean,
    found: { address: string; port: number; user: string; facts: HostFacts | undefined; kept: string[] },
  ): Promise<void> {
    const { prompts } = this.deps;
    const roleByDefault = defaultRole(this.hosts.map((h) => h.role));
    const suggested = suggestHostName({
      ...(found.facts?.hostname ? { hostname: found.facts.hostname } : {}),
      address: found.address,
      role: spec.role ?? roleByDefault,
      taken: this.hosts.map((h) => h.name),
    });
    const name = await this.ask(
      { message: `Node name of ${found.address}`, default: suggested, validate: validateWith((v) => hostNameProblem(v, this.added)), flag: '--host ADDRESS,name=NAME' },
      spec.name ?? (fromFlags ? suggested : undefined),
    );
    const role: Role =
      spec.role ??
      (fromFlags
        ? roleByDefault
        : await prompts.select<Role>({
            message: `Role of ${name}`,
            choices: [
              { value: 'control-plane', name: 'control-plane', description: 'runs the API server and etcd; the first one runs kubeadm init' },
              { value: 'worker', name: 'worker', description: 'runs the workloads' },
            ],
            default: roleByDefault,
            flag: '--host ADDRESS,role=ROLE',
          }));
    let internalAddress: string | undefined;
    if (!isIP(found.address)) {
      const resolved = await (this.deps.resolveAddress ?? resolveAddress)(found.address);
      internalAddress = await this.ask(
        {
          message: `IP address of ${name} on the cluster network`,
          ...(resolved ? { default: resolved } : {}),
          validate: validateWith((v) => internalAddressProblem(v, this.added)),
          flag: '--host ADDRESS,internal=IP',
        },
        spec.internalAddress ?? (fromFlags ? resolved : undefined),
      );
    }
    if (found.facts?.sudo === 'password') this.sudoPasswordNeeded = true;
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
    this.deps.say(`  added ${name} (${formatHostPort(found.address, found.port)}) as ${role}`);
  }

  private async probe(address: string, port: number, settings: SshSettings): Promise<{ facts?: HostFacts; problem?: ProbeProblem }> {
    const { probe, say, signal } = this.deps;
    if (!probe) return {};
    say(`  contacting ${settings.user}@${formatHostPort(address, port)} …`);
    const outcome = await probe({
      name: address,
      address,
      port,
      settings,
      askHostKey: (key) => this.askHostKey(key),
      ...(signal ? { signal } : {}),
    });
    return outcome.ok ? { facts: outcome.facts } : { problem: outcome.problem };
  }

  private askHostKey(key: UnknownHostKey): Promise<boolean> {
    this.deps.say(`  ${formatHostPort(key.host, key.port)} is not in ${key.knownHostsFile}; it presents this host key:`);
    this.deps.say(`    ${key.keyType} ${key.fingerprint}`);
    return this.deps.prompts.confirm({
      message: `Trust this key and record it in ${key.knownHostsFile}?`,
      default: false,
      flag: '--accept-new-host-keys',
    });
  }

  private factProblems(facts: HostFacts, user: string, bundles: HostContext['bundles']): string[] {
    const problems = unsupportedReasons(facts, user);
    for (const [label, source] of bundles) {
      const mismatch = source ? bundleArchMismatch(facts, basename(source), label) : undefined;
      if (mismatch) problems.push(mismatch);
    }
    // Clones share a machine-id (so do containers started from one image): only together with
    // the hostname is it a sign of one machine added under two addresses.
    const twin = facts.machineId ? this.added.find((h) => h.machineId === facts.machineId && h.hostname === facts.hostname) : undefined;
    if (twin) problems.push(`this looks like host ${twin.name} again (same hostname ${facts.hostname} and /etc/machine-id)`);
    return problems;
  }
}

interface HostContext {
  user: string;
  port: number;
  settings: (user: string, port: number) => SshSettings;
  /** [label, path or URL] of bundles whose file name may tell an architecture. */
  bundles: [string, string | undefined][];
}

function problemText(problem: ProbeProblem): string {
  return problem.hint ? `${problem.message} (${problem.hint})` : problem.message;
}

function hostFailure(address: string, problems: string[], probeProblem: ProbeProblem | undefined): KubeforgeError {
  const hint =
    probeProblem?.kind === 'host-key'
      ? "check the host's key fingerprint, then pass --accept-new-host-keys to trust and record keys of new hosts"
      : 'fix the host, or leave out its --host; --no-probe writes the inventory without contacting any host';
  // Problems from SSH already start with the address; those from the facts do not.
  const lines = problems.map((p) => (p.startsWith(address) ? p : `${address}: ${p}`));
  return new KubeforgeError(lines.join('\n'), hint);
}

async function resolveAddress(name: string): Promise<string | undefined> {
  try {
    return (await lookup(name)).address;
  } catch {
    return undefined;
  }
}
