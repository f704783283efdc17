// A network namespace in which every address is the namespace's own: a program run inside it
// reaches nothing outside it, and whatever it tries to reach is seen. A listener answers (and
// logs) TCP connections to the given ports on every IPv4 and IPv6 address, and the namespace's
// own counters tell whether any TCP connection was attempted at all, or any UDP datagram sent
// (a DNS lookup), to any address and port. Tests run the kubeforge CLI in it to prove that bad
// input is refused before anything is contacted, with unchanged inventories (10.0.0.10 …).
import { spawn, type ChildProcess } from 'node:child_process';
import { run, type RunResult } from '../hosts/exec.js';
import { pidAlive } from '../hosts/lock.js';

const PREFIX = 'kftrap-';

/** What the listener saw: one entry per accepted connection. */
export interface TrappedConnection {
  address: string;
  port: number;
}

export interface NetworkCounters {
  /** TCP connections this namespace started (SYN sent), IPv4 and IPv6. */
  tcpActiveOpens: number;
  /** UDP datagrams sent, IPv4 and IPv6. */
  udpOut: number;
}

export interface ConnectionTrap {
  netns: string;
  connections(): TrappedConnection[];
  counters(): Promise<NetworkCounters>;
  /** Run a program inside the namespace (as `ip netns exec NS file args…`). */
  run(file: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string }): Promise<RunResult>;
  stop(): Promise<void>;
}

// Accepts on [::] (IPv4-mapped too), logs "port address" per connection, and hangs up at once.
const LISTENER = `
const net = require('node:net');
const ports = process.argv.slice(1).map(Number);
let listening = 0;
for (const port of ports) {
  const server = net.createServer((socket) => {
    process.stdout.write('conn ' + port + ' ' + String(socket.localAddress).replace(/^::ffff:/, '') + '\\n');
    socket.destroy();
  });
  server.listen({ host: '::', port, ipv6Only: false }, () => {
    if (++listening === ports.length) process.stdout.write('listening\\n');
  });
}
`;

export async function startConnectionTrap(ports: number[]): Promise<ConnectionTrap> {
  await removeStaleTraps();
  const netns = `${PREFIX}${process.pid}`;
  await run('ip', ['netns', 'del', netns], { allowFail: true });
  await run('ip', ['netns', 'add', netns]);
  let listener: ChildProcess | undefined;
  try {
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    // Every address is local: a connection to any of them stays in this namespace.
    await run('ip', ['-n', netns, 'route', 'add', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', 'local']);
    await run('ip', ['-n', netns, '-6', 'route', 'add', 'local', '::/0', 'dev', 'lo', 'table', 'local']);

    const seen: TrappedConnection[] = [];
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', LISTENER, ...ports.map(String)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    listener = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        buffer += d;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line === 'listening') resolve();
          const m = /^conn (\d+) (\S+)$/.exec(line);
          if (m) seen.push({ port: Number(m[1]), address: m[2]! });
        }
      });
      child.once('exit', (code) => reject(new Error(`trap listener exited (${code}) before listening: ${stderr}`)));
    });

    return {
      netns,
      connections: () => [...seen],
      counters: () => readCounters(netns),
      run: (file, args, opts = {}) =>
        run('ip', ['netns', 'exec', netns, file, ...args], {
          allowFail: true,
          ...(opts.env ? { env: opts.env } : {}),
          ...(opts.cwd ? { cwd: opts.cwd } : {}),
          timeoutMs: opts.timeoutMs ?? 60_000,
        }),
      async stop() {
        child.kill('SIGKILL');
        await run('ip', ['netns', 'del', netns], { allowFail: true });
      },
    };
  } catch (err) {
    listener?.kill('SIGKILL');
    await run('ip', ['netns', 'del', netns], { allowFail: true });
    throw err;
  }
}

async function readCounters(netns: string): Promise<NetworkCounters> {
  const r = await run('ip', ['netns', 'exec', netns, 'cat', '/proc/net/snmp', '/proc/net/snmp6']);
  const lines = r.stdout.split('\n');
  // /proc/net/snmp: a header line of names, then a line of values, per protocol.
  const field = (proto: string, name: string): number => {
    const rows = lines.filter((l) => l.startsWith(`${proto}: `));
    const names = rows[0]?.split(/\s+/) ?? [];
    const values = rows[1]?.split(/\s+/) ?? [];
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`no ${proto} ${name} in /proc/net/snmp`);
    return Number(values[i]);
  };
  // /proc/net/snmp6: "Name value" lines.
  const field6 = (name: string): number => {
    const line = lines.find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}\t`));
    if (!line) throw new Error(`no ${name} in /proc/net/snmp6`);
    return Number(line.split(/\s+/)[1]);
  };
  return {
    tcpActiveOpens: field('Tcp', 'ActiveOpens'),
    udpOut: field('Udp', 'OutDatagrams') + field6('Udp6OutDatagrams'),
  };
}

/** Namespaces left by a test process that died before stop(). */
async function removeStaleTraps(): Promise<void> {
  const r = await run('ip', ['netns', 'list'], { allowFail: true });
  for (const name of r.stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) {
    const pid = Number(name.slice(PREFIX.length));
    if (name.startsWith(PREFIX) && Number.isInteger(pid) && !pidAlive(pid)) {
      await run('ip', ['netns', 'del', name], { allowFail: true });
    }
  }
}
