# Sourced by the scripts beside it. Makes sure the cross toolchain the
# package registries offer is here, installing what is missing (apt needs
# root): Debian's rustc-web with its std source (rust-web-src, for
# -Zbuild-std) and zig through cargo-zigbuild (PyPI) as the linker.
# Defines cross_cargo: cargo-zigbuild run with that compiler.

# The workspace needs Rust 1.87 or newer; Debian's rustc-web is the one with
# a std source to rebuild std for another target.
cross_toolchain() {
  local have
  have=$(/usr/bin/rustc --version 2>/dev/null | awk '{print $2}') || true
  if [ -z "$have" ] || [ "$(printf '1.87.0\n%s\n' "$have" | sort -V | head -n 1)" != 1.87.0 ] ||
    [ ! -d /usr/lib/rustlib/src/rust/library ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends rustc-web cargo-web rust-web-src >/dev/null
  fi
  command -v cargo-zigbuild >/dev/null || pip install -q ziglang cargo-zigbuild
}

# cross_cargo SUBCOMMAND ARGS...: cargo-zigbuild with Debian's compiler, std
# rebuilt for the target, in its own target directory (another compiler than
# the checkout's): target/cross, or CROSS_TARGET_DIR. Extra RUSTFLAGS come
# from CROSS_RUSTFLAGS. musl targets link with zig's C runtime objects
# (Debian's std has no self-contained ones); other targets refuse that flag.
cross_cargo() {
  local flags=${CROSS_RUSTFLAGS:-}
  case " $* " in *-musl*) flags="-C link-self-contained=no $flags" ;; esac
  PATH=/usr/bin:$PATH CARGO_TARGET_DIR=${CROSS_TARGET_DIR:-target/cross} RUSTC_BOOTSTRAP=1 \
    RUSTFLAGS="$flags" cargo-zigbuild "$@" -Zbuild-std=std,panic_abort
}
