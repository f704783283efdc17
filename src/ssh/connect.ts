// Open an authenticated, host-key-checked SSH connection to one host, retrying only failures
// that another attempt can fix (refused, unreachable, reset, timed out).

import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2, { type Client as SshClient, type ConnectConfig, type KexAlgorithm } from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader gives only its default export (vitest hides this).
const { Client, utils } = ssh2;
import type { SshSettings } from '../model.js';
import { DEFAULT_BACKOFF, backoffDelay, sleep, type Backoff } from './backoff.js';
import { Connection } from './connection.js';
import { AbortError, AuthError, ConnectError, HostKeyError } from './errors.js';
import { runCommand } from './exec.js';
import { UnknownHostKeyError, verifyHostKey, type HostVerification } from './host-verifier.js';
import { JumpPool, type JumpLease } from './jump-pool.js';

export interface ConnectTarget {
  /** Address to dial: IP or DNS name. */
  host: string;
  port: number;
  /** Host name from the inventory, used in every message. */
  name: string;
}

export interface ConnectOptions {
  signal?: AbortSignal;
  /** Further attempts after the first one for retryable failures (default 5: about 11 s of backoff). */
  retries?: number;
  onRetry?(attempt: number, err: Error): void;
  /** Delays between attempts (default 0.5 s doubling up to 8 s). */
  backoff?: Backoff;
  /**
   * Asked when the host presents a key that known_hosts does not have (and acceptNewHostKeys is
   * off). true: log in trusting that exact key and record it once the handshake proves the host
   * holds it; false: refuse, recording nothing. Asked at most once per connect().
   */
  onUnknownHostKey?(key: UnknownHostKey): Promise<boolean>;
  /**
   * Bastion connections shared by every host of a run (one per bastion, not one per host). A
   * connect() given none for a host behind bastions opens its own and closes them with the host.
   */
  jumps?: JumpPool;
  /**
   * Ask the host for the login's uid (`id -u`, one more round trip) even when the login is named
   * root. By default a login named root is taken for uid 0, as every sshd sees it; the tests that
   * present a root login as an ordinary user (a stand-in `id`) set this.
   */
  probeUid?: boolean;
}

/** How connectOnce reaches the host: through a tunnel, and whether it is a bastion (no commands run on it). */
interface Path {
  sock?: Duplex;
  bastion?: boolean;
  /** For a host behind bastions: why the tunnel died, once it has. */
  tunnelFailure?: () => Error | undefined;
  /** ConnectOptions.probeUid. */
  probeUid?: boolean;
}

export interface UnknownHostKey {
  /** Host name from the inventory, as in every message. */
  name: string;
  host: string;
  port: number;
  keyType: string;
  /** OpenSSH form, SHA256:… */
  fingerprint: string;
  /** Where the key would be recorded. */
  knownHostsFile: string;
}

const KEEPALIVE_COUNT_MAX = 3;
/**
 * A host behind a bastion gives up on keepalives later than the bastion does: when the path dies,
 * the bastion's connection notices first, and the hosts behind it report that as the cause.
 */
const TUNNELLED_KEEPALIVE_COUNT_MAX = KEEPALIVE_COUNT_MAX + 2;

/** Socket errors another attempt may not hit: the host is booting, rebooting, or the network hiccuped. */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);

type AuthMethod = 'publickey' | 'agent' | 'password';

export async function connect(
  target: ConnectTarget,
  settings: SshSettings,
  options: ConnectOptions = {},
): Promise<Connection> {
  const chain = settings.proxyJump ?? [];
  if (chain.length === 0) return connectWithRetries(target, settings, options, undefined);
  const own = options.jumps === undefined;
  const pool = options.jumps ?? new JumpPool(connectBastion);
  const lease = await pool.acquire(chain, target.name, options.signal);
  try {
    const conn = await connectWithRetries(target, settings, options, lease);
    conn.onClosed(() => {
      lease.release();
      if (own) pool.closeAll();
    });
    return conn;
  } catch (err) {
    lease.release();
    if (own) pool.closeAll();
    throw err;
  }
}

/** Bastion connections to share between the hosts of one run (pass as ConnectOptions.jumps). */
export function newJumpPool(): JumpPool {
  return new JumpPool(connectBastion);
}

