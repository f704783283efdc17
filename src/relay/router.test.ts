// The router's scheduling with in-memory routes: who seeds, who serves whom, what a failure does.
// The routes here only move a flag between named hosts; the SSH routes are tested end to end.
import { describe, expect, it } from 'vitest';
import type { PlannedBundle } from '../playbook/plan.js';
import { BundleRouter, type Routes } from './router.js';

const bundle: PlannedBundle = {
  kind: 'containerd',
  bundle: { name: 'containerd.tar.gz', path: '/laptop/containerd.tar.gz', sha256: 'a'.repeat(64), size: 100 },
  remotePath: '/var/lib/kubeforge/bundles/aaaa-containerd.tar.gz',
};

interface Fake {
  routes: Routes;
  holding: Set<string>;
  log: string[];
  /** Relays that fail: "from>to". */
  failing: Set<string>;
}

function fakeRoutes(initial: string[] = [], opts: { cannotSend?: string[]; delayMs?: number; addresses?: Record<string, string> } = {}): Fake {
  const holding = new Set(initial);
  const log: string[] = [];
  const failing = new Set<string>();
  const delay = () => new Promise((r) => setTimeout(r, opts.delayMs ?? 5));
  const routes: Routes = {
    has: async (host) => holding.has(host),
    holds: async (host) => holding.has(host),
    upload: async (host) => {
      await delay();
      log.push(`laptop>${host}`);
      holding.add(host);
      return 'uploaded';
    },
    relay: async (from, to) => {
      await delay();
      if (failing.has(`${from}>${to}`)) {
        log.push(`FAILED ${from}>${to}`);
        throw new Error('connection reset');
      }
      if (!holding.has(from)) throw new Error(`${from} has no copy`);
      log.push(`${from}>${to}`);
      holding.add(to);
    },
    canSend: (host) => !(opts.cannotSend ?? []).includes(host),
    canReceive: () => true,
    address: (host) => opts.addresses?.[host],
  };
  return { routes, holding, log, failing };
}

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);
const options = { enabled: true, fanout: 2, maxSourceFailures: 2, seedGatherMs: 20 };
const noop = { onProgress: () => {} };
const sendAll = (router: BundleRouter, names: string[]) => Promise.all(names.map((h) => router.send(h, bundle, new AbortController().signal, noop)));

