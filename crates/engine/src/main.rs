//! The `agentsecrets` engine binary.

#[cfg(not(unix))]
compile_error!(
    "the agentsecrets engine runs on Linux and macOS; on Windows use WSL 2, or the upstream \
     AgentSecrets proxy with `backend: 'upstream-proxy'`, or MockAgentSecrets in tests"
);

#[cfg(unix)]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(unix)]
fn main() {
    use clap::Parser;
    /// mimalloc option numbers, from the `mi_option_e` enum of mimalloc.h.
    const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

    // Before anything reads a secret value.
    agentsecrets_engine::hardening::harden_process();
    // Give freed memory back at once: a streamed response otherwise leaves
    // tens of MiB of chunk buffers cached in the proxy.
    // SAFETY: setting allocator options has no memory-safety preconditions.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
    }
    let cli = agentsecrets_engine::cli::Cli::parse();
    let code = agentsecrets_engine::cli::run(cli);
    std::process::exit(code);
}

#[cfg(not(unix))]
fn main() {}