/** A bastion: the same checks and retries as a host, through the previous bastion when there is one. */
function connectBastion(target: ConnectTarget, settings: SshSettings, through: JumpLease | undefined, signal: AbortSignal | undefined): Promise<Connection> {
  return connectWithRetries(target, settings, signal ? { signal } : {}, through, true);
}

async function connectWithRetries(
  target: ConnectTarget,
  settings: SshSettings,
  options: ConnectOptions,
  through: JumpLease | undefined,
  bastion = false,
): Promise<Connection> {
  const privateKey = await loadPrivateKey(target, settings);
  const retries = options.retries ?? 5;
  let approvedKey: Buffer | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      let address = target.host;
      let path: Path = { bastion, probeUid: options.probeUid === true };
      if (through) {
        // The bastion dials the name itself: this machine may not resolve names of the inside.
        path = { ...path, sock: await through.forward(target), tunnelFailure: () => through.failure() };
      } else {
        address = await resolveAddress(target, settings, options.signal);
      }
      return await connectOnce({ ...target, address }, settings, privateKey, options.signal, approvedKey, path);
    } catch (err) {
      if (err instanceof UnknownHostKeyError && options.onUnknownHostKey && approvedKey === undefined) {
        // Asked with no connection open: neither our readyTimeout nor sshd's LoginGraceTime runs
        // while a person compares fingerprints.
        approvedKey = await askAboutHostKey(target, settings, err, options.onUnknownHostKey, options.signal);
        attempt--; // a question is not a failed attempt
        continue;
      }
      if (!(err instanceof ConnectError && err.retryable) || attempt > retries) throw err;
      options.onRetry?.(attempt, err);
      await sleep(backoffDelay(attempt, options.backoff ?? DEFAULT_BACKOFF), options.signal, () => {
        return new AbortError(target.name, 'connecting');
      });
    }
  }
}

/** The approved key blob, or a HostKeyError saying it was not trusted. */
async function askAboutHostKey(
  target: ConnectTarget,
  settings: SshSettings,
  unknown: UnknownHostKeyError,
  ask: (key: UnknownHostKey) => Promise<boolean>,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  const trusted = await ask({
    name: target.name,
    host: target.host,
    port: target.port,
    keyType: unknown.keyType,
    fingerprint: unknown.fingerprint,
    knownHostsFile: settings.knownHostsFile,
  });
  if (signal?.aborted) throw new AbortError(target.name, 'connecting');
  if (trusted) return unknown.keyBlob;
  throw new HostKeyError(
    `${target.name} (${target.host} port ${target.port}): host key ${unknown.keyType} ${unknown.fingerprint} was not trusted; nothing was recorded in ${settings.knownHostsFile}`,
    `compare the fingerprint with \`ssh-keygen -lf /etc/ssh/ssh_host_${hostKeyFileType(unknown.keyType)}_key.pub\` run on the host itself`,
    'unknown',
  );
}

/** ssh-ed25519 → ed25519, ecdsa-sha2-nistp256 → ecdsa: the part of sshd's host key file names. */
function hostKeyFileType(keyType: string): string {
  return keyType.startsWith('ecdsa-') ? 'ecdsa' : keyType.replace(/^ssh-/, '');
}

/**
 * The address to dial. A name is resolved here, within the connect timeout, so that a name that
 * does not resolve is reported as that (and a resolver that never answers does not look like a
 * silent sshd). known_hosts is still looked up by the name as the inventory writes it.
 */
async function resolveAddress(target: ConnectTarget, settings: SshSettings, signal: AbortSignal | undefined): Promise<string> {
  if (isIP(target.host)) return target.host;
  const where = `${target.name} (${target.host})`;
  const hint = 'check the address in the inventory, and that this machine resolves it (/etc/hosts, DNS)';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ConnectError(`${where}: cannot resolve ${target.host}: no answer from the resolver within ${settings.connectTimeoutMs} ms`, hint, true)),
      settings.connectTimeoutMs,
    );
  });
  try {
    const pending = lookup(target.host);
    pending.catch(() => undefined); // a lookup that loses the race must not reject unobserved
    const found = await Promise.race([pending, timeout]);
    if (signal?.aborted) throw new AbortError(target.name, 'connecting');
    return found.address;
  } catch (err) {
    if (err instanceof ConnectError || err instanceof AbortError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTFOUND: the name does not exist; EAI_AGAIN: the resolver failed for now.
    throw new ConnectError(`${where}: cannot resolve ${target.host} (${code ?? (err as Error).message})`, hint, code === 'EAI_AGAIN', err);
  } finally {
    clearTimeout(timer);
  }
}

