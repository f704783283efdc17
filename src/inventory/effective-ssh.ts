// One host's effective SSH settings, each with where it came from. Precedence, per setting:
// what the inventory says explicitly (the host's ssh, then the top-level ssh), then the OpenSSH
// client config (first value obtained wins, as ssh reads it), then kubeforge's defaults. Pure:
// the config file is read and parsed by the caller.
import { isAbsolute, resolve } from 'node:path';
import type { SshConfigFile } from '../ssh/config-file.js';
import { lookupHost, type ConfigValue, type HostConfig } from '../ssh/config-match.js';
import { parseProxyJump, type JumpSpec } from '../ssh/proxy-jump.js';
import { isAddress } from './address.js';
import { parseDuration } from './duration.js';
import { expandHome } from './paths.js';
import { formatPath, type Path } from './problem.js';
import { DEFAULTS, type SshFields } from './schema.js';

export type Source = { from: 'inventory'; path: Path } | { from: 'ssh-config'; file: string; line: number } | { from: 'default' };

export interface Sourced<T> {
  value: T;
  source: Source;
}

/** Inventory values written for a host, and where each was written (only what was written). */
export interface ExplicitSsh {
  values: SshFields;
  origin: Partial<Record<keyof SshFields, Path>>;
}

export interface EffectiveSsh {
  /** What to dial: HostName when the ssh config gives one for the address (an alias). */
  address: Sourced<string>;
  user: Sourced<string>;
  port: Sourced<number>;
  /** Absolute path. */
  keyFile?: Sourced<string>;
  agent: Sourced<boolean>;
  /** Absolute path. */
  knownHostsFile: Sourced<string>;
  acceptNewHostKeys: Sourced<boolean>;
  connectTimeoutMs: Sourced<number>;
  keepaliveIntervalMs: Sourced<number>;
  /** [] when there is none (or `none` was written). */
  proxyJump: Sourced<JumpSpec[]>;
}

export interface ConfigProblem {
  /** The config file's line the problem is on. */
  line: number;
  message: string;
}

export interface EffectiveSshInput {
  /** The name ssh config Host patterns see: the host's address (or a hop's host) as written. */
  name: string;
  /** Where that name was written in the inventory, for provenance. */
  namePath: Path;
  /** Explicit inventory values, highest precedence. */
  explicit: ExplicitSsh;
  /** Used after the ssh config, before defaults (a bastion falls back to the top-level ssh's auth). */
  fallback?: ExplicitSsh;
  config?: SshConfigFile;
  home: string;
  /** Resolves a path written in the inventory (relative to the inventory file, ~ for home). */
  inventoryPath(path: string): string;
  /** The user running kubeforge: Match localuser, %u. */
  localUser: string;
}

export interface EffectiveSshResult {
  settings: EffectiveSsh;
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
}

const SECONDS = /^\d+$/;

