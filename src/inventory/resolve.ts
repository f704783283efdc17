// From a validated inventory to the Cluster every later stage reads: defaults applied, per-host
// SSH settings merged over the top-level ones, secrets read from the environment variables the
// inventory names, files checked, bundles hashed (or fetched into the cache and verified).
// Every problem found is collected; nothing is hashed or downloaded while any remain.
import { readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, dirname } from 'node:path';
import { AddonManifestError, analyzeAddonManifest, type AddonManifest } from '../cluster/addon-manifest.js';
import { kubeadmPauseImage } from '../cluster/kubeadm-images.js';
import type { Bundle, Cluster, Host, JumpHost, SettingSource, SshSettings } from '../model.js';
import { checkArtifacts } from './artifact-checks.js';
import { canonicalAddress, formatHostPort, isIP, parseHostPort } from './address.js';
import { BundleFetchError, fetchBundle } from './fetch-bundle.js';
import { privateKeyProblem, readableFileProblem } from './file-checks.js';
import type { DigestCache } from './digest-cache.js';
import { hashFile } from './hash-file.js';
import { readImageRefs } from '../bundle/image-refs.js';
import { resolveUserPath } from './paths.js';
import { clip, formatPath, MAX_PATH_CHARS, showPath, type Path, type Problem } from './problem.js';
import { DEFAULTS, type BundleSource, type Inventory, type SshFields } from './schema.js';
import { describeSource, effectiveSsh, type EffectiveSsh, type ExplicitSsh } from './effective-ssh.js';
import { readSshConfig } from './ssh-config-file.js';
import { formatJump, type JumpSpec } from '../ssh/proxy-jump.js';
import { parseExactVersion, versionInFileName } from './versions.js';

export interface ResolveContext {
  /** Absolute path of the inventory file; relative paths in it are resolved from its directory. */
  inventoryPath: string;
  env: NodeJS.ProcessEnv;
  home: string;
  cacheDir: string;
  fetch?: typeof fetch;
  /** Remembers bundle hashes between runs (each file is hashed again when it changed). */
  digests?: DigestCache;
  /** The user running kubeforge (ssh config Match localuser, %u); the process's user by default. */
  localUser?: string;
}

export type ResolveResult =
  | { ok: true; cluster: Cluster; warnings: Problem[] }
  | { ok: false; errors: Problem[]; warnings: Problem[] };

type SshField = keyof SshFields;

/** One host's SSH fields after merging, and for each field the path it was written at. */
interface MergedSsh {
  values: SshFields;
  origin: Partial<Record<SshField, Path>>;
}

function mergeSsh(inventory: Inventory, index: number): MergedSsh {
  const values: Record<string, unknown> = {};
  const origin: Partial<Record<SshField, Path>> = {};
  const { configFile: _configFile, ...global } = inventory.ssh ?? {};
  const layers: [SshFields | undefined, Path][] = [
    [global, ['ssh']],
    [inventory.hosts[index]!.ssh, ['hosts', index, 'ssh']],
  ];
  for (const [fields, base] of layers) {
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (value === undefined) continue;
      values[key] = value;
      origin[key as SshField] = [...base, key];
    }
  }
  return { values: values as SshFields, origin };
}

interface PlannedBundle {
  name: string;
  path: Path;
  source: BundleSource;
  /** Absolute path for a local file. */
  file?: string;
}

