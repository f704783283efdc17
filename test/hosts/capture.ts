// A packet capture on one interface inside a network namespace, with no tcpdump: a python3
// AF_PACKET raw socket (promiscuous, large receive buffer) writes every frame it sees to a
// file as [u32 length][u8 packet type][frame]. parseFrames and tcpSegments read it back.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';

/** Debian's own python3 (a pyenv shim on PATH may depend on the caller's environment). */
export const PYTHON3 = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const CAPTURE_PY = String.raw`
import signal, socket, struct, sys
iface, out_path = sys.argv[1], sys.argv[2]
SOL_PACKET, PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC, PACKET_STATISTICS = 263, 1, 1, 6
SO_RCVBUFFORCE = 33
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
try:
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20)
except OSError:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 << 20)
s.bind((iface, 0))
ifindex = socket.if_nametoindex(iface)
s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, struct.pack('iHH8s', ifindex, PACKET_MR_PROMISC, 0, b''))
# Frames that arrived between socket() and bind() may be from any interface: drop them.
s.setblocking(False)
try:
    while True:
        s.recv(65536)
except BlockingIOError:
    pass
s.settimeout(0.2)
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
frames = 0
with open(out_path, 'wb', buffering=1 << 20) as out:
    print('ready', flush=True)
    while not stop:
        try:
            data, addr = s.recvfrom(1 << 18)
        except (socket.timeout, InterruptedError):
            continue
        out.write(struct.pack('<IB', len(data), addr[2]))
        out.write(data)
        frames += 1
packets, drops = struct.unpack('II', s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
print('stats %d %d %d' % (frames, packets, drops), flush=True)
`;

export interface CaptureStats {
  /** Frames written to the file. */
  frames: number;
  /** The kernel's count of frames it dropped because the socket's buffer was full. */
  drops: number;
}

export interface Capture {
  file: string;
  /** Stops the capture (everything received so far is written) and says what it saw. */
  stop(): Promise<CaptureStats>;
}

/** Starts capturing every frame `iface` inside named netns `netns` receives or sends, into `file`. */
export async function startCapture(netns: string, iface: string, file: string): Promise<Capture> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', netns, PYTHON3, '-c', CAPTURE_PY, iface, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = () => (stdout.includes('ready') ? resolve(true) : undefined);
      child.stdout!.on('data', check);
      check();
    }),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000).unref()),
  ]);
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`packet capture in ${netns} did not start: ${stderr || stdout}`);
  }
  let stopped: Promise<CaptureStats> | undefined;
  return {
    file,
    stop() {
      stopped ??= (async () => {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
        const code = await exited;
        clearTimeout(killer);
        const m = /stats (\d+) (\d+) (\d+)/.exec(stdout);
        if (code !== 0 || !m) throw new Error(`packet capture in ${netns} failed (exit ${code}): ${stderr || stdout}`);
        return { frames: Number(m[1]), drops: Number(m[3]) };
      })();
      return stopped;
    },
  };
}

export interface Frame {
  /** PACKET_HOST 0, PACKET_BROADCAST 1, PACKET_MULTICAST 2, PACKET_OTHERHOST 3, PACKET_OUTGOING 4. */
  packetType: number;
  data: Buffer;
}

export async function readFrames(file: string): Promise<Frame[]> {
  const buf = await fs.readFile(file);
  const frames: Frame[] = [];
  let at = 0;
  while (at + 5 <= buf.length) {
    const len = buf.readUInt32LE(at);
    const packetType = buf[at + 4]!;
    if (at + 5 + len > buf.length) break; // cut short when stopped: ignore the tail
    frames.push({ packetType, data: buf.subarray(at + 5, at + 5 + len) });
    at += 5 + len;
  }
  return frames;
}

export interface TcpSegment {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
  /** The whole frame, headers included. */
  frame: Buffer;
}

/** The IPv4 TCP segments among the frames (Ethernet II, no VLAN tags). */
export function tcpSegments(frames: Frame[]): TcpSegment[] {
  const segments: TcpSegment[] = [];
  for (const { data } of frames) {
    if (data.length < 14 + 20 || data.readUInt16BE(12) !== 0x0800) continue;
    const ip = 14;
    const ihl = (data[ip]! & 0x0f) * 4;
    if (data[ip + 9] !== 6 || data.length < ip + ihl + 20) continue;
    // A GSO frame may carry 0 as its total length: the frame's own end then bounds it.
    const total = data.readUInt16BE(ip + 2);
    const end = total > 0 ? Math.min(data.length, ip + total) : data.length;
    const tcp = ip + ihl;
    const doff = (data[tcp + 12]! >> 4) * 4;
    segments.push({
      src: [...data.subarray(ip + 12, ip + 16)].join('.'),
      dst: [...data.subarray(ip + 16, ip + 20)].join('.'),
      srcPort: data.readUInt16BE(tcp),
      dstPort: data.readUInt16BE(tcp + 2),
      payload: data.subarray(Math.min(end, tcp + doff), end),
      frame: data,
    });
  }
  return segments;
}
