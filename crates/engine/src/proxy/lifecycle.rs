//! Starting, detaching, stopping and inspecting the proxy process.
//!
//! One proxy per home: a foreground proxy holds an exclusive `flock` on
//! `run/proxy.lock` for its whole life. The kernel drops the lock when the
//! process dies (even by `kill -9`), so the lock, not the state file, is what
//! says whether a proxy is alive; the state file says where it listens.

use super::state::{self, ProxyState};
use super::ServeOptions;
use crate::error::{EngineError, Result};
use crate::home::{self, Home};
pub use agentsecrets_wire::ReadyLine;
use agentsecrets_wire::{ErrorCode, ErrorLine};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set (to `1`) by `proxy start --detach` on the foreground proxy it starts:
/// the proxy then writes one [`ReadyLine`] on stdout once it serves, and
/// points stdout at `/dev/null`.
pub const READY_PIPE_ENV: &str = "AGENTSECRETS_READY_PIPE";

/// How long `start` waits for a proxy to become ready and `stop` for one to exit.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// `run/proxy.lock`.
pub fn lock_path(home: &Home) -> PathBuf {
    home.run_dir().join("proxy.lock")
}

/// The exclusive lock of the one proxy of a home, held until dropped.
#[derive(Debug)]
pub struct ProxyLock {
    _file: File,
}

impl ProxyLock {
    /// Takes the lock, or `None` when another process holds it.
    pub fn try_acquire(home: &Home) -> Result<Option<ProxyLock>> {
        home.ensure_dirs()?;
        let path = lock_path(home);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| EngineError::run_file(&format!("cannot open {}", path.display()), e))?;
        if flock(&file, libc::LOCK_EX | libc::LOCK_NB)? {
            Ok(Some(ProxyLock { _file: file }))
        } else {
            Ok(None)
        }
    }
}

/// Whether some process holds the proxy lock now. `None` when there is no
/// lock file (no proxy was ever started through `proxy start` in this home).
pub fn lock_held(home: &Home) -> Result<Option<bool>> {
    let path = lock_path(home);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(EngineError::run_file(
                &format!("cannot open {}", path.display()),
                e,
            ))
        }
    };
    // A shared probe: free means nobody holds it exclusively. Closing the
    // file releases the probe at once.
    Ok(Some(!flock(&file, libc::LOCK_SH | libc::LOCK_NB)?))
}

/// `Ok(true)` when locked, `Ok(false)` when another process holds it.
fn flock(file: &File, op: libc::c_int) -> Result<bool> {
    loop {
        // SAFETY: flock only operates on the descriptor `file` owns.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(EngineError::run_file("cannot lock run/proxy.lock", err)),
        }
    }
}

/// The proxy running for this home now, if any: its state file names a live
/// process and (when the home has a lock file) the lock is held. A state
/// file left by a crash, or by a proxy that is exiting, counts as not running.
pub fn current(home: &Home) -> Result<Option<ProxyState>> {
    let Some(s) = state::running(home)? else {
        return Ok(None);
    };
    match lock_held(home)? {
        Some(false) => Ok(None),
        _ => Ok(Some(s)),
    }
}

/// "proxy ready on 127.0.0.1:PORT and SOCKET (pid PID)", for people.
pub fn ready_text(line: &ReadyLine) -> String {
    let what = if line.already_running {
        "proxy already running"
    } else {
        "proxy ready"
    };
    format!(
        "{what} on 127.0.0.1:{} and {} (pid {})",
        line.port, line.socket, line.pid
    )
}