export async function resolveInventory(inventory: Inventory, context: ResolveContext): Promise<ResolveResult> {
  const baseDir = dirname(context.inventoryPath);
  const userPath = (path: string) => resolveUserPath(path, baseDir, context.home);
  const notFoundHint = `relative paths start from the inventory's directory ${showPath(baseDir)}; ~ is the home directory ${showPath(context.home)}`;
  const errors: Problem[] = [];
  const warnings: Problem[] = [];

  const bundles = planBundles(inventory, userPath);
  checkBundleTokens(bundles, context.env, errors);
  for (const bundle of bundles) {
    if (bundle.file === undefined) continue;
    const problem = await readableFileProblem(bundle.file, 'bundle file', notFoundHint);
    if (problem) errors.push({ path: bundle.path, message: `${formatPath(bundle.path)}: ${problem.message}`, hint: problem.hint });
  }

  const merged = inventory.hosts.map((_, i) => mergeSsh(inventory, i));
  await checkKeyFiles(inventory, merged, userPath, notFoundHint, errors);
  checkSecrets(inventory, merged, context.env, errors);
  const sshConfig = await readSshConfig(inventory.ssh?.configFile, userPath, context.home, errors, warnings);
  const localUser = context.localUser ?? currentUser();
  const globalLayer = globalSsh(inventory);
  const effective = inventory.hosts.map((host, i) => {
    const result = effectiveSsh({
      name: host.address,
      namePath: ['hosts', i, 'address'],
      explicit: merged[i]!,
      ...(sshConfig ? { config: sshConfig.file } : {}),
      home: context.home,
      inventoryPath: userPath,
      localUser,
    });
    sshConfig?.report(result, ['hosts', i, 'address'], errors, warnings);
    return result.settings;
  });
  const hops: EffectiveSsh[] = [];
  const sshSettings = effective.map((e, i) => {
    const settings = sshSettingsOf(e, merged[i]!.values, context.env);
    const jumps = jumpHostsOf(e, globalLayer, sshConfig, context, userPath, ['hosts', i, 'address'], errors, warnings, hops, localUser);
    return jumps.length > 0 ? { ...settings, proxyJump: jumps } : settings;
  });
  await checkConfigKeyFiles([...effective, ...hops], notFoundHint, errors);
  sshSettings.forEach((ssh, i) => checkCredentials(inventory, i, ssh, merged[i]!, errors));
  checkBastionCredentials(inventory, sshSettings, effective, errors);
  checkNodeAddresses(inventory, effective, errors);
  await checkKnownHosts(merged, sshSettings, warnings);

  const containerdVersion = containerdVersionOf(inventory);
  if (!containerdVersion) {
    // checks.ts reports this with more detail before resolve runs; kept so resolve stands alone.
    errors.push({
      path: ['containerd', 'version'],
      message: 'containerd.version is not set and cannot be read from the bundle file name',
      hint: 'add containerd.version: X.Y.Z',
    });
  }
  if (errors.length > 0 || !containerdVersion) return { ok: false, errors, warnings };

  const resolved = await materialiseBundles(bundles, context, errors);
  await readImageArchives(bundles, resolved, errors, context.digests);
  const addon = await readAddonManifest(bundles, resolved, errors);
  if (errors.length > 0) return { ok: false, errors, warnings };

  const hosts: Host[] = inventory.hosts.map((host, i) => ({
    name: host.name,
    // An ssh config alias is dialled, and known to peers, by its HostName.
    address: effective[i]!.address.value,
    role: host.role,
    ssh: sshSettings[i]!,
    labels: host.labels ?? {},
    internalAddress: host.internalAddress ?? effective[i]!.address.value,
    sshSources: sshSources(effective[i]!, sshSettings[i]!),
  }));
  const initHost = hosts.find((h) => h.role === 'control-plane')!;
  const vip = inventory.kubernetes.controlPlaneVip;
  const endpoint = inventory.kubernetes.controlPlaneEndpoint
    ? parseHostPort(inventory.kubernetes.controlPlaneEndpoint)!
    : { host: vip ? vip.address : initHost.internalAddress };
  const kubernetesVersion = parseExactVersion(inventory.kubernetes.version)!;
  // { key: bundle } when the inventory names it, {} otherwise (exactOptionalPropertyTypes).
  const optional = <K extends string>(name: string, key: K): Partial<Record<K, Bundle>> => {
    const bundle = resolved.get(name);
    return bundle ? ({ [key]: bundle } as Record<K, Bundle>) : {};
  };
  const networkManifest = resolved.get(BUNDLE_NAMES.networkManifest);
  const images = bundles.filter((b) => b.name.startsWith('image:')).map((b) => resolved.get(b.name)!);

  const cluster: Cluster = {
    name: inventory.cluster.name,
    inventoryPath: context.inventoryPath,
    containerd: {
      version: containerdVersion,
      bundle: resolved.get('containerd')!,
      socket: inventory.containerd.socket,
      sandboxImage: inventory.containerd.sandboxImage ?? kubeadmPauseImage(kubernetesVersion),
      registryMirrors: inventory.containerd.registryMirrors,
      registryConfigPath: inventory.containerd.registryConfigPath,
    },
    kubernetes: {
      version: kubernetesVersion,
      ...optional('kubernetes', 'bundle'),
      controlPlaneEndpoint: formatHostPort(endpoint.host, endpoint.port ?? DEFAULTS.kubernetes.apiServerPort),
      ...(vip ? { controlPlaneVip: { address: vip.address, interface: vip.interface, image: vip.image ?? DEFAULTS.kubernetes.kubeVipImage } } : {}),
      podSubnet: inventory.kubernetes.podSubnet,
      serviceSubnet: inventory.kubernetes.serviceSubnet,
      clusterDomain: inventory.kubernetes.clusterDomain,
      images,
      offline: inventory.kubernetes.offline ?? images.length > 0,
      ...optional(BUNDLE_NAMES.criTools, 'criTools'),
      ...optional(BUNDLE_NAMES.cniPlugins, 'cniPlugins'),
    },
    ...(networkManifest && addon ? { network: { manifest: networkManifest, images: addon.images, podCidrs: addon.podCidrs } } : {}),
    osPackages: optional(BUNDLE_NAMES.osPackages, 'bundle'),
    relay: { enabled: inventory.relay?.enabled ?? true },
    hosts,
  };
  errors.push(...checkArtifacts(cluster, inventory, addon));
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, cluster, warnings };
}

