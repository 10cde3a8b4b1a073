//! `agentsecrets proxy start|stop|status|logs` through the real binary.

mod support;

use agentsecrets_engine::audit::AuditLog;
use agentsecrets_engine::clock::now_rfc3339;
use agentsecrets_engine::home::Home;
use agentsecrets_wire::{AuditEvent, AuditStatus};
use serde_json::Value;
use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::*;

fn status(h: &support::Home) -> Value {
    h.json(&["proxy", "status"])
}

fn alive(pid: u64) -> bool {
    // Zombies count as gone: the proxy has exited even if nobody reaped it.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Whether every thread of the process has exited. After SIGKILL the leader
/// turns zombie first while other threads are still exiting and still hold
/// the proxy lock, so a zombie leader alone does not mean the lock is free.
fn fully_exited(pid: u64) -> bool {
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0);
    !alive(pid) && threads <= 1
}

fn connects(port: u64) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port as u16)).is_ok()
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc")]
fn detach_status_stop_round_trip() {
    let h = support::Home::new();
    let t = Instant::now();
    let ready = h.start_proxy().ready;
    let took = t.elapsed();
    eprintln!("proxy start --detach: ready after {took:?}");
    let port = ready["port"].as_u64().unwrap();
    let pid = ready["pid"].as_u64().unwrap();
    assert_ne!(port, 0, "port 0 must be reported as the real port");
    assert_eq!(ready["alreadyRunning"], false);
    assert!(ready["socket"]
        .as_str()
        .unwrap()
        .ends_with("run/proxy.sock"));
    assert!(alive(pid));
    assert!(connects(port), "ready means accepting connections");

    let s = status(&h);
    assert_eq!(s["running"], true);
    assert_eq!(s["pid"].as_u64(), Some(pid));
    assert_eq!(s["port"].as_u64(), Some(port));
    assert_eq!(s["sessionValid"], true);
    assert!(s["uptimeSeconds"].as_u64().is_some());
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    let human = text(&h.run(&["proxy", "status"]).stdout);
    assert!(human.contains(&format!("127.0.0.1:{port}")), "{human}");

    // A second start is idempotent: same proxy.
    let again = h.start_proxy().ready;
    assert_eq!(again["pid"].as_u64(), Some(pid));
    assert_eq!(again["alreadyRunning"], true);

    let out = h.run(&["proxy", "stop"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("proxy stopped"),
        "{}",
        text(&out.stdout)
    );
    assert!(!alive(pid), "the proxy process is gone");
    assert!(!connects(port));
    assert_eq!(status(&h)["running"], false);
    for f in ["proxy.json", "proxy.pid", "proxy.sock", "proxy.token"] {
        assert!(!h.run_dir().join(f).exists(), "{f} removed");
    }
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc")]
fn concurrent_detached_starts_make_exactly_one_proxy() {
    let h = support::Home::new();
    let bin = h.own_binary();
    let children: Vec<_> = (0..5)
        .map(|_| {
            spawn(
                h.cmd_of(&bin)
                    .args(["--json", "proxy", "start", "--detach", "--port", "0"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped()),
            )
        })
        .collect();
    let answers: Vec<Value> = children
        .into_iter()
        .map(|c| CliOutput::from(c.wait_with_output().unwrap()).ok().json())
        .collect();
    let pid = answers[0]["pid"].as_u64().unwrap();
    let port = answers[0]["port"].as_u64().unwrap();
    for a in &answers {
        assert_eq!(a["pid"].as_u64(), Some(pid), "{answers:?}");
        assert_eq!(a["port"].as_u64(), Some(port), "{answers:?}");
    }
    assert_eq!(
        answers
            .iter()
            .filter(|a| a["alreadyRunning"] == false)
            .count(),
        1,
        "exactly one start actually started: {answers:?}"
    );
    // No other proxy process for this home survives (the starts that found
    // the running proxy exit right after reporting it). Only this test runs
    // its own binary, so argv[0] tells its processes from other tests'.
    let argv0 = [bin.as_os_str().as_bytes(), b"\0"].concat();
    let proxies = || -> Vec<u64> {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u64>().ok())
            .filter(|p| alive(*p))
            .filter(|p| {
                let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
                cmd.starts_with(&argv0) && text(&cmd).contains("proxy\0start")
            })
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while proxies() != vec![pid] {
        assert!(Instant::now() < deadline, "proxies left: {:?}", proxies());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(h.run(&["proxy", "stop"]).status.success());
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc")]
fn a_proxy_killed_with_sigkill_leaves_a_stale_state_that_counts_as_stopped() {
    let h = support::Home::new();
    let first = h.start_proxy().ready;
    let pid = first["pid"].as_u64().unwrap();
    signal(pid as u32, "KILL");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !fully_exited(pid) {
        assert!(Instant::now() < deadline, "proxy survived SIGKILL");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        h.run_dir().join("proxy.json").exists(),
        "state file left behind"
    );
    let s = status(&h);
    assert_eq!(s["running"], false, "{s}");

    let second = h.start_proxy().ready;
    assert_ne!(second["pid"].as_u64(), Some(pid));
    assert_eq!(second["alreadyRunning"], false);
    assert!(connects(second["port"].as_u64().unwrap()));
    assert_eq!(status(&h)["running"], true);
    assert!(h.run(&["proxy", "stop"]).status.success());
}

#[test]
fn a_state_file_naming_a_live_process_that_is_no_proxy_counts_as_stopped_everywhere() {
    // A crash left the state file and the pid was reused: here, by this test.
    let h = support::Home::new();
    h.start_proxy();
    let path = h.run_dir().join("proxy.json");
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(h.run(&["proxy", "stop"]).status.success());
    state["pid"] = serde_json::json!(std::process::id());
    std::fs::write(&path, state.to_string()).unwrap();
    assert_eq!(status(&h)["running"], false);
    let top = h.json(&["status"]);
    assert_eq!(top["proxyRunning"], false, "{top}");
}

/// Threads of a running process, from /proc.
fn threads_of(pid: u64) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn stop_when_not_running_is_a_success() {
    let h = support::Home::new();
    let out = h.run(&["proxy", "stop"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).trim(), "proxy is not running");
    let v = h.json(&["proxy", "stop"]);
    assert_eq!(v["running"], false);
    assert_eq!(v["stopped"], false);
}

#[test]
fn start_on_an_uninitialised_home_fails_with_a_fix() {
    let h = support::Home::empty();
    let out = h.run(&["proxy", "start", "--detach", "--port", "0"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("agentsecrets init"), "{stderr}");
}

#[test]
fn foreground_start_serves_until_sigterm_and_a_second_start_reports_it() {
    let h = support::Home::new();
    let mut fg = spawn(
        h.cmd()
            .args(["proxy", "start", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let lines = line_reader(fg.stdout.take().unwrap());
    let line = next_line(&lines, "ready line");
    assert!(line.starts_with("proxy ready on 127.0.0.1:"), "{line}");
    let s = status(&h);
    assert_eq!(s["pid"].as_u64(), Some(fg.id() as u64));
    let port = s["port"].as_u64().unwrap();
    assert!(line.contains(&format!(":{port} ")), "{line}");

    let second = h.run(&["proxy", "start", "--port", "0"]);
    assert!(second.status.success());
    assert!(
        text(&second.stdout).contains(&format!("proxy already running on 127.0.0.1:{port}")),
        "{}",
        text(&second.stdout)
    );

    signal(fg.id(), "TERM");
    let st = wait_timeout(&mut fg, 15);
    assert!(st.success(), "graceful exit: {st:?}");
    assert_eq!(status(&h)["running"], false);
    assert!(!h.run_dir().join("proxy.json").exists());
}

fn event(key: &str, status: AuditStatus, method: &str) -> AuditEvent {
    AuditEvent {
        timestamp: now_rfc3339(),
        secret_keys: vec![key.into()],
        agent_id: None,
        method: method.into(),
        target_url: "https://api.example.test/v1".into(),
        domain: "api.example.test".into(),
        auth_styles: vec!["bearer".into()],
        status_code: 200,
        duration_ms: 4,
        status,
        reason: "-".into(),
        redacted: false,
        workspace: Some("Personal".into()),
        project: Some("default".into()),
    }
}

#[test]
fn logs_filters_and_formats() {
    let h = support::Home::empty();
    // No log yet: an empty list, not an error.
    assert_eq!(h.json(&["proxy", "logs"]), Value::Array(vec![]));
    std::fs::create_dir_all(h.path()).unwrap();
    let log = AuditLog::open(&Home::at(h.path())).unwrap();
    log.append(&event("A", AuditStatus::Ok, "GET")).unwrap();
    log.append(&event("B", AuditStatus::Blocked, "POST"))
        .unwrap();
    log.append(&event("A", AuditStatus::Error, "PUT")).unwrap();
    log.append(&event("C", AuditStatus::Ok, "ENV")).unwrap();

    let all = h.json(&["proxy", "logs"]);
    assert_eq!(all.as_array().unwrap().len(), 4);
    // Stored shape: snake_case upstream names.
    assert_eq!(all[0]["secret_keys"], serde_json::json!(["A"]));
    assert_eq!(all[0]["status_code"], 200);
    assert_eq!(all[0]["target_url"], "https://api.example.test/v1");

    let methods = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["--json", "proxy", "logs"];
        a.extend_from_slice(args);
        h.run(&a)
            .ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["method"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(methods(&["--status", "BLOCKED"]), ["POST"]);
    assert_eq!(methods(&["--status", "ok"]), ["GET", "ENV"]);
    assert_eq!(methods(&["--secret", "A"]), ["GET", "PUT"]);
    assert_eq!(methods(&["--last", "2"]), ["PUT", "ENV"]);
    assert_eq!(methods(&["--secret", "A", "--last", "1"]), ["PUT"]);
    assert_eq!(methods(&["--secret", "NONE"]), Vec::<String>::new());

    let table = text(&h.run(&["proxy", "logs", "--status", "ERROR"]).stdout);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(rows[0].starts_with("TIME") && rows[1].contains("PUT") && rows[1].contains("ERROR"));

    let bad = h.run(&["proxy", "logs", "--status", "MAYBE"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = text(&bad.stderr);
    assert!(
        stderr.contains("invalid --status 'MAYBE'") && stderr.contains("fix:"),
        "{stderr}"
    );
}

#[test]
fn a_detached_start_that_fails_reports_the_proxy_s_own_error() {
    let h = support::Home::new();
    // Occupy a port so the detached proxy cannot bind it.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let t = Instant::now();
    let out = h.run(&["proxy", "start", "--detach", "--port", &port]);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "no wait for the full timeout"
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(stderr.contains("fix:"), "{stderr}");
    assert_eq!(status(&h)["running"], false);

    // The same, machine-readable.
    let out = h.run(&["--json", "proxy", "start", "--detach", "--port", &port]);
    let err: Value = serde_json::from_str(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "INTERNAL");
    assert!(err["error"]["fix"].as_str().unwrap().contains("--port"));
    drop(busy);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc")]
fn start_limits_are_checked_and_reach_the_detached_proxy() {
    let h = support::Home::new();
    for bad in [
        ["--timeout-secs", "0"],
        ["--threads", "0"],
        ["--threads", "65"],
    ] {
        let out = h.run(&["proxy", "start", bad[0], bad[1]]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out.stderr));
    }
    // The default proxy's threads, to compare with one given more workers.
    let base = threads_of(h.start_proxy().ready["pid"].as_u64().unwrap());
    assert!(h.run(&["proxy", "stop"]).status.success());
    let ready = h.json(&[
        "proxy",
        "start",
        "--detach",
        "--port",
        "0",
        "--timeout-secs",
        "7",
        "--max-response-mib",
        "3",
        "--threads",
        "3",
    ]);
    let pid = ready["pid"].as_u64().unwrap();
    assert_eq!(
        threads_of(pid),
        base + 2,
        "two workers more than the default one"
    );
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let after = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| args[i + 1].clone())
    };
    assert_eq!(after("--timeout-secs").as_deref(), Some("7"), "{args:?}");
    assert_eq!(
        after("--max-response-mib").as_deref(),
        Some("3"),
        "{args:?}"
    );
    assert!(h.run(&["proxy", "stop"]).status.success());
}
