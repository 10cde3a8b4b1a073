//! `agentsecrets env -- CMD`: run a command with secrets in its environment,
//! forward signals, mask output.
//!
//! The child stays in the engine's process group, so whoever kills the group
//! kills the whole tree. Values reach the child only through its
//! environment, never through argv. When a stream of the engine is not a
//! terminal (output captured by a program), the child's stream is piped
//! through a [`StreamRedactor`] and written on promptly, chunk by chunk.

mod exit_wait;

use crate::error::{EngineError, Result};
use crate::redact::{Patterns, StreamRedactor};
use agentsecrets_wire::ErrorCode;
use std::io::{ErrorKind, Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use zeroize::Zeroizing;

/// Signals the engine passes on to the child.
const FORWARDED: [libc::c_int; 4] = [libc::SIGTERM, libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2];
/// Passed on only when stdin is not a terminal: a terminal already sends
/// them to the whole foreground group, child included.
const FROM_TERMINAL: [libc::c_int; 2] = [libc::SIGINT, libc::SIGQUIT];

/// What to run.
pub struct Spec {
    /// Program and arguments; `command[0]` is looked up in `PATH`.
    pub command: Vec<String>,
    /// Variables added to the inherited environment.
    pub env: Vec<(String, Zeroizing<String>)>,
    /// Mask values in stdout/stderr when they are not terminals.
    pub mask: bool,
}

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code, or 128+N when the child died of signal N (the engine
    /// then ends by that signal itself, see [`die_by`]).
    pub code: i32,
    pub signal: Option<i32>,
    /// Whether masking replaced anything in the child's output.
    pub redacted: bool,
}

impl Outcome {
    fn from_status(status: ExitStatus, redacted: bool) -> Outcome {
        match (status.code(), status.signal()) {
            (Some(code), _) => Outcome {
                code,
                signal: None,
                redacted,
            },
            (None, Some(sig)) => Outcome {
                code: 128 + sig,
                signal: Some(sig),
                redacted,
            },
            (None, None) => Outcome {
                code: 1,
                signal: None,
                redacted,
            },
        }
    }

    /// Audit reason: `-`, `credential_echo`, `exit N` or `signal N`.
    pub fn reason(&self) -> String {
        match (self.signal, self.code) {
            (Some(sig), _) => format!("signal {sig}"),
            (None, 0) if self.redacted => "credential_echo".to_owned(),
            (None, 0) => "-".to_owned(),
            (None, code) => format!("exit {code}"),
        }
    }
}

/// The command could not be started; `exit_code` is what a shell would use
/// (127 not found, 126 not executable).
#[derive(Debug)]
pub struct StartError {
    pub error: EngineError,
    pub exit_code: i32,
}

/// Blocks the forwarded signals in the calling thread so they queue for the
/// forwarder instead of killing the engine. Call it first thing, from the
/// main thread, before any other thread exists: threads started afterwards
/// inherit the mask. The mask stays in place; the process is expected to
/// exit after [`run`].
pub fn block_signals() {
    let set = signal_set();
    // SAFETY: the set is initialised; changing this thread's mask is sound.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
}

/// Ends the engine by `sig`, the signal its child died of, so whoever waits
/// on the engine sees a death by that signal, not an exit code 128+N that a
/// command may also return by itself. No core file is written (the engine
/// held values). Returns only if `sig` does not end a process by default.
pub fn die_by(sig: libc::c_int) {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: plain calls on this process's own limits, signal disposition
    // and this thread's mask; raise() then targets this thread.
    unsafe {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        libc::signal(sig, libc::SIG_DFL);
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
}

fn signal_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set before sigaddset uses it.
    unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        for sig in FORWARDED.iter().chain(FROM_TERMINAL.iter()) {
            libc::sigaddset(&mut set, *sig);
        }
        set
    }
}

