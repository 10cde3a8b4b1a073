//! Child processes a test drives by hand: a guard that ends them when the
//! test does, and helpers to read, wait for and signal them.

use std::io::Read;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A child killed (with its process group, when it leads one) if it is
/// still running when dropped, so a failing test leaves nothing behind.
pub struct Running(Option<Child>);

/// Spawns `cmd` under a [`Running`] guard.
pub fn spawn(cmd: &mut Command) -> Running {
    Running(Some(cmd.spawn().unwrap()))
}

impl Running {
    /// [`Child::wait_with_output`], which consumes the child.
    pub fn wait_with_output(mut self) -> std::io::Result<std::process::Output> {
        self.0.take().unwrap().wait_with_output()
    }
}

impl Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().unwrap()
    }
}

impl DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let Some(child) = self.0.as_mut() else {
            return;
        };
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        let Ok(pid) = libc::pid_t::try_from(child.id()) else {
            return;
        };
        // SAFETY: getpgid and kill(2) on the child's own pid or group.
        unsafe {
            if libc::getpgid(pid) == pid {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
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
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
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

/// Every process (pid, command line) whose command line contains `needle`.
pub fn cmdlines_containing(needle: &[u8]) -> Vec<(String, String)> {
    all_cmdlines()
        .into_iter()
        .filter(|(_, cmdline)| cmdline.windows(needle.len()).any(|w| w == needle))
        .map(|(pid, cmdline)| (pid, super::text(&cmdline)))
        .collect()
}

/// Every process's pid and command line: from `/proc` where there is one,
/// else from `ps` (macOS), so the check never passes for want of a source.
fn all_cmdlines() -> Vec<(String, Vec<u8>)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return ps_cmdlines();
    };
    dir.flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|pid| {
            let cmdline = std::fs::read(Path::new("/proc").join(&pid).join("cmdline")).ok()?;
            Some((pid, cmdline))
        })
        .collect()
}

fn ps_cmdlines() -> Vec<(String, Vec<u8>)> {
    let out = std::process::Command::new("ps")
        .args(["-A", "-ww", "-o", "pid=,command="])
        .output()
        .expect("no /proc here, and `ps` could not list processes");
    assert!(out.status.success(), "`ps -A -ww -o pid=,command=` failed");
    let listed: Vec<_> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let line = line.trim_ascii_start();
            let cut = line.iter().position(|&b| b == b' ')?;
            Some((super::text(&line[..cut]), line[cut + 1..].to_vec()))
        })
        .collect();
    assert!(!listed.is_empty(), "`ps` listed no process");
    listed
}
