//! Lines for people on stderr and stdout that never panic. `eprintln!` and
//! `println!` panic when the stream cannot be written (a full disk under
//! `run/proxy.err`, a closed pipe); a diagnostic that cannot be written is
//! dropped instead.

use std::fmt::Display;
use std::io::Write;

/// One line on stderr, best effort.
pub fn note(line: impl Display) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}").and_then(|_| err.flush());
}

/// One line on stdout; `false` when it could not be written (the reader
/// went away, the disk is full).
pub fn out(line: impl Display) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|_| out.flush()).is_ok()
}
