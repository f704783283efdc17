// Decides where each host's copy of a bundle comes from, so the laptop's uplink carries about
// one copy per bundle whatever the number of hosts. The first host that needs a bundle gets it
// from the laptop (the seed); every host that holds a verified copy then passes it on to hosts
// still waiting, a few at a time, so copies double each round over the hosts' own network.
// A relay that fails sends its target to the laptop instead: the relay never fails a run that
// direct upload would have finished. Hosts that already hold a copy from an earlier run (found
// by a cheap probe when a bundle is first needed) seed the others too.
//
// Pure scheduling: the routes (probe, check, upload, relay) are given, so this is tested with
// in-memory routes and used with the SSH ones (transfer.ts).
import type { PlannedBundle } from '../playbook/plan.js';
import type { BundleSent } from '../playbook/run-steps.js';

export interface Routes {
  /** The host has exactly this bundle at its path (sha256 checked on the host). */
  has(host: string, b: PlannedBundle, signal: AbortSignal): Promise<boolean>;
  /** The host holds a complete copy it could pass on (cheap: present, right size). */
  holds(host: string, b: PlannedBundle, signal: AbortSignal): Promise<boolean>;
  /** From the laptop (its upload slots bound how many at once). */
  upload(host: string, b: PlannedBundle, signal: AbortSignal, onProgress: (sent: number, total: number) => void): Promise<'uploaded' | 'unchanged'>;
  /** From a peer; throws when the copy did not arrive. */
  relay(from: string, to: string, b: PlannedBundle, signal: AbortSignal, onProgress: (sent: number, total: number) => void): Promise<void>;
  /** Whether a host can take part at all (an address a peer's key can be bound to; a pinned host key). */
  canSend(host: string): boolean;
  canReceive(host: string): boolean;
}

export interface RouterOptions {
  enabled: boolean;
  /** Transfers one host serves at once. */
  fanout: number;
  /** A source whose relays failed this many times is not used again in this run. */
  maxSourceFailures: number;
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

interface BundleState {
  /** Hosts with a complete copy, in the order they got it. */
  holders: string[];
  serving: Map<string, number>;
  inFlight: number;
  queue: Waiter[];
  probed?: Promise<void>;
  pumpScheduled?: boolean;
}

export class BundleRouter {
  private readonly bundles = new Map<string, BundleState>();
  private readonly failures = new Map<string, number>();
  /** Hosts that took part (held, sent or received): where the end of the run sweeps. */
  readonly touched = new Set<string>();
  /** What each route carried: for the summary and the benchmark. */
  readonly counts = { uploads: 0, relays: 0, relayFailures: 0 };

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
      state = { holders: [], serving: new Map(), inFlight: 0, queue: [] };
      this.bundles.set(b.bundle.sha256, state);
    }
    return state;
  }

  private addHolder(state: BundleState, host: string): void {
    if (!state.holders.includes(host)) state.holders.push(host);
    this.touched.add(host);
    this.schedulePump(state);
  }

  private async probe(state: BundleState, b: PlannedBundle, asker: string, signal: AbortSignal): Promise<void> {
    const others = this.peers.filter((p) => p !== asker && this.routes.canSend(p));
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
      const source = state.holders.find(
        (h) => h !== waiter.host && this.routes.canSend(h) && (state.serving.get(h) ?? 0) < this.opts.fanout && (this.failures.get(h) ?? 0) < this.opts.maxSourceFailures,
      );
      if (source) {
        this.start(state, waiter, source);
        continue;
      }
      const usable = state.holders.some((h) => h !== waiter.host && this.routes.canSend(h) && (this.failures.get(h) ?? 0) < this.opts.maxSourceFailures);
      // Nothing holds a copy and nothing is on its way: this host is the seed.
      if (!usable && state.inFlight === 0) this.start(state, waiter, undefined);
    }
  }

  private start(state: BundleState, waiter: Waiter, source: string | undefined): void {
    state.queue.splice(state.queue.indexOf(waiter), 1);
    state.inFlight++;
    if (source) state.serving.set(source, (state.serving.get(source) ?? 0) + 1);
    const { host, b, signal, callbacks } = waiter;
    this.touched.add(host);
    const done = () => {
      state.inFlight--;
      if (source) state.serving.set(source, (state.serving.get(source) ?? 1) - 1);
    };
    if (!source) {
      void this.fromLaptop(host, b, signal, callbacks).then(
        (sent) => {
          done();
          this.addHolder(state, host);
          waiter.settle(waiter.relayFailed ? { ...sent, relayFailed: waiter.relayFailed } : sent);
        },
        (err: Error) => {
          done();
          waiter.settle(err);
          this.schedulePump(state);
        },
      );
      return;
    }
    this.touched.add(source);
    callbacks.onActivity?.(`receiving ${b.bundle.name} from ${source}`);
    void this.routes.relay(source, host, b, signal, (n, total) => callbacks.onProgress(n, total, source)).then(
      () => {
        done();
        this.counts.relays++;
        this.addHolder(state, host);
        waiter.settle({ status: 'relayed', from: source });
      },
      (err: Error) => {
        done();
        if (signal.aborted) {
          waiter.settle(err);
        } else {
          // The laptop sends this one; the source may be the cause, so it is used less.
          this.counts.relayFailures++;
          this.failures.set(source, (this.failures.get(source) ?? 0) + 1);
          callbacks.onActivity?.(`relay from ${source} failed (${err.message}); sending from the laptop`);
          waiter.direct = true;
          waiter.relayFailed = `from ${source}: ${err.message}`;
          enqueue(state.queue, waiter);
        }
        this.schedulePump(state);
      },
    );
  }

  private async fromLaptop(host: string, b: PlannedBundle, signal: AbortSignal, callbacks: SendCallbacks): Promise<BundleSent> {
    callbacks.onActivity?.(`sending ${b.bundle.name} from the laptop`);
    const status = await this.routes.upload(host, b, signal, (n, total) => callbacks.onProgress(n, total));
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