function sourceFileName(source: BundleSource): string {
  return typeof source === 'string' ? basename(source) : basename(new URL(source.url).pathname);
}

/** Bundle.name of the single-file bundles beside "containerd", "kubernetes" and "image:…". */
export const BUNDLE_NAMES = {
  criTools: 'cri-tools',
  cniPlugins: 'cni-plugins',
  networkManifest: 'network-manifest',
  osPackages: 'os-packages',
} as const;

function planBundles(inventory: Inventory, userPath: (p: string) => string): PlannedBundle[] {
  const planned: Omit<PlannedBundle, 'file'>[] = [{ name: 'containerd', path: ['containerd', 'bundle'], source: inventory.containerd.bundle }];
  const optional = (name: string, path: Path, source: BundleSource | undefined) => {
    if (source !== undefined) planned.push({ name, path, source });
  };
  optional('kubernetes', ['kubernetes', 'bundle'], inventory.kubernetes.bundle);
  optional(BUNDLE_NAMES.criTools, ['kubernetes', 'criTools'], inventory.kubernetes.criTools);
  optional(BUNDLE_NAMES.cniPlugins, ['kubernetes', 'cniPlugins'], inventory.kubernetes.cniPlugins);
  optional(BUNDLE_NAMES.networkManifest, ['network', 'manifest'], inventory.network?.manifest);
  optional(BUNDLE_NAMES.osPackages, ['osPackages', 'bundle'], inventory.osPackages?.bundle);
  const imageNames = new Set<string>();
  inventory.kubernetes.images.forEach((source, i) => {
    // Two archives with one file name (from different directories) still need distinct names.
    let name = `image:${sourceFileName(source)}`;
    if (imageNames.has(name)) name = `${name}#${i}`;
    imageNames.add(name);
    planned.push({ name, path: ['kubernetes', 'images', i], source });
  });
  return planned.map((b) => (typeof b.source === 'string' ? { ...b, file: userPath(b.source) } : b));
}

function containerdVersionOf(inventory: Inventory) {
  const written = inventory.containerd.version;
  if (written !== undefined) return parseExactVersion(written);
  return versionInFileName('containerd', sourceFileName(inventory.containerd.bundle));
}

const MAX_NAMED_HOSTS = 10;

function hostNames(inventory: Inventory, indexes: number[]): string {
  const names = indexes.map((i) => inventory.hosts[i]!.name);
  if (names.length === 1) return `host ${names[0]}`;
  // A setting shared by a thousand hosts names a few of them.
  const shown = names.length > MAX_NAMED_HOSTS ? [...names.slice(0, MAX_NAMED_HOSTS - 1), `and ${names.length - MAX_NAMED_HOSTS + 1} more`] : names;
  return `hosts ${shown.join(', ')}`;
}

/** Group the hosts by where a field was written, so a shared setting is reported once. */
function byOrigin(merged: MergedSsh[], field: SshField): Map<string, { path: Path; hosts: number[] }> {
  const groups = new Map<string, { path: Path; hosts: number[] }>();
  merged.forEach((m, i) => {
    const path = m.origin[field];
    if (!path || m.values[field] === undefined) return;
    const key = JSON.stringify(path);
    const group = groups.get(key) ?? { path, hosts: [] };
    group.hosts.push(i);
    groups.set(key, group);
  });
  return groups;
}

