#!/usr/bin/env bash
# Installs what kubeforge's test hosts and tests need on a Debian 12 machine (run as root),
# then the npm dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  openssh-server openssh-client  # sshd for light hosts; ssh/scp as the tests' independent oracle
  systemd-container              # systemd-nspawn boots the full hosts
  debootstrap                    # builds the full hosts' Debian root filesystem once
  iproute2 util-linux            # ip netns/link/tc, nsenter, unshare, mount
  iptables                       # random packet loss for the lossy-link test (the kernel has no netem)
  python3 python3-yaml           # the kubeadm/kubelet stand-ins' own tests run them here
  sudo                           # light hosts reach it for the non-root-user tests
  pssh                           # parallel-scp/parallel-ssh: a comparator of npm run bench
  ansible-core                   # ansible-playbook: the other comparator of npm run bench
  tmux                           # a real terminal for the live progress view's tests (capture-pane)
  zsh fish                       # the completion scripts' tests load them in these shells (bash is there already)
  dpkg-dev                       # dpkg-scanpackages: the test hosts' local apt repository
  ca-certificates
)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-machine: not root; skipping Debian packages (end-to-end tests need root and will be skipped)" >&2
else
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  # apt-get download (containerd, runc, busybox-static for the test artifacts) needs fresh lists.
  apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

npm ci --no-audit --no-fund
npm run build
