//! Reading the admin password: from a TTY prompt, or from stdin when asked.
//!
//! A prompt is only shown when stdin is a terminal: a process without one
//! (an agent, a pipe) must pass `--password-stdin` explicitly, so nothing
//! ever waits on a prompt nobody can see.

use crate::error::{EngineError, Result};
use crate::tty::is_tty;
use agentsecrets_wire::ErrorCode;
use std::io::{BufRead, Read};
use zeroize::Zeroizing;

/// Longest line accepted from stdin for a password.
const MAX_LINE: u64 = 64 * 1024;

/// How the admin password reaches the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Stdin,
    Prompt,
}

/// Stdin when asked, else a prompt when stdin is a terminal, else `None`.
pub fn source(from_stdin: bool) -> Option<Source> {
    if from_stdin {
        Some(Source::Stdin)
    } else if is_tty(&std::io::stdin()) {
        Some(Source::Prompt)
    } else {
        None
    }
}

/// The admin password for an allowlist change. Without a source this is
/// `ALLOWLIST_MODIFICATION_DENIED`.
pub fn admin_for_change(from_stdin: bool) -> Result<Zeroizing<String>> {
    match source(from_stdin) {
        Some(Source::Stdin) => read_stdin_line().map_err(|e| {
            if e.code == ErrorCode::InvalidRequest {
                denied("allowlist changes need the admin password: none was read from stdin")
            } else {
                e
            }
        }),
        Some(Source::Prompt) => prompt("Admin password: "),
        None => Err(denied("allowlist changes need the admin password")),
    }
}

/// The `ALLOWLIST_MODIFICATION_DENIED` error with the two ways to give it.
pub fn denied(message: &str) -> EngineError {
    EngineError::new(ErrorCode::AllowlistModificationDenied, message).fix(
        "run the command yourself in a terminal and type the admin password when asked, or pipe it in: `printf '%s\\n' \"$PASSWORD\" | agentsecrets workspace allowlist add --password-stdin DOMAIN`",
    )
}

/// A new admin password for `init`: one line of stdin, or typed twice at a prompt.
pub fn new_admin(from_stdin: bool) -> Result<Zeroizing<String>> {
    match source(from_stdin) {
        Some(Source::Stdin) => read_stdin_line(),
        Some(Source::Prompt) => {
            let first = prompt("Choose an admin password (needed to change allowlists): ")?;
            let second = prompt("Repeat the admin password: ")?;
            if first != second {
                return Err(EngineError::invalid("the two passwords differ")
                    .fix("run `agentsecrets init` again and type the same password twice"));
            }
            Ok(first)
        }
        None => Err(EngineError::invalid(
            "init needs an admin password, and stdin is not a terminal to ask for one",
        )
        .fix("run `agentsecrets init` in a terminal, or pipe the password in: `printf '%s\\n' \"$PASSWORD\" | agentsecrets init --admin-password-stdin`")),
    }
}

/// Asks on the terminal without echo.
pub fn prompt(text: &str) -> Result<Zeroizing<String>> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .map_err(|e| {
            EngineError::invalid(format!("cannot read the password from the terminal: {e}")).fix(
                "run the command in a terminal, or use the --*-stdin flag to pipe the value in",
            )
        })
}

/// One line from stdin, without its line ending. Empty → `INVALID_REQUEST`.
pub fn read_stdin_line() -> Result<Zeroizing<String>> {
    let mut buf = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .take(MAX_LINE)
        .read_until(b'\n', &mut buf)
        .map_err(|e| {
            EngineError::invalid(format!("cannot read stdin: {e}"))
                .fix("pipe the password into the command")
        })?;
    let mut line = Zeroizing::new(String::from_utf8(std::mem::take(&mut *buf)).map_err(|_| {
        EngineError::invalid("the password on stdin is not UTF-8 text").fix("pipe a UTF-8 password")
    })?);
    strip_one_newline(&mut line);
    if line.is_empty() {
        return Err(EngineError::invalid("no password on stdin")
            .fix("pipe the password followed by a newline into the command"));
    }
    Ok(line)
}

/// Removes one trailing `\n` (or `\r\n`).
pub fn strip_one_newline(s: &mut String) {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_exactly_one_newline() {
        for (input, want) in [
            ("a\n", "a"),
            ("a\r\n", "a"),
            ("a\n\n", "a\n"),
            ("a", "a"),
            ("", ""),
        ] {
            let mut s = input.to_owned();
            strip_one_newline(&mut s);
            assert_eq!(s, want, "{input:?}");
        }
    }

    #[test]
    fn denied_says_how() {
        let e = denied("allowlist changes need the admin password");
        assert_eq!(e.code, ErrorCode::AllowlistModificationDenied);
        let fix = e.fix.unwrap();
        assert!(fix.contains("--password-stdin") && fix.contains("terminal"));
    }
}