async function checkKeyFiles(
  inventory: Inventory,
  merged: MergedSsh[],
  userPath: (p: string) => string,
  notFoundHint: string,
  errors: Problem[],
): Promise<void> {
  for (const { path, hosts } of byOrigin(merged, 'keyFile').values()) {
    const file = userPath(merged[hosts[0]!]!.values.keyFile!);
    const problem = await privateKeyProblem(file, notFoundHint);
    if (problem) {
      errors.push({ path, message: `${formatPath(path)}: ${problem.message} (used for ${hostNames(inventory, hosts)})`, hint: problem.hint });
    }
  }
}

/** A download's token is read from the environment, like every secret: the variable must be set. */
function checkBundleTokens(bundles: PlannedBundle[], env: NodeJS.ProcessEnv, errors: Problem[]): void {
  for (const bundle of bundles) {
    if (typeof bundle.source === 'string' || bundle.source.tokenEnv === undefined || env[bundle.source.tokenEnv]) continue;
    const path = [...bundle.path, 'tokenEnv'];
    const name = clip(bundle.source.tokenEnv);
    errors.push({
      path,
      message: `${formatPath(path)}: environment variable ${name} is not set (the token for downloading ${showPath(bundle.source.url)})`,
      hint: `export ${name}=… before running kubeforge; secrets are read from the environment, never from the inventory`,
    });
  }
}

const SECRET_FIELDS = ['passphraseEnv', 'passwordEnv', 'sudoPasswordEnv'] as const;

function checkSecrets(inventory: Inventory, merged: MergedSsh[], env: NodeJS.ProcessEnv, errors: Problem[]): void {
  for (const field of SECRET_FIELDS) {
    for (const { path, hosts } of byOrigin(merged, field).values()) {
      const name = merged[hosts[0]!]!.values[field]!;
      if (env[name]) continue;
      errors.push({
        path,
        message: `${formatPath(path)}: environment variable ${clip(name)} is not set (needed for ${hostNames(inventory, hosts)})`,
        hint: `export ${clip(name)}=… before running kubeforge; secrets are read from the environment, never from the inventory`,
      });
    }
  }
}

