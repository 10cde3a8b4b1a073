//! `agentsecrets env -- CMD` through the real binary: masking (S10), `--only`,
//! exit codes and signals, promptness, argv exposure (S9) and the audit event.

mod support;

use base64::Engine as _;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::*;

const MARKER: &str = "[REDACTED_BY_AGENTSECRETS]";

/// Length 24 (a multiple of 3, so its base64 is a prefix of the base64 of
/// anything that starts with it) with `+` and `/` so that its percent- and
/// base64-encoded forms differ from the raw one.
const CANARY: &str = "sk_live_CANARY+env/7Qx9Z";

fn forms(value: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(value);
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value);
    let pct = percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    vec![value.to_owned(), b64, b64url, pct]
}

fn assert_no_value(haystack: &str, value: &str, what: &str) {
    for f in forms(value) {
        assert!(
            !haystack.contains(&f),
            "{what} contains the value (as {f:?}):\n{haystack}"
        );
    }
}

fn home_with(secrets: &[(&str, &str)]) -> Home {
    let h = Home::new();
    for (k, v) in secrets {
        h.set_secret(k, v);
    }
    h
}

#[test]
fn s10_piped_output_is_masked_in_every_form_on_stdout_and_stderr() {
    let h = home_with(&[("KEY", CANARY)]);
    let script = r#"
        printenv KEY
        echo $KEY
        echo $KEY | base64
        printf %s "$KEY" | base64
        printf %s "$KEY" | base64 | tr '+/' '-_' | tr -d '='
        printf %s "$KEY" | sed 's/+/%2B/g; s#/#%2F#g; s/_/%5F/g'; echo
        printf 'json:"%s"\n' "$KEY"
        echo "err:$KEY" >&2
        printf %s "$KEY" | base64 >&2
    "#;
    let out = h.run(&["env", "--", "sh", "-c", script]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stderr: {stderr}");
    assert_no_value(&stdout, CANARY, "stdout");
    assert_no_value(&stderr, CANARY, "stderr");
    // Masked, not swallowed: every line is still there, with the marker.
    assert!(stdout.lines().count() >= 7, "{stdout}");
    assert!(stdout.lines().all(|l| l.contains(MARKER)), "{stdout}");
    assert!(stderr.contains(&format!("err:{MARKER}")), "{stderr}");
}

#[test]
fn s10_only_injects_the_named_secrets() {
    let h = home_with(&[("A", "value-of-A-123456"), ("B", "value-of-B-654321")]);
    let out = h.run(&[
        "env",
        "--only",
        "A",
        "--",
        "sh",
        "-c",
        r#"echo "A=${A:-unset}"; echo "B=${B:-unset}""#,
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains(&format!("A={MARKER}")), "{stdout}");
    assert!(stdout.contains("B=unset"), "{stdout}");
    assert_no_value(&stdout, "value-of-B-654321", "stdout");

    // Unmasked, the child's whole environment shows A and no B.
    let out = h.run(&["env", "--only", "A", "--no-mask", "--", "printenv"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("A=value-of-A-123456"), "A injected");
    assert!(
        !stdout.lines().any(|l| l.starts_with("B=")),
        "B must not be injected"
    );
    assert_no_value(&stdout, "value-of-B-654321", "printenv");

    // Without --only, every secret of the project is there.
    let out = h.run(&["env", "--no-mask", "--", "printenv"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("A=value-of-A-123456") && stdout.contains("B=value-of-B-654321"));
}

#[test]
fn only_with_an_unknown_name_fails_and_starts_nothing() {
    let h = home_with(&[("A", "value-of-A-123456")]);
    let marker = h.path().join("started");
    let out = h.run(&[
        "env",
        "--only",
        "A,NOPE",
        "--",
        "touch",
        marker.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "SECRET_NOT_FOUND exit code");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("NOPE"),
        "error names the missing secret: {stderr}"
    );
    assert!(!marker.exists(), "the command must not run");
    assert_no_value(&stderr, "value-of-A-123456", "stderr");
    let log = h.audit_log();
    assert!(
        log.contains("\"ERROR\"") && log.contains("SECRET_NOT_FOUND"),
        "{log}"
    );
    assert_no_value(&log, "value-of-A-123456", "audit log");
}

#[test]
fn no_mask_passes_output_through() {
    let h = home_with(&[("KEY", CANARY)]);
    let out = h.run(&["env", "--no-mask", "--", "printenv", "KEY"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), format!("{CANARY}\n"));
}

#[test]
fn exit_codes_signals_and_start_failures() {
    let h = home_with(&[("KEY", CANARY)]);
    let code = |args: &[&str]| h.run(args).status.code();
    assert_eq!(code(&["env", "--", "true"]), Some(0));
    assert_eq!(code(&["env", "--", "sh", "-c", "exit 3"]), Some(3));
    // A child's death by a signal is the engine's death by that signal; a
    // command exiting 128+N by itself is only an exit code.
    let signal_of = |args: &[&str]| h.run(args).status.signal();
    assert_eq!(
        signal_of(&["env", "--", "sh", "-c", "kill -TERM $$"]),
        Some(15)
    );
    assert_eq!(
        signal_of(&["env", "--", "sh", "-c", "kill -KILL $$"]),
        Some(9)
    );
    assert_eq!(
        signal_of(&["env", "--", "sh", "-c", "kill -QUIT $$"]),
        Some(3)
    );
    let out = h.run(&["env", "--", "sh", "-c", "exit 130"]);
    assert_eq!((out.status.code(), out.status.signal()), (Some(130), None));

    let out = h.run(&["env", "--", "no-such-command-xyz", "arg"]);
    assert_eq!(out.status.code(), Some(127));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("command not found: no-such-command-xyz"),
        "{stderr}"
    );
    assert!(stderr.contains("fix:"), "{stderr}");

    let script = h.path().join("not-executable.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let out = h.run(&["env", "--", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126));
    assert!(
        text(&out.stderr).contains("not executable"),
        "{}",
        text(&out.stderr)
    );

    let log = h.audit_log();
    for reason in [
        "\"exit 3\"",
        "\"signal 15\"",
        "\"signal 9\"",
        "command not found",
    ] {
        assert!(log.contains(reason), "audit has {reason}: {log}");
    }
    assert_no_value(&log, CANARY, "audit log");
}

#[test]
fn signals_sent_to_the_engine_reach_the_child() {
    let h = home_with(&[("KEY", CANARY)]);
    for (sig, code) in [("TERM", 7), ("HUP", 8), ("USR1", 9), ("INT", 10)] {
        // stdin is not a terminal here, so INT is forwarded too.
        let script = format!(
            "trap 'echo got-{sig}; exit {code}' {sig}; echo ready; while :; do sleep 0.02; done"
        );
        let mut child = spawn(
            h.cmd()
                .args(["env", "--", "sh", "-c", &script])
                .stdout(Stdio::piped()),
        );
        let lines = line_reader(child.stdout.take().unwrap());
        assert_eq!(next_line(&lines, "ready"), "ready");
        signal(child.id(), sig);
        assert_eq!(next_line(&lines, "trap output"), format!("got-{sig}"));
        let status = wait_timeout(&mut child, 10);
        assert_eq!(
            status.code(),
            Some(code),
            "SIG{sig}: exit code of the child"
        );
    }
}

#[test]
fn a_line_by_line_child_answers_each_line_before_stdin_closes() {
    let h = home_with(&[("KEY", CANARY)]);
    let mut child = spawn(
        h.cmd()
            .args([
                "env",
                "--",
                "sh",
                "-c",
                r#"while IFS= read -r l; do echo "echo:$l"; done"#,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped()),
    );
    let mut stdin = child.stdin.take().unwrap();
    let lines = line_reader(child.stdout.take().unwrap());
    let start = Instant::now();
    for i in 0..20 {
        let msg = format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"ping"}}"#);
        stdin.write_all(format!("{msg}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
        assert_eq!(next_line(&lines, "echo"), format!("echo:{msg}"));
    }
    // An echoed value is masked on the way back, promptly too.
    stdin.write_all(format!("{CANARY}\n").as_bytes()).unwrap();
    assert_eq!(next_line(&lines, "masked echo"), format!("echo:{MARKER}"));
    let elapsed = start.elapsed();
    drop(stdin);
    assert!(wait_timeout(&mut child, 10).success());
    eprintln!("21 request/answer round trips through env: {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(5),
        "answers must not wait for more input"
    );
}

#[test]
fn stdin_passes_through_byte_exact() {
    let h = home_with(&[("KEY", CANARY)]);
    let input: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let out = h.run_stdin(&["env", "--no-mask", "--", "cat"], input.clone());
    assert!(out.status.success());
    assert_eq!(out.stdout_bytes, input);
}

#[test]
fn large_output_is_complete_through_the_masking_pipe() {
    let h = home_with(&[("KEY", CANARY)]);
    let out = h.run(&["env", "--", "sh", "-c", "seq 1 200000; echo $KEY"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    for i in 1..=200000 {
        assert_eq!(lines.next(), Some(i.to_string().as_str()));
    }
    assert_eq!(lines.next(), Some(MARKER));
}

#[test]
fn s9_the_value_is_in_no_process_argv_and_the_audit_has_names_only() {
    // A canary of its own: other tests running in parallel never use it.
    const S9: &str = "s9-canary-VALUE-4kq8Lm2";
    let h = home_with(&[("S9_KEY", S9), ("OTHER", "other-value-9911")]);
    let mut child = spawn(
        h.cmd()
            .args(["env", "--only", "S9_KEY", "--", "sleep", "2"]),
    );
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut scans = 0;
    while Instant::now() < deadline {
        let hits = cmdlines_containing(S9.as_bytes());
        assert!(hits.is_empty(), "value in argv: {hits:?}");
        scans += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(scans > 10);
    assert!(wait_timeout(&mut child, 10).success());

    let log = h.audit_log();
    assert_no_value(&log, S9, "audit log");
    assert_no_value(&log, "other-value-9911", "audit log");
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ev = events.last().expect("one ENV event");
    assert_eq!(ev["method"], "ENV");
    assert_eq!(ev["secret_keys"], serde_json::json!(["S9_KEY"]));
    assert_eq!(ev["auth_styles"], serde_json::json!(["env"]));
    assert_eq!(ev["target_url"], "sleep 2");
    assert_eq!(ev["domain"], "");
    assert_eq!(ev["status"], "OK");
    assert_eq!(ev["status_code"], 0);
    assert_eq!(ev["reason"], "-");
    assert_eq!(ev["redacted"], false);
    assert_eq!(ev["workspace"], "Personal");
    assert_eq!(ev["project"], "default");
}

#[test]
fn the_audited_command_line_is_scrubbed_and_redaction_is_recorded() {
    const V: &str = "argv-canary-Zr81uQ";
    let h = home_with(&[("K", V)]);
    // A caller that puts the value in argv itself: the audit must still not keep it.
    let out = h.run(&["env", "--", "sh", "-c", "echo \"$0\"", V]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), format!("{MARKER}\n"));
    let log = h.audit_log();
    assert_no_value(&log, V, "audit log");
    let ev: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert!(ev["target_url"].as_str().unwrap().contains(MARKER), "{ev}");
    assert_eq!(ev["redacted"], true);
    assert_eq!(ev["reason"], "credential_echo");
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc")]
fn the_child_stays_in_the_engine_s_process_group_so_killing_the_group_kills_the_tree() {
    use std::os::unix::process::CommandExt;
    let h = home_with(&[("KEY", CANARY)]);
    let mut engine = spawn(
        h.cmd()
            .args([
                "env",
                "--",
                "sh",
                "-c",
                "cut -d' ' -f5 /proc/$$/stat; sleep 30 & echo $!; wait",
            ])
            .process_group(0)
            .stdout(Stdio::piped()),
    );
    let lines = line_reader(engine.stdout.take().unwrap());
    let group: u32 = next_line(&lines, "pgid").trim().parse().unwrap();
    let grandchild: u32 = next_line(&lines, "grandchild pid").trim().parse().unwrap();
    assert_eq!(group, engine.id(), "the child is in the engine's group");
    // SIGKILL cannot be forwarded: only the group kill can reach the tree.
    // SAFETY: kill(2) on a negative pid signals that process group.
    let r = unsafe { libc::kill(-(group as libc::pid_t), libc::SIGKILL) };
    assert_eq!(r, 0);
    wait_timeout(&mut engine, 10);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        let gone = stat
            .rsplit_once(')')
            .is_none_or(|(_, rest)| rest.trim_start().starts_with('Z'));
        if gone {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the grandchild survived the group kill"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn an_environment_too_large_for_exec_is_a_clear_error_without_the_value() {
    let h = Home::new();
    let huge: String = "canary-huge-".repeat(200_000 / 12);
    h.set_secret("HUGE", &huge);
    let out = h.run(&["env", "--only", "HUGE", "--", "true"]);
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("environment is too large"), "{err}");
    assert!(!err.contains("canary-huge-"), "{err}");
}
