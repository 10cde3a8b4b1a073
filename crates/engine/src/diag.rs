//! Lines for people on stderr and stdout that never panic. `eprintln!` and
//! `println!` panic when the stream cannot be written (a full disk under
//! `run/proxy.err`, a closed pipe); a diagnostic that cannot be written is
//! dropped instead.

use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// One line on stderr, best effort.
pub fn note(line: impl Display) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}").and_then(|_| err.flush());
}

static OUTPUT_LOST: AtomicBool = AtomicBool::new(false);

/// One line on stdout. When it cannot be written for another reason than
/// a reader that went away (a full disk under a redirection), that is
/// said on stderr and [`output_lost`] turns true.
pub fn out(line: impl Display) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe && !OUTPUT_LOST.swap(true, Ordering::Relaxed)
        {
            note(format_args!("error: cannot write the output: {e}"));
        }
    }
}

/// Whether some output could not be written (the command then fails).
pub fn output_lost() -> bool {
    OUTPUT_LOST.load(Ordering::Relaxed)
}
