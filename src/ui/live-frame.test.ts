import { describe, expect, it } from 'vitest';
import { renderFrame, usableSize, type LiveHost, type LiveState } from './live-frame.js';

function state(hosts: Array<Partial<LiveHost> & { name: string }>, bytesSent = 0): LiveState {
  return { hosts: hosts.map((h) => ({ status: 'waiting', text: '', ...h })), bytesSent, startedAt: 0 };
}

const opts = { rows: 10, columns: 60, now: 12_000, tick: 0, color: false };

describe('the live progress frame', () => {
  it('says how many hosts are done, running, failed and waiting, the bytes sent and the time', () => {
    const s = state(
      [
        { name: 'a', status: 'ok' },
        { name: 'b', status: 'running', text: 'containerd/binaries' },
        { name: 'c', status: 'failed', text: 'connect: refused' },
        { name: 'd' },
      ],
      3 * 1024 * 1024,
    );
    expect(renderFrame(s, { ...opts, columns: 200 })).toEqual([
      '1 done, 1 running, 1 failed, 1 waiting of 4 hosts · 3.0 MiB sent · 12 s',
      '✖ c: connect: refused',
      '⠋ b: containerd/binaries',
    ]);
  });

  it('fits any number of hosts into the terminal: never more lines than rows - 1, never a line wider than the terminal', () => {
    const hosts = Array.from({ length: 300 }, (_, i) => ({
      name: `host-${i}`,
      status: (i % 7 === 0 ? 'failed' : 'running') as LiveHost['status'],
      text: `step ${'x'.repeat(i % 150)}`,
    }));
    for (const [rows, columns] of [[5, 40], [24, 80], [50, 160], [3, 30]] as const) {
      const lines = renderFrame(state(hosts), { ...opts, rows, columns });
      expect(lines.length, `${rows}x${columns}`).toBeLessThanOrEqual(rows - 1);
      for (const l of lines) expect([...l].length).toBeLessThan(columns);
      expect(lines[0]).toMatch(/^0 done, 257 running, 4/);
    }
    const big = renderFrame(state(hosts), { ...opts, rows: 24, columns: 100 });
    expect(big.filter((l) => l.startsWith('✖ host-'))).toHaveLength(10);
    expect(big).toContain('✖ … and 33 more failed (the summary lists them)');
    expect(big.at(-1)).toBe('  … and 247 more running');
  });

  it('gives a terminal of size 0x0 (a pty nobody sized) a usable default', () => {
    expect(usableSize(0, 0)).toEqual({ rows: 24, columns: 80 });
    expect(usableSize(undefined, undefined)).toEqual({ rows: 24, columns: 80 });
    expect(usableSize(40, 120)).toEqual({ rows: 40, columns: 120 });
  });

  it('costs the same whatever happened before: 500 hosts render in well under a millisecond each', () => {
    const hosts = Array.from({ length: 500 }, (_, i) => ({ name: `h${i}`, status: 'running' as const, text: 'x' }));
    const s = state(hosts);
    const started = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) renderFrame(s, { ...opts, rows: 50, columns: 160, tick: i });
    const perFrameMs = Number(process.hrtime.bigint() - started) / 1e6 / 100;
    console.log(`FIGURE live frame for 500 hosts: ${perFrameMs.toFixed(3)} ms`);
    expect(perFrameMs).toBeGreaterThan(0);
  });
});
