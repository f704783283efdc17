// Decides where each host's copy of a bundle comes from, so the laptop's uplink carries about
// one copy per bundle whatever the number of hosts. The first host that needs a bundle gets it
// from the laptop (the seed); every host that holds a verified copy then passes it on to hosts
// still waiting, a few at a time, so copies double each round over the hosts' own network.
// A relay that fails sends its target to the laptop instead: the relay never fails a run that
// direct upload would have finished. Hosts that already hold a copy from an earlier run (found
// by a cheap probe when a bundle is first needed) seed the others too.
//
// Hosts on networks that cannot reach each other (two subnets without a route between them) are
// learnt from the first relay whose source has no route to its target: from then on, pairs whose
// addresses share no more leading bits than that pair are presumed apart, so each network gets
// one copy from the laptop and fans it out inside, instead of every host trying a far peer and
// falling back.
//
// Pure scheduling: the routes (probe, check, upload, relay) are given, so this is tested with
// in-memory routes and used with the SSH ones (transfer.ts).
import { defaultMaxListeners, setMaxListeners } from 'node:events';
import { commonPrefixBits } from './address-prefix.js';
import type { PlannedBundle } from '../playbook/plan.js';
import type { BundleSent } from '../playbook/run-steps.js';

export interface Routes {
  /** The host has exactly this bundle at its path (sha256 checked on the host). */
  has(host: string, b: PlannedBundle, signal: AbortSignal): Promise<boolean>;
  /** The host holds a complete copy it could pass on (cheap: present, right size). */
  holds(host: string, b: PlannedBundle, signal: AbortSignal): Promise<boolean>;
  /**
   * From the laptop (its upload slots bound how many at once). onStaging, when given, learns
   * where the copy grows in order while it arrives, so peers can stream it on.
   */
  upload(
    host: string,
    b: PlannedBundle,
    signal: AbortSignal,
    onProgress: (sent: number, total: number) => void,
    onStaging?: (remotePath: string) => void,
  ): Promise<'uploaded' | 'unchanged'>;
  /** From a peer; throws when the copy did not arrive. */
  relay(from: string, to: string, b: PlannedBundle, signal: AbortSignal, onProgress: (sent: number, total: number) => void, stream: StreamHooks): Promise<void>;
  /** Whether a host can take part at all (an address a peer's key can be bound to; a pinned host key). */
  canSend(host: string): boolean;
  canReceive(host: string): boolean;
  /** The IP address peers connect to this host at; undefined when it is a name. */
  address(host: string): string | undefined;
}

/**
 * Set on a relay's error when the source has no route to the target's network at all
 * (ENETUNREACH): the two hosts' networks are the cause, not either host. A host that does not
 * answer or a firewall that refuses ("no route to host", a timeout) is about that host alone.
 */
export interface NetworkUnreachable {
  readonly networkUnreachable?: boolean;
}

/**
 * Cut-through: a host still receiving a bundle passes the bytes on as they arrive (the relay's
 * writer appends in order, and so do the laptop's SFTP writes), so the tree's rounds overlap
 * instead of waiting for each other, and the seed passes its copy on while the laptop's uplink
 * is still sending it.
 */
export interface StreamHooks {
  /** The sender's file is still arriving there (read it as it grows); undefined: it is complete. */
  from?: string;
  /** Where this host's copy lands while it arrives, once known. */
  onStaging(remotePath: string): void;
}

export interface RouterOptions {
  enabled: boolean;
  /** Transfers one host serves at once. */
  fanout: number;
  /** A source whose relays failed this many times is not used again in this run. */
  maxSourceFailures: number;
  /** How long the first ask for a bundle waits for more urgent hosts to ask too. */
  seedGatherMs: number;
}

export interface SendCallbacks {
  /** Lower is served first: hosts others wait for (the init host) get their copies first. */
  priority?: number;
  onProgress(sent: number, total: number, from?: string): void;
  /** What the host is doing now ("waiting for a copy from a peer"). */
  onActivity?(text: string): void;
}

interface Waiter {
  host: string;
  b: PlannedBundle;
  signal: AbortSignal;
  callbacks: SendCallbacks;
  /** A peer could not deliver: the laptop sends this host its copy. */
  direct: boolean;
  /** Why the relay failed, kept for the step's record. */
  relayFailed?: string;
  settle(result: BundleSent | Error): void;
}

