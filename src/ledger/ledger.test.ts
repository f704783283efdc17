import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostResult } from '../run/outcome.js';
import { OUTPUT_BOUNDS } from '../run/remote.js';
import { boundRecord, hostsReset, hostsToRetry, LEDGER_TEXT_BYTES, ledgerDir, readLastRun, readState, writeRun, type RunRecord } from './ledger.js';

function record(id: string, hosts: Array<[string, HostResult['status']]>, limitedTo?: string[]): RunRecord {
  return {
    id,
    command: 'up',
    inventory: 'x',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
    exitCode: hosts.every(([, s]) => s === 'ok') ? 0 : 1,
    interrupted: false,
    ...(limitedTo ? { limitedTo } : {}),
    hosts: hosts.map(([host, status]) => ({ host, role: 'worker', status, steps: [], ...(status !== 'ok' ? { reason: `${host} broke` } : {}) })),
  };
}

describe('the ledger', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-ledger-'));
  const inventory = path.join(dir, 'inventory.yaml');

  it('records each run and keeps, per host, the outcome of the latest run that included it', async () => {
    await writeRun(inventory, record('r1', [['a', 'ok'], ['b', 'failed'], ['c', 'blocked']]));
    expect(hostsToRetry((await readState(inventory))!)).toEqual(['b', 'c']);
    // A retry that fixes b but not c: c stays to retry, a is not forgotten.
    await writeRun(inventory, record('r2', [['b', 'ok'], ['c', 'failed']], ['b', 'c']));
    const state = (await readState(inventory))!;
    expect(hostsToRetry(state)).toEqual(['c']);
    expect(state.a!.runId).toBe('r1');
    expect(state.c).toMatchObject({ status: 'failed', reason: 'c broke', runId: 'r2' });
    expect((await readLastRun(inventory))!.id).toBe('r2');
    expect(fs.readdirSync(path.join(ledgerDir(inventory), 'runs')).sort()).toEqual(['r1.json', 'r2.json']);
    expect(fs.statSync(ledgerDir(inventory)).mode & 0o777).toBe(0o700);
  });

  it('a reset: reset hosts are not retried by up --retry-failed, nor are hosts whose reset failed; a later up takes them back', async () => {
    const inv = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kf-ledger-reset-')), 'inventory.yaml');
    await writeRun(inv, record('u1', [['a', 'ok'], ['b', 'ok'], ['c', 'failed']]));
    await writeRun(inv, { ...record('x1', [['a', 'reset'], ['b', 'failed']], ['a', 'b']), command: 'reset' });
    let state = (await readState(inv))!;
    expect(state.a).toMatchObject({ status: 'reset', command: 'reset', runId: 'x1' });
    expect(hostsToRetry(state)).toEqual(['c']);
    expect(hostsReset(state)).toEqual({ done: ['a'], failed: ['b'] });
    await writeRun(inv, record('u2', [['a', 'ok'], ['b', 'ok'], ['c', 'ok']]));
    state = (await readState(inv))!;
    expect(hostsToRetry(state)).toEqual([]);
    expect(hostsReset(state)).toEqual({ done: [], failed: [] });
  });

  it('scrubs anything shaped like a bootstrap token, and still records the run', async () => {
    const leaky = record('r3', [['a', 'failed']]);
    leaky.hosts[0]!.reason = 'kubeadm join --token abcdef.0123456789abcdef failed';
    await writeRun(inventory, leaky);
    const text = fs.readFileSync(path.join(ledgerDir(inventory), 'runs', 'r3.json'), 'utf8');
    expect(text).not.toContain('abcdef.0123456789abcdef');
    expect((await readLastRun(inventory))!.hosts[0]!.reason).toBe('kubeadm join --token [redacted-token] failed');
  });

  it('reads nothing when no run was recorded', async () => {
    const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kf-ledger-')), 'inventory.yaml');
    expect(await readLastRun(empty)).toBeUndefined();
    expect(await readState(empty)).toBeUndefined();
  });
});

describe('the ledger bounds what a step keeps', () => {
  it('keeps at most 20 lines and 4 KiB of output per step, and 2 KiB of each message, whatever it is given', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-ledger-'));
    const inventory = path.join(dir, 'inventory.yaml');
    const big = record('r9', [['a', 'failed']]);
    const huge = 'z'.repeat(10 * 1024 * 1024);
    big.hosts[0]!.reason = huge;
    big.hosts[0]!.steps = [
      {
        key: 'kubeadm-init',
        title: 'kubeadm init',
        status: 'failed',
        startedAt: big.startedAt,
        durationMs: 1,
        error: { message: huge, exitCode: 1, output: `${Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n')}\n${huge}`, hint: huge },
      },
    ];
    const file = await writeRun(inventory, big);
    expect(fs.statSync(file).size).toBeLessThan(16 * 1024);
    const step = (await readLastRun(inventory))!.hosts[0]!.steps[0]!;
    expect(Buffer.byteLength(step.error!.output!)).toBeLessThanOrEqual(OUTPUT_BOUNDS.bytes);
    expect(step.error!.output).toMatch(/z… \(10485760 bytes\)$/);
    expect(Buffer.byteLength(step.error!.message)).toBeLessThanOrEqual(LEDGER_TEXT_BYTES);
    expect(Buffer.byteLength((await readState(inventory))!.a!.reason!)).toBeLessThanOrEqual(LEDGER_TEXT_BYTES);
  });

  it('scrubs a token before cutting, so no half of one is left', () => {
    const token = 'abcdef.0123456789abcdef';
    const text = `${'p'.repeat(LEDGER_TEXT_BYTES - 30)} ${token}`;
    const bounded = boundRecord({ ...record('r10', [['a', 'failed']]), hosts: [{ host: 'a', role: 'worker', status: 'failed', steps: [], reason: text }] });
    expect(bounded.hosts[0]!.reason).not.toContain('abcdef.01');
  });
});
