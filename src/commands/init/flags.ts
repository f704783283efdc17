// `kubeforge init`'s flags → the wizard's preset answers, and what `--yes` cannot do without.
import { InputError, InputErrors } from '../../errors.js';
import type { Role } from '../../model.js';
import { versionFromBundle } from './defaults.js';
import { portProblem } from './validate.js';
import type { HostSpec, Preset } from './wizard.js';

/** As commander hands them over (see cli.ts). */
export interface InitFlags {
  name?: string;
  kubernetesVersion?: string;
  kubernetesBundle?: string;
  image?: string[];
  containerdBundle?: string;
  containerdVersion?: string;
  offline?: boolean;
  criTools?: string;
  cniPlugins?: string;
  networkManifest?: string;
  osPackages?: string;
  user?: string;
  port?: string;
  key?: string;
  agent?: boolean;
  passwordEnv?: string;
  passphraseEnv?: string;
  knownHosts?: string;
  host?: string[];
  acceptNewHostKeys?: boolean;
  /** false with --no-probe. */
  probe?: boolean;
  yes?: boolean;
  force?: boolean;
}

const ROLES: readonly Role[] = ['control-plane', 'worker'];

/** "10.0.0.10", "10.0.0.10:2222,name=cp1,role=control-plane", "node.example.com,internal=10.0.0.11" */
export function parseHostSpec(text: string): HostSpec {
  const [address = '', ...fields] = text.split(',').map((part) => part.trim());
  if (address === '' || address.includes('=')) {
    throw new InputError('--host', `"${text}" does not start with an address`, 'write ADDRESS[:PORT][,name=NAME][,role=ROLE][,internal=IP]');
  }
  const spec: HostSpec = { address };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = eq === -1 ? field : field.slice(0, eq);
    const value = eq === -1 ? '' : field.slice(eq + 1);
    if (key === 'name' && value) spec.name = value;
    else if (key === 'role' && (ROLES as readonly string[]).includes(value)) spec.role = value as Role;
    else if (key === 'internal' && value) spec.internalAddress = value;
    else {
      throw new InputError(
        '--host',
        `"${field}" in "${text}" is not name=NAME, role=control-plane, role=worker or internal=IP`,
        'write ADDRESS[:PORT][,name=NAME][,role=ROLE][,internal=IP]',
      );
    }
  }
  return spec;
}

export function presetFromFlags(flags: InitFlags): Preset {
  let port: number | undefined;
  if (flags.port !== undefined) {
    const problem = portProblem(flags.port);
    if (problem) throw new InputError('--port', problem);
    port = Number(flags.port);
  }
  const credentials = [flags.key !== undefined && '--key', flags.agent && '--agent', flags.passwordEnv !== undefined && '--password-env'].filter(Boolean);
  if (credentials.length > 1) throw new InputError(credentials.join(' and '), 'choose one way to log in');
  const preset: Preset = {
    ...(flags.name !== undefined ? { clusterName: flags.name } : {}),
    ...(flags.kubernetesVersion !== undefined ? { kubernetesVersion: flags.kubernetesVersion } : {}),
    ...(flags.kubernetesBundle !== undefined ? { kubernetesBundle: flags.kubernetesBundle } : {}),
    ...(flags.image !== undefined ? { images: flags.image } : {}),
    ...(flags.containerdBundle !== undefined ? { containerdBundle: flags.containerdBundle } : {}),
    ...(flags.containerdVersion !== undefined ? { containerdVersion: flags.containerdVersion } : {}),
    ...(flags.offline ? { offline: true } : {}),
    ...(flags.criTools !== undefined ? { criTools: flags.criTools } : {}),
    ...(flags.cniPlugins !== undefined ? { cniPlugins: flags.cniPlugins } : {}),
    ...(flags.networkManifest !== undefined ? { networkManifest: flags.networkManifest } : {}),
    ...(flags.osPackages !== undefined ? { osPackages: flags.osPackages } : {}),
    ...(flags.user !== undefined ? { user: flags.user } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(flags.key !== undefined ? { key: flags.key } : {}),
    ...(flags.agent ? { agent: true } : {}),
    ...(flags.passwordEnv !== undefined ? { passwordEnv: flags.passwordEnv } : {}),
    ...(flags.passphraseEnv !== undefined ? { passphraseEnv: flags.passphraseEnv } : {}),
    ...(flags.knownHosts !== undefined ? { knownHostsFile: flags.knownHosts } : {}),
    ...(flags.host !== undefined ? { hosts: flags.host.map(parseHostSpec) } : {}),
    ...(flags.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
  };
  return preset;
}

/**
 * With --yes nobody can answer, and these have no sensible default: all of them are reported at
 * once, before anything is contacted.
 */
export function requireForYes(preset: Preset): void {
  const missing: InputError[] = [];
  if (!preset.hosts || preset.hosts.length === 0) {
    missing.push(new InputError('--host', 'is required with --yes', 'repeat --host ADDRESS for every host; the first one becomes the control plane'));
  }
  if (preset.containerdBundle === undefined) {
    missing.push(new InputError('--containerd-bundle', 'is required with --yes', 'give the containerd release tarball: a path, or URL@sha256:HEX'));
  }
  if (preset.kubernetesVersion === undefined && !versionFromBundle('kubernetes', preset.kubernetesBundle)) {
    missing.push(new InputError('--kubernetes-version', 'is required with --yes', 'the Kubernetes version to install, X.Y.Z'));
  }
  if (missing.length > 0) throw new InputErrors(missing);
}
