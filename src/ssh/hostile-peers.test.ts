// Every way a peer can fail to be an SSH server ends as a ConnectError with a clear reason:
// never an unhandled 'error' event, never a hang past the connect timeout. The peers are real
// TCP listeners on 127.0.0.1 that misbehave in one way each.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SshSettings } from '../model.js';
import { connect } from './connect.js';
import { ConnectError } from './errors.js';

type Behaviour = (socket: net.Socket) => void;

const BEHAVIOURS: Record<string, Behaviour> = {
  // A host rebooting, a port forward without a backend, sshd's MaxStartups throttling.
  'closes before the banner': (s) => s.destroy(),
  'resets before the banner': (s) => s.resetAndDestroy(),
  'speaks something that is not SSH': (s) => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'),
  'accepts and never speaks': () => undefined,
  'sends a banner, then closes during key exchange': (s) => {
    s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    s.once('data', () => setTimeout(() => s.destroy(), 20));
  },
  'sends a banner, then garbage': (s) => {
    s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    s.once('data', () => s.write(Buffer.alloc(4096, 0xab)));
  },
  'sends a banner, then says MaxStartups': (s) => s.end('SSH-2.0-OpenSSH_9.2\r\nExceeded MaxStartups\r\n'),
};

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
let dir: string;
const escaped: unknown[] = [];
const onEscape = (err: unknown) => escaped.push(err);

async function listen(behaviour: Behaviour): Promise<number> {
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    behaviour(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

function settings(port: number): SshSettings {
  return {
    user: 'root',
    port,
    password: 'not-used',
    knownHostsFile: path.join(dir, 'known_hosts'),
    acceptNewHostKeys: false,
    connectTimeoutMs: 1500,
    keepaliveIntervalMs: 0,
  };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-hostile-'));
  fs.writeFileSync(path.join(dir, 'known_hosts'), '');
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
});
afterEach(() => {
  for (const s of sockets) s.destroy();
});
afterAll(async () => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('connecting to peers that are not (working) SSH servers', () => {
  for (const [what, behaviour] of Object.entries(BEHAVIOURS)) {
    it(`a peer that ${what}: ConnectError with the host named, within the timeout, nothing escapes`, async () => {
      const port = await listen(behaviour);
      const started = Date.now();
      const err = await connect({ host: '127.0.0.1', port, name: 'hostile' }, settings(port), { retries: 1, backoff: { initialMs: 50, maxMs: 50 } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as Error).message).toMatch(/^hostile \(root@127\.0\.0\.1 port \d+\): /);
      // Two attempts at most, each bounded by the 1.5 s connect timeout.
      expect(Date.now() - started).toBeLessThan(2 * 1500 + 2000);
      // ssh2 may emit 'error' after 'close': give it the chance, then nothing may have escaped.
      await new Promise((r) => setTimeout(r, 300));
      expect(escaped).toEqual([]);
    });
  }

  it('a name that does not resolve: said as such, not as a silent sshd', async () => {
    const err = await connect({ host: 'no-such-host.invalid', port: 22, name: 'ghost' }, settings(22), { retries: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toMatch(/^ghost \(no-such-host\.invalid\): cannot resolve no-such-host\.invalid/);
    expect((err as ConnectError).hint).toMatch(/address in the inventory/);
    await new Promise((r) => setTimeout(r, 300));
    expect(escaped).toEqual([]);
  });
});
