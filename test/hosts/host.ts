// What a test sees of one test host. `exec` goes in through the host's namespaces with
// nsenter, never through kubeforge's own SSH layer, so tests check the tool against an
// independent oracle — and can still look inside a host whose sshd they killed.
import { run, type RunOptions, type RunResult } from './exec.js';

export type HostKind = 'full' | 'light';

export interface TestHostRecord {
  name: string;
  kind: HostKind;
  address: string;
  port: number;
  /** This machine's end of the host's link (a veth on the fleet bridge). */
  hostInterface: string;
  /** Public host key line, "ssh-ed25519 AAAA…". */
  hostKeyPublic: string;
  /** Folder on this machine holding the host's keys, config, and (full hosts) its overlay. */
  dir: string;
  /** PID (on this machine) of the process that started the host: systemd-nspawn or unshare. */
  launcherPid: number;
  /** PID (on this machine) of the host's init: systemd for full hosts, sshd for light ones. */
  initPid: number;
  /** Light hosts: the named network namespace. */
  netns?: string;
}

export class TestHost {
  constructor(readonly record: TestHostRecord) {}

  get name(): string {
    return this.record.name;
  }
  get kind(): HostKind {
    return this.record.kind;
  }
  get address(): string {
    return this.record.address;
  }
  get port(): number {
    return this.record.port;
  }

  /** Run a shell script as root inside the host (its mounts, network, hostname, pids). */
  exec(script: string, opts: RunOptions = {}): Promise<RunResult> {
    const ns = this.kind === 'full' ? ['-m', '-u', '-i', '-n', '-p', '-r', '-w'] : ['-m', '-u', '-n', '-p'];
    return run('nsenter', ['-t', String(this.record.initPid), ...ns, '--', '/bin/sh', '-c', script], opts);
  }

  /** exec that returns trimmed stdout and throws on failure. */
  async sh(script: string, opts: RunOptions = {}): Promise<string> {
    return (await this.exec(script, opts)).stdout.trim();
  }

  /** Take the host's link down (or up): the host stays alive but unreachable. */
  async setLink(up: boolean): Promise<void> {
    await run('ip', ['link', 'set', this.record.hostInterface, up ? 'up' : 'down']);
  }
}