function sshSettingsOf(e: EffectiveSsh, v: SshFields, env: NodeJS.ProcessEnv): SshSettings {
  const secret = (name: string | undefined) => (name !== undefined && env[name] ? env[name] : undefined);
  const passphrase = secret(v.passphraseEnv);
  const password = secret(v.passwordEnv);
  const sudoPassword = secret(v.sudoPasswordEnv);
  const agentSocket = e.agent.value && env.SSH_AUTH_SOCK ? env.SSH_AUTH_SOCK : undefined;
  return {
    user: e.user.value,
    port: e.port.value,
    ...(e.keyFile ? { keyFile: e.keyFile.value } : {}),
    ...(passphrase !== undefined ? { passphrase } : {}),
    ...(agentSocket !== undefined ? { agentSocket } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(sudoPassword !== undefined ? { sudoPassword } : {}),
    knownHostsFile: e.knownHostsFile.value,
    acceptNewHostKeys: e.acceptNewHostKeys.value,
    connectTimeoutMs: e.connectTimeoutMs.value,
    keepaliveIntervalMs: e.keepaliveIntervalMs.value,
  };
}

/** The top-level ssh section as a layer: what a bastion falls back to after its own ssh config. */
function globalSsh(inventory: Inventory): ExplicitSsh {
  const { configFile: _configFile, proxyJump: _proxyJump, port: _port, ...values } = inventory.ssh ?? {};
  const origin: ExplicitSsh['origin'] = {};
  for (const key of Object.keys(values) as (keyof SshFields)[]) origin[key] = ['ssh', key];
  return { values, origin };
}

/**
 * The bastions of one host's ProxyJump chain. Each hop is looked up in the ssh config by the name
 * written in the chain; what the chain writes (user, port) wins, then the ssh config, then the
 * inventory's top-level ssh settings (its auth, known_hosts, timeouts), then defaults.
 */
function jumpHostsOf(
  e: EffectiveSsh,
  globalLayer: ExplicitSsh,
  sshConfig: Awaited<ReturnType<typeof readSshConfig>>,
  context: ResolveContext,
  userPath: (p: string) => string,
  hostPath: Path,
  errors: Problem[],
  warnings: Problem[],
  /** Each hop's effective settings are added here (their key files are checked like the hosts'). */
  hops: EffectiveSsh[],
  localUser: string,
): JumpHost[] {
  const chainPath: Path = e.proxyJump.source.from === 'inventory' ? e.proxyJump.source.path : hostPath;
  const seen: string[] = [];
  const chain = (specs: JumpSpec[]): JumpHost[] => {
    const resolved: JumpHost[] = [];
    specs.forEach((spec, index) => {
      const explicit: ExplicitSsh = {
        values: { ...(spec.user !== undefined ? { user: spec.user } : {}), ...(spec.port !== undefined ? { port: spec.port } : {}) },
        origin: { user: chainPath, port: chainPath },
      };
      const result = effectiveSsh({
        name: spec.host,
        namePath: chainPath,
        explicit,
        fallback: globalLayer,
        ...(sshConfig ? { config: sshConfig.file } : {}),
        home: context.home,
        inventoryPath: userPath,
        localUser,
      });
      sshConfig?.report(result, chainPath, errors, warnings);
      const hop = result.settings;
      // As ssh does: the first bastion is reached with its own ProxyJump from the ssh config (the
      // later ones through the chain, whatever the config says for them).
      if (index === 0 && hop.proxyJump.value.length > 0) {
        if (seen.includes(spec.host) || seen.length >= MAX_JUMP_DEPTH) {
          const where = hop.proxyJump.source.from === 'ssh-config' ? `ssh config ${showPath(hop.proxyJump.source.file)}:${hop.proxyJump.source.line}: ` : '';
          errors.push({
            path: chainPath,
            message: `${formatPath(chainPath)}: ${where}the ProxyJump chain through ${[...seen, spec.host].join(' → ')} loops or is longer than ${MAX_JUMP_DEPTH} bastions`,
            hint: "check the bastions' ProxyJump lines in the ssh config, or write the whole chain in ssh.proxyJump",
          });
          return;
        }
        seen.push(spec.host);
        resolved.push(...chain(hop.proxyJump.value));
      }
      hops.push(hop);
      resolved.push({
        label: formatJump({ user: hop.user.value, host: spec.host, port: hop.port.value }),
        address: hop.address.value,
        ssh: sshSettingsOf(hop, globalLayer.values, context.env),
      });
    });
    return resolved;
  };
  return chain(e.proxyJump.value);
}

/** The user running kubeforge, as ssh config's Match localuser and %u see it. */
function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers): the name is unknown.
    return String(process.getuid?.() ?? '');
  }
}

/** Longest chain of bastions followed through the ssh config. */
const MAX_JUMP_DEPTH = 8;

/** Per setting, its value and where it came from: what `up -v` and the --json summary show. */
function sshSources(e: EffectiveSsh, settings: SshSettings): Record<string, SettingSource> {
  const entry = (value: string, source: EffectiveSsh['user']['source']) => ({ value, from: describeSource(source) });
  return {
    address: entry(e.address.value, e.address.source),
    user: entry(e.user.value, e.user.source),
    port: entry(String(e.port.value), e.port.source),
    ...(e.keyFile ? { keyFile: entry(e.keyFile.value, e.keyFile.source) } : {}),
    agent: entry(String(e.agent.value), e.agent.source),
    knownHostsFile: entry(e.knownHostsFile.value, e.knownHostsFile.source),
    connectTimeout: entry(`${e.connectTimeoutMs.value} ms`, e.connectTimeoutMs.source),
    keepaliveInterval: entry(`${e.keepaliveIntervalMs.value} ms`, e.keepaliveIntervalMs.source),
    proxyJump: entry(settings.proxyJump?.map((j) => j.label).join(',') ?? 'none', e.proxyJump.source),
  };
}

/** Key files named only by the ssh config: checked like the inventory's, reported at the config's line. */
async function checkConfigKeyFiles(effective: EffectiveSsh[], notFoundHint: string, errors: Problem[]): Promise<void> {
  const seen = new Set<string>();
  for (const e of effective) {
    const key = e.keyFile;
    if (!key || key.source.from !== 'ssh-config' || seen.has(key.value)) continue;
    seen.add(key.value);
    const problem = await privateKeyProblem(key.value, notFoundHint);
    if (problem) {
      errors.push({
        path: ['ssh'],
        message: `ssh config ${showPath(key.source.file)}:${key.source.line}: IdentityFile: ${problem.message}`,
        hint: problem.hint,
      });
    }
  }
}

