#!/usr/bin/env bash
# Compile-checks (clippy, warnings denied) the engine and the Node addon for a
# target this machine cannot link for, with the toolchain of toolchain.sh:
#
#   macOS   aarch64-apple-darwin, x86_64-apple-darwin: engine (with its
#           tests) and addon.
#           The final link needs the macOS SDK's frameworks, which no
#           package registry has; the GitHub workflow builds for real.
#   Windows x86_64-pc-windows-gnu: the addon. The engine is Unix-only; the
#           check makes sure it stops with its one compile_error and nothing
#           else. (The workflow builds x86_64-pc-windows-msvc.)
#
#   scripts/cross/check.sh --target T
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/cross/toolchain.sh

usage() {
  echo "usage: $0 --target aarch64-apple-darwin|x86_64-apple-darwin|x86_64-pc-windows-gnu" >&2
  exit 2
}

target=
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=${2:-}; shift 2 || usage ;;
    --target=*) target=${1#*=}; shift ;;
    *) usage ;;
  esac
done

case "$target" in
  aarch64-apple-darwin | x86_64-apple-darwin) unix=1 ;;
  x86_64-pc-windows-gnu) unix=0 ;;
  *) usage ;;
esac

cross_toolchain
# Debian's clippy for its rustc-web.
[ -x /usr/bin/cargo-clippy ] || apt-get install -y -qq --no-install-recommends rust-web-clippy >/dev/null

# Warnings denied through RUSTFLAGS (cross_cargo's arguments end with its
# own -Z flag, so none can follow a `--`); dependencies cap their lints.
export CROSS_RUSTFLAGS="-D warnings ${CROSS_RUSTFLAGS:-}"

# clippy over one package (extra cargo arguments after it); says how long it took.
lint() {
  local start=$SECONDS
  cross_cargo clippy --target "$target" -p "$@" >&2
  echo "$1 $target: clippy clean in $((SECONDS - start)) s"
}

# napi-build links windows-gnu addons against libnode.dll and wants to see one
# even for a check, which never links: an empty stand-in satisfies it.
if [ "$unix" = 0 ]; then
  stub=target/cross/libnode-stub
  mkdir -p "$stub"
  : >"$stub/libnode.dll"
  export LIBNODE_PATH=$PWD/$stub
fi

lint agentsecrets-node
if [ "$unix" = 1 ]; then
  lint agentsecrets-engine --all-targets
  exit 0
fi

# The engine on Windows: exactly one error, its compile_error.
start=$SECONDS
log=$(cross_cargo check --target "$target" -p agentsecrets-engine --message-format short 2>&1 || true)
errors=$(grep -c '^[^ ]*: error' <<<"$log" || true)
if [ "$errors" != 1 ] || ! grep -q 'runs on Linux and macOS' <<<"$log"; then
  echo "$log" >&2
  echo "agentsecrets-engine $target: expected exactly its one compile_error, got $errors errors" >&2
  exit 1
fi
echo "agentsecrets-engine $target: stops with its one compile_error in $((SECONDS - start)) s"
