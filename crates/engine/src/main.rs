use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc option numbers, from the `mi_option_e` enum of mimalloc.h.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Makes this process non-dumpable: other processes of the same user can no
/// longer ptrace it or read its memory and environment through /proc, and it
/// leaves no core dump, while it holds secret values. `execve` resets the
/// flag, so the commands `env` runs are unaffected.
#[cfg(target_os = "linux")]
fn forbid_dumping() {
    const NOT_DUMPABLE: libc::c_ulong = 0;
    // SAFETY: PR_SET_DUMPABLE takes an integer and touches no memory. It
    // cannot fail for 0; there is nothing to do if it did.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, NOT_DUMPABLE) };
}

fn main() {
    #[cfg(target_os = "linux")]
    forbid_dumping();
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