describe('BundleRouter', () => {
  it('sends one copy from the laptop and relays the rest, each holder serving at most `fanout` at once', async () => {
    const names = hosts(20);
    const fake = fakeRoutes();
    const router = new BundleRouter(fake.routes, names, options);
    const results = await sendAll(router, names);
    expect(fake.log.filter((l) => l.startsWith('laptop>'))).toHaveLength(1);
    expect(results.filter((r) => r.status === 'relayed')).toHaveLength(19);
    expect(fake.holding.size).toBe(20);
    expect(router.counts).toEqual({ uploads: 1, relays: 19, relayFailures: 0 });
    // A tree: many hosts served others, not the seed alone.
    const sources = new Set(fake.log.filter((l) => !l.startsWith('laptop')).map((l) => l.split('>')[0]));
    expect(sources.size).toBeGreaterThan(4);
  });

  it('a host that already has the bundle is left alone and serves the others', async () => {
    const fake = fakeRoutes(['h1']);
    const router = new BundleRouter(fake.routes, hosts(3), options);
    const results = await sendAll(router, hosts(3));
    expect(results[0]).toEqual({ status: 'unchanged' });
    expect(fake.log.some((l) => l.startsWith('laptop>'))).toBe(false);
  });

  it('copies left by an earlier run on hosts that need nothing now seed the run', async () => {
    const fake = fakeRoutes(['h9']);
    const router = new BundleRouter(fake.routes, hosts(9), options);
    const results = await sendAll(router, ['h1', 'h2']);
    expect(results.map((r) => r.status)).toEqual(['relayed', 'relayed']);
    expect(fake.log.some((l) => l.startsWith('laptop>'))).toBe(false);
  });

  it('a failed relay sends its target to the laptop, and records why', async () => {
    const fake = fakeRoutes(['h1']);
    fake.failing.add('h1>h2');
    const router = new BundleRouter(fake.routes, hosts(2), options);
    const [, second] = await sendAll(router, hosts(2));
    expect(second).toEqual({ status: 'uploaded', relayFailed: 'from h1: connection reset' });
    expect(fake.log).toEqual(['FAILED h1>h2', 'laptop>h2']);
  });

  it('a source that failed twice is not used again', async () => {
    const fake = fakeRoutes(['h1']);
    fake.failing.add('h1>h2').add('h1>h3');
    const router = new BundleRouter(fake.routes, hosts(5), { ...options, fanout: 1 });
    await sendAll(router, ['h2', 'h3', 'h4', 'h5']);
    const fromH1 = fake.log.filter((l) => l.includes('h1>'));
    expect(fromH1).toEqual(['FAILED h1>h2', 'FAILED h1>h3']);
    expect(fake.holding.size).toBe(5);
  });

  it('hosts that cannot be a source (no IP address for from=) are never asked to send', async () => {
    const fake = fakeRoutes([], { cannotSend: ['h1'] });
    const router = new BundleRouter(fake.routes, hosts(3), options);
    await router.send('h1', bundle, new AbortController().signal, noop);
    await sendAll(router, ['h2', 'h3']);
    expect(fake.log.filter((l) => l.startsWith('h1>'))).toEqual([]);
    expect(fake.log.filter((l) => l.startsWith('laptop>'))).toEqual(['laptop>h1', 'laptop>h2']);
  });

  it('off: every copy comes from the laptop', async () => {
    const fake = fakeRoutes();
    const router = new BundleRouter(fake.routes, hosts(4), { ...options, enabled: false });
    const results = await sendAll(router, hosts(4));
    expect(results.every((r) => r.status === 'uploaded')).toBe(true);
  });

  it('a waiting host whose run is cancelled stops waiting, and the others still get theirs', async () => {
    const fake = fakeRoutes([], { delayMs: 30 });
    const router = new BundleRouter(fake.routes, hosts(3), options);
    const cancel = new AbortController();
    const seed = router.send('h1', bundle, new AbortController().signal, noop);
    const cancelled = router.send('h2', bundle, cancel.signal, noop);
    const other = router.send('h3', bundle, new AbortController().signal, noop);
    await new Promise((r) => setTimeout(r, 5));
    cancel.abort(new Error('interrupted'));
    await expect(cancelled).rejects.toThrow('interrupted');
    expect((await seed).status).toBe('uploaded');
    expect((await other).status).toBe('relayed');
    expect(fake.holding.has('h2')).toBe(false);
  });

  it('a seed upload that fails lets the next waiting host seed', async () => {
    const fake = fakeRoutes();
    let first = true;
    const upload = fake.routes.upload;
    fake.routes.upload = async (host, ...rest) => {
      if (first) {
        first = false;
        throw new Error('disk full');
      }
      return upload(host, ...rest);
    };
    const router = new BundleRouter(fake.routes, hosts(3), options);
    const results = await Promise.allSettled(hosts(3).map((h) => router.send(h, bundle, new AbortController().signal, noop)));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(fake.holding.size).toBe(2);
  });

  it('serves the host others wait for first, even when it asks a moment later', async () => {
    const fake = fakeRoutes();
    const router = new BundleRouter(fake.routes, hosts(4), { ...options, fanout: 1 });
    const signal = new AbortController().signal;
    await Promise.all([
      router.send('h2', bundle, signal, { ...noop, priority: 2 }),
      router.send('h3', bundle, signal, { ...noop, priority: 2 }),
      router.send('h4', bundle, signal, { ...noop, priority: 2 }),
      new Promise((r) => setTimeout(r, 5)).then(() => router.send('h1', bundle, signal, { ...noop, priority: 0 })),
    ]);
    expect(fake.log[0]).toBe('laptop>h1');
  });

  it('streams on from hosts whose copy is still arriving, and requeues their takers when it fails', async () => {
    const fake = fakeRoutes();
    const streamedFrom: string[] = [];
    let failNext = true;
    fake.routes.relay = async (from, to, _b, signal, _p, stream) => {
      stream.onStaging(`/staging/${to}`);
      if (stream.from) streamedFrom.push(`${from}>${to}`);
      await new Promise((r) => setTimeout(r, 30));
      if (signal.aborted) throw new Error('stopped');
      // The first relay out of the seed fails: whoever streamed from its target is requeued.
      if (failNext && from === 'h1') {
        failNext = false;
        throw new Error('reset');
      }
      fake.holding.add(to);
    };
    const router = new BundleRouter(fake.routes, hosts(8), { ...options, fanout: 1 });
    const results = await sendAll(router, hosts(8));
    expect(streamedFrom.length).toBeGreaterThan(0);
    expect(fake.holding.size).toBe(8);
    // One laptop copy for the seed, one for the host whose relay failed; nothing else.
    expect(results.filter((r) => r.status === 'uploaded')).toHaveLength(2);
  });

  it('peers stream the seed copy on while the laptop still sends it; a failed seed stops them', async () => {
    for (const seedFails of [false, true]) {
      const fake = fakeRoutes();
      const events: string[] = [];
      let seeds = 0;
      fake.routes.upload = async (host, _b, signal, _p, onStaging) => {
        const first = seeds++ === 0;
        onStaging?.(`/staging/${host}`);
        await new Promise((r) => setTimeout(r, 40));
        if (signal.aborted) throw new Error('stopped');
        if (first && seedFails) {
          events.push(`seed failed ${host}`);
          throw new Error('uplink lost');
        }
        events.push(`uploaded ${host}`);
        fake.holding.add(host);
        return 'uploaded';
      };
      fake.routes.relay = async (from, to, _b, signal, _p, stream) => {
        events.push(`start ${from}>${to}${stream.from ? ` streaming ${stream.from}` : ''}`);
        stream.onStaging(`/staging/${to}`);
        await new Promise((r) => setTimeout(r, 10));
        // Waits for its source's copy, as tail -f does, and fails with it.
        while (!fake.holding.has(from)) {
          if (signal.aborted) throw new Error('stopped');
          await new Promise((r) => setTimeout(r, 5));
        }
        fake.holding.add(to);
      };
      const router = new BundleRouter(fake.routes, hosts(4), options);
      const results = await Promise.allSettled(hosts(4).map((h) => router.send(h, bundle, new AbortController().signal, noop)));
      const seed = events.findIndex((e) => e.startsWith('uploaded') || e.startsWith('seed failed'));
      // Relays out of the seed started before its upload ended, reading its staging file.
      expect(events.slice(0, seed).some((e) => /^start h1>h\d streaming \/staging\/h1$/.test(e))).toBe(true);
      if (!seedFails) {
        expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
        expect(router.counts.uploads).toBe(1);
      } else {
        // The seed's own host fails; the hosts that streamed from it are requeued and served.
        expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
        expect(fake.holding.size).toBe(3);
      }
    }
  });

  it('learns from the first relay with no route which hosts are apart: one laptop copy per network', async () => {
    // Three /26 networks of one /24 with no route between them (as three bridges are).
    const nets = { a: 0, b: 64, c: 128 } as const;
    const names: string[] = [];
    const addresses: Record<string, string> = {};
    for (let i = 1; i <= 8; i++) {
      for (const [net, base] of Object.entries(nets)) {
        names.push(`${net}${i}`);
        addresses[`${net}${i}`] = `10.77.0.${base + 1 + i}`;
      }
    }
    const fake = fakeRoutes([], { addresses });
    fake.routes.relay = async (from, to) => {
      await new Promise((r) => setTimeout(r, 5));
      if (from[0] !== to[0]) {
        fake.log.push(`UNREACHABLE ${from}>${to}`);
        throw Object.assign(new Error(`ssh: connect to host ${addresses[to]} port 22: Network is unreachable`), { networkUnreachable: true });
      }
      fake.log.push(`${from}>${to}`);
      fake.holding.add(to);
    };
    const router = new BundleRouter(fake.routes, names, options);
    const results = await sendAll(router, names);
    expect(fake.holding.size).toBe(24);
    // a1 seeds and tries b1 and c1 (its fanout); both find no route: from then on every pair
    // across networks is presumed apart, and one host of each other network gets its copy
    // from the laptop and passes it on inside.
    const laptop = fake.log.filter((l) => l.startsWith('laptop>'));
    expect(laptop.map((l) => l[7])).toEqual(['a', 'b', 'c']);
    expect(fake.log.filter((l) => l.startsWith('UNREACHABLE'))).toEqual(['UNREACHABLE a1>b1', 'UNREACHABLE a1>c1']);
    expect(router.counts).toEqual({ uploads: 3, relays: 21, relayFailures: 2 });
    expect(results[names.indexOf('b1')]).toEqual({ status: 'relayed', from: expect.stringMatching(/^b/), relayFailed: 'from a1: ssh: connect to host 10.77.0.66 port 22: Network is unreachable' });
  });

  it('a relay that fails otherwise teaches nothing about the network: only its target goes to the laptop', async () => {
    const addresses = { h1: '10.0.0.2', h2: '10.0.1.2', h3: '10.0.2.2', h4: '10.0.3.2' };
    const fake = fakeRoutes(['h1'], { addresses });
    fake.failing.add('h1>h2');
    const router = new BundleRouter(fake.routes, hosts(4), { ...options, fanout: 1 });
    await sendAll(router, ['h2', 'h3', 'h4']);
    expect(fake.log.filter((l) => l.startsWith('laptop>'))).toEqual(['laptop>h2']);
    expect(router.counts.relays).toBe(2);
  });

  it('never streams from a copy that cannot complete: not across networks apart, never in a circle', async () => {
    // As over SSH: the target's staging file exists (others may stream from it) before the
    // source's ssh finds it has no route to the target.
    const names: string[] = [];
    const addresses: Record<string, string> = {};
    for (let i = 1; i <= 12; i++) {
      for (const [net, base] of [['a', 0], ['b', 64], ['c', 128]] as const) {
        names.push(`${net}${i}`);
        addresses[`${net}${i}`] = `10.77.0.${base + 1 + i}`;
      }
    }
    const fake = fakeRoutes([], { addresses });
    fake.routes.upload = async (host, _b, _s, _p, onStaging) => {
      onStaging?.(`/staging/${host}`);
      await new Promise((r) => setTimeout(r, 20));
      fake.log.push(`laptop>${host}`);
      fake.holding.add(host);
      return 'uploaded';
    };
    fake.routes.relay = async (from, to, _b, signal, _p, stream) => {
      stream.onStaging(`/staging/${to}`);
      // ssh starting on a busy host, then the finishing command on the target: failures take time.
      await new Promise((r) => setTimeout(r, 20));
      if (from[0] !== to[0]) throw Object.assign(new Error('Network is unreachable'), { networkUnreachable: true });
      // tail -f on the source's copy: done once the source holds it; its failure stops us.
      while (!fake.holding.has(from)) {
        if (signal.aborted) {
          await new Promise((r) => setTimeout(r, 10));
          throw new Error('stopped');
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      fake.holding.add(to);
    };
    const router = new BundleRouter(fake.routes, names, options);
    const stuck = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`stuck with ${fake.holding.size} of 36 copies`)), 5000).unref());
    await Promise.race([sendAll(router, names), stuck]);
    expect(fake.holding.size).toBe(36);
    expect(router.counts.uploads).toBeLessThanOrEqual(4);
  });
});