function connectOnce(
  target: ConnectTarget & { address: string },
  settings: SshSettings,
  privateKey: Buffer | undefined,
  signal: AbortSignal | undefined,
  approvedKey: Buffer | undefined,
  path: Path,
): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError(target.name, 'connecting'));
    const client = new Client();
    const hostKey = verifyHostKey(target, settings, approvedKey);
    let done = false;

    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      // The 'error' listener stays for the client's whole life: ssh2 may still emit 'error' after
      // 'close' or after destroy() (a peer that drops the connection before its banner does), and
      // an 'error' with no listener takes the whole process down. Once done, fail() is a no-op.
      client.removeListener('close', onClose);
      outcome();
    };
    const fail = (err: Error) =>
      finish(() => {
        client.destroy();
        reject(err);
      });
    const onAbort = () => fail(new AbortError(target.name, 'connecting'));
    const onError = (err: Error & { level?: string; code?: string }) => fail(classify(err, target, settings, hostKey));
    const onClose = () =>
      fail(
        new ConnectError(
          `${target.name} (${settings.user}@${target.host} port ${target.port}): the connection was closed before login, during the SSH handshake`,
          'sshd may be restarting or refusing new connections for now (MaxStartups); is it an SSH server at all?',
          true,
        ),
      );

    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('error', onError);
    client.on('close', onClose);
    // After key exchange the host has proven it holds the key we accepted: record it now.
    client.once('handshake', () => {
      try {
        hostKey.recordAcceptedKey();
      } catch (err) {
        fail(err as Error);
      }
    });
    client.on('ready', () => {
      // A bastion only forwards: no command runs on it (many allow none).
      // A login named root is uid 0: asking would cost every host a round trip before its first command.
      const isRoot = path.bastion || (settings.user === 'root' && !path.probeUid) ? Promise.resolve(settings.user === 'root') : whoAmI(client, target, settings);
      void isRoot.then(
        (isRoot) =>
          finish(() =>
            resolve(
              new Connection(client, {
                name: target.name,
                user: settings.user,
                isRoot,
                ...(settings.sudoPassword !== undefined ? { sudoPassword: settings.sudoPassword } : {}),
                ...(hostKey.acceptedKey() ? { hostKey: hostKey.acceptedKey()! } : {}),
                ...(path.tunnelFailure ? { tunnelFailure: path.tunnelFailure } : {}),
              }),
            ),
          ),
        (err: Error) => fail(err),
      );
    });

    try {
      client.connect(clientConfig(target, settings, privateKey, hostKey, path.sock));
    } catch (err) {
      fail(new ConnectError(`${target.name}: ${(err as Error).message}`, undefined, false, err));
    }
  });
}

/**
 * ssh2's key exchanges with ECDH on NIST P-256 first, curve25519 after it. ssh2 makes each
 * curve25519 key with generateKeyPairSync('x25519') and then exports the public KeyObject, and
 * Node 20 can deadlock right there: the export holds the key's mutex while it allocates, and a
 * garbage collection that frees the finished key-generation job runs its destructor
 * (~KeyPairGenConfig, src/crypto/crypto_keygen.h), which takes the same mutex on the same thread.
 * The process then stops for good. A loop of that pair of calls under a 1 MiB young generation
 * stops within 2000; src/relay/keys.ts met it at 200 hosts. ECDH goes through createECDH, with no
 * key-generation job. curve25519 stays for servers that offer nothing else (hardened configs
 * that drop the NIST curves); the rest is ssh2's default list, in its order.
 */
export const KEX_ALGORITHMS: KexAlgorithm[] = [
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'diffie-hellman-group-exchange-sha256',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group15-sha512',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group17-sha512',
  'diffie-hellman-group18-sha512',
];

