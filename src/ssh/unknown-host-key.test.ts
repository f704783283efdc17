// connect()'s onUnknownHostKey: a person decides about a host key known_hosts does not have yet.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithSshd, exists, sshSettings, sshTarget, startSshd, type TestSshd } from '../../test/support/sshd.js';
import { connect, type UnknownHostKey } from './connect.js';
import { HostKeyError } from './errors.js';
import { fingerprintOf } from './host-key.js';

describeWithSshd('connect with onUnknownHostKey (real sshd)', () => {
  let sshd: TestSshd;
  let fingerprint: string;

  beforeAll(async () => {
    sshd = await startSshd();
    fingerprint = fingerprintOf(Buffer.from(sshd.hostKeyPublic.split(' ')[1]!, 'base64'));
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('asks with the fingerprint, and on yes logs in and records exactly that key', async () => {
    const knownHostsFile = join(sshd.dir, 'ask-yes', 'known_hosts');
    const asked: UnknownHostKey[] = [];
    const conn = await connect(sshTarget(sshd, 'node-y'), sshSettings(sshd, { knownHostsFile }), {
      onUnknownHostKey: async (key) => {
        asked.push(key);
        // Nothing is written while the question is open.
        expect(await exists(knownHostsFile)).toBe(false);
        return true;
      },
    });
    try {
      expect((await conn.exec('echo in')).stdout).toBe('in\n');
    } finally {
      conn.close();
    }
    expect(asked).toEqual([
      { name: 'node-y', host: '127.0.0.1', port: sshd.port, keyType: 'ssh-ed25519', fingerprint, knownHostsFile },
    ]);
    expect(await readFile(knownHostsFile, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n`);
  });

  it('on no refuses with a HostKeyError and writes nothing', async () => {
    const knownHostsFile = join(sshd.dir, 'ask-no', 'known_hosts');
    const attempt = connect(sshTarget(sshd, 'node-n'), sshSettings(sshd, { knownHostsFile }), {
      onUnknownHostKey: async () => false,
    });
    await expect(attempt).rejects.toThrow(HostKeyError);
    await expect(attempt).rejects.toThrow(`node-n (127.0.0.1 port ${sshd.port}): host key ssh-ed25519 ${fingerprint} was not trusted`);
    await expect(attempt).rejects.toMatchObject({ kind: 'unknown', hint: expect.stringContaining('ssh_host_ed25519_key.pub') });
    expect(await exists(knownHostsFile)).toBe(false);
  });

  it('is not asked about a known key, nor when acceptNewHostKeys already decides', async () => {
    const ask = async () => {
      throw new Error('must not be asked');
    };
    (await connect(sshTarget(sshd), sshSettings(sshd), { onUnknownHostKey: ask })).close();
    const knownHostsFile = join(sshd.dir, 'tofu-ask', 'known_hosts');
    (await connect(sshTarget(sshd), sshSettings(sshd, { knownHostsFile, acceptNewHostKeys: true }), { onUnknownHostKey: ask })).close();
    expect(await readFile(knownHostsFile, 'utf8')).toContain(sshd.hostKeyPublic);
  });

  it('never offers to overwrite a changed key', async () => {
    const knownHostsFile = join(sshd.dir, 'changed-ask');
    const other = 'AAAAC3NzaC1lZDI1NTE5AAAAIOw0rd6NW8vZpC2mJ3pXy2nBmF3dH3f4JQ5QJbQ3e0kN';
    await writeFile(knownHostsFile, `[127.0.0.1]:${sshd.port} ssh-ed25519 ${other}\n`);
    let asked = false;
    const attempt = connect(sshTarget(sshd), sshSettings(sshd, { knownHostsFile }), {
      onUnknownHostKey: async () => (asked = true),
    });
    await expect(attempt).rejects.toMatchObject({ kind: 'changed' });
    expect(asked).toBe(false);
  });
});
