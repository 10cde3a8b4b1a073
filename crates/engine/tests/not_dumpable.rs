//! On Linux the engine makes itself non-dumpable, so other processes of the
//! same user cannot ptrace it or read its memory or environment; the command
//! `env` runs stays dumpable (`execve` resets the flag).
#![cfg(target_os = "linux")]

mod support;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use support::*;

const SECRET: &str = "cnry-dumpable-4Rk8sW";

/// Runs `cmd` without capabilities. The kernel lets a privileged process
/// (CAP_SYS_PTRACE, on some kernels CAP_SYS_ADMIN or CAP_PERFMON) read
/// another's /proc files, and refuses it to a process with fewer
/// capabilities than its target: without any on both sides, only
/// dumpability decides, also when the tests run as root.
fn unprivileged(cmd: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe and touches no memory.
    unsafe {
        cmd.pre_exec(|| {
            // Root gets its whole bounding set back on exec, so it is
            // emptied. Other users cannot change it (EPERM) and get no
            // capabilities on exec anyway; unknown numbers fail (EINVAL).
            for cap in 0..64 as libc::c_ulong {
                libc::prctl(libc::PR_CAPBSET_DROP, cap);
            }
            Ok(())
        })
    }
}

/// The effective capabilities of `pid` (its status stays readable).
fn cap_eff(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        .unwrap_or_else(|| panic!("no CapEff in /proc/{pid}/status"))
}

/// Whether an unprivileged process of this user may read
/// /proc/<pid>/environ: the kernel checks it like a ptrace read and refuses
/// it for a process that is not dumpable.
fn environ_readable(pid: u32) -> bool {
    assert_eq!(cap_eff(pid), 0, "pid {pid} has capabilities");
    let out = unprivileged(Command::new("sh").args([
        "-c",
        r#"grep '^CapEff:' /proc/self/status && cat "/proc/$1/environ" >/dev/null"#,
        "sh",
        &pid.to_string(),
    ]))
    .stdin(Stdio::null())
    .output()
    .unwrap();
    let caps = text(&out.stdout);
    let reader = caps
        .trim()
        .strip_prefix("CapEff:")
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        .unwrap_or_else(|| panic!("no CapEff line: {caps:?} {}", text(&out.stderr)));
    assert_eq!(reader, 0, "the reader has capabilities");
    out.status.success()
}

#[test]
fn the_proxy_is_not_dumpable() {
    let h = Home::new();
    h.set_secret("KEY", SECRET);
    let pid = h
        .start_proxy_with(|cmd| {
            unprivileged(cmd);
        })
        .pid;
    let readable = environ_readable(pid);
    assert!(h.run(&["proxy", "stop"]).status.success());
    assert!(
        !readable,
        "the proxy's environment is readable: it is dumpable"
    );
}

#[test]
fn env_is_not_dumpable_and_the_command_it_runs_is() {
    let h = Home::new();
    h.set_secret("KEY", SECRET);
    let mut engine = spawn(
        unprivileged(&mut h.cmd())
            .args(["env", "--", "sh", "-c", "echo $$; exec sleep 30"])
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let lines = line_reader(engine.stdout.take().unwrap());
    let command: u32 = next_line(&lines, "the command's pid")
        .trim()
        .parse()
        .unwrap();
    let engine_readable = environ_readable(engine.id());
    // The command is the control: the same reader may read a dumpable
    // process of this user.
    let command_readable = environ_readable(command);
    // SAFETY: kill(2) on a negative pid signals that process group.
    let r = unsafe { libc::kill(-(engine.id() as libc::pid_t), libc::SIGKILL) };
    assert_eq!(r, 0);
    wait_timeout(&mut engine, 10);
    assert!(
        !engine_readable,
        "the environment of the engine running `env` is readable: it is dumpable"
    );
    assert!(command_readable, "the command `env` runs is not dumpable");
}