function clientConfig(
  target: ConnectTarget & { address: string },
  settings: SshSettings,
  privateKey: Buffer | undefined,
  hostKey: HostVerification,
  sock: Duplex | undefined,
): ConnectConfig {
  return {
    ...(sock ? { sock } : { host: target.address, port: target.port }),
    username: settings.user,
    ...(privateKey ? { privateKey } : {}),
    ...(privateKey && settings.passphrase !== undefined ? { passphrase: settings.passphrase } : {}),
    ...(settings.agentSocket ? { agent: settings.agentSocket } : {}),
    ...(settings.password !== undefined ? { password: settings.password } : {}),
    authHandler: authMethods(settings, privateKey !== undefined),
    // Callback form only: see host-verifier.ts for why an async verifier would accept any key.
    hostVerifier: hostKey.verifier,
    // Includes the time spent in the verifier, which only reads a small file.
    readyTimeout: settings.connectTimeoutMs,
    keepaliveInterval: settings.keepaliveIntervalMs,
    keepaliveCountMax: sock ? TUNNELLED_KEEPALIVE_COUNT_MAX : KEEPALIVE_COUNT_MAX,
    algorithms: { kex: KEX_ALGORITHMS },
  };
}

/** Every configured method, in order of preference: key file, agent, password. */
function authMethods(settings: SshSettings, hasKey: boolean): AuthMethod[] {
  const methods: AuthMethod[] = [];
  if (hasKey) methods.push('publickey');
  if (settings.agentSocket) methods.push('agent');
  if (settings.password !== undefined) methods.push('password');
  return methods;
}

/** Read and decrypt the key file up front so a wrong path or passphrase is named as such. */
async function loadPrivateKey(target: ConnectTarget, settings: SshSettings): Promise<Buffer | undefined> {
  if (authMethods(settings, settings.keyFile !== undefined).length === 0) {
    throw new AuthError(
      `${target.name}: no ssh credentials configured`,
      'set ssh.keyFile, ssh.agent (with SSH_AUTH_SOCK set) or ssh.passwordEnv in the inventory',
    );
  }
  if (!settings.keyFile) return undefined;
  let data: Buffer;
  try {
    data = await readFile(settings.keyFile);
  } catch (err) {
    throw new AuthError(
      `${target.name}: cannot read ssh key file ${settings.keyFile}: ${(err as Error).message}`,
      'check ssh.keyFile in the inventory',
    );
  }
  const parsed = utils.parseKey(data, settings.passphrase);
  if (parsed instanceof Error) {
    const encrypted = /passphrase/i.test(parsed.message);
    throw new AuthError(
      `${target.name}: cannot use ssh key file ${settings.keyFile}: ${parsed.message}`,
      encrypted
        ? 'the key is encrypted: set ssh.passphraseEnv to a variable holding its passphrase, and check the passphrase'
        : 'the file must be a private key in OpenSSH, PEM or PPK format',
    );
  }
  return data;
}

/** uid 0 or not decides whether commands need sudo. */
async function whoAmI(client: SshClient, target: ConnectTarget, settings: SshSettings): Promise<boolean> {
  const result = await runCommand(client, {
    command: 'id -u',
    host: target.name,
    viaSudo: false,
    timeoutMs: settings.connectTimeoutMs,
  });
  const uid = result.stdout.trim();
  return result.code === 0 && /^\d+$/.test(uid) ? uid === '0' : settings.user === 'root';
}

function classify(
  err: Error & { level?: string; code?: string },
  target: ConnectTarget,
  settings: SshSettings,
  hostKey: HostVerification,
): Error {
  const refusal = hostKey.refusal();
  if (refusal) return refusal;
  const where = `${target.name} (${settings.user}@${target.host} port ${target.port})`;
  if (err.level === 'client-authentication') {
    const offered = authMethods(settings, settings.keyFile !== undefined).join(', ');
    return new AuthError(
      `${where}: the host refused every credential offered (${offered})`,
      `check ssh.user, and that the public key is in ~${settings.user}/.ssh/authorized_keys on the host`,
    );
  }
  if (err.level === 'client-timeout') {
    return new ConnectError(
      `${where}: no SSH handshake within ${settings.connectTimeoutMs} ms`,
      'is sshd running and reachable? raise ssh.connectTimeout for slow links',
      true,
      err,
    );
  }
  if (err.code && RETRYABLE_CODES.has(err.code)) {
    return new ConnectError(
      `${where}: ${err.code} (${err.message})`,
      'is the host up, sshd running, and the port right?',
      true,
      err,
    );
  }
  if (err.code === 'ENOTFOUND') {
    return new ConnectError(`${where}: cannot resolve ${target.host}`, 'check the address in the inventory', false, err);
  }
  // sshd dropping us before its banner is usually MaxStartups throttling or a restart.
  const retryable = /lost before handshake/i.test(err.message);
  return new ConnectError(`${where}: ${err.message}`, undefined, retryable, err);
}