/** A feed from the laptop's upload (a host name is a feed from that peer). */
const LAPTOP = Symbol('laptop');

interface BundleState {
  /** Hosts with a complete copy, in the order they got it; `held` is the same, to look up. */
  holders: string[];
  held: Set<string>;
  /** Hosts whose copy is arriving, and where: they pass bytes on as they come. */
  streaming: Map<string, string>;
  /** The relays each host is serving now: stopped when its own copy fails to arrive. */
  downstream: Map<string, Set<AbortController>>;
  serving: Map<string, number>;
  inFlight: number;
  /** Every transfer in flight: the receiving host, and where its bytes come from. */
  feeds: Map<string, string | typeof LAPTOP>;
  queue: Waiter[];
  probed?: Promise<void>;
  pumpScheduled?: boolean;
  /** When the first host asked for this bundle (the seed is chosen a moment later). */
  firstAsked?: number;
  seedTimer?: boolean;
}

export class BundleRouter {
  private readonly bundles = new Map<string, BundleState>();
  private readonly failures = new Map<string, number>();
  /** Hosts that took part (held, sent or received): where the end of the run sweeps. */
  readonly touched = new Set<string>();
  /** What each route carried: for the summary and the benchmark. */
  readonly counts = { uploads: 0, relays: 0, relayFailures: 0 };
  /**
   * The most leading address bits a pair of hosts shared that could not connect: pairs sharing
   * no more than this are presumed apart (-1: every pair is presumed near).
   */
  private farBits = -1;

  constructor(
    private readonly routes: Routes,
    /** Every host reached in this run. */
    private readonly peers: readonly string[],
    private readonly opts: RouterOptions,
  ) {}

