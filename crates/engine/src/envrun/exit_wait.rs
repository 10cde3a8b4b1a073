//! Waiting for the child to exit without reaping it, so that its pid stays
//! ours (and signals can still be forwarded to it) until the very end.
//! On an unexpected error these return at once; the caller then reaps,
//! which blocks until the exit anyway.

use std::io::ErrorKind;

/// Blocks until `pid`, an unreaped child of this process, has exited.
#[cfg(not(target_os = "macos"))]
pub fn until_exited(pid: libc::pid_t) {
    loop {
        // SAFETY: waitid writes only into `info`.
        let r = unsafe {
            let mut info = std::mem::zeroed::<libc::siginfo_t>();
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || std::io::Error::last_os_error().kind() != ErrorKind::Interrupted {
            return;
        }
    }
}

/// Blocks until `pid`, an unreaped child of this process, has exited.
/// macOS's `waitid(WEXITED | WNOWAIT)` also returns for a child that was
/// only stopped (`CLD_STOPPED`), so the exit is awaited with a kqueue
/// `NOTE_EXIT` instead.
#[cfg(target_os = "macos")]
pub fn until_exited(pid: libc::pid_t) {
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: kqueue takes no arguments; a valid descriptor is owned once.
    let raw = unsafe { libc::kqueue() };
    if raw < 0 {
        return;
    }
    // SAFETY: `raw` is a new descriptor nobody else owns.
    let kq = unsafe { OwnedFd::from_raw_fd(raw) };
    let watch = libc::kevent {
        ident: pid as libc::uintptr_t,
        filter: libc::EVFILT_PROC,
        flags: libc::EV_ADD | libc::EV_ONESHOT,
        fflags: libc::NOTE_EXIT,
        data: 0,
        udata: std::ptr::null_mut(),
    };
    loop {
        // SAFETY: `seen` is one zeroed kevent we own; `watch` is read only.
        let mut seen = unsafe { std::mem::zeroed::<libc::kevent>() };
        // SAFETY: one change in, at most one event out, no timeout.
        let n = unsafe {
            use std::os::fd::AsRawFd;
            libc::kevent(kq.as_raw_fd(), &watch, 1, &mut seen, 1, std::ptr::null())
        };
        // An event is the exit, or an error registering the watch: ESRCH
        // means the child has already exited (its pid cannot be reused
        // before we reap it), anything else is returned as said above.
        if n > 0 || std::io::Error::last_os_error().kind() != ErrorKind::Interrupted {
            return;
        }
    }
}
