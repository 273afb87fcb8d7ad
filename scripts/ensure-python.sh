#!/usr/bin/env bash
# Make sure python3 (3.11) can create a virtual environment; install Debian's packages if not.
set -euo pipefail
if python3 -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "python3.11 with venv is missing; run as root or install python3 python3-venv" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-dev >/dev/null
