//! The server processes a run starts (the engine, the floors): how each is
//! started and known to be ready, what CPU and memory it used, and stopping
//! every one of them when the run fails.

use crate::die;
use crate::floor;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The servers alive now, stopped by [`stop_all`] so that a failed run
/// leaves no process behind.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

pub fn stop_all() {
    let pids = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|e| e.into_inner()));
    for pid in pids {
        terminate(pid);
    }
}

/// The engine binary run on `home` (its key in a file there, not the keychain).
pub fn engine_command(engine: &Path, home: &Path) -> Command {
    let mut c = Command::new(engine);
    c.env("AGENTSECRETS_HOME", home)
        .env("AGENTSECRETS_KEY_STORE", "file");
    c
}

/// A server process and the Unix socket it answers on.
pub struct Server {
    child: Child,
    pid: u32,
    pub socket: PathBuf,
    /// A floor exits when this closes, should the run end without [`stop`].
    _lifeline: Option<ChildStdin>,
}

impl Server {
    /// The engine binary serving `home`, ready once it published its state.
    pub fn engine(engine: &Path, home: &Path) -> Server {
        let mut command = engine_command(engine, home);
        stop_with_this_process(&mut command);
        let child = command
            .args(["proxy", "start", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| die(&format!("cannot start the engine: {e}")));
        let server = Server::tracked(child, home.join("run/proxy.sock"), None);
        let state = home.join("run/proxy.json");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !state.exists() {
            if Instant::now() > deadline {
                die("the engine did not become ready in 10 s");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        server
    }

    /// This binary re-executed as a floor on `socket`, ready once it says so.
    pub fn floor(kind: floor::Kind, socket: PathBuf) -> Server {
        let exe = std::env::current_exe()
            .unwrap_or_else(|e| die(&format!("cannot find this binary to start a floor: {e}")));
        let mut child = Command::new(exe)
            .arg(floor::SERVE_FLAG)
            .arg(kind.name())
            .arg(&socket)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| die(&format!("cannot start the {} floor: {e}", kind.name())));
        let lifeline = child.stdin.take();
        let stdout = child.stdout.take();
        let server = Server::tracked(child, socket, lifeline);
        let mut line = String::new();
        if let Some(out) = stdout {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        if line.trim_end() != floor::READY_LINE {
            die(&format!("the {} floor did not start", kind.name()));
        }
        server
    }

    fn tracked(child: Child, socket: PathBuf, lifeline: Option<ChildStdin>) -> Server {
        let pid = child.id();
        RUNNING.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
        Server {
            child,
            pid,
            socket,
            _lifeline: lifeline,
        }
    }

    /// A client that reaches this server, pooling as many connections as the
    /// load asks for.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .unix_socket(self.socket.clone())
            .pool_max_idle_per_host(256)
            .build()
            .unwrap_or_else(|e| die(&format!("cannot build a client: {e}")))
    }

    /// User + system CPU time of the process so far.
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0)
            + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
        // USER_HZ is 100 on every Linux this runs on.
        let hz = 100u64;
        Duration::from_micros(ticks * 1_000_000 / hz)
    }

    /// Peak resident set size in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    pub fn stop(mut self) {
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|&p| p != self.pid);
        terminate(self.pid);
        let _ = self.child.wait();
    }
}

/// Linux: the engine gets SIGTERM when this process dies, however it dies
/// (a SIGKILL runs no cleanup). The floors need none: they exit when their
/// stdin closes.
#[cfg(target_os = "linux")]
fn stop_with_this_process(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) between
    // fork and exec.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The bench died before the signal was asked for.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn stop_with_this_process(_: &mut Command) {}

fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}