function checkCredentials(inventory: Inventory, index: number, ssh: SshSettings, merged: MergedSsh, errors: Problem[]): void {
  if (ssh.keyFile || ssh.agentSocket || merged.values.passwordEnv) return;
  const agent = ssh.agentSocket !== undefined || (merged.values.agent ?? DEFAULTS.ssh.agent);
  errors.push({
    path: ['hosts', index],
    message: `hosts[${index}]: host ${inventory.hosts[index]!.name} has no way to log in: no keyFile, no passwordEnv, and ${
      agent ? 'no ssh-agent (SSH_AUTH_SOCK is not set)' : 'agent is false'
    }`,
    hint: 'set ssh.keyFile (for every host, or under this host), start an ssh-agent, or name a password variable with passwordEnv',
  });
}

/**
 * Kubernetes needs each node's IP: internalAddress, else the address once the ssh config has
 * resolved it (an alias's HostName). A DNS name left over needs internalAddress.
 */
function checkNodeAddresses(inventory: Inventory, effective: EffectiveSsh[], errors: Problem[]): void {
  const nodeIps = inventory.hosts.map((host, i) => host.internalAddress ?? effective[i]!.address.value);
  inventory.hosts.forEach((host, i) => {
    if (host.internalAddress !== undefined) return;
    const address = effective[i]!.address;
    const path: Path = ['hosts', i, 'address'];
    const viaConfig = address.source.from === 'ssh-config' ? ` resolves to ${clip(address.value)} (${describeSource(address.source)}), which` : '';
    if (!isIP(address.value)) {
      errors.push({
        path,
        message: `hosts[${i}].address: ${clip(host.address)}${viaConfig} is a DNS name and internalAddress is not set; Kubernetes needs the node's IP address`,
        hint: `add internalAddress: <IP of ${clip(host.name)} on the cluster network>`,
      });
      return;
    }
    // checks.ts compares the addresses as written; an alias is compared once resolved.
    if (!viaConfig) return;
    const first = nodeIps.findIndex((ip, j) => j !== i && isIP(ip) && canonicalAddress(ip) === canonicalAddress(address.value));
    if (first >= 0 && first < i) {
      errors.push({
        path,
        message: `hosts[${i}].address: ${clip(host.address)}${viaConfig} is also the internal address of host ${inventory.hosts[first]!.name}`,
        hint: 'Kubernetes nodes need distinct IP addresses: give each host its own internalAddress',
      });
    }
  });
}

/** A bastion with no way to log in is bad input too, said once per bastion (not at connect time on every host). */
function checkBastionCredentials(inventory: Inventory, settings: SshSettings[], effective: EffectiveSsh[], errors: Problem[]): void {
  const reported = new Set<string>();
  settings.forEach((ssh, i) => {
    for (const hop of ssh.proxyJump ?? []) {
      if (hop.ssh.keyFile || hop.ssh.agentSocket || hop.ssh.password !== undefined || reported.has(hop.label)) continue;
      reported.add(hop.label);
      // At the proxyJump that names it, when the inventory does; else at the host.
      const source = effective[i]!.proxyJump.source;
      const path: Path = source.from === 'inventory' ? source.path : ['hosts', i, 'address'];
      errors.push({
        path,
        message: `${formatPath(path)}: bastion ${hop.label} (for host ${inventory.hosts[i]!.name}) has no way to log in: no key file, no ssh-agent, no password`,
        hint: 'give the bastion an IdentityFile in the ssh config, or set ssh.keyFile (or passwordEnv, or an ssh-agent) at the top level of the inventory: bastions use those',
      });
    }
  });
}

