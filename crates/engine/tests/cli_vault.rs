//! The vault and management CLI, driven through the real binary with a
//! temporary home and the file key store. Security rows: S9 (no value in
//! argv), S13 (allowlist changes need the admin password), S14 (vault at
//! rest); reliability: concurrent writers and a writer killed mid-write.

mod support;

use agentsecrets_engine::home::Home;
use agentsecrets_engine::vault::Vault;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{spawn, Running, ADMIN_EMAIL, ADMIN_PASSWORD};

const CANARY: &str = "canary-S14-9f86d081884c7d659a2feaa0c55ad015";

/// A test home's vault, read through the library.
trait VaultOf {
    fn vault(&self) -> Vault;
    fn value(&self, workspace: Option<&str>, project: Option<&str>, key: &str) -> String;
}

impl VaultOf for support::Home {
    fn vault(&self) -> Vault {
        Vault::open(&Home::at(self.path())).unwrap()
    }

    fn value(&self, workspace: Option<&str>, project: Option<&str>, key: &str) -> String {
        let v = self.vault();
        let s = v.scope(workspace, project).unwrap();
        v.secret(&s, key).unwrap().to_string()
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn all_paths(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all_paths(&p, out);
        }
        out.push(p);
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

// ---- init and status -----------------------------------------------------

#[test]
fn version_names_the_engine_so_the_sdk_can_tell_it_from_the_upstream_cli() {
    let out = support::Home::empty().run(&["--version"]).ok();
    assert_eq!(
        out.stdout,
        format!(
            "agentsecrets {} (agentsecrets-engine)\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn init_creates_a_private_home_and_status_reports_it() {
    let env = support::Home::new();
    assert_eq!(mode(env.path()), 0o700);
    for f in ["vault.db", "config.json", "master.key"] {
        assert_eq!(mode(&env.path().join(f)), 0o600, "{f}");
    }
    let s = env.json(&["status"]);
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "home",
            "lastPull",
            "projectName",
            "proxyRunning",
            "storageMode",
            "userEmail",
            "workspaceName"
        ]
    );
    assert_eq!(s["userEmail"], ADMIN_EMAIL);
    assert_eq!(s["workspaceName"], "Personal");
    assert_eq!(s["projectName"], "default");
    assert_eq!(s["lastPull"], Value::Null);
    assert_eq!(s["proxyRunning"], false);
    assert_eq!(s["storageMode"], "file");
    assert_eq!(s["home"], env.path().display().to_string());
    let human = env.run(&["status"]).ok();
    assert!(human.stdout.contains("Personal") && human.stdout.contains("file"));

    // A live proxy's state file (this test process stands in for it).
    let home = Home::at(env.path());
    let state = agentsecrets_engine::proxy::state::ProxyState {
        pid: std::process::id(),
        port: 8765,
        socket: home.socket_path().display().to_string(),
        started_at: 0,
        version: "test".into(),
    };
    agentsecrets_engine::proxy::state::write(&home, &state).unwrap();
    assert_eq!(env.json(&["status"])["proxyRunning"], true);
    agentsecrets_engine::proxy::state::clear(&home);
    assert_eq!(env.json(&["status"])["proxyRunning"], false);
}

#[test]
fn init_twice_is_already_exists_and_changes_nothing() {
    let env = support::Home::new();
    let before: Vec<_> = ["vault.db", "master.key", "config.json"]
        .iter()
        .map(|f| std::fs::read(env.path().join(f)).unwrap())
        .collect();
    let o = env.run_stdin(
        &["--json", "init", "--admin-password-stdin"],
        "another password\n",
    );
    assert_eq!(o.code, 1);
    assert_eq!(o.error()["code"], "ALREADY_EXISTS");
    assert!(o.error()["fix"].as_str().unwrap().contains("status"));
    let after: Vec<_> = ["vault.db", "master.key", "config.json"]
        .iter()
        .map(|f| std::fs::read(env.path().join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn init_needs_a_password_source_and_a_long_enough_password() {
    let env = support::Home::empty();
    // No TTY, no flag.
    let o = env.run(&["--json", "init"]);
    assert_eq!(o.code, 2);
    let fix = o.error()["fix"].as_str().unwrap().to_owned();
    assert!(
        fix.contains("--admin-password-stdin") && fix.contains("terminal"),
        "{fix}"
    );
    assert!(!env.path().join("vault.db").exists());
    // Too short.
    let o = env.run_stdin(&["--json", "init", "--admin-password-stdin"], "short\n");
    assert_eq!(
        (o.code, o.error()["code"].as_str()),
        (2, Some("INVALID_REQUEST"))
    );
    assert!(!env.path().join("vault.db").exists());
    // Empty stdin.
    let o = env.run_stdin(&["init", "--admin-password-stdin"], "");
    assert_eq!(o.code, 2);
    // Bad email.
    let o = env.run_stdin(
        &["init", "--admin-password-stdin", "--email", "nope"],
        "long enough\n",
    );
    assert_eq!(o.code, 2);
    assert!(!env.path().join("vault.db").exists());
    env.run_stdin(&["init", "--admin-password-stdin"], "long enough\n")
        .ok();
    assert_eq!(env.json(&["status"])["userEmail"], Value::Null);
}

#[test]
fn commands_before_init_say_to_run_init() {
    let env = support::Home::empty();
    for args in [
        vec!["--json", "status"],
        vec!["--json", "secrets", "list"],
        vec!["--json", "workspace", "list"],
        vec!["--json", "project", "list"],
        vec!["--json", "workspace", "allowlist", "list"],
    ] {
        let o = env.run(&args);
        assert_eq!(o.code, 1, "{args:?}");
        assert_eq!(o.error()["code"], "NOT_INITIALIZED");
        assert!(o.error()["fix"]
            .as_str()
            .unwrap()
            .contains("agentsecrets init"));
    }
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "the Secret Service over D-Bus is Linux's keychain"
)]
fn keychain_probe_fails_fast_without_a_session_bus() {
    let env = support::Home::empty();
    let start = Instant::now();
    let mut c = env.cmd();
    c.env("AGENTSECRETS_KEY_STORE", "keychain")
        .args(["--json", "init", "--admin-password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(&mut c);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"long enough\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(o.status.code(), Some(1));
    let err: Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(err["error"]["code"], "VAULT_ERROR");
    assert!(err["error"]["fix"]
        .as_str()
        .unwrap()
        .contains("AGENTSECRETS_KEY_STORE=file"));
    assert!(!env.path().join("vault.db").exists());

    // Without a forced store, an unusable keychain means the key file.
    let mut c = env.cmd();
    c.env_remove("AGENTSECRETS_KEY_STORE")
        .args(["init", "--admin-password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(&mut c);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"long enough\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(env.json(&["status"])["storageMode"], "file");

    let o = env.run(&["status"]);
    assert_eq!(o.code, 0);
    let mut c = env.cmd();
    let o = c
        .env("AGENTSECRETS_KEY_STORE", "disk")
        .args(["init"])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
}

// ---- secrets --------------------------------------------------------------

#[test]
fn secrets_set_list_delete() {
    let env = support::Home::new();
    // Exactly one trailing newline is stripped.
    env.run_stdin(&["secrets", "set", "FROM_STDIN"], "line one\nline two\n\n")
        .ok();
    assert_eq!(env.value(None, None, "FROM_STDIN"), "line one\nline two\n");
    env.run_stdin(&["secrets", "set", "CRLF"], "v\r\n").ok();
    assert_eq!(env.value(None, None, "CRLF"), "v");
    env.run_stdin(&["secrets", "set", "NO_NEWLINE"], "exact")
        .ok();
    assert_eq!(env.value(None, None, "NO_NEWLINE"), "exact");
    // Compatibility form, several at once, with '=' inside a value.
    let o = env.run(&["secrets", "set", "A=1", "B=x=y"]).ok();
    assert!(o.stderr.contains("visible to other processes"));
    // Short values are stored, with a note that their echoes are masked widely.
    assert!(
        o.stderr.contains("note: B is only 3 bytes long"),
        "{}",
        o.stderr
    );
    let o = env
        .run_stdin(&["secrets", "set", "LONG_ENOUGH"], "a-real-length-value")
        .ok();
    assert!(!o.stderr.contains("note:"), "{}", o.stderr);
    env.run(&["secrets", "delete", "LONG_ENOUGH"]).ok();
    assert_eq!(env.value(None, None, "B"), "x=y");
    // Mixed: one key from stdin plus KEY=VALUE.
    env.run_stdin(&["secrets", "set", "C=3", "D"], "four\n")
        .ok();
    assert_eq!(env.value(None, None, "D"), "four");

    let list = env.json(&["secrets", "list"]);
    let arr = list.as_array().unwrap();
    let keys: Vec<&str> = arr.iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        ["A", "B", "C", "CRLF", "D", "FROM_STDIN", "NO_NEWLINE"]
    );
    for s in arr {
        let mut fields: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort();
        assert_eq!(fields, ["createdAt", "key", "updatedAt"]);
        let ts = s["createdAt"].as_str().unwrap();
        assert!(
            ts.ends_with('Z') && ts.len() == 24 && &ts[10..11] == "T",
            "{ts}"
        );
    }
    // Values never appear in listings.
    let human = env.run(&["secrets", "list"]).ok();
    assert!(!human.stdout.contains("four") && !human.stdout.contains("exact"));

    env.run(&["secrets", "delete", "A"]).ok();
    let o = env.run(&["--json", "secrets", "delete", "A"]);
    assert_eq!(o.code, 3);
    assert_eq!(o.error()["code"], "SECRET_NOT_FOUND");
    assert_eq!(o.error()["key"], "A");
    assert!(o.error()["fix"].as_str().unwrap().contains("secrets set A"));
}

#[test]
fn secrets_set_refuses_bad_input_and_writes_nothing() {
    let env = support::Home::new();
    for (args, stdin) in [
        (vec!["secrets", "set", "EMPTY"], Some("")),
        (vec!["secrets", "set", "NL_ONLY"], Some("\n")),
        (vec!["secrets", "set", "E="], None),
        (vec!["secrets", "set", "X", "Y"], Some("v\n")),
        (vec!["secrets", "set", "BAD KEY=v"], None),
        (vec!["secrets", "set", "OK=1", "OK=2"], None),
        (vec!["secrets", "set", "OK=1", "BAD/KEY=2"], None),
    ] {
        let mut a = vec!["--json"];
        a.extend_from_slice(&args);
        let o = match stdin {
            Some(input) => env.run_stdin(&a, input),
            None => env.run(&a),
        };
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert_eq!(o.error()["code"], "INVALID_REQUEST");
        assert!(o.error()["fix"].is_string());
    }
    let o = env.run(&["--json", "secrets", "set", "BIN"]);
    assert_eq!(o.code, 2, "empty stdin (null) is refused");
    assert_eq!(env.json(&["secrets", "list"]), serde_json::json!([]));
    // Non-UTF-8 from stdin.
    let mut c = env.cmd();
    c.args(["secrets", "set", "BIN"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(&mut c);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&[0xff, 0xfe, 0x00])
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(2));
    assert_eq!(env.json(&["secrets", "list"]), serde_json::json!([]));
}

#[test]
fn scope_flags_and_scope_errors() {
    let env = support::Home::new();
    env.run(&["workspace", "create", "Client A"]).ok();
    env.run(&["project", "create", "api", "--workspace", "Client A"])
        .ok();
    env.run_stdin(
        &[
            "secrets",
            "set",
            "K",
            "--workspace",
            "Client A",
            "--project",
            "api",
        ],
        "in-api\n",
    )
    .ok();
    env.run_stdin(&["secrets", "set", "K"], "in-personal\n")
        .ok();
    assert_eq!(env.value(Some("Client A"), Some("api"), "K"), "in-api");
    assert_eq!(env.value(None, None, "K"), "in-personal");
    let l = env.json(&[
        "secrets",
        "list",
        "--workspace",
        "Client A",
        "--project",
        "api",
    ]);
    assert_eq!(l.as_array().unwrap().len(), 1);
    let l = env.json(&["secrets", "list", "--workspace", "Client A"]);
    assert_eq!(
        l,
        serde_json::json!([]),
        "a workspace alone means its default project"
    );

    let o = env.run(&["--json", "secrets", "list", "--workspace", "Nope"]);
    assert_eq!(
        (o.code, o.error()["code"].as_str()),
        (3, Some("WORKSPACE_NOT_FOUND"))
    );
    assert!(o.error()["fix"]
        .as_str()
        .unwrap()
        .contains("workspace list"));
    let o = env.run_stdin(
        &["--json", "secrets", "set", "K", "--project", "nope"],
        "v\n",
    );
    assert_eq!(
        (o.code, o.error()["code"].as_str()),
        (3, Some("PROJECT_NOT_FOUND"))
    );
    assert!(o.error()["fix"]
        .as_str()
        .unwrap()
        .contains("project create"));
    let o = env.run(&["--json", "project", "list", "--workspace", "Nope"]);
    assert_eq!(o.code, 3);
    let o = env.run(&["--json", "project", "use", "nope"]);
    assert_eq!(
        (o.code, o.error()["code"].as_str()),
        (3, Some("PROJECT_NOT_FOUND"))
    );
    let o = env.run(&["--json", "workspace", "switch", "Nope"]);
    assert_eq!(
        (o.code, o.error()["code"].as_str()),
        (3, Some("WORKSPACE_NOT_FOUND"))
    );
}

// ---- workspaces and projects ---------------------------------------------

#[test]
fn workspaces() {
    let env = support::Home::new();
    env.run(&["workspace", "create", "Work"]).ok();
    let o = env.run(&["--json", "workspace", "create", "Work"]);
    assert_eq!(
        (o.code, o.error()["code"].as_str()),
        (1, Some("ALREADY_EXISTS"))
    );
    let o = env.run(&["--json", "workspace", "create", " padded"]);
    assert_eq!(o.code, 2);

    let l = env.json(&["workspace", "list"]);
    let names: Vec<(&str, bool)> = l
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["name"].as_str().unwrap(), w["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(names, [("Personal", true), ("Work", false)]);
    assert_eq!(l[1]["projects"], serde_json::json!(["default"]));

    // Switching selects the workspace's default project.
    env.run(&["project", "create", "other", "--workspace", "Work"])
        .ok();
    let s = env.json(&["workspace", "switch", "Work"]);
    assert_eq!(
        (s["workspaceName"].as_str(), s["projectName"].as_str()),
        (Some("Work"), Some("default"))
    );
    let st = env.json(&["status"]);
    assert_eq!(
        (st["workspaceName"].as_str(), st["projectName"].as_str()),
        (Some("Work"), Some("default"))
    );
    let l = env.json(&["workspace", "list"]);
    assert_eq!(l[1]["active"], true);
    assert_eq!(l[0]["active"], false);
    let human = env.run(&["workspace", "list"]).ok();
    assert!(human
        .stdout
        .lines()
        .any(|l| l.starts_with('*') && l.contains("Work")));

    let m = env.json(&["workspace", "members"]);
    assert_eq!(m.as_array().unwrap().len(), 1);
    assert_eq!(m[0]["role"], "owner");
    assert_eq!(m[0]["email"], ADMIN_EMAIL);
}

#[test]
fn projects() {
    let env = support::Home::new();
    env.run(&["project", "create", "api"]).ok();
    let o = env.run(&["--json", "project", "create", "api"]);
    assert_eq!(o.error()["code"], "ALREADY_EXISTS");
    let l = env.json(&["project", "list"]);
    let rows: Vec<(&str, bool)> = l
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(rows, [("default", true), ("api", false)]);
    assert!(l[0]["createdAt"].is_string() && l[0]["secretCount"] == 0);

    env.run(&["project", "use", "api"]).ok();
    assert_eq!(env.json(&["status"])["projectName"], "api");
    env.run_stdin(&["secrets", "set", "X"], "x\n").ok();
    assert_eq!(env.json(&["project", "list"])[1]["secretCount"], 1);

    // The active project is refused, with a fix naming `project use`.
    let o = env.run(&["--json", "project", "delete", "api"]);
    assert_eq!(o.code, 2);
    assert!(o.error()["fix"].as_str().unwrap().contains("project use"));
    env.run(&["project", "use", "default"]).ok();
    let d = env.json(&["project", "delete", "api"]);
    assert_eq!(d["deletedSecrets"], 1);
    let o = env.run(&["--json", "project", "delete", "api"]);
    assert_eq!(
        (o.code, o.error()["code"].as_str()),
        (3, Some("PROJECT_NOT_FOUND"))
    );
    // Secrets of a deleted project do not come back with a namesake.
    env.run(&["project", "create", "api"]).ok();
    assert_eq!(
        env.json(&["secrets", "list", "--project", "api"]),
        serde_json::json!([])
    );
    let help = env.run(&["project", "delete", "--help"]).ok();
    assert!(help.stdout.contains("active project is never deleted"));
}

// ---- allowlist (S13) ------------------------------------------------------

fn allowlist_is_untouched(env: &support::Home) {
    assert_eq!(
        env.json(&["workspace", "allowlist", "list"]),
        serde_json::json!([])
    );
    assert_eq!(
        env.json(&["workspace", "allowlist", "log"]),
        serde_json::json!([])
    );
}

#[test]
fn s13_allowlist_changes_without_a_human_are_denied() {
    let env = support::Home::new();
    for verb in ["add", "remove"] {
        // No TTY (stdin is /dev/null) and no --password-stdin.
        let o = env.run(&["--json", "workspace", "allowlist", verb, "api.example.com"]);
        assert_eq!(o.code, 4, "{}", o.stderr);
        let e = o.error();
        assert_eq!(e["code"], "ALLOWLIST_MODIFICATION_DENIED");
        assert_eq!(e["error"], "allowlist_modification_denied");
        assert!(e["message"]
            .as_str()
            .unwrap()
            .contains("allowlist changes need the admin password"));
        let fix = e["fix"].as_str().unwrap();
        assert!(
            fix.contains("--password-stdin") && fix.contains("terminal"),
            "{fix}"
        );
        // Even with data on stdin, without the flag nothing is read as a password.
        let o = env.run_stdin(
            &["--json", "workspace", "allowlist", verb, "api.example.com"],
            format!("{ADMIN_PASSWORD}\n"),
        );
        assert_eq!(o.error()["code"], "ALLOWLIST_MODIFICATION_DENIED");
        // Wrong password.
        let o = env.run_stdin(
            &[
                "--json",
                "workspace",
                "allowlist",
                verb,
                "api.example.com",
                "--password-stdin",
            ],
            "not the password\n",
        );
        assert_eq!(o.code, 4);
        assert_eq!(o.error()["code"], "ALLOWLIST_MODIFICATION_DENIED");
        // The right password with a suffix is still wrong.
        let o = env.run_stdin(
            &[
                "--json",
                "workspace",
                "allowlist",
                verb,
                "api.example.com",
                "--password-stdin",
            ],
            format!("{ADMIN_PASSWORD}x\n"),
        );
        assert_eq!(o.error()["code"], "ALLOWLIST_MODIFICATION_DENIED");
        // Flag given but nothing on stdin.
        let o = env.run_stdin(
            &[
                "--json",
                "workspace",
                "allowlist",
                verb,
                "a.example",
                "--password-stdin",
            ],
            "",
        );
        assert_eq!(o.error()["code"], "ALLOWLIST_MODIFICATION_DENIED");
        // Human-readable form says it too.
        let o = env.run(&["workspace", "allowlist", verb, "api.example.com"]);
        assert!(o
            .stderr
            .contains("allowlist changes need the admin password"));
        allowlist_is_untouched(&env);
    }
}

#[test]
fn s13_guessing_the_admin_password_is_throttled() {
    let env = support::Home::new();
    let add = |pw: &str| {
        env.run_stdin(
            &[
                "--json",
                "workspace",
                "allowlist",
                "add",
                "api.example.com",
                "--password-stdin",
            ],
            format!("{pw}\n"),
        )
    };
    for i in 0..5 {
        let o = add(&format!("guess-{i}"));
        assert_eq!(o.error()["code"], "ALLOWLIST_MODIFICATION_DENIED");
    }
    // Now even the right password is refused until the wait is over.
    let o = add(ADMIN_PASSWORD);
    assert_eq!(o.code, 4);
    let e = o.error();
    assert_eq!(e["code"], "ALLOWLIST_MODIFICATION_DENIED");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("too many wrong passwords"),
        "{e}"
    );
    allowlist_is_untouched(&env);
}

#[test]
fn s13_parallel_guesses_do_not_slip_past_the_throttle() {
    let env = std::sync::Arc::new(support::Home::new());
    let guesses: Vec<_> = (0..12)
        .map(|i| {
            let env = env.clone();
            std::thread::spawn(move || {
                let o = env.run_stdin(
                    &[
                        "--json",
                        "workspace",
                        "allowlist",
                        "add",
                        "a.example",
                        "--password-stdin",
                    ],
                    format!("parallel-guess-{i}\n"),
                );
                assert_eq!(o.error()["code"], "ALLOWLIST_MODIFICATION_DENIED");
                o.error()["message"].as_str().unwrap().contains("is wrong")
            })
        })
        .collect();
    let checked = guesses
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|c| *c)
        .count();
    assert!(checked <= 5, "{checked} guesses were checked");
    allowlist_is_untouched(&env);
}

/// Needs `crate::destination::normalize_entry` (host canonicalisation).
#[test]
fn allowlist_add_remove_list_log_with_the_admin_password() {
    let env = support::Home::new();
    let pw = format!("{ADMIN_PASSWORD}\n");
    let a = env
        .run_stdin(
            &[
                "--json",
                "workspace",
                "allowlist",
                "add",
                "API.Example.com",
                "b.example.org",
                "--password-stdin",
            ],
            &pw,
        )
        .ok()
        .json();
    assert_eq!(
        a["added"],
        serde_json::json!(["api.example.com", "b.example.org"])
    );
    // Adding an existing entry says so; it is not an error.
    let again = env
        .run_stdin(
            &[
                "--json",
                "workspace",
                "allowlist",
                "add",
                "api.example.com",
                "--password-stdin",
            ],
            &pw,
        )
        .ok()
        .json();
    assert_eq!(again["added"], serde_json::json!([]));
    assert_eq!(
        again["alreadyPresent"],
        serde_json::json!(["api.example.com"])
    );
    let human = env
        .run_stdin(
            &[
                "workspace",
                "allowlist",
                "add",
                "api.example.com",
                "--password-stdin",
            ],
            &pw,
        )
        .ok();
    assert!(human.stdout.contains("already allowed"));

    let l = env.json(&["workspace", "allowlist", "list"]);
    let entries: Vec<&str> = l
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"].as_str().unwrap())
        .collect();
    assert_eq!(entries, ["api.example.com", "b.example.org"]);
    let mut fields: Vec<&str> = l[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(fields, ["addedAt", "entry"]);

    let r = env
        .run_stdin(
            &[
                "--json",
                "workspace",
                "allowlist",
                "remove",
                "b.example.org",
                "never.example",
                "--password-stdin",
            ],
            &pw,
        )
        .ok()
        .json();
    assert_eq!(r["removed"], serde_json::json!(["b.example.org"]));
    assert_eq!(r["notPresent"], serde_json::json!(["never.example"]));

    let log = env.json(&["workspace", "allowlist", "log"]);
    let rows: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["action"].as_str().unwrap(), c["entry"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("add", "api.example.com"),
            ("add", "b.example.org"),
            ("remove", "b.example.org")
        ]
    );
    let mut fields: Vec<&str> = log[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(fields, ["action", "entry", "timestamp"]);
    let last = env.json(&["workspace", "allowlist", "log", "--last", "1"]);
    assert_eq!(last.as_array().unwrap().len(), 1);
    assert_eq!(last[0]["action"], "remove");

    // The proxy's view through the library.
    let v = env.vault();
    assert_eq!(
        v.allowlist(&v.active().unwrap()).unwrap(),
        ["api.example.com"]
    );
    // Another workspace has its own, empty allowlist.
    env.run(&["workspace", "create", "Other"]).ok();
    assert_eq!(
        env.json(&["workspace", "allowlist", "list", "--workspace", "Other"]),
        serde_json::json!([])
    );
    // A person at a terminal types the password at the prompt.
    if let Some((code, shown)) = run_on_tty(
        &env,
        &["workspace", "allowlist", "add", "tty.example.com"],
        &[("Admin password", ADMIN_PASSWORD)],
    ) {
        assert_eq!(code, 0, "{shown}");
        assert!(!shown.contains(ADMIN_PASSWORD), "password echoed: {shown}");
        assert_eq!(
            v.allowlist(&v.active().unwrap()).unwrap(),
            ["api.example.com", "tty.example.com"]
        );
    }
}

// ---- S14: the vault at rest -------------------------------------------------

#[test]
fn s14_no_plaintext_value_in_any_file_and_private_modes() {
    let env = support::Home::new();
    // A handle held open keeps the WAL in place, so it is scanned too.
    let held = env.vault();
    env.run_stdin(&["secrets", "set", "CANARY"], format!("{CANARY}\n"))
        .ok();
    env.run(&["project", "create", "p2"]).ok();
    env.run_stdin(&["secrets", "set", "CANARY2", "--project", "p2"], CANARY)
        .ok();
    env.run_stdin(&["secrets", "set", "CANARY"], format!("{CANARY}-v2\n"))
        .ok();
    env.run(&["secrets", "delete", "CANARY2", "--project", "p2"])
        .ok();
    assert_eq!(
        held.secret(&held.active().unwrap(), "CANARY")
            .unwrap()
            .as_str(),
        format!("{CANARY}-v2")
    );

    let mut paths = Vec::new();
    all_paths(env.path(), &mut paths);
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n == "vault.db-wal"),
        "WAL present while a handle is open: {names:?}"
    );
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(CANARY);
    for p in &paths {
        if p.is_dir() {
            assert_eq!(mode(p), 0o700, "{}", p.display());
            continue;
        }
        assert_eq!(mode(p), 0o600, "{}", p.display());
        let bytes = std::fs::read(p).unwrap();
        assert!(
            !contains(&bytes, CANARY.as_bytes()),
            "plaintext value in {}",
            p.display()
        );
        assert!(
            !contains(&bytes, b64.as_bytes()),
            "base64 value in {}",
            p.display()
        );
    }
    drop(held);
    // And after the last handle closed (WAL checkpointed into vault.db).
    let db = std::fs::read(env.path().join("vault.db")).unwrap();
    assert!(!contains(&db, CANARY.as_bytes()));
}

// ---- S9: no value in argv -----------------------------------------------------

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc")]
fn s9_secrets_set_keeps_the_value_out_of_every_cmdline() {
    let env = support::Home::new();
    let canary = "canary-S9-3b7e1f0a9d24c6e8";
    let mut c = env.cmd();
    c.args(["secrets", "set", "ARGV_CHECK"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(&mut c);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(canary.as_bytes()).unwrap();
    stdin.flush().unwrap();
    // The value is in the pipe and the process is waiting for EOF: scan now.
    std::thread::sleep(Duration::from_millis(300));
    let mut scanned = 0;
    let mut saw_child = false;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = e.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
            scanned += 1;
            assert!(
                !contains(&cmdline, canary.as_bytes()),
                "value in /proc/{pid}/cmdline"
            );
            if pid == child.id().to_string() {
                saw_child = true;
                assert!(contains(&cmdline, b"ARGV_CHECK"));
            }
        }
    }
    assert!(scanned > 1 && saw_child);
    assert!(
        child.try_wait().unwrap().is_none(),
        "still reading stdin during the scan"
    );
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert_eq!(env.value(None, None, "ARGV_CHECK"), canary);
}

// ---- reliability ----------------------------------------------------------------

#[test]
fn concurrent_writers_lose_nothing() {
    let env = std::sync::Arc::new(support::Home::new());
    let procs = 20;
    let per = 50;
    let handles: Vec<_> = (0..procs)
        .map(|p| {
            let env = env.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    let key = format!("K_{p:02}_{i:02}");
                    let o = env.run_stdin(&["secrets", "set", &key], format!("value-{p}-{i}\n"));
                    assert_eq!(o.code, 0, "{key}: {}", o.stderr);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let list = env.json(&["secrets", "list"]);
    assert_eq!(list.as_array().unwrap().len(), procs * per);
    let v = env.vault();
    let all = v.secrets(&v.active().unwrap(), None).unwrap();
    assert_eq!(all.len(), procs * per);
    for (k, val) in &all {
        let (p, i) = k[2..].split_once('_').unwrap();
        assert_eq!(
            val.as_str(),
            format!(
                "value-{}-{}",
                p.parse::<u32>().unwrap(),
                i.parse::<u32>().unwrap()
            )
        );
    }
}

fn integrity_ok(home: &Path) {
    let c = rusqlite::Connection::open(home.join("vault.db")).unwrap();
    let r: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok");
}

fn wait_for_line(child: &mut Child, needle: &str) {
    let stderr = child.stderr.take().unwrap();
    let mut reader = BufReader::new(stderr);
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).unwrap();
        assert!(n > 0, "process ended before printing {needle:?}");
        if line.contains(needle) {
            return;
        }
    }
}

#[test]
fn writer_killed_mid_transaction_leaves_the_old_value() {
    if !cfg!(debug_assertions) {
        return; // the stall hook exists only in debug builds
    }
    let env = support::Home::new();
    env.run_stdin(&["secrets", "set", "K"], "old-value\n").ok();
    let mut c = env.cmd();
    c.env("AGENTSECRETS_TEST_STALL_BEFORE_COMMIT_MS", "30000")
        .args(["secrets", "set", "K", "NEW_ONE=x"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(&mut c);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"new-value\n")
        .unwrap();
    wait_for_line(&mut child, "stalling-before-commit");
    child.kill().unwrap(); // SIGKILL inside the open write transaction
    child.wait().unwrap();
    integrity_ok(env.path());
    assert_eq!(env.value(None, None, "K"), "old-value");
    let keys = env.json(&["secrets", "list"]);
    assert_eq!(
        keys.as_array().unwrap().len(),
        1,
        "the killed transaction left nothing"
    );
    // The lock died with the process: the next writer goes through at once.
    let start = Instant::now();
    env.run_stdin(&["secrets", "set", "K"], "newer\n").ok();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(env.value(None, None, "K"), "newer");
}

#[test]
fn writers_killed_at_random_points_leave_old_or_new() {
    let env = support::Home::new();
    let big = |tag: usize| format!("{tag:04}-{}", "x".repeat(1000 * 1024));
    let set = |tag: usize| -> Running {
        let mut c = env.cmd();
        // Two keys in one transaction: they must change together or not at all.
        let tag_arg = format!("TAG={tag}");
        c.args(["secrets", "set", "BIG", &tag_arg])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = spawn(&mut c);
        let mut si = child.stdin.take().unwrap();
        let _ = si.write_all(big(tag).as_bytes());
        child
    };
    // How long an undisturbed write takes on this machine (best of three).
    let full = (0..3)
        .map(|_| {
            let start = Instant::now();
            assert!(set(0).wait().unwrap().success());
            start.elapsed()
        })
        .min()
        .unwrap();
    let rounds = 16;
    let (mut current, mut kept_old, mut took_new) = (0usize, 0, 0);
    for round in 1..=rounds {
        let child_start = Instant::now();
        let mut child = set(round);
        // Kill at points spread from the start to a little beyond a whole write.
        let at = full * (round as u32 - 1) / (rounds as u32 - 4);
        std::thread::sleep(at.saturating_sub(child_start.elapsed()));
        let _ = child.kill();
        child.wait().unwrap();
        integrity_ok(env.path());
        let v = env.vault();
        let s = v.active().unwrap();
        let big_now = v.secret(&s, "BIG").unwrap();
        let tag_now: usize = v.secret(&s, "TAG").unwrap().parse().unwrap();
        if tag_now == round {
            assert_eq!(
                big_now.as_str(),
                big(round),
                "round {round}: TAG is new, BIG is not"
            );
            current = round;
            took_new += 1;
        } else {
            assert_eq!(
                tag_now, current,
                "round {round}: TAG is neither old nor new"
            );
            assert_eq!(
                big_now.as_str(),
                big(current),
                "round {round}: BIG is neither old nor new"
            );
            kept_old += 1;
        }
    }
    // Both outcomes should occur; at least some kills must land before the commit.
    assert!(
        kept_old > 0,
        "no kill landed before a commit (full write took {full:?})"
    );
    eprintln!("killed writers: {kept_old} kept the old value, {took_new} committed the new one");
}

// ---- terminal prompts (through a pseudo-terminal made by `script`) --------------

/// Runs the binary on a pseudo-terminal, answering each prompt as it
/// appears. Returns (exit code, everything the terminal showed), or `None`
/// when util-linux `script` is not installed.
fn run_on_tty(
    env: &support::Home,
    args: &[&str],
    answers: &[(&str, &str)],
) -> Option<(i32, String)> {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: /usr/bin/script is not installed");
        return None;
    }
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = quote(env!("CARGO_BIN_EXE_agentsecrets"));
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let mut cmd = Command::new("/usr/bin/script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SHELL", "/bin/sh")
        .env("AGENTSECRETS_HOME", env.path())
        .env("AGENTSECRETS_KEY_STORE", "file")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(&mut cmd);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let shown = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let reader = {
        let shown = shown.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match std::io::Read::read(&mut stdout, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => shown.lock().unwrap().extend_from_slice(&buf[..n]),
                }
            }
        })
    };
    let mut seen = 0;
    for (prompt, answer) in answers {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = String::from_utf8_lossy(&shown.lock().unwrap()).into_owned();
            if let Some(i) = text[seen..].find(prompt) {
                seen += i + prompt.len();
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no prompt {prompt:?}; terminal showed: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Let the prompt switch echo off before typing.
        std::thread::sleep(Duration::from_millis(100));
        stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let status = child.wait().unwrap();
    drop(stdin);
    reader.join().unwrap();
    let text = String::from_utf8_lossy(&shown.lock().unwrap()).into_owned();
    Some((status.code().unwrap_or(-1), text))
}

#[test]
fn terminal_prompts_do_not_echo() {
    let env = support::Home::empty();
    // init asks twice; a mismatch changes nothing.
    let Some((code, _)) = run_on_tty(
        &env,
        &["init"],
        &[
            ("Choose an admin password", "tty-password-1"),
            ("Repeat", "tty-password-2"),
        ],
    ) else {
        return;
    };
    assert_eq!(code, 2);
    assert!(!env.path().join("vault.db").exists());
    let (code, shown) = run_on_tty(
        &env,
        &["init"],
        &[
            ("Choose an admin password", "tty-password-1"),
            ("Repeat", "tty-password-1"),
        ],
    )
    .unwrap();
    assert_eq!(code, 0, "{shown}");
    assert!(
        !shown.contains("tty-password-1"),
        "password echoed: {shown}"
    );

    // secrets set KEY on a terminal asks without echo.
    let canary = "canary-tty-0c9d7a3e5b";
    let (code, shown) = run_on_tty(
        &env,
        &["secrets", "set", "TTY_KEY"],
        &[("Value for TTY_KEY", canary)],
    )
    .unwrap();
    assert_eq!(code, 0, "{shown}");
    assert!(!shown.contains(canary), "value echoed: {shown}");
    assert_eq!(env.value(None, None, "TTY_KEY"), canary);

    // A wrong password typed at the allowlist prompt is refused (S13).
    let (code, shown) = run_on_tty(
        &env,
        &["workspace", "allowlist", "add", "api.example.com"],
        &[("Admin password", "not-the-password")],
    )
    .unwrap();
    assert_eq!(code, 4, "{shown}");
    assert!(shown.contains("admin password"));
    assert!(!shown.contains("not-the-password"));
    allowlist_is_untouched(&env);
}
