//! Shared by the `env_*` and `lifecycle_*` tests: a temporary, initialised
//! home and the real binary pointed at it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_agentsecrets");
pub const ADMIN_PASSWORD: &str = "admin-pw-for-tests";

pub struct TestHome {
    dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TestHome {
    /// An empty home directory (not initialised).
    pub fn empty() -> TestHome {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("home");
        TestHome { dir, path }
    }

    /// A home after `agentsecrets init --admin-password-stdin`.
    pub fn new() -> TestHome {
        let h = TestHome::empty();
        let out = h.run_stdin(
            &["init", "--admin-password-stdin"],
            format!("{ADMIN_PASSWORD}\n"),
        );
        assert!(out.status.success(), "init failed: {}", text(&out.stderr));
        h
    }

    /// The binary with this home, the file key store, and no inherited
    /// port or ready-pipe settings.
    pub fn cmd(&self) -> Command {
        self.cmd_of(Path::new(BIN))
    }

    /// [`TestHome::cmd`] running `bin`, e.g. [`TestHome::own_binary`].
    pub fn cmd_of(&self, bin: &Path) -> Command {
        let mut c = Command::new(bin);
        c.env("AGENTSECRETS_HOME", &self.path)
            .env("AGENTSECRETS_KEY_STORE", "file")
            .env_remove("AGENTSECRETS_PORT")
            .env_remove("AGENTSECRETS_READY_PIPE")
            .stdin(Stdio::null());
        c
    }

    /// The binary, linked (else copied) next to this home. Its processes are
    /// told from other tests' by argv[0] (a detached proxy re-runs its own
    /// executable), as the engine's environment is not readable in /proc.
    pub fn own_binary(&self) -> PathBuf {
        let p = self.dir.path().join("agentsecrets");
        if !p.exists() && std::fs::hard_link(BIN, &p).is_err() {
            // Copied by `cp`, not here: a write descriptor of this process
            // could leak into a child another test forks meanwhile, and exec
            // of the copy would then fail with ETXTBSY.
            let ok = Command::new("cp").arg(BIN).arg(&p).status().unwrap();
            assert!(ok.success(), "cp {BIN} {}", p.display());
        }
        // As the detached proxy sees it (its own executable, resolved).
        std::fs::canonicalize(p).unwrap()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    pub fn run_stdin(&self, args: &[&str], input: impl Into<Vec<u8>>) -> Output {
        let mut child = self
            .cmd()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Written on a thread: the child may fill its output pipe before it
        // has read all of its input.
        let mut stdin = child.stdin.take().unwrap();
        let input = input.into();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    }

    /// `secrets set KEY` with the value on stdin (never in argv).
    pub fn set_secret(&self, key: &str, value: &str) {
        let out = self.run_stdin(&["secrets", "set", key], value.as_bytes().to_vec());
        assert!(
            out.status.success(),
            "secrets set failed: {}",
            text(&out.stderr)
        );
    }

    pub fn audit_log(&self) -> String {
        std::fs::read_to_string(self.path.join("proxy.log")).unwrap_or_default()
    }

    pub fn run_dir(&self) -> PathBuf {
        self.path.join("run")
    }
}

impl Drop for TestHome {
    /// Never leave a detached proxy behind.
    fn drop(&mut self) {
        let state = self.path.join("run/proxy.json");
        if state.exists() {
            let _ = self.cmd().args(["proxy", "stop"]).output();
        }
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Reads lines from `r` on a thread, so a test can wait with a timeout.
pub fn line_reader(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub fn next_line(rx: &mpsc::Receiver<String>, what: &str) -> String {
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("no line within 10 s: {what}"))
}

/// Waits for the child with a deadline (kills it on timeout).
pub fn wait_timeout(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}

/// Every `/proc/*/cmdline` that contains `needle`.
pub fn cmdlines_containing(needle: &[u8]) -> Vec<(String, String)> {
    let mut hits = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return hits;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(Path::new("/proc").join(&name).join("cmdline")) {
            if cmdline.windows(needle.len()).any(|w| w == needle) {
                hits.push((name, text(&cmdline)));
            }
        }
    }
    hits
}
