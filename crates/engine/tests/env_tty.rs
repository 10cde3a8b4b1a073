//! `agentsecrets env` on a terminal: the child gets the terminal itself
//! (nothing to capture, so nothing is piped or masked). Uses util-linux
//! `script` for a pseudo-terminal; skipped where it is missing.

mod support;

use std::path::Path;
use std::process::Command;
use support::*;

fn script_available() -> bool {
    Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn on_a_terminal_the_child_inherits_it() {
    if !script_available() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let h = Home::new();
    h.set_secret("KEY", "tty-canary-31ab");
    let probe = "test -t 0 && echo in-tty; test -t 1 && echo out-tty; test -t 2 && echo err-tty";
    let inner = format!("{BIN} env -- sh -c '{probe}'");
    let out = h
        .cmd_of(Path::new("script"))
        .args(["-qec", &inner, "/dev/null"])
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", text(&out.stderr));
    for want in ["in-tty", "out-tty", "err-tty"] {
        assert!(
            stdout.contains(want),
            "child must get the terminal ({want}): {stdout}"
        );
    }
}

#[test]
fn with_stdin_on_a_terminal_sigint_is_left_to_the_terminal() {
    if !script_available() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let h = Home::new();
    h.set_secret("KEY", "tty-canary-31ab");
    // The terminal sends ^C to the whole foreground group itself; an INT
    // sent to the engine alone must neither kill it nor be passed on twice.
    let child = r#"trap "echo got-int" INT; echo engine=$PPID; sleep 1; echo done"#;
    let inner = format!("{BIN} env -- sh -c '{child}'");
    let mut script = spawn(
        h.cmd_of(Path::new("script"))
            .args(["-qec", &inner, "/dev/null"])
            .env("TERM", "dumb")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped()),
    );
    let lines = line_reader(script.stdout.take().unwrap());
    let first = next_line(&lines, "engine pid");
    let pid: u32 = first
        .trim()
        .strip_prefix("engine=")
        .unwrap()
        .parse()
        .unwrap();
    signal(pid, "INT");
    let rest: Vec<String> = lines.iter().map(|l| l.trim().to_owned()).collect();
    let status = wait_timeout(&mut script, 10);
    assert!(
        status.success(),
        "engine survived and exited with the child's code: {rest:?}"
    );
    assert_eq!(rest, vec!["done".to_owned()]);
}
