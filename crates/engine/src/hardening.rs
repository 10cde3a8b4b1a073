//! Keeping other processes of the same user out of the engine while it holds
//! secret values: no debugger, no reading its memory, no core file. Applied
//! first thing in `main`, before any value is read. The commands `env` runs
//! get the caller's settings back (see [`restore_in_child`]).
//!
//! * Linux: `PR_SET_DUMPABLE` 0. No ptrace, no `/proc/<pid>/mem` or
//!   `environ` for processes of the same user; `execve` resets it.
//! * macOS: `PT_DENY_ATTACH`. Debuggers (`ptrace` attach, lldb, DTrace) are
//!   refused; macOS has no `/proc`, and `task_for_pid` already needs the
//!   debugger entitlement or root. A forked child does not inherit it.
//! * Both: the soft core-file limit is 0.

use std::sync::OnceLock;

/// The core-file limit the engine was started with.
static INHERITED_CORE_LIMIT: OnceLock<libc::rlimit> = OnceLock::new();

/// Applies every protection this platform has. Failures are ignored: each
/// call cannot fail for these arguments, and the engine works without them.
pub fn harden_process() {
    forbid_core_files();
    forbid_debuggers();
}

/// Sets the soft core-file limit to 0, keeping the hard limit so that the
/// commands `env` runs can be given the caller's limit back.
fn forbid_core_files() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read or write one struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) != 0 {
            return;
        }
        let _ = INHERITED_CORE_LIMIT.set(limit);
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: limit.rlim_max,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &none);
    }
}

#[cfg(target_os = "linux")]
fn forbid_debuggers() {
    const NOT_DUMPABLE: libc::c_ulong = 0;
    // SAFETY: PR_SET_DUMPABLE takes an integer and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, NOT_DUMPABLE) };
}

#[cfg(target_os = "macos")]
fn forbid_debuggers() {
    // SAFETY: PT_DENY_ATTACH takes no address or data and touches no memory.
    unsafe { libc::ptrace(libc::PT_DENY_ATTACH, 0, std::ptr::null_mut(), 0) };
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn forbid_debuggers() {}

/// The core-file limit to give a command `env` runs: the caller's, when
/// [`harden_process`] lowered it.
pub fn child_core_limit() -> Option<libc::rlimit> {
    INHERITED_CORE_LIMIT.get().copied()
}

/// Between fork and exec of a command: restores the caller's core-file
/// limit taken from [`child_core_limit`]. Async-signal-safe.
pub fn restore_in_child(core: Option<libc::rlimit>) {
    if let Some(limit) = core {
        // SAFETY: setrlimit reads one struct we own.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &limit) };
    }
}
