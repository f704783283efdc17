import type { Version } from '../model.js';
import { requireContainerdConfigVersion } from './containerd-version.js';
import { MANAGED_HEADER } from './header.js';

/** /etc/systemd/system/containerd.service for a containerd installed from the release tarball. */
export function renderContainerdService(version: Version, binDir: string): string {
  requireContainerdConfigVersion(version);
  // containerd 2.x removed LimitNOFILE=infinity from its unit on purpose: an unlimited
  // open-file limit is inherited by every container and breaks some workloads.
  const noFileLimit = version.major === 1 ? ['LimitNOFILE=infinity'] : [];
  return [
    MANAGED_HEADER,
    '[Unit]',
    'Description=containerd container runtime',
    'Documentation=https://containerd.io',
    'After=network.target local-fs.target',
    '',
    '[Service]',
    'ExecStartPre=-/sbin/modprobe overlay',
    `ExecStart=${binDir}/containerd`,
    'Type=notify',
    'Delegate=yes',
    'KillMode=process',
    'Restart=always',
    'RestartSec=5',
    'LimitNPROC=infinity',
    'LimitCORE=infinity',
    ...noFileLimit,
    'TasksMax=infinity',
    'OOMScoreAdjust=-999',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