async function checkKnownHosts(merged: MergedSsh[], settings: SshSettings[], warnings: Problem[]): Promise<void> {
  const seen = new Set<string>();
  for (const [i, ssh] of settings.entries()) {
    if (ssh.acceptNewHostKeys || seen.has(ssh.knownHostsFile)) continue;
    seen.add(ssh.knownHostsFile);
    const exists = await stat(ssh.knownHostsFile).then(
      () => true,
      () => false,
    );
    if (exists) continue;
    const path = merged[i]!.origin.knownHostsFile ?? ['hosts', i];
    warnings.push({
      path,
      message: `${formatPath(path)}: known_hosts file ${showPath(ssh.knownHostsFile)} does not exist and acceptNewHostKeys is false, so no host key can be verified`,
    });
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Which images each archive holds: checked on every host after import. */
async function readImageArchives(bundles: PlannedBundle[], resolved: Map<string, Bundle>, errors: Problem[], digests?: DigestCache): Promise<void> {
  for (const planned of bundles.filter((b) => b.name.startsWith('image:'))) {
    const bundle = resolved.get(planned.name);
    if (!bundle) continue;
    try {
      const read = () => readImageRefs(bundle.path);
      // An archive's image names depend on its content only: read once per content.
      bundle.imageRefs = digests ? await digests.fromContent(bundle.sha256, 'image-refs/1', isStringArray, read) : await read();
      if (bundle.imageRefs.length === 0) throw new Error('it names no image (no RepoTags, no image name annotations)');
    } catch (err) {
      errors.push({
        path: planned.path,
        message: `${formatPath(planned.path)}: ${showPath(bundle.path)} is not a usable image archive: ${clip((err as Error).message, MAX_PATH_CHARS)}`,
        hint: 'give an archive written by `docker save`, `ctr images export` or `skopeo copy ... docker-archive:`/`oci-archive:`',
      });
    }
  }
}

/** What the network add-on manifest runs and configures; its problems land on network.manifest. */
async function readAddonManifest(bundles: PlannedBundle[], resolved: Map<string, Bundle>, errors: Problem[]): Promise<AddonManifest | undefined> {
  const planned = bundles.find((b) => b.name === BUNDLE_NAMES.networkManifest);
  const bundle = planned && resolved.get(planned.name);
  if (!planned || !bundle) return undefined;
  // A download is named by its cached file: that is the copy the user can open at LINE:COL.
  const shown = planned.file ?? bundle.path;
  try {
    return analyzeAddonManifest(await readFile(bundle.path, 'utf8'), shown);
  } catch (err) {
    const message = clip(err instanceof AddonManifestError ? err.message : `cannot read ${showPath(shown)}: ${(err as Error).message}`, 2 * MAX_PATH_CHARS);
    errors.push({
      path: planned.path,
      message: `${formatPath(planned.path)}: the network add-on manifest is not usable: ${message}`,
      hint: 'give the add-on\'s manifest as published (e.g. kube-flannel.yml, calico.yaml): multi-document Kubernetes YAML',
    });
    return undefined;
  }
}

async function materialiseBundles(bundles: PlannedBundle[], context: ResolveContext, errors: Problem[]): Promise<Map<string, Bundle>> {
  const resolved = new Map<string, Bundle>();
  // One download per hash, even when two fields name the same file.
  const downloads = new Map<string, ReturnType<typeof fetchBundle>>();
  for (const bundle of bundles) {
    try {
      if (bundle.file !== undefined) {
        const digest = await (context.digests ? context.digests.hash(bundle.file) : hashFile(bundle.file));
        resolved.set(bundle.name, { name: bundle.name, path: bundle.file, ...digest });
        continue;
      }
      const source = bundle.source as { url: string; sha256: string; tokenEnv?: string };
      const key = source.sha256.toLowerCase();
      if (!downloads.has(key)) {
        const token = source.tokenEnv !== undefined ? context.env[source.tokenEnv] : undefined;
        const fetchOptions = {
          url: source.url,
          sha256: key,
          cacheDir: context.cacheDir,
          ...(context.digests ? { digests: context.digests } : {}),
          ...(token ? { token } : {}),
        };
        downloads.set(key, fetchBundle(context.fetch ? { ...fetchOptions, fetch: context.fetch } : fetchOptions));
      }
      const fetched = await downloads.get(key)!;
      resolved.set(bundle.name, { name: bundle.name, path: fetched.path, sha256: fetched.sha256, size: fetched.size });
    } catch (err) {
      const path = bundle.file === undefined ? [...bundle.path, 'url'] : bundle.path;
      errors.push({
        path,
        message: `${formatPath(path)}: ${err instanceof BundleFetchError ? err.message : `cannot read ${showPath(bundle.file ?? '')}: ${clip((err as Error).message, MAX_PATH_CHARS)}`}`,
        hint:
          err instanceof BundleFetchError
            ? 'check the URL and the sha256 (the published checksum of that exact file)'
            : 'check that the file is readable and not being written to',
      });
    }
  }
  return resolved;
}