/// Runs the proxy in this process until SIGTERM/SIGINT. Calls `on_ready`
/// once: with the new proxy's address once it serves, or with the address
/// of the proxy that already runs for this home (then returns at once).
pub fn run_foreground(
    home: &Home,
    opts: ServeOptions,
    on_ready: impl FnOnce(&ReadyLine),
) -> Result<()> {
    home.require_initialised()?;
    let lock = match acquire_or_find(home, DEFAULT_TIMEOUT)? {
        Acquired::Lock(lock) => lock,
        Acquired::Running(s) => {
            on_ready(&ReadyLine::of_running(&s));
            return Ok(());
        }
    };
    // Holding the lock proves no other proxy lives: whatever run files
    // exist are left by a crash.
    state::clear(home);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| {
            EngineError::internal(format!("cannot start the async runtime: {e}"))
                .fix("check the process limits (ulimit -u, ulimit -n)")
        })?;
    let result = rt.block_on(super::serve(home.clone(), opts, on_ready));
    // Held until the process exits (the kernel releases it then), so a
    // free lock means this proxy is gone, not merely shutting down.
    std::mem::forget(lock);
    result
}

enum Acquired {
    Lock(ProxyLock),
    Running(ProxyState),
}

/// Takes the lock, or waits for the proxy that holds it to publish its
/// state. If the holder dies meanwhile, the lock is tried again.
fn acquire_or_find(home: &Home, timeout: Duration) -> Result<Acquired> {
    let deadline = Instant::now() + timeout;
    let mut backoff = Backoff::new();
    loop {
        if let Some(lock) = ProxyLock::try_acquire(home)? {
            return Ok(Acquired::Lock(lock));
        }
        if let Some(s) = state::running(home)? {
            return Ok(Acquired::Running(s));
        }
        if Instant::now() >= deadline {
            return Err(EngineError::internal(format!(
                "another proxy holds {} but did not become ready within {} s",
                lock_path(home).display(),
                timeout.as_secs()
            ))
            .fix(format!(
                "see {} for its errors, then run `agentsecrets proxy stop` and start again",
                home.proxy_stderr_path().display()
            )));
        }
        backoff.sleep();
    }
}

/// Short sleeps that grow: fast in the common case, cheap when it is slow.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Backoff(Duration::from_micros(500))
    }
    fn sleep(&mut self) {
        std::thread::sleep(self.0);
        self.0 = (self.0 * 2).min(Duration::from_millis(50));
    }
}

/// In the detached proxy: reports `line` to the parent on stdout and then
/// points stdout at `/dev/null`, so the parent sees end-of-file and the
/// proxy never blocks on a pipe nobody reads.
pub fn report_ready_on_pipe(line: &ReadyLine) {
    let mut text = serde_json::to_string(line).expect("ready line serialises");
    text.push('\n');
    let mut out = std::io::stdout().lock();
    // If the parent is gone there is nobody to tell; keep serving.
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    if let Ok(null) = OpenOptions::new().write(true).open("/dev/null") {
        // SAFETY: dup2 onto fd 1 replaces the pipe by /dev/null; `null` stays
        // valid for the call and is closed afterwards.
        unsafe { libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO) };
    }
}

