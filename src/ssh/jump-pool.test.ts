// JumpPool's sharing and failure reporting, with bastion connections made of plain objects: the
// real tunnels are exercised end to end in test/e2e/bastion.test.ts.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { JumpHost, SshSettings } from '../model.js';
import type { Connection } from './connection.js';
import { ConnectError, HostKeyError } from './errors.js';
import { JumpPool, type BastionConnector } from './jump-pool.js';

const SSH: SshSettings = { user: 'admin', port: 22, knownHostsFile: '/kh', acceptNewHostKeys: false, connectTimeoutMs: 1000, keepaliveIntervalMs: 0 };
const hop = (host: string): JumpHost => ({ label: `admin@${host}:22`, address: host, ssh: SSH });

class FakeBastion {
  closed = false;
  error: Error | undefined;
  forwards: string[] = [];
  private listeners: Array<() => void> = [];
  failure = () => (this.closed ? (this.error ?? new Error('the connection was closed')) : undefined);
  onClosed = (l: () => void) => void (this.closed ? l() : this.listeners.push(l));
  close = () => this.die();
  forward = async (host: string, port: number) => {
    this.forwards.push(`${host}:${port}`);
    return new PassThrough();
  };
  die(error?: Error) {
    this.closed = true;
    this.error = error;
    this.listeners.splice(0).forEach((l) => l());
  }
}

function pool(outcome: (name: string) => FakeBastion | Error = () => new FakeBastion()) {
  const opened: Array<{ name: string; through: boolean; bastion?: FakeBastion }> = [];
  const connector: BastionConnector = async (target, _settings, through) => {
    const made = outcome(target.name);
    opened.push({ name: target.name, through: through !== undefined, ...(made instanceof FakeBastion ? { bastion: made } : {}) });
    if (made instanceof Error) throw made;
    return made as unknown as Connection;
  };
  return { jumps: new JumpPool(connector), opened };
}

const target = (name: string) => ({ host: `10.0.0.${name.slice(1)}`, port: 22, name });

describe('JumpPool', () => {
  it('opens one connection per bastion for every host behind it, and closes it with the last host', async () => {
    const { jumps, opened } = pool();
    const leases = await Promise.all(Array.from({ length: 50 }, (_, i) => jumps.acquire([hop('b1')], `h${i}`)));
    expect(opened.map((o) => o.name)).toEqual(['bastion admin@b1:22']);
    await Promise.all(leases.map((l, i) => l.forward(target(`h${i}`))));
    expect(opened[0]!.bastion!.forwards).toHaveLength(50);
    leases.slice(1).forEach((l) => l.release());
    expect(opened[0]!.bastion!.closed).toBe(false);
    leases[0]!.release();
    leases[0]!.release(); // twice is once
    expect(opened[0]!.bastion!.closed).toBe(true);
  });

  it('reaches the second bastion of a chain through the first, sharing both', async () => {
    const { jumps, opened } = pool();
    await jumps.acquire([hop('b1'), hop('b2')], 'h1');
    await jumps.acquire([hop('b1'), hop('b2')], 'h2');
    await jumps.acquire([hop('b1')], 'h3');
    expect(opened.map((o) => [o.name, o.through])).toEqual([
      ['bastion admin@b1:22', false],
      ['bastion admin@b2:22', true],
    ]);
  });

  it('a bastion that cannot be reached is the error of every host behind it, worded for each, keeping its type', async () => {
    const { jumps, opened } = pool(
      (name) => new HostKeyError(`${name} (b1 port 22): HOST KEY CHANGED: /kh:3 has SHA256:old, the host presented SHA256:new`, 'delete line 3', 'changed'),
    );
    const results = await Promise.allSettled([jumps.acquire([hop('b1')], 'cp1'), jumps.acquire([hop('b1')], 'w1')]);
    expect(opened).toHaveLength(1);
    const errors = results.map((r) => (r as PromiseRejectedResult).reason as HostKeyError);
    expect(errors.map((e) => [e.constructor.name, e.message, e.kind])).toEqual([
      ['HostKeyError', 'cp1: via bastion admin@b1:22 (b1 port 22): HOST KEY CHANGED: /kh:3 has SHA256:old, the host presented SHA256:new', 'changed'],
      ['HostKeyError', 'w1: via bastion admin@b1:22 (b1 port 22): HOST KEY CHANGED: /kh:3 has SHA256:old, the host presented SHA256:new', 'changed'],
    ]);
  });

  it('after a bastion died: its failure names it, forwarding fails with that cause, and the next host connects anew', async () => {
    const { jumps, opened } = pool();
    const lease = await jumps.acquire([hop('b1')], 'h1');
    expect(lease.failure()).toBeUndefined();
    opened[0]!.bastion!.die(new Error('read ECONNRESET'));
    expect(lease.failure()?.message).toBe('via bastion admin@b1:22: read ECONNRESET');
    const forward = await lease.forward(target('h1')).catch((e: unknown) => e);
    expect(forward).toBeInstanceOf(ConnectError);
    expect((forward as ConnectError).message).toBe('h1: via bastion admin@b1:22: read ECONNRESET');
    expect((forward as ConnectError).retryable).toBe(false);
    await jumps.acquire([hop('b1')], 'h2');
    expect(opened).toHaveLength(2);
  });

  it('a released lease still names the dead bastion (the host connection closes, and releases, before its error is explained)', async () => {
    const { jumps, opened } = pool();
    const lease = await jumps.acquire([hop('b1')], 'h1');
    lease.release();
    opened[0]!.bastion!.die(new Error('read ECONNRESET'));
    expect(lease.failure()?.message).toBe('via bastion admin@b1:22: read ECONNRESET');
  });

  it('a host cancelled while the bastion connects gives up alone', async () => {
    let finish!: (b: FakeBastion) => void;
    const connector: BastionConnector = () => new Promise((resolve) => (finish = (b) => resolve(b as unknown as Connection)));
    const jumps = new JumpPool(connector);
    const controller = new AbortController();
    const cancelled = jumps.acquire([hop('b1')], 'h1', controller.signal);
    const other = jumps.acquire([hop('b1')], 'h2');
    controller.abort();
    await expect(cancelled).rejects.toThrow('h1: connecting aborted');
    const bastion = new FakeBastion();
    finish(bastion);
    const lease = await other;
    expect(bastion.closed).toBe(false);
    lease.release();
    expect(bastion.closed).toBe(true);
  });
});
