// Bad input through the REAL CLI: `kubeforge up -i FILE` for every inventory of the corpus in
// test/inventories/bad must exit 2 with `error: FILE:LINE:COL: message` and a hint for each
// problem the file states in its `# expect:` lines, and contact nothing. The CLI runs inside a
// network namespace where every address (10.0.0.10, fd00::10, …) is the namespace's own: a
// listener there takes SSH connections on the corpus' ports, and the namespace's counters show
// any TCP connection attempt or UDP datagram (DNS) to any address. A valid inventory run the
// same way proves the trap does see a connection when one is made.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../hosts/exec.js';
import { makeInventoryFixture, type InventoryFixture } from '../inventories/fixtures.js';
import { startConnectionTrap, type ConnectionTrap, type NetworkCounters } from './connection-trap.js';
import { CLI, e2eUnavailableReason } from './support.js';

const unavailable = e2eUnavailableReason();

const CORPUS = fileURLToPath(new URL('../inventories/bad/', import.meta.url));
/** Every SSH port an inventory of the corpus names (hosts default to 22). */
const TRAP_PORTS = [22, 2222];

interface CorpusFile {
  name: string;
  errors: string[];
  warnings: string[];
}

function corpus(): CorpusFile[] {
  return readdirSync(CORPUS)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const errors: string[] = [];
      const warnings: string[] = [];
      for (const line of readFileSync(path.join(CORPUS, name), 'utf8').split('\n')) {
        const m = /^# (expect|expect-warning): (.+)$/.exec(line);
        if (!m) break;
        (m[1] === 'expect' ? errors : warnings).push(m[2]!);
      }
      return { name, errors, warnings };
    });
}

/** Files that must be refused; the warning-only ones load and go on to connect. */
const REFUSED = corpus().filter((f) => f.errors.length > 0);

/** `error: X` lines of the CLI's stderr, each with the hint line that must follow it. */
function errorBlocks(stderr: string): Array<{ error: string; hint: string | undefined }> {
  const lines = stderr.split('\n');
  const blocks: Array<{ error: string; hint: string | undefined }> = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('error: ')) return;
    const next = lines[i + 1];
    blocks.push({ error: line.slice('error: '.length), hint: next?.startsWith('  hint: ') ? next.slice('  hint: '.length) : undefined });
  });
  return blocks;
}

describe.skipIf(unavailable)('kubeforge up on the corpus of bad inventories', () => {
  let fixture: InventoryFixture;
  let trap: ConnectionTrap;
  let before: NetworkCounters;
  const results = new Map<string, RunResult>();
  let env: NodeJS.ProcessEnv;

  const cli = (args: string[]) => trap.run(process.execPath, [CLI, ...args], { env, cwd: fixture.dir });

  beforeAll(async () => {
    fixture = makeInventoryFixture();
    trap = await startConnectionTrap(TRAP_PORTS);
    // Only what the corpus expects: HOME, the secret variables some files name, no ssh-agent.
    env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...fixture.env, XDG_CACHE_HOME: path.join(fixture.dir, 'cache') };
    before = await trap.counters();
    const started = Date.now();
    // Two at a time: this machine has two cores, and every run is a fresh node process.
    const limit = pLimit(2);
    await Promise.all(
      REFUSED.map((file) =>
        limit(async () => {
          const target = path.join(fixture.dir, file.name);
          copyFileSync(path.join(CORPUS, file.name), target);
          results.set(file.name, await cli(['up', '-i', target]));
        }),
      ),
    );
    console.log(`FIGURE ${REFUSED.length} bad inventories through the CLI: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    await trap?.stop();
    fixture?.remove();
  });

  it('holds at least 40 inventories that must be refused', () => {
    expect(REFUSED.length).toBeGreaterThanOrEqual(40);
  });

  it.each(REFUSED.map((f) => [f.name, f] as const))('%s: exit 2, FILE:LINE:COL: message and a hint for each problem', (name, file) => {
    const result = results.get(name)!;
    const target = path.join(fixture.dir, name);
    const fill = (s: string) => s.replaceAll('{file}', target).replaceAll('{dir}', fixture.dir);
    expect(result.code, result.stderr).toBe(2);
    // Nothing started: no progress lines, no summary, no ledger.
    expect(result.stdout).toBe('');
    const blocks = errorBlocks(result.stderr);
    expect(blocks.map((b) => b.error)).toHaveLength(file.errors.length);
    for (const block of blocks) {
      expect(block.error).toMatch(new RegExp(`^${escape(target)}:\\d+:\\d+: \\S`));
      expect(block.hint, `hint after "${block.error}"`).toMatch(/\S/);
    }
    for (const want of file.errors) {
      expect(blocks.map((b) => b.error)).toContainEqual(expect.stringMatching(new RegExp(`^${escape(fill(want))}`)));
    }
  });

  it('leaves no ledger beside the refused inventories', () => {
    expect(readdirSync(fixture.dir)).not.toContain('.kubeforge');
  });

  it('a missing inventory file is bad input too, named with a hint', async () => {
    const missing = path.join(fixture.dir, 'no-such-inventory.yaml');
    const r = await cli(['up', '-i', missing]);
    expect(r.code).toBe(2);
    expect(errorBlocks(r.stderr)).toEqual([{ error: `${missing}: no such file`, hint: expect.stringMatching(/\S/) }]);
  });

  it('opened no connection and sent no datagram for any of them', async () => {
    expect(trap.connections()).toEqual([]);
    const after = await trap.counters();
    expect(after).toEqual(before);
  });

  // Last: once a run has connected, the counters above mean nothing any more.
  it('the trap does see the SSH connection a valid inventory makes (the check above can fail)', async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(fixture.dir, 'keys', 'real_ed25519')]);
    const valid = path.join(fixture.dir, 'valid.yaml');
    writeFileSync(
      valid,
      [
        'cluster: { name: demo }',
        'kubernetes: { version: 1.30.2 }',
        'containerd: { bundle: bundles/containerd-1.7.20-linux-amd64.tar.gz }',
        'ssh: { keyFile: keys/real_ed25519, connectTimeout: 2s }',
        'hosts:',
        '  - { name: cp1, address: 10.0.0.10, role: control-plane }',
        '  - { name: w1, address: 10.0.0.11, role: worker, ssh: { port: 2222 } }',
        '',
      ].join('\n'),
    );
    const countersBefore = await trap.counters();
    const r = await cli(['up', '-i', valid]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(trap.connections()).toEqual(
      expect.arrayContaining([
        { address: '10.0.0.10', port: 22 },
        { address: '10.0.0.11', port: 2222 },
      ]),
    );
    expect((await trap.counters()).tcpActiveOpens).toBeGreaterThan(countersBefore.tcpActiveOpens);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
