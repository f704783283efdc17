// Everything the wizard collects, in the shape the inventory document is built from. Paths are
// already written the way the inventory names them (relative to the inventory file, "~/…", or
// absolute); secrets never appear here, only the names of the variables that hold them.
import type { Role } from '../../model.js';

export type BundleAnswer = { path: string } | { url: string; sha256: string };

export type AuthAnswer =
  | { kind: 'key'; keyFile: string; passphraseEnv?: string }
  | { kind: 'agent' }
  | { kind: 'password'; passwordEnv: string };

export interface HostAnswer {
  name: string;
  address: string;
  /** Only when it differs from ssh.port. */
  port?: number;
  role: Role;
  /** Only for hosts reached by DNS name: the IP the node advertises. */
  internalAddress?: string;
  /** Only when it differs from ssh.user. */
  user?: string;
  /** What the probe found, one line, written above the host. */
  checked?: string;
  /** Problems the user chose to keep the host with, written above it. */
  kept: string[];
}

export interface InitAnswers {
  clusterName: string;
  kubernetes: {
    version: string;
    bundle?: BundleAnswer;
    images: BundleAnswer[];
    /** Only with image archives: true when they are the hosts' only source of images (written false when unset). */
    offline?: boolean;
    /** cri-tools release tarball (crictl). */
    criTools?: BundleAnswer;
    /** containernetworking-plugins release tarball. */
    cniPlugins?: BundleAnswer;
  };
  /** The network add-on's manifest; without it nodes stay NotReady. */
  network?: { manifest: BundleAnswer };
  /** version only when the bundle's file name does not tell it. */
  containerd: { bundle: BundleAnswer; version?: string };
  /** A tarball of .deb files for hosts without a package mirror. */
  osPackages?: { bundle: BundleAnswer };
  ssh: {
    user: string;
    port: number;
    auth: AuthAnswer;
    /** Only when not the default ~/.ssh/known_hosts. */
    knownHostsFile?: string;
    /** Set when some host's sudo asks for a password. */
    sudoPasswordEnv?: string;
  };
  hosts: HostAnswer[];
}

/** Names of the environment variables the inventory reads secrets from. */
export function secretVariables(answers: InitAnswers): string[] {
  const names: string[] = [];
  const auth = answers.ssh.auth;
  if (auth.kind === 'key' && auth.passphraseEnv) names.push(auth.passphraseEnv);
  if (auth.kind === 'password') names.push(auth.passwordEnv);
  if (answers.ssh.sudoPasswordEnv) names.push(answers.ssh.sudoPasswordEnv);
  return names;
}
