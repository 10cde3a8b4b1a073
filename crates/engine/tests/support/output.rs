//! A CLI run to its end: exit status and output, typed.

use std::io::Write;
use std::process::{Command, ExitStatus, Stdio};

/// What one CLI run printed and how it ended.
pub struct CliOutput {
    pub args: Vec<String>,
    pub status: ExitStatus,
    /// The exit code, -1 when a signal ended the process.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Stdout byte for byte, for output that is not text.
    pub stdout_bytes: Vec<u8>,
}

impl CliOutput {
    /// Asserts exit code 0, showing both outputs otherwise.
    pub fn ok(self) -> CliOutput {
        assert_eq!(
            self.code, 0,
            "agentsecrets {:?} failed\nstdout: {}\nstderr: {}",
            self.args, self.stdout, self.stderr
        );
        self
    }

    /// Stdout as JSON (`--json` answers).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// The `error` object of the `{"error": …}` line on stderr (`--json` failures).
    pub fn error(&self) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {}", self.stderr));
        v["error"].clone()
    }
}

impl From<std::process::Output> for CliOutput {
    fn from(o: std::process::Output) -> CliOutput {
        CliOutput {
            args: Vec::new(),
            status: o.status,
            code: o.status.code().unwrap_or(-1),
            stdout: text(&o.stdout),
            stderr: text(&o.stderr),
            stdout_bytes: o.stdout,
        }
    }
}

/// Runs `cmd` to its end, with `input` on stdin when given (else stdin is
/// left as `cmd` has it). The input is written on its own thread while
/// stdout and stderr are read: a child may fill its output pipe before it
/// has read all of its input, and writing first would then block both.
pub(super) fn capture(cmd: &mut Command, args: &[&str], input: Option<Vec<u8>>) -> CliOutput {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    if input.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().unwrap();
    let writer = input.map(|input| {
        let mut stdin = child.stdin.take().unwrap();
        // A command may exit before reading its input (an error): the
        // broken pipe is not the test's failure.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        })
    });
    let out = child.wait_with_output().unwrap();
    if let Some(w) = writer {
        w.join().unwrap();
    }
    CliOutput {
        args: args.iter().map(|s| s.to_string()).collect(),
        ..CliOutput::from(out)
    }
}

/// Bytes shown as text (lossy).
pub fn text(b: impl AsRef<[u8]>) -> String {
    String::from_utf8_lossy(b.as_ref()).into_owned()
}
