// Bastion connections for a run: one per bastion (per chain prefix), shared by every host behind
// it — 50 hosts behind one bastion open one session there, not 50. A host tunnels through the
// last bastion of its chain with a direct-tcpip channel (ssh2 forwardOut, as OpenSSH's ProxyJump
// does), and its own SSH session runs end to end inside: keys and host keys are checked on each
// hop exactly as on a host. A bastion that cannot be reached, or dies, is the reported cause on
// every host behind it.
import type { Duplex } from 'node:stream';
import type { JumpHost, SshSettings } from '../model.js';
import type { ConnectTarget } from './connect.js';
import type { Connection } from './connection.js';
import { AbortError, AuthError, ConnectError, HostKeyError } from './errors.js';
import { KubeforgeError } from '../errors.js';

/** Opens one bastion's connection, through the previous bastion's lease when there is one. */
export type BastionConnector = (target: ConnectTarget, settings: SshSettings, through: JumpLease | undefined, signal: AbortSignal | undefined) => Promise<Connection>;

/** A host's hold on its chain of bastions: tunnel through the last one; release when done. */
export interface JumpLease {
  /** A stream to target.host:port opened from the last bastion. */
  forward(target: ConnectTarget): Promise<Duplex>;
  /** "via bastion user@host:port: why", once a bastion of the chain has died; undefined while all live. */
  failure(): Error | undefined;
  release(): void;
}

interface Entry {
  key: string;
  label: string;
  /** Hosts (and further bastions) holding this bastion. */
  refs: number;
  connection: Promise<Connection>;
  /** Set once connected, so that failure() can be asked synchronously. */
  open?: Connection;
}

export class JumpPool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly connectBastion: BastionConnector) {}

  /**
   * Connect (or share) every bastion of `chain` in order. A failure is thrown as the error of the
   * bastion concerned, worded for `hostName` ("via bastion …"), with the type it had (a host key
   * refusal stays a HostKeyError).
   */
  async acquire(chain: JumpHost[], hostName: string, signal?: AbortSignal): Promise<JumpLease> {
    const held: Entry[] = [];
    const releaseHeld = () => held.splice(0).reverse().forEach((e) => this.unref(e));
    try {
      let previous: JumpLease | undefined;
      for (let i = 0; i < chain.length; i++) {
        const entry = this.entryFor(chain.slice(0, i + 1), previous);
        held.push(entry);
        await raceAbort(entry.connection, signal, hostName);
        // Held by this acquire as a whole: the next bastion is reached through it.
        previous = { ...this.leaseOf(held.slice()), release: () => {} };
      }
    } catch (err) {
      releaseHeld();
      throw viaBastion(hostName, err);
    }
    // A copy: the lease still names its bastions after release (a lost connection is explained
    // after it closed, and closing released it).
    const lease = this.leaseOf(held.slice());
    let released = false;
    return {
      forward: lease.forward,
      failure: lease.failure,
      release: () => {
        if (released) return;
        released = true;
        releaseHeld();
      },
    };
  }

  /** End every bastion connection (the end of a run, or of a one-host connect()). */
  closeAll(): void {
    for (const entry of this.entries.values()) void entry.connection.then((c) => c.close(), () => undefined);
    this.entries.clear();
  }

  private entryFor(prefix: JumpHost[], through: JumpLease | undefined): Entry {
    const key = prefix.map((hop) => `${hop.label}>${hop.address}`).join(',');
    const existing = this.entries.get(key);
    // A bastion that died is not handed out again: the next host connects it anew.
    if (existing && !existing.open?.failure()) {
      existing.refs++;
      return existing;
    }
    const hop = prefix.at(-1)!;
    // No host's signal: the connection is shared, one host's cancellation must not end it for all.
    const connection = this.connectBastion({ host: hop.address, port: hop.ssh.port, name: `bastion ${hop.label}` }, hop.ssh, through, undefined);
    const entry: Entry = { key, label: hop.label, refs: 1, connection };
    connection.then(
      (conn) => {
        entry.open = conn;
        conn.onClosed(() => {
          if (this.entries.get(key) === entry) this.entries.delete(key);
        });
        // Everyone gave up while it was connecting.
        if (entry.refs === 0) conn.close();
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    this.entries.set(key, entry);
    return entry;
  }

  private unref(entry: Entry): void {
    entry.refs--;
    if (entry.refs > 0) return;
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    entry.open?.close();
  }

  /** Tunnel through the last of `held` (all connected), reporting the first dead bastion on the path. */
  private leaseOf(held: Entry[]): Omit<JumpLease, 'release'> {
    const failure = () => {
      for (const entry of held) {
        const dead = entry.open?.failure();
        if (dead) return new Error(`via bastion ${entry.label}: ${withoutName(dead.message, `bastion ${entry.label}`)}`);
      }
      return undefined;
    };
    const last = held.at(-1)!;
    return {
      failure,
      forward: async (target) => {
        const conn = await last.connection;
        const dead = failure();
        if (dead) throw new ConnectError(`${target.name}: ${dead.message}`, 'check the bastion, then rerun', false);
        try {
          return await conn.forward(target.host, target.port);
        } catch (err) {
          const dead = failure();
          if (dead) throw new ConnectError(`${target.name}: ${dead.message}`, 'check the bastion, then rerun', false, err);
          // sshd on the bastion answers for the inside network: refused, unreachable, not allowed.
          const reason = (err as Error).message.replace(/^\(SSH\) /, '');
          const refused = /refused|unreachable|timed out|no route/i.test(reason);
          throw new ConnectError(
            `${target.name} (${target.host} port ${target.port}) via bastion ${last.label}: the bastion could not connect to it: ${reason}`,
            refused
              ? 'is the host up and sshd running? the bastion must reach the address in the inventory (or its HostName)'
              : 'the bastion\'s sshd may forbid forwarding (AllowTcpForwarding, PermitOpen)',
            refused,
            err,
          );
        }
      },
    };
  }
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, hostName: string): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new AbortError(hostName, 'connecting'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(hostName, 'connecting'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** "bastion a@b:22 (a@b port 22): refused" → "(a@b port 22): refused"; other messages as they are. */
function withoutName(message: string, name: string): string {
  return message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message.startsWith(name) ? message.slice(name.length).trimStart() : message;
}

/** A bastion's failure, as the failure of a host behind it; the error keeps its type (and hint). */
export function viaBastion(hostName: string, err: unknown): Error {
  if (err instanceof AbortError) return new AbortError(hostName, 'connecting');
  if (!(err instanceof KubeforgeError) || !err.message.startsWith('bastion ')) return err as Error;
  const message = `${hostName}: via ${err.message}`;
  if (err instanceof HostKeyError) return new HostKeyError(message, err.hint ?? '', err.kind);
  if (err instanceof AuthError) return new AuthError(message, err.hint);
  // Already retried against the bastion: another attempt per host would only repeat it.
  return new ConnectError(message, err.hint, false, err);
}
