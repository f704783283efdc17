// One relay of one bundle from a host that has it to a host that needs it, driven from the
// laptop over the two hosts' existing connections (scripts.ts has the three steps). The bytes
// go host to host over SSH, encrypted and authenticated both ways; the copy is used only once
// its sha256 matches, as a direct upload's is.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Host } from '../model.js';
import type { PlannedBundle } from '../playbook/plan.js';
import { generateRelayKeyPair } from './keys.js';
import type { NetworkUnreachable, StreamHooks } from './router.js';
import { tailLines, type Remote } from '../run/remote.js';
import {
  authorizedOptions,
  authorizeEnv,
  authorizeScript,
  EXIT_HASH_MISMATCH,
  EXIT_NO_SOURCE,
  finishEnv,
  finishScript,
  sendEnv,
  sendScript,
  stagedSizeScript,
  transferPaths,
} from './scripts.js';

export interface RelayPeer {
  host: Host;
  remote: Remote;
}

/** A relay that did not deliver: the target then gets its copy from the laptop, or a nearer peer. */
export class RelayError extends Error implements NetworkUnreachable {
  constructor(
    message: string,
    /** The source, not the target, is the likely cause (no ssh client, no copy, its link). */
    readonly sourceAtFault: boolean,
    /** The source has no route to the target's network (the router learns which hosts are apart). */
    readonly networkUnreachable = false,
  ) {
    super(message);
    this.name = 'RelayError';
  }
}

/**
 * How often the target's staged size is read, for progress and to notice a stalled transfer.
 * Each read is a command on the target (an sshd fork and a shell): copies streamed on from a
 * seed last as long as the laptop's upload, and at 50 hosts 1 s polls were ~500 commands a run.
 */
const POLL_MS = 2000;
/** No byte arriving for this long ends the transfer (the client's keepalives take ~10 s more). */
const STALL_MS = 20_000;
/** The bookkeeping commands around a transfer are quick; a host that does not answer is not used. */
const BOOKKEEPING_MS = 30_000;

/** The source's addresses the target may see the connection come from (IP literals only). */
export function sourceAddresses(host: Host): string[] {
  return [...new Set([host.internalAddress, host.address])].filter((a) => isIP(a) !== 0);
}

/** Whether `target` can be relayed to at all: its host key is pinned from the laptop's connection. */
export function canReceive(peer: RelayPeer): boolean {
  return peer.remote.hostKey !== undefined;
}

export function canSend(peer: RelayPeer): boolean {
  return sourceAddresses(peer.host).length > 0;
}

/** OpenSSH's words when connect() failed with ENETUNREACH (strerror, as ssh prints it). */
export function noRouteToNetwork(exitCode: number, lastLine: string): boolean {
  return exitCode === 255 && /^ssh: connect to host \S+ port \d+: Network is unreachable$/.test(lastLine.trim());
}

export async function relayBundle(
  source: RelayPeer,
  target: RelayPeer,
  b: PlannedBundle,
  runId: string,
  signal: AbortSignal,
  onProgress: (sent: number, total: number) => void,
  stream: StreamHooks = { onStaging: () => {} },
): Promise<void> {
  const hostKey = target.remote.hostKey;
  if (!hostKey) throw new RelayError(`${target.host.name}: no verified host key to pin`, false);
  const transferId = randomBytes(6).toString('hex');
  const paths = transferPaths({ runId, transferId, dest: b.remotePath, targetLoginIsRoot: target.remote.loginIsRoot !== false });
  const user = target.host.ssh.user;
  const keys = generateRelayKeyPair(paths.mark);

  const authorized = await target.remote.exec(authorizeScript, {
    env: authorizeEnv({ user, options: authorizedOptions(sourceAddresses(source.host), paths.staged), publicKey: keys.public, ...(paths.stageDir ? { stageDir: paths.stageDir } : {}) }),
    signal,
    timeoutMs: BOOKKEEPING_MS,
  });
  let delivered = false;
  try {
    if (authorized.code !== 0) throw new RelayError(`${target.host.name}: cannot authorize the transfer: ${tailLines(authorized.stderr)}`, false);
    // From here the target's copy grows in order at paths.staged: others may stream from it.
    stream.onStaging(paths.staged);

    // The transfer, watched from the target: progress, and a stall ends it.
    const transfer = new AbortController();
    const sendSignal = AbortSignal.any([signal, transfer.signal]);
    let stalled = false;
    let last = 0;
    let lastChange = Date.now();
    // One read at a time: on a busy host a read can take longer than POLL_MS, and reads piling
    // up would only add load (and listeners on sendSignal).
    let reading = false;
    const poller = setInterval(() => {
      if (reading) return;
      reading = true;
      void target.remote
        .exec(stagedSizeScript, { env: { KF_STAGED: paths.staged }, signal: sendSignal, timeoutMs: POLL_MS * 5 })
        .finally(() => (reading = false))
        .then((r) => {
          const n = Number(r.stdout.trim().split('\n').pop());
          if (Number.isFinite(n) && n > last) {
            last = n;
            lastChange = Date.now();
            onProgress(Math.min(n, b.bundle.size), b.bundle.size);
          } else if (Date.now() - lastChange > STALL_MS) {
            stalled = true;
            transfer.abort();
          }
        })
        .catch(() => undefined);
    }, POLL_MS);
    let sent;
    try {
      sent = await source.remote.exec(sendScript, {
        stdin: keys.private,
        env: sendEnv({
          runId,
          transferId,
          source: b.remotePath,
          ...(stream.from ? { streamFrom: stream.from } : {}),
          size: b.bundle.size,
          target: { address: target.host.internalAddress || target.host.address, port: target.host.ssh.port, user, keyType: hostKey.keyType, keyBlob: hostKey.keyBlob },
        }),
        signal: sendSignal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new RelayError(stalled ? `no data arrived for ${STALL_MS / 1000} s` : `the transfer broke off: ${(err as Error).message}`, true);
    } finally {
      clearInterval(poller);
    }
    if (sent.code !== 0) {
      const why = tailLines(sent.stderr.replace(/\r/g, '')).split('\n').at(-1) || `exit ${sent.code}`;
      throw new RelayError(`${source.host.name} → ${target.host.name}: ${why}`, sent.code === 127 || sent.code === EXIT_NO_SOURCE, noRouteToNetwork(sent.code, why));
    }
    onProgress(b.bundle.size, b.bundle.size);
    delivered = true;
  } finally {
    // Always: the line leaves authorized_keys; the copy is verified and renamed only if it came.
    const finished = await target.remote
      .exec(finishScript, {
        env: finishEnv({ user, mark: paths.mark, staged: paths.staged, temp: paths.temp, dest: b.remotePath, sha256: b.bundle.sha256, keep: delivered }),
        signal: AbortSignal.timeout(BOOKKEEPING_MS),
      })
      .catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }));
    if (delivered && finished.code !== 0) {
      const why = finished.code === EXIT_HASH_MISMATCH ? `arrived with ${tailLines(finished.stderr)}, expected ${b.bundle.sha256}` : tailLines(finished.stderr);
      throw new RelayError(`${target.host.name}: the relayed copy was not put in place: ${why}`, false);
    }
  }
}