/// Runs the command to completion. `patterns` are the encoded forms of the
/// injected values (used when masking applies). [`block_signals`] must have
/// been called before.
pub fn run(spec: &Spec, patterns: Arc<Patterns>) -> Result<Outcome, StartError> {
    let Some((program, args)) = spec.command.split_first() else {
        return Err(StartError {
            error: EngineError::invalid("no command given")
                .fix("agentsecrets env -- CMD [ARGS...]"),
            exit_code: 2,
        });
    };
    let stdin_tty = crate::tty::is_tty(&std::io::stdin());
    // Asked to stop while secrets were being resolved: do not start at all.
    if let Some(sig) = pending_signal(stdin_tty) {
        return Err(StartError {
            error: EngineError::internal(format!(
                "interrupted by signal {sig} before the command started"
            ))
            .fix("run the command again"),
            exit_code: 128 + sig,
        });
    }
    let masking = spec.mask && !patterns.is_empty();
    let mask_out = masking && !crate::tty::is_tty(&std::io::stdout());
    let mask_err = masking && !crate::tty::is_tty(&std::io::stderr());

    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::inherit());
    for (k, v) in &spec.env {
        cmd.env(k, v.as_str());
    }
    cmd.stdout(if mask_out {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });
    cmd.stderr(if mask_err {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });
    // The engine blocks the forwarded signals, ignores SIGPIPE and has no
    // core files; all survive exec, so the child gets defaults explicitly.
    let core = crate::hardening::child_core_limit();
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let mut empty = std::mem::zeroed::<libc::sigset_t>();
            libc::sigemptyset(&mut empty);
            libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            crate::hardening::restore_in_child(core);
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| start_error(program, e, &patterns))?;

    let guard = Arc::new(ChildGuard {
        pid: child.id() as libc::pid_t,
        done: Mutex::new(false),
    });
    let forwarder = spawn_forwarder(guard.clone(), stdin_tty);
    let pumps: Vec<JoinHandle<bool>> = [
        child
            .stdout
            .take()
            .map(|s| spawn_pump(s, libc::STDOUT_FILENO, patterns.clone())),
        child
            .stderr
            .take()
            .map(|s| spawn_pump(s, libc::STDERR_FILENO, patterns.clone())),
    ]
    .into_iter()
    .flatten()
    .collect();

    let status = wait_child(&mut child, &guard);
    forwarder.stop();
    // Output written before the child exited is delivered in full; a
    // background process that keeps the pipe open is waited for, like a
    // shell pipeline would.
    let mut redacted = false;
    for p in pumps {
        redacted |= p.join().unwrap_or(false);
    }
    match status {
        Ok(status) => Ok(Outcome::from_status(status, redacted)),
        Err(e) => Err(StartError {
            error: EngineError::internal(format!("cannot wait for the command: {e}"))
                .fix("run the command again"),
            exit_code: 1,
        }),
    }
}

fn start_error(program: &str, e: std::io::Error, patterns: &Patterns) -> StartError {
    // The program name comes from the caller, but scrub it anyway: an error
    // message must never carry a value.
    let name = patterns.scrub(program);
    let (message, fix, exit_code) = match e.kind() {
        ErrorKind::NotFound => (
            format!("command not found: {name}"),
            "check the command name and PATH (use an absolute path if needed)".to_owned(),
            127,
        ),
        ErrorKind::PermissionDenied => (
            format!("permission denied: {name} is not executable"),
            format!("make {name} executable (chmod +x) or run it through its interpreter"),
            126,
        ),
        _ if e.raw_os_error() == Some(libc::E2BIG) => (
            format!("cannot execute {name}: its environment is too large"),
            "Linux limits one environment variable to 128 KiB and all of them to about 2 MiB: inject fewer or smaller secrets with --only".to_owned(),
            126,
        ),
        _ => (
            format!("cannot execute {name}: {}", patterns.scrub(&e.to_string())),
            "check that the command is a valid executable for this machine".to_owned(),
            126,
        ),
    };
    StartError {
        error: EngineError::new(ErrorCode::InvalidRequest, message).fix(fix),
        exit_code,
    }
}

/// A forwarded signal that arrived (and is held blocked) before the child exists.
fn pending_signal(stdin_tty: bool) -> Option<libc::c_int> {
    // SAFETY: sigpending fills the initialised set; sigismember only reads it.
    unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        if libc::sigpending(&mut set) != 0 {
            return None;
        }
        let terminal: &[libc::c_int] = if stdin_tty { &[] } else { &FROM_TERMINAL };
        FORWARDED
            .iter()
            .chain(terminal)
            .copied()
            .find(|s| libc::sigismember(&set, *s) == 1)
    }
}

/// The child's pid, valid for signalling until `done` is set (it is set
/// before the child is reaped, so a forwarded signal can never reach a
/// recycled pid).
struct ChildGuard {
    pid: libc::pid_t,
    done: Mutex<bool>,
}

impl ChildGuard {
    fn signal(&self, sig: libc::c_int) {
        let done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        if !*done {
            // SAFETY: the pid is our unreaped child (checked under the lock).
            unsafe { libc::kill(self.pid, sig) };
        }
    }
}

