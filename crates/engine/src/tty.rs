//! Terminal detection.

use std::os::fd::AsRawFd;

/// Whether `fd` is a terminal.
pub fn is_tty(fd: &impl AsRawFd) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd.as_raw_fd()) == 1 }
}
