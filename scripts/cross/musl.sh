#!/usr/bin/env bash
# Builds the engine for x86_64-unknown-linux-musl, a static binary that runs
# on any x86-64 Linux (Alpine too), with the toolchain the package registries
# offer: Debian's rustc-web and its std source (rust-web-src) for
# -Zbuild-std, linked by zig through cargo-zigbuild (PyPI). Installs what is
# missing (apt needs root). Prints the binary's path on its last line.
#
#   scripts/cross/musl.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/../.."

profile=debug
flags=()
if [ "${1:-}" = --release ]; then
  profile=release
  flags=(--release)
fi

# The workspace needs Rust 1.87 or newer; Debian's rustc-web is the one with
# a std source to rebuild std for another target.
have=$(/usr/bin/rustc --version 2>/dev/null | awk '{print $2}') || true
if [ -z "$have" ] || [ "$(printf '1.87.0\n%s\n' "$have" | sort -V | head -n 1)" != 1.87.0 ] ||
  [ ! -d /usr/lib/rustlib/src/rust/library ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends rustc-web cargo-web rust-web-src >/dev/null
fi
command -v cargo-zigbuild >/dev/null || pip install -q ziglang cargo-zigbuild

# Its own target directory: another compiler than the checkout's.
PATH=/usr/bin:$PATH CARGO_TARGET_DIR=target/cross RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="-C link-self-contained=no" \
  cargo-zigbuild zigbuild -Zbuild-std=std,panic_abort \
  --target x86_64-unknown-linux-musl -p agentsecrets-engine "${flags[@]}" >&2
echo "target/cross/x86_64-unknown-linux-musl/$profile/agentsecrets"
