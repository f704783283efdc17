#!/usr/bin/env bash
# npm run demo: set this machine up (Debian packages, npm ci, build), then boot three local test
# hosts and run `kubeforge up` against them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-machine.sh
node dist/test/hosts/demo.js up