export function effectiveSsh(input: EffectiveSshInput): EffectiveSshResult {
  const localUser = input.localUser;
  const errors: ConfigProblem[] = [];
  const explicitUser = input.explicit.values.user;
  const found: HostConfig = input.config
    ? lookupHost(input.config, { host: input.name, localUser, ...(explicitUser !== undefined ? { user: explicitUser } : {}) })
    : { values: new Map(), identityFiles: [], warnings: [] };
  const file = input.config?.file ?? '';
  const fromConfig = (value: ConfigValue): Source => ({ from: 'ssh-config', file, line: value.line });
  /** An inventory value of one layer, with where it was written. */
  const written = <K extends keyof SshFields>(field: K, layer: ExplicitSsh | undefined): Sourced<NonNullable<SshFields[K]>> | undefined => {
    const value = layer?.values[field];
    const path = layer?.origin[field];
    if (value === undefined || value === null) return undefined;
    return { value: value as NonNullable<SshFields[K]>, source: path ? { from: 'inventory', path } : { from: 'default' } };
  };
  const early = <K extends keyof SshFields>(field: K) => written(field, input.explicit);
  const late = <K extends keyof SshFields>(field: K) => written(field, input.fallback);
  const configValue = (keyword: string) => found.values.get(keyword);
  const byDefault = <T>(value: T): Sourced<T> => ({ value, source: { from: 'default' } });
  const mapped = <T, U>(s: Sourced<T>, f: (v: T) => U): Sourced<U> => ({ value: f(s.value), source: s.source });

  // HostName may use %h for the name as written.
  const hostName = configValue('hostname');
  let address: Sourced<string> = { value: input.name, source: { from: 'inventory', path: input.namePath } };
  if (hostName) {
    const value = (hostName.args[0] ?? '').replaceAll('%h', input.name).replaceAll('%%', '%');
    if (isAddress(value)) address = { value, source: fromConfig(hostName) };
    else errors.push({ line: hostName.line, message: `HostName "${value}" (for ${input.name}) is not an IP address or DNS name` });
  }

  const user: Sourced<string> =
    early('user') ??
    (configValue('user') ? { value: configValue('user')!.args[0]!, source: fromConfig(configValue('user')!) } : undefined) ??
    late('user') ??
    byDefault(DEFAULTS.ssh.user);

  const integer = (keyword: string, what: string, min: number, max: number): Sourced<number> | undefined => {
    const value = configValue(keyword);
    if (!value) return undefined;
    const text = value.args[0] ?? '';
    const n = Number(text);
    if (!SECONDS.test(text) || n < min || n > max) {
      errors.push({ line: value.line, message: `${keywordName(keyword)} "${text}" is not ${what}` });
      return undefined;
    }
    return { value: n, source: fromConfig(value) };
  };
  const configPort = integer('port', 'a port number (1 to 65535)', 1, 65535);
  const port: Sourced<number> = early('port') ?? configPort ?? late('port') ?? byDefault(DEFAULTS.ssh.port);

  // Paths in the config: ~ and the tokens ssh expands in IdentityFile and UserKnownHostsFile.
  const configPath = (text: string) => {
    const expanded = expandTokens(text, { home: input.home, host: address.value, name: input.name, user: user.value, localUser, port: port.value });
    const path = expandHome(expanded, input.home);
    return isAbsolute(path) ? path : resolve(input.home, path);
  };
  const inventoryFile = (s: Sourced<string>) => mapped(s, input.inventoryPath);

  const identity = found.identityFiles[0];
  const keyFromConfig = identity ? { value: configPath(identity.args[0] ?? ''), source: fromConfig(identity) } : undefined;
  const explicitKey = early('keyFile');
  const lateKey = late('keyFile');
  const keyFile = explicitKey ? inventoryFile(explicitKey) : (keyFromConfig ?? (lateKey ? inventoryFile(lateKey) : undefined));

  // IdentitiesOnly yes: only the key files named, not whatever else the agent holds.
  const identitiesOnly = configValue('identitiesonly');
  const agent: Sourced<boolean> =
    early('agent') ??
    (identitiesOnly && (identitiesOnly.args[0] ?? '').toLowerCase() === 'yes' && keyFile ? { value: false, source: fromConfig(identitiesOnly) } : undefined) ??
    late('agent') ??
    byDefault(DEFAULTS.ssh.agent);

  const knownHostsConfig = configValue('userknownhostsfile');
  const explicitKnown = early('knownHostsFile');
  const lateKnown = late('knownHostsFile');
  const knownHostsFile: Sourced<string> = explicitKnown
    ? inventoryFile(explicitKnown)
    : knownHostsConfig && knownHostsConfig.args[0] && knownHostsConfig.args[0].toLowerCase() !== 'none'
      ? { value: configPath(knownHostsConfig.args[0]), source: fromConfig(knownHostsConfig) }
      : lateKnown
        ? inventoryFile(lateKnown)
        : byDefault(input.inventoryPath(DEFAULTS.ssh.knownHostsFile));

  // Durations: the inventory writes "10s", the ssh config whole seconds.
  const ms = (s: Sourced<string> | undefined) => (s ? mapped(s, (text) => parseDuration(text)!) : undefined);
  const seconds = (s: Sourced<number> | undefined) => (s ? mapped(s, (n) => n * 1000) : undefined);
  const connectTimeoutMs =
    ms(early('connectTimeout')) ??
    seconds(integer('connecttimeout', 'a number of seconds (at least 1)', 1, 86_400)) ??
    ms(late('connectTimeout')) ??
    byDefault(parseDuration(DEFAULTS.ssh.connectTimeout)!);
  const keepaliveIntervalMs =
    ms(early('keepaliveInterval')) ??
    seconds(integer('serveraliveinterval', 'a number of seconds', 0, 86_400)) ??
    ms(late('keepaliveInterval')) ??
    byDefault(parseDuration(DEFAULTS.ssh.keepaliveInterval)!);

  const acceptNewHostKeys = early('acceptNewHostKeys') ?? late('acceptNewHostKeys') ?? byDefault(DEFAULTS.ssh.acceptNewHostKeys);

  let proxyJump: Sourced<JumpSpec[]> = byDefault([]);
  const explicitJump = early('proxyJump');
  const configJump = configValue('proxyjump');
  if (explicitJump) {
    const parsed = parseProxyJump(explicitJump.value);
    // The schema has checked it already.
    if (Array.isArray(parsed)) proxyJump = { value: parsed, source: explicitJump.source };
  } else if (configJump) {
    const parsed = parseProxyJump(configJump.args.join(' '));
    if (Array.isArray(parsed)) proxyJump = { value: parsed, source: fromConfig(configJump) };
    else errors.push({ line: configJump.line, message: `ProxyJump ${parsed.problem}` });
  }

  return {
    settings: {
      address,
      user,
      port,
      ...(keyFile ? { keyFile } : {}),
      agent,
      knownHostsFile,
      acceptNewHostKeys,
      connectTimeoutMs,
      keepaliveIntervalMs,
      proxyJump,
    },
    errors,
    warnings: found.warnings,
  };
}

/** "inventory hosts[0].ssh.user", "ssh config /home/me/.ssh/config:12", "default". */
export function describeSource(source: Source): string {
  switch (source.from) {
    case 'inventory':
      return `inventory ${formatPath(source.path)}`;
    case 'ssh-config':
      return `ssh config ${source.file}:${source.line}`;
    case 'default':
      return 'default';
  }
}

interface TokenValues {
  home: string;
  /** HostName (or the name as written). */
  host: string;
  /** The name as written. */
  name: string;
  user: string;
  localUser: string;
  port: number;
}

/** The percent tokens of ssh_config(5) "TOKENS" that make sense here; others stay as written. */
export function expandTokens(text: string, values: TokenValues): string {
  const table: Record<string, string> = {
    '%': '%',
    d: values.home,
    h: values.host,
    n: values.name,
    r: values.user,
    u: values.localUser,
    p: String(values.port),
  };
  return text.replace(/%(.)/g, (whole, token: string) => table[token] ?? whole);
}

function keywordName(keyword: string): string {
  return (
    { port: 'Port', connecttimeout: 'ConnectTimeout', serveraliveinterval: 'ServerAliveInterval' } as Record<string, string>
  )[keyword] ?? keyword;
}