/// Starts the proxy as a detached process (new session, stdin `/dev/null`,
/// stderr appended to `run/proxy.err`) and returns once it serves. If a
/// proxy already runs for this home, returns its address instead.
pub fn start_detached(home: &Home, opts: &ServeOptions, timeout: Duration) -> Result<ReadyLine> {
    home.require_initialised()?;
    home.ensure_dirs()?;
    if let Some(s) = current(home)? {
        return Ok(ReadyLine::of_running(&s));
    }
    let exe = std::env::current_exe().map_err(|e| {
        EngineError::internal(format!("cannot find the agentsecrets binary: {e}"))
            .fix("run `agentsecrets proxy start` in the foreground instead")
    })?;
    let err_path = home.proxy_stderr_path();
    let mut err_file = home::open_private_append(&err_path)?;
    let err_start = err_file.seek(SeekFrom::End(0)).unwrap_or(0);

    let mut cmd = Command::new(&exe);
    cmd.args(["--json", "proxy", "start"])
        .args(["--port", &opts.port.to_string()])
        .args(["--timeout-secs", &opts.timeout.as_secs().to_string()])
        .args(["--deadline-secs", &opts.deadline.as_secs().to_string()])
        .args([
            "--max-response-mib",
            &(opts.max_response_bytes >> 20).to_string(),
        ])
        .args(["--threads", &opts.threads.to_string()])
        .env("AGENTSECRETS_HOME", &home.root)
        .env(READY_PIPE_ENV, "1")
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(err_file);
    // SAFETY: setsid is async-signal-safe; it detaches the proxy from the
    // caller's session and process group, so the caller's terminal or
    // group signals do not reach it.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| {
        EngineError::internal(format!("cannot start {}: {e}", exe.display()))
            .fix("check that the agentsecrets binary is executable")
    })?;
    let stdout = child.stdout.take().expect("stdout is piped");

    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let r = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(r);
    });
    let failed = |child: &mut std::process::Child, what: String| {
        let _ = child.kill();
        let _ = child.wait();
        startup_error(home, err_start, what)
    };
    match rx.recv_timeout(timeout) {
        Ok(Ok(line)) if !line.trim().is_empty() => {
            // Reap a proxy that reported an already running one and exited;
            // a serving one is left running (it will be reparented).
            let _ = child.try_wait();
            if let Some(body) = ErrorLine::parse(&line) {
                let _ = child.wait();
                return Err(body.into());
            }
            serde_json::from_str::<ReadyLine>(line.trim()).map_err(|e| {
                EngineError::internal(format!("the proxy reported an unreadable ready line: {e}"))
                    .fix("check that `agentsecrets` on this machine is a single version")
            })
        }
        Ok(_) => {
            // End of file without a line: the proxy exited before it served.
            let status = child.wait().ok();
            let what = match status.and_then(|s| s.code()) {
                Some(code) => format!("the proxy exited with code {code} before it was ready"),
                None => "the proxy was killed before it was ready".to_owned(),
            };
            Err(startup_error(home, err_start, what))
        }
        Err(_) => Err(failed(
            &mut child,
            format!("the proxy was not ready within {} s", timeout.as_secs()),
        )),
    }
}

/// In the detached proxy: reports a failure to start to the parent on
/// stdout (a pipe), which works when `run/proxy.err` cannot be written
/// (a full disk).
pub fn report_error_on_pipe(e: &EngineError) {
    let line = ErrorLine::new(e.to_body()).render();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|_| out.flush());
}

/// The error of a detached start: the proxy's own error when it printed
/// one (its stderr holds one JSON error line), else the last lines it wrote.
fn startup_error(home: &Home, from: u64, what: String) -> EngineError {
    let path = home.proxy_stderr_path();
    let mut text = String::new();
    if let Ok(mut f) = File::open(&path) {
        if f.seek(SeekFrom::Start(from)).is_ok() {
            let _ = f.take(64 * 1024).read_to_string(&mut text);
        }
    }
    if let Some(body) = ErrorLine::last_in(&text) {
        return body.into();
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(10)..].join("\n");
    let message = if tail.is_empty() {
        what
    } else {
        format!("{what}:\n{tail}")
    };
    EngineError::new(ErrorCode::Internal, message).fix(format!(
        "see {} and try `agentsecrets proxy start` in the foreground",
        path.display()
    ))
}

/// What `stop` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    NotRunning,
    Stopped { pid: u32, forced: bool },
}

/// Stops the running proxy: SIGTERM, wait up to `timeout` for it to drain
/// and exit, then SIGKILL. Clears stale run files in every case.
pub fn stop(home: &Home, timeout: Duration) -> Result<Stopped> {
    let Some(s) = current(home)? else {
        clear_if_unlocked(home)?;
        return Ok(Stopped::NotRunning);
    };
    let pid = s.pid;
    signal(pid, libc::SIGTERM);
    let mut forced = false;
    if !wait_gone(home, pid, timeout)? {
        forced = true;
        signal(pid, libc::SIGKILL);
        if !wait_gone(home, pid, timeout)? {
            return Err(EngineError::internal(format!(
                "the proxy (pid {pid}) did not exit after SIGKILL"
            ))
            .fix(format!("check the process with `ps -p {pid}`")));
        }
    }
    clear_if_unlocked(home)?;
    Ok(Stopped::Stopped { pid, forced })
}

