#!/usr/bin/env bash
# Builds the engine for x86_64-unknown-linux-musl, a static binary that runs
# on any x86-64 Linux (Alpine too), with the toolchain of toolchain.sh.
# Prints the binary's path on its last line.
#
#   scripts/cross/musl.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/cross/toolchain.sh

profile=debug
flags=()
if [ "${1:-}" = --release ]; then
  profile=release
  flags=(--release)
fi

cross_toolchain
cross_cargo zigbuild --target x86_64-unknown-linux-musl -p agentsecrets-engine "${flags[@]}" >&2
echo "target/cross/x86_64-unknown-linux-musl/$profile/agentsecrets"
