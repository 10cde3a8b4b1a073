//! On Linux the engine makes itself non-dumpable, so other processes of the
//! same user cannot ptrace it or read its memory or environment, and sets
//! its core-file limit to 0; the command `env` runs stays dumpable (`execve`
//! resets the flag) and gets the caller's core limit back.
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

/// A core-file limit of `pid` as /proc shows it: `(soft, hard)`, e.g. `("0", "unlimited")`.
fn core_limits(pid: &str) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let row = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max core file size"))
        .unwrap_or_else(|| panic!("no core limit in /proc/{pid}/limits"));
    let mut cols = row.split_whitespace();
    let soft = cols.next().unwrap().to_owned();
    let hard = cols.next().unwrap().to_owned();
    (soft, hard)
}

#[test]
fn env_writes_no_core_file_and_the_command_gets_the_callers_limit() {
    let h = Home::new();
    h.set_secret("KEY", SECRET);
    let mut cmd = h.cmd();
    // The caller allows core files up to its hard limit, so that the
    // command's limit shows whether the engine gave it back.
    // SAFETY: getrlimit and setrlimit are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let mut r = std::mem::zeroed::<libc::rlimit>();
            libc::getrlimit(libc::RLIMIT_CORE, &mut r);
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_CORE, &r);
            Ok(())
        })
    };
    let mut engine = cmd
        .args(["env", "--", "sh", "-c", "echo $$; exec sleep 30"])
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = line_reader(engine.stdout.take().unwrap());
    let command = next_line(&lines, "the command's pid").trim().to_owned();
    let (engine_soft, _) = core_limits(&engine.id().to_string());
    let (command_soft, _) = core_limits(&command);
    let (_, caller_hard) = core_limits("self");
    // SAFETY: kill(2) on a negative pid signals that process group.
    let r = unsafe { libc::kill(-(engine.id() as libc::pid_t), libc::SIGKILL) };
    assert_eq!(r, 0);
    wait_timeout(&mut engine, 10);
    assert_eq!(engine_soft, "0", "the engine may write a core file");
    assert_eq!(
        command_soft, caller_hard,
        "the command `env` runs did not get the caller's core limit back"
    );
}
