import { describe, expect, it } from 'vitest';
import { renderContainerdService } from './containerd-service.js';
import { parseVersion, type Version } from '../model.js';

function version(text: string): Version {
  const parsed = parseVersion(text);
  if (!parsed) throw new Error(text);
  return parsed;
}

describe('renderContainerdService', () => {
  it('keeps LimitNOFILE=infinity for containerd 1.7', () => {
    expect(renderContainerdService(version('1.7.22'), '/usr/local/bin')).toBe(`# Managed by kubeforge: local edits are overwritten on the next run.
[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
LimitNOFILE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
`);
  });

  it('drops LimitNOFILE for containerd 2.0, as upstream did', () => {
    expect(renderContainerdService(version('2.0.0'), '/usr/local/bin')).toBe(`# Managed by kubeforge: local edits are overwritten on the next run.
[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
`);
  });

  it('uses the given bin directory', () => {
    expect(renderContainerdService(version('2.2.0'), '/opt/bin')).toContain('\nExecStart=/opt/bin/containerd\n');
  });

  it('refuses an unsupported containerd', () => {
    expect(() => renderContainerdService(version('1.5.0'), '/usr/local/bin')).toThrow('containerd 1.5.0');
  });
});