fn signal(pid: u32, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        if pid > 0 {
            // SAFETY: plain kill(2) on a positive pid.
            unsafe { libc::kill(pid, sig) };
        }
    }
}

/// Gone: the process no longer exists or has exited and waits to be
/// reaped (a zombie still answers `kill(pid, 0)`). Without `/proc`, a
/// released lock is the sign that it exited.
fn wait_gone(home: &Home, pid: u32, timeout: Duration) -> Result<bool> {
    let deadline = Instant::now() + timeout;
    let mut backoff = Backoff::new();
    let have_proc = std::path::Path::new("/proc/self/stat").exists();
    loop {
        let gone = !state::process_alive(pid)
            || if have_proc {
                is_zombie(pid)
            } else {
                lock_held(home)? == Some(false)
            };
        if gone {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        backoff.sleep();
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            // The state follows the parenthesised command name.
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
        })
        .unwrap_or(true)
}

fn clear_if_unlocked(home: &Home) -> Result<()> {
    if !home.run_dir().is_dir() {
        return Ok(());
    }
    if let Some(_lock) = ProxyLock::try_acquire(home)? {
        state::clear(home);
    }
    Ok(())
}

/// `proxy status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyStatus {
    pub running: bool,
    pub pid: Option<u32>,
    pub port: Option<u16>,
    pub socket: Option<String>,
    pub uptime_seconds: Option<u64>,
    /// Local mode has no session that could expire.
    pub session_valid: bool,
    /// The running proxy's version, else this binary's.
    pub version: String,
}

pub fn status(home: &Home) -> Result<ProxyStatus> {
    Ok(match current(home)? {
        Some(s) => ProxyStatus {
            running: true,
            pid: Some(s.pid),
            port: Some(s.port),
            socket: Some(s.socket.clone()),
            uptime_seconds: Some(state::uptime_seconds(&s)),
            session_valid: true,
            version: s.version,
        },
        None => ProxyStatus {
            running: false,
            pid: None,
            port: None,
            socket: None,
            uptime_seconds: None,
            session_valid: true,
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path().join("h"));
        assert_eq!(lock_held(&home).unwrap(), None);
        let lock = ProxyLock::try_acquire(&home).unwrap().expect("free lock");
        // flock locks belong to the open file, so a second open conflicts
        // even inside one process.
        assert!(ProxyLock::try_acquire(&home).unwrap().is_none());
        assert_eq!(lock_held(&home).unwrap(), Some(true));
        drop(lock);
        assert_eq!(lock_held(&home).unwrap(), Some(false));
        assert!(ProxyLock::try_acquire(&home).unwrap().is_some());
    }

    #[test]
    fn stale_state_without_lock_is_not_running() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path().join("h"));
        home.ensure_dirs().unwrap();
        // A state file naming a live process (this test) but no lock holder.
        let s = ProxyState {
            pid: std::process::id(),
            port: 1,
            socket: "x".into(),
            started_at: crate::clock::unix_now(),
            version: "0".into(),
        };
        state::write(&home, &s).unwrap();
        let lock = ProxyLock::try_acquire(&home).unwrap().unwrap();
        drop(lock);
        assert_eq!(current(&home).unwrap(), None);
        assert!(!status(&home).unwrap().running);
        assert_eq!(stop(&home, DEFAULT_TIMEOUT).unwrap(), Stopped::NotRunning);
        assert!(!home.state_path().exists(), "stale state cleared");
    }

    #[test]
    fn ready_text_names_port_and_socket() {
        let l = ReadyLine {
            pid: 7,
            port: 8765,
            socket: "/h/run/proxy.sock".into(),
            already_running: false,
        };
        assert!(ready_text(&l).starts_with("proxy ready on 127.0.0.1:8765 and /h/run/proxy.sock"));
    }
}
