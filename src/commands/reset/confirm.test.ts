import { describe, expect, it } from 'vitest';
import { InputError } from '../../errors.js';
import { testCluster } from '../../render/fixtures.js';
import { confirmReset, describeReset } from './confirm.js';
import { selectForReset } from './select.js';

describe('the reset confirmation', () => {
  const cluster = testCluster();

  it('says what happens to each host, in order, and what stays', () => {
    const text = describeReset(cluster, selectForReset(cluster, { all: true }, undefined), false);
    const lines = text.split('\n');
    expect(lines[0]).toBe('kubeforge reset of cluster demo: 3 host(s), in this order:');
    expect(lines[1]).toMatch(/^ {2}w1 \(worker, 10\.0\.0\.21\): drain and delete node w1 \(through cp1\), then kubeadm reset/);
    expect(lines[2]).toMatch(/^ {2}cp2 \(control-plane/);
    expect(lines[3]).toMatch(/^ {2}cp1 \(control-plane, 10\.0\.0\.11\): kubeadm reset/);
    expect(text).toContain("containerd's images stay (--remove-images removes them)");
    expect(describeReset(cluster, selectForReset(cluster, { limit: 'w1' }, undefined), true)).toContain("containerd's images and data (/var/lib/containerd)");
  });

  it('without a terminal, only --yes goes ahead', async () => {
    await expect(confirmReset(1, { yes: true, interactive: false })).resolves.toBe(true);
    const refused = confirmReset(1, { yes: false, interactive: false });
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(/no terminal to ask on/);
  });

  it('asks, defaulting to no, when someone is there', async () => {
    const asked: string[] = [];
    const ask = async (m: string) => (asked.push(m), false);
    await expect(confirmReset(2, { yes: false, interactive: true, ask })).resolves.toBe(false);
    expect(asked).toEqual(['Reset 2 host(s)? This cannot be undone.']);
  });
});
