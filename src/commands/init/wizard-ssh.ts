// How kubeforge logs in to the hosts: user, key, agent or password. When hosts are to be
// contacted now, the secrets for that are taken from their variables or asked (masked), and
// kept in memory only.
import { InputError } from '../../errors.js';
import type { SshSettings } from '../../model.js';
import { privateKeyProblem } from '../../inventory/file-checks.js';
import { DEFAULTS } from '../../inventory/schema.js';
import type { AuthAnswer, InitAnswers } from './answers.js';
import { inventoryPathText, tildePath, typedPathToAbsolute } from './defaults.js';
import { keyNeedsPassphrase, passphraseProblem } from './ssh-keys.js';
import { envVarProblem, userProblem } from './validate.js';
import { ask, validateWith } from './wizard-ask.js';
import type { WizardDeps } from './wizard.js';

export const CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_PASSPHRASE_ENV = 'KUBEFORGE_KEY_PASSPHRASE';
const DEFAULT_PASSWORD_ENV = 'KUBEFORGE_SSH_PASSWORD';

export interface AskedSsh {
  /** The inventory's ssh section, but for sudoPasswordEnv, which only the hosts can tell. */
  answer: Omit<InitAnswers['ssh'], 'sudoPasswordEnv'>;
  /** How to log in to a host as `up` will, for probing it. */
  settings(user: string, port: number): SshSettings;
}

interface Secrets {
  passphrase?: string;
  password?: string;
}

export async function askSsh(deps: WizardDeps): Promise<AskedSsh> {
  const { preset } = deps;
  const user = await ask(deps.prompts, { message: 'SSH user on the hosts', default: DEFAULTS.ssh.user, validate: validateWith(userProblem), flag: '--user' }, preset.user);
  const port = preset.port ?? DEFAULTS.ssh.port;
  const auth = await askAuth(deps);
  const secrets = deps.probe ? await askSecrets(deps, auth) : {};
  const knownHostsTyped = preset.knownHostsFile;
  return {
    answer: {
      user,
      port,
      auth,
      ...(knownHostsTyped ? { knownHostsFile: inventoryPathText(knownHostsTyped, deps.paths) } : {}),
    },
    settings: (hostUser, hostPort) => probeSettings(deps, hostUser, hostPort, auth, secrets, knownHostsTyped),
  };
}

async function askAuth(deps: WizardDeps): Promise<AuthAnswer> {
  const { preset, prompts, env, paths } = deps;
  if (preset.key !== undefined) return keyAuth(deps, await ask(prompts, { message: 'Private key file', validate: validateWith((v) => keyProblem(deps, v)), flag: '--key' }, preset.key));
  if (preset.agent) {
    if (!env.SSH_AUTH_SOCK) throw new InputError('--agent', 'SSH_AUTH_SOCK is not set, so there is no ssh-agent to use', 'start one (eval "$(ssh-agent)"; ssh-add) or pass --key FILE');
    return { kind: 'agent' };
  }
  if (preset.passwordEnv !== undefined) return passwordAuth(deps, preset.passwordEnv);

  type Pick = { kind: 'found'; file: string } | { kind: 'agent' } | { kind: 'other-key' } | { kind: 'password' };
  const choices: { value: Pick; name: string; description?: string }[] = deps.foundKeys.map((file) => ({
    value: { kind: 'found', file },
    name: `key ${tildePath(file, paths.home)}`,
  }));
  if (env.SSH_AUTH_SOCK) choices.push({ value: { kind: 'agent' }, name: 'the keys of the ssh-agent ($SSH_AUTH_SOCK)' });
  choices.push({ value: { kind: 'other-key' }, name: 'another private key file…' });
  choices.push({ value: { kind: 'password' }, name: 'a password (read from an environment variable when kubeforge runs)' });
  const picked = await prompts.select<Pick>({ message: 'How does kubeforge log in?', choices, default: choices[0]!.value, flag: '--key' });
  switch (picked.kind) {
    case 'found':
      return keyAuth(deps, tildePath(picked.file, paths.home));
    case 'agent':
      return { kind: 'agent' };
    case 'other-key':
      return keyAuth(deps, await ask(prompts, { message: 'Private key file', validate: validateWith((v) => keyProblem(deps, v)), flag: '--key' }, undefined));
    case 'password':
      return passwordAuth(deps, undefined);
  }
}

async function keyProblem(deps: WizardDeps, typed: string): Promise<string | undefined> {
  if (typed.trim() === '') return 'give the path of a private key file';
  return (await privateKeyProblem(typedPathToAbsolute(typed, deps.paths), ''))?.message;
}

async function keyAuth(deps: WizardDeps, typed: string): Promise<AuthAnswer> {
  const keyFile = inventoryPathText(typed, deps.paths);
  if (!(await keyNeedsPassphrase(typedPathToAbsolute(typed, deps.paths)))) return { kind: 'key', keyFile };
  const passphraseEnv = await ask(
    deps.prompts,
    { message: 'The key is encrypted. Environment variable that will hold its passphrase', default: DEFAULT_PASSPHRASE_ENV, validate: validateWith(envVarProblem), flag: '--passphrase-env' },
    deps.preset.passphraseEnv,
  );
  return { kind: 'key', keyFile, passphraseEnv };
}

async function passwordAuth(deps: WizardDeps, preset: string | undefined): Promise<AuthAnswer> {
  const passwordEnv = await ask(
    deps.prompts,
    { message: 'Environment variable that will hold the SSH password', default: DEFAULT_PASSWORD_ENV, validate: validateWith(envVarProblem), flag: '--password-env' },
    preset,
  );
  return { kind: 'password', passwordEnv };
}

/** Secrets to probe with: from their variables when set, else asked (masked) and kept in memory. */
async function askSecrets(deps: WizardDeps, auth: AuthAnswer): Promise<Secrets> {
  const { env, prompts, paths } = deps;
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

function probeSettings(deps: WizardDeps, user: string, port: number, auth: AuthAnswer, secrets: Secrets, knownHostsTyped: string | undefined): SshSettings {
  const { paths, env, preset } = deps;
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