  async send(host: string, b: PlannedBundle, signal: AbortSignal, callbacks: SendCallbacks): Promise<BundleSent> {
    if (!this.opts.enabled || !this.routes.canReceive(host)) return this.fromLaptop(host, b, signal, callbacks);
    const state = this.stateOf(b);
    if (await this.routes.has(host, b, signal)) {
      this.addHolder(state, host);
      return { status: 'unchanged' };
    }
    // Copies left by an earlier run seed this one.
    state.probed ??= this.probe(state, b, host, signal);
    await state.probed;
    return new Promise<BundleSent>((resolve, reject) => {
      const waiter: Waiter = {
        host,
        b,
        signal,
        callbacks,
        direct: false,
        settle: (r) => {
          signal.removeEventListener('abort', onAbort);
          if (r instanceof Error) reject(r);
          else resolve(r);
        },
      };
      const onAbort = () => {
        const i = state.queue.indexOf(waiter);
        if (i >= 0) {
          state.queue.splice(i, 1);
          waiter.settle(signal.reason instanceof Error ? signal.reason : new Error('interrupted'));
        }
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      enqueue(state.queue, waiter);
      this.schedulePump(state);
      callbacks.onActivity?.(`waiting for a copy of ${b.bundle.name} from a peer`);
    });
  }

  private stateOf(b: PlannedBundle): BundleState {
    let state = this.bundles.get(b.bundle.sha256);
    if (!state) {
      state = { holders: [], held: new Set(), streaming: new Map(), downstream: new Map(), serving: new Map(), inFlight: 0, feeds: new Map(), queue: [] };
      this.bundles.set(b.bundle.sha256, state);
    }
    return state;
  }

  /** The leading address bits two hosts share; undefined when either is known by name. */
  private sharedBits(a: string, b: string): number | undefined {
    const x = this.routes.address(a);
    const y = this.routes.address(b);
    return x !== undefined && y !== undefined ? commonPrefixBits(x, y) : undefined;
  }

  /** Whether a and b are presumed to reach each other (hosts known by name always are). */
  private near(a: string, b: string): boolean {
    const bits = this.sharedBits(a, b);
    return bits === undefined || bits > this.farBits;
  }

  private addHolder(state: BundleState, host: string): void {
    state.streaming.delete(host);
    if (!state.held.has(host)) {
      state.held.add(host);
      state.holders.push(host);
    }
    this.touched.add(host);
    this.schedulePump(state);
  }

  private async probe(state: BundleState, b: PlannedBundle, asker: string, signal: AbortSignal): Promise<void> {
    const others = this.peers.filter((p) => p !== asker && this.routes.canSend(p));
    // One command per peer under the asker's signal: a fan-out, not a leak of abort listeners
    // (Node would warn on the user's terminal past 10).
    setMaxListeners(Math.max(defaultMaxListeners, others.length + 10), signal);
    await Promise.all(
      others.map(async (peer) => {
        if (await this.routes.holds(peer, b, signal).catch(() => false)) this.addHolder(state, peer);
      }),
    );
  }

  /**
   * Pumps once the hosts that asked at the same moment are all queued, so the seed (and every
   * next copy) goes to the most urgent of them, not to whichever asked a microsecond earlier.
   */
  private schedulePump(state: BundleState): void {
    if (state.pumpScheduled) return;
    state.pumpScheduled = true;
    setImmediate(() => {
      state.pumpScheduled = false;
      this.pump(state);
    });
  }

  /** Starts every transfer that can start now. */
  private pump(state: BundleState): void {
    for (const waiter of [...state.queue]) {
      if (waiter.direct) {
        this.start(state, waiter, undefined);
        continue;
      }
      const eligible = (h: string) =>
        h !== waiter.host && this.routes.canSend(h) && (this.failures.get(h) ?? 0) < this.opts.maxSourceFailures && this.near(h, waiter.host);
      const free = (h: string) => eligible(h) && (state.serving.get(h) ?? 0) < this.opts.fanout;
      const rooted = (h: string) => this.rooted(state, h, waiter.host);
      // Complete copies first; then copies still arriving, streamed on as they come.
      const source = state.holders.find(free) ?? [...state.streaming.keys()].find((h) => free(h) && rooted(h));
      if (source) {
        this.start(state, waiter, source);
        continue;
      }
      const usable = state.holders.some(eligible) || [...state.streaming.keys()].some((h) => eligible(h) && rooted(h));
      if (!usable && state.inFlight > 0) {
        // Copies are on their way, but none that can reach this host (its network is apart, as
        // far as the relays that could not connect tell): it gets its network's copy from the
        // laptop, now.
        const coming = [...state.feeds.keys()].some((h) => eligible(h) && rooted(h));
        if (!coming) this.start(state, waiter, undefined);
        continue;
      }
      // Nothing holds a copy and nothing is on its way: this host is the seed. The hosts that
      // ask for a bundle do so within moments of each other: wait that moment, so the seed is
      // the most urgent of them (the init host), not the quickest to ask.
      if (!usable) {
        const since = Date.now() - (state.firstAsked ??= Date.now());
        if (since >= this.opts.seedGatherMs) {
          this.start(state, waiter, undefined);
        } else if (!state.seedTimer) {
          state.seedTimer = true;
          setTimeout(() => {
            state.seedTimer = false;
            this.schedulePump(state);
          }, this.opts.seedGatherMs - since).unref();
        }
      }
    }
  }

  /**
   * Whether h's copy can complete for `asker` to take from it: h holds one, or its bytes come,
   * hop by hop, from the laptop or a holder, over hops not presumed apart and not through the
   * asker. A copy streamed from a host whose own copy comes across networks apart would only
   * wait and fail, and two hosts requeued at once could otherwise end up streaming from each
   * other, each waiting for the other's bytes.
   */
  private rooted(state: BundleState, h: string, asker: string): boolean {
    const seen = new Set<string>();
    for (let at = h; ; ) {
      if (at === asker || seen.has(at)) return false;
      seen.add(at);
      if (state.held.has(at)) return true;
      const from = state.feeds.get(at);
      if (from === undefined) return false;
      if (from === LAPTOP) return true;
      if (!this.near(from, at)) return false;
      at = from;
    }
  }

  private start(state: BundleState, waiter: Waiter, source: string | undefined): void {
    state.queue.splice(state.queue.indexOf(waiter), 1);
    state.inFlight++;
    state.feeds.set(waiter.host, source ?? LAPTOP);
    if (source) state.serving.set(source, (state.serving.get(source) ?? 0) + 1);
    const { host, b, signal, callbacks } = waiter;
    this.touched.add(host);
    const done = () => {
      state.inFlight--;
      state.feeds.delete(host);
      if (source) state.serving.set(source, (state.serving.get(source) ?? 1) - 1);
    };
    const onStaging = (path: string) => {
      state.streaming.set(host, path);
      this.schedulePump(state);
    };
    // This host's own copy did not arrive: whatever it was streaming on cannot complete.
    const stopDownstream = () => {
      state.streaming.delete(host);
      for (const c of state.downstream.get(host) ?? []) c.abort(new UpstreamFailed(host));
    };
    if (!source) {
      void this.fromLaptop(host, b, signal, callbacks, onStaging).then(
        (sent) => {
          done();
          this.addHolder(state, host);
          waiter.settle(waiter.relayFailed ? { ...sent, relayFailed: waiter.relayFailed } : sent);
        },
        (err: Error) => {
          done();
          stopDownstream();
          waiter.settle(err);
          this.schedulePump(state);
        },
      );
      return;
    }
    this.touched.add(source);
    const stop = new AbortController();
    const served = state.downstream.get(source) ?? new Set<AbortController>();
    state.downstream.set(source, served.add(stop));
    const streamFrom = state.streaming.get(source);
    callbacks.onActivity?.(`receiving ${b.bundle.name} from ${source}`);
    void this.routes
      .relay(source, host, b, AbortSignal.any([signal, stop.signal]), (n, total) => callbacks.onProgress(n, total, source), { ...(streamFrom ? { from: streamFrom } : {}), onStaging })
      .then(
        () => {
          served.delete(stop);
          done();
          this.counts.relays++;
          this.addHolder(state, host);
          waiter.settle({ status: 'relayed', from: source, ...(waiter.relayFailed ? { relayFailed: waiter.relayFailed } : {}) });
        },
        (err: Error) => {
          served.delete(stop);
          done();
          stopDownstream();
          if (signal.aborted) {
            waiter.settle(err);
          } else if (stop.signal.aborted) {
            // The source's own copy failed: not this host's fault nor the source's as a relay.
            enqueue(state.queue, waiter);
          } else if ((err as NetworkUnreachable).networkUnreachable && this.learnApart(source, host)) {
            // The two networks are apart, not either host at fault: the host waits for a copy
            // inside its own network, or becomes its network's copy from the laptop.
            this.counts.relayFailures++;
            waiter.relayFailed = `from ${source}: ${err.message}`;
            callbacks.onActivity?.(`${source} cannot reach this host; waiting for a copy nearer to it`);
            enqueue(state.queue, waiter);
          } else {
            // The laptop sends this one; the source may be the cause, so it is used less.
            this.counts.relayFailures++;
            this.failures.set(source, (this.failures.get(source) ?? 0) + 1);
            waiter.relayFailed = `from ${source}: ${err.message}`;
            waiter.direct = true;
            callbacks.onActivity?.(`relay from ${source} failed (${err.message}); sending from the laptop`);
            enqueue(state.queue, waiter);
          }
          this.schedulePump(state);
        },
      );
  }

  /** Records that a and b could not connect; false when their addresses teach nothing. */
  private learnApart(a: string, b: string): boolean {
    const bits = this.sharedBits(a, b);
    if (bits === undefined) return false;
    this.farBits = Math.max(this.farBits, bits);
    return true;
  }

  private async fromLaptop(host: string, b: PlannedBundle, signal: AbortSignal, callbacks: SendCallbacks, onStaging?: (remotePath: string) => void): Promise<BundleSent> {
    callbacks.onActivity?.(`sending ${b.bundle.name} from the laptop`);
    const status = await this.routes.upload(host, b, signal, (n, total) => callbacks.onProgress(n, total), onStaging);
    if (status === 'uploaded') this.counts.uploads++;
    return { status };
  }
}

/** Keeps the queue ordered by priority, first come first served within one priority. */
function enqueue(queue: Waiter[], waiter: Waiter): void {
  const rank = waiter.callbacks.priority ?? 0;
  const at = queue.findIndex((w) => (w.callbacks.priority ?? 0) > rank);
  if (at < 0) queue.push(waiter);
  else queue.splice(at, 0, waiter);
}

/** Why a relay was stopped: the host it streamed from did not get its own copy. */
class UpstreamFailed extends Error {
  constructor(host: string) {
    super(`${host}'s own copy did not arrive`);
    this.name = 'UpstreamFailed';
  }
}
