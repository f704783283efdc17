// probeHost against a real sshd on 127.0.0.1: the "host" is this machine, so its facts can be
// checked against what this machine says about itself.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithSshd, exists, sshSettings, startSshd, type TestSshd } from '../../../test/support/sshd.js';
import { probeHost } from './probe.js';

describeWithSshd('probeHost (real sshd)', () => {
  let sshd: TestSshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  const request = (overrides: Parameters<typeof sshSettings>[1] = {}) => ({
    name: '127.0.0.1',
    address: '127.0.0.1',
    port: sshd.port,
    settings: sshSettings(sshd, overrides),
  });

  it('reads the host facts', async () => {
    const outcome = await probeHost(request());
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.facts).toMatchObject({
      kernel: 'Linux',
      arch: execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim(),
      hostname: hostname(),
      sudo: 'root',
    });
  });

  it('asks about an unknown host key; a no records nothing and comes back as a host-key problem', async () => {
    const knownHostsFile = join(sshd.dir, 'probe-no', 'known_hosts');
    const asked: string[] = [];
    const outcome = await probeHost({
      ...request({ knownHostsFile }),
      askHostKey: async (key) => {
        asked.push(key.fingerprint);
        return false;
      },
    });
    expect(asked).toHaveLength(1);
    expect(outcome).toMatchObject({ ok: false, problem: { kind: 'host-key', message: expect.stringContaining('was not trusted') } });
    expect(await exists(knownHostsFile)).toBe(false);

    const yes = await probeHost({ ...request({ knownHostsFile }), askHostKey: async () => true });
    expect(yes.ok).toBe(true);
    expect(await readFile(knownHostsFile, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n`);
  });

  it('turns a refused login and a closed port into problems the wizard can offer choices about', async () => {
    const refused = await probeHost(request({ user: 'nobody-here' }));
    expect(refused).toMatchObject({ ok: false, problem: { kind: 'auth' } });
    const closedPort = sshd.port === 65535 ? 65534 : sshd.port + 1;
    const unreachable = await probeHost({ ...request(), port: closedPort, settings: sshSettings(sshd, { port: closedPort }) });
    expect(unreachable).toMatchObject({ ok: false, problem: { kind: 'unreachable', message: expect.stringContaining('ECONNREFUSED') } });
  });
});