/// Waits for the child to exit without reaping it, marks it done, then reaps.
fn wait_child(child: &mut Child, guard: &ChildGuard) -> std::io::Result<ExitStatus> {
    exit_wait::until_exited(guard.pid);
    *guard.done.lock().unwrap_or_else(|p| p.into_inner()) = true;
    child.wait()
}

struct Forwarder {
    thread: JoinHandle<()>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Forwarder {
    /// Wakes the forwarder with one of its own signals and lets it end.
    fn stop(self) {
        use std::os::unix::thread::JoinHandleExt;
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // std hands out an integer; libc's `pthread_t` is a pointer on musl.
        #[allow(clippy::unnecessary_cast)]
        let thread = self.thread.as_pthread_t() as libc::pthread_t;
        // SAFETY: the thread is alive (it only returns after seeing `stop`).
        unsafe { libc::pthread_kill(thread, libc::SIGUSR2) };
        let _ = self.thread.join();
    }
}

fn spawn_forwarder(guard: Arc<ChildGuard>, stdin_tty: bool) -> Forwarder {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let thread = std::thread::spawn(move || {
        let set = signal_set();
        loop {
            let mut sig: libc::c_int = 0;
            // SAFETY: the set is initialised and blocked in every thread.
            if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
                continue;
            }
            if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            if FROM_TERMINAL.contains(&sig) && stdin_tty {
                continue;
            }
            guard.signal(sig);
        }
    });
    Forwarder { thread, stop }
}

fn spawn_pump(
    from: impl Read + Send + 'static,
    fd: RawFd,
    patterns: Arc<Patterns>,
) -> JoinHandle<bool> {
    std::thread::spawn(move || {
        // SAFETY: fd 1/2 stay open for the life of the process; ManuallyDrop
        // keeps this handle from closing them.
        let out = ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
        pump(from, &*out, StreamRedactor::new(patterns))
    })
}

/// Copies `from` to `to` through the redactor, writing each chunk as soon
/// as it is read. Returns whether anything was masked. When `to` is closed
/// (EPIPE) it stops reading, so the child sees a broken pipe as it would
/// have without the engine in between.
pub fn pump(mut from: impl Read, mut to: impl Write, mut redactor: StreamRedactor) -> bool {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let chunk = redactor.push(&buf[..n]);
        if to.write_all(&chunk).and_then(|_| to.flush()).is_err() {
            return redactor.redacted();
        }
    }
    let rest = redactor.finish();
    let _ = to.write_all(&rest).and_then(|_| to.flush());
    redactor.redacted()
}

/// The command line for the audit log, with every value scrubbed.
pub fn audit_command_line(command: &[String], patterns: &Patterns) -> String {
    let line = command
        .iter()
        .map(|a| crate::shell::word(a))
        .collect::<Vec<_>>()
        .join(" ");
    patterns.scrub(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_held_before_start_is_seen_and_stops_the_start() {
        // On a thread of its own: the mask and the pending signal stay there.
        std::thread::spawn(|| {
            block_signals();
            assert_eq!(pending_signal(false), None);
            // SAFETY: directed at this thread, where SIGHUP is blocked.
            unsafe { libc::pthread_kill(libc::pthread_self(), libc::SIGHUP) };
            assert_eq!(pending_signal(false), Some(libc::SIGHUP));
            let spec = Spec {
                command: vec!["true".into()],
                env: vec![],
                mask: true,
            };
            let err = run(&spec, Arc::new(Patterns::new([b"value-x".as_slice()]))).unwrap_err();
            assert_eq!(err.exit_code, 128 + libc::SIGHUP);
            assert!(err.error.message.contains("before the command started"));
            // Consume it so nothing is left pending.
            let set = signal_set();
            let mut sig = 0;
            // SAFETY: the set is initialised and blocked in this thread.
            unsafe { libc::sigwait(&set, &mut sig) };
            assert_eq!(sig, libc::SIGHUP);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn reasons() {
        let o = |code, signal, redacted| Outcome {
            code,
            signal,
            redacted,
        };
        assert_eq!(o(0, None, false).reason(), "-");
        assert_eq!(o(0, None, true).reason(), "credential_echo");
        assert_eq!(o(3, None, false).reason(), "exit 3");
        assert_eq!(o(143, Some(15), false).reason(), "signal 15");
        let s = Outcome::from_status(ExitStatus::from_raw(15), false);
        assert_eq!((s.code, s.signal), (143, Some(15)));
        let s = Outcome::from_status(ExitStatus::from_raw(3 << 8), false);
        assert_eq!((s.code, s.signal), (3, None));
    }
}
