//! A temporary engine home, initialised through the real CLI and isolated
//! from the machine: its own directory, the file key store, no session bus,
//! and no `AGENTSECRETS_*` setting inherited from the test's environment.

use super::output::{capture, CliOutput};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_agentsecrets");
/// The admin password every initialised home has.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
/// The email every initialised home is set up with.
pub const ADMIN_EMAIL: &str = "me@example.com";

/// A home at `<tempdir>/home`: the home itself is created by `init`, so
/// tests see the directory the engine makes, and the temporary directory
/// has room for things that must sit beside the home, not in it.
pub struct Home {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Home {
    /// A home after `agentsecrets init` with [`ADMIN_PASSWORD`] and [`ADMIN_EMAIL`].
    pub fn new() -> Home {
        Home::initialise(Home::empty())
    }

    /// A home path whose directory does not exist yet (not initialised).
    pub fn empty() -> Home {
        Home::at(tempfile::Builder::new().prefix("as-").tempdir().unwrap())
    }

    /// [`Home::new`] in a temporary directory under `parent`.
    pub fn new_in(parent: &Path) -> Home {
        let dir = tempfile::Builder::new()
            .prefix("as-")
            .tempdir_in(parent)
            .unwrap();
        Home::initialise(Home::at(dir))
    }

    fn at(dir: tempfile::TempDir) -> Home {
        let path = dir.path().join("home");
        Home { dir, path }
    }

    fn initialise(home: Home) -> Home {
        home.run_stdin(
            &["init", "--admin-password-stdin", "--email", ADMIN_EMAIL],
            format!("{ADMIN_PASSWORD}\n"),
        )
        .ok();
        home
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn run_dir(&self) -> PathBuf {
        self.path.join("run")
    }

    /// The binary pointed at this home, stdin from /dev/null.
    pub fn cmd(&self) -> Command {
        self.cmd_of(Path::new(BIN))
    }

    /// [`Home::cmd`] running `bin`, e.g. [`Home::own_binary`].
    pub fn cmd_of(&self, bin: &Path) -> Command {
        let mut c = Command::new(bin);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AGENTSECRETS_") {
                c.env_remove(name);
            }
        }
        c.env("AGENTSECRETS_HOME", &self.path)
            .env("AGENTSECRETS_KEY_STORE", "file")
            // A forced keychain must fail fast, never reach a real one.
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/agentsecrets-test-bus",
            )
            .env_remove("XDG_RUNTIME_DIR")
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

    /// Runs the CLI to its end with stdin from /dev/null.
    pub fn run(&self, args: &[&str]) -> CliOutput {
        capture(self.cmd().args(args), args, None)
    }

    /// Runs the CLI to its end with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: impl AsRef<[u8]>) -> CliOutput {
        capture(self.cmd().args(args), args, Some(input.as_ref().to_vec()))
    }

    /// `--json ARGS`, which must succeed: its stdout as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        self.run(&a).ok().json()
    }

    /// `secrets set KEY` with the value on stdin (never in argv).
    pub fn set_secret(&self, key: &str, value: &str) {
        self.run_stdin(&["secrets", "set", key], value).ok();
    }

    /// [`Home::set_secret`] in `project` of the active workspace.
    pub fn set_secret_in(&self, project: &str, key: &str, value: &str) {
        self.run_stdin(&["secrets", "set", key, "--project", project], value)
            .ok();
    }

    /// Allowlists hosts through the human path (admin password on stdin).
    pub fn allow(&self, entries: &[&str]) {
        let mut args = vec!["workspace", "allowlist", "add"];
        args.extend_from_slice(entries);
        args.push("--password-stdin");
        self.run_stdin(&args, format!("{ADMIN_PASSWORD}\n")).ok();
    }

    /// The audit log as written (empty when there is none).
    pub fn audit_log(&self) -> String {
        std::fs::read_to_string(self.path.join("proxy.log")).unwrap_or_default()
    }

    /// The audit log, one JSON value per event.
    pub fn audit_lines(&self) -> Vec<serde_json::Value> {
        self.audit_log()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Every byte of every file under the home, for leak scans.
    pub fn all_bytes(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(p: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for e in std::fs::read_dir(p).unwrap().flatten() {
                let path = e.path();
                let ft = e.file_type().unwrap();
                if ft.is_dir() {
                    walk(&path, out);
                } else if ft.is_file() {
                    out.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.path, &mut out);
        out
    }
}

impl Drop for Home {
    /// Never leave a proxy of this home behind, also when the test panicked.
    /// A proxy served inside this test process ([`super::Proxy`]) writes
    /// this process's pid: `proxy stop` would signal the test itself, so it
    /// is left to its own drop.
    fn drop(&mut self) {
        let Ok(state) = std::fs::read(self.run_dir().join("proxy.json")) else {
            return;
        };
        let pid = serde_json::from_slice::<serde_json::Value>(&state)
            .ok()
            .and_then(|s| s["pid"].as_u64());
        if pid != Some(u64::from(std::process::id())) {
            let _ = self.cmd().args(["proxy", "stop"]).output();
        }
    }
}
