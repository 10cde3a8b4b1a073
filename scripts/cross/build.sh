#!/usr/bin/env bash
# Builds the engine and the Node addon for one Linux target with the toolchain
# of toolchain.sh, and copies them into that target's platform package:
#
#   scripts/cross/build.sh --target TRIPLE [--release] [--engine-only|--addon-only]
#   npm run build:cross -- --target aarch64-unknown-linux-gnu
#
# TRIPLE is one of x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu,
# x86_64-unknown-linux-musl, aarch64-unknown-linux-musl. glibc targets are
# linked against glibc 2.17 (CROSS_GLIBC overrides it), so the packages load
# on every distribution still in use. musl engines are static; a musl addon
# is a shared object, so it links musl dynamically (-crt-static).
# Prints the paths of the files it produced on its last lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/cross/toolchain.sh

usage() {
  echo "usage: scripts/cross/build.sh --target TRIPLE [--release] [--engine-only|--addon-only]" >&2
  exit 2
}

target='' profile=debug engine=1 addon=1
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=${2:-}; shift ;;
    --release) profile=release ;;
    --engine-only) addon=0 ;;
    --addon-only) engine=0 ;;
    *) usage ;;
  esac
  shift
done

case "$target" in
  x86_64-unknown-linux-gnu) suffix=linux-x64-gnu ;;
  aarch64-unknown-linux-gnu) suffix=linux-arm64-gnu ;;
  x86_64-unknown-linux-musl) suffix=linux-x64-musl ;;
  aarch64-unknown-linux-musl) suffix=linux-arm64-musl ;;
  *) echo "build.sh: unsupported target '$target'. To fix: pass --target with one of the four Linux triples (see the head of this script)." >&2; exit 2 ;;
esac

# cargo-zigbuild reads the glibc version from the target's suffix and still
# writes to target/cross/<triple>.
zig_target=$target
case "$target" in *-gnu) zig_target=$target.${CROSS_GLIBC:-2.17} ;; esac

profile_flags=()
[ "$profile" = release ] && profile_flags=(--release)

# build_package PACKAGE TARGET_DIR EXTRA_RUSTFLAGS
build_package() {
  CROSS_TARGET_DIR=$2 CROSS_RUSTFLAGS=$3 \
    cross_cargo zigbuild --target "$zig_target" -p "$1" "${profile_flags[@]}" >&2
}

cross_toolchain
out=npm/$suffix
mkdir -p "$out"
produced=()

if [ "$engine" = 1 ]; then
  build_package agentsecrets-engine target/cross ''
  cp "target/cross/$target/$profile/agentsecrets" "$out/agentsecrets"
  produced+=("$out/agentsecrets")
fi

if [ "$addon" = 1 ]; then
  # A musl addon needs other RUSTFLAGS than the static engine: its own target
  # directory keeps the two from rebuilding each other.
  addon_dir=target/cross addon_flags=''
  case "$target" in *-musl) addon_dir=target/cross-dylib addon_flags='-C target-feature=-crt-static' ;; esac
  build_package agentsecrets-node "$addon_dir" "$addon_flags"
  cp "$addon_dir/$target/$profile/libagentsecrets_node.so" "$out/agentsecrets.$suffix.node"
  produced+=("$out/agentsecrets.$suffix.node")
fi

printf '%s\n' "${produced[@]}"
