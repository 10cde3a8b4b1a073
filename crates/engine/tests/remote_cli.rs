//! `agentsecrets remote` without a server: bad bindings are refused with a
//! typed error and nothing stored, a binding change needs the admin
//! password, an unreachable server is REMOTE_UNREACHABLE, and nothing
//! printed carries a credential. (The OpenBao round trips themselves are
//! tested against a real `bao server -dev` in __test__/remote-openbao.test.mjs.)

mod support;

use std::net::TcpListener;
use support::ADMIN_PASSWORD;

const TOKEN: &str = "hvs.cnry-remote-cli-token-4Lq8";

/// A loopback port with nothing listening on it.
fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn bad_bindings_are_refused_and_nothing_is_stored() {
    let home = support::Home::new();
    for bad in [
        vec!["--address=ftp://h"],
        vec!["--address=http://u:p@127.0.0.1:1"],
        vec!["--address=http://127.0.0.1:1/v1"],
        vec!["--address=http://127.0.0.1:1", "--prefix=../x"],
        vec!["--address=http://127.0.0.1:1", "--mode=push"],
        vec!["--address=http://127.0.0.1:1", "--role-id-env=R"],
    ] {
        let mut args = vec!["--json", "remote", "set", "--no-check", "--password-stdin"];
        args.extend(bad.iter().copied());
        let out = home.run_stdin(&args, format!("{ADMIN_PASSWORD}\n"));
        assert_eq!(out.code, 2, "{bad:?}: {}", out.stderr);
        assert_eq!(out.error()["code"], "INVALID_REQUEST", "{bad:?}");
    }
    assert!(!home.path().join("remote.json").exists());
}

#[test]
fn a_binding_change_needs_the_admin_password() {
    let home = support::Home::new();
    let address = format!("--address=http://127.0.0.1:{}", dead_port());
    let out = home.run(&[
        "--json",
        "remote",
        "set",
        &address,
        "--token-env=HOME",
        "--no-check",
    ]);
    assert_eq!(out.error()["code"], "ALLOWLIST_MODIFICATION_DENIED");
    assert!(!home.path().join("remote.json").exists());
    let out = home.run_stdin(
        &[
            "--json",
            "remote",
            "set",
            &address,
            "--token-env=HOME",
            "--no-check",
            "--password-stdin",
        ],
        "wrong-password\n",
    );
    assert_eq!(out.error()["code"], "ALLOWLIST_MODIFICATION_DENIED");
    assert!(!home.path().join("remote.json").exists());
}

#[test]
fn an_unreachable_server_is_typed_and_no_credential_is_printed() {
    let home = support::Home::new();
    let address = format!("--address=http://127.0.0.1:{}", dead_port());
    // The check before storing reaches nothing: REMOTE_UNREACHABLE, nothing stored.
    let out = home.run_stdin(
        &[
            "--json",
            "remote",
            "set",
            &address,
            "--token-stdin",
            "--password-stdin",
        ],
        format!("{ADMIN_PASSWORD}\n{TOKEN}\n"),
    );
    assert_eq!(out.error()["code"], "REMOTE_UNREACHABLE", "{}", out.stderr);
    assert!(!out.stderr.contains(TOKEN) && !out.stdout.contains(TOKEN));
    // Stored without the check; sync commands then fail typed, within the retries.
    home.run_stdin(
        &[
            "remote",
            "set",
            &address,
            "--token-stdin",
            "--password-stdin",
            "--no-check",
            "--mode=sync",
        ],
        format!("{ADMIN_PASSWORD}\n{TOKEN}\n"),
    )
    .ok();
    home.run_stdin(&["secrets", "set", "LOCAL_KEY"], "local-value-1234")
        .ok();
    let show = home.json(&["remote", "show"]);
    assert_eq!(show["bindings"][0]["auth"], "token (vault (encrypted))");
    for cmd in [
        ["secrets", "pull"],
        ["secrets", "push"],
        ["secrets", "diff"],
    ] {
        let started = std::time::Instant::now();
        let out = home.run(&["--json", cmd[0], cmd[1]]);
        assert_eq!(
            out.error()["code"],
            "REMOTE_UNREACHABLE",
            "{cmd:?}: {}",
            out.stderr
        );
        assert!(
            started.elapsed().as_secs() < 5,
            "{cmd:?} took {:?}",
            started.elapsed()
        );
        assert!(!out.stderr.contains(TOKEN));
    }
    for f in ["remote.json", "vault.db"] {
        let bytes = std::fs::read(home.path().join(f)).unwrap();
        assert!(
            !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "{f} holds the token"
        );
    }
}
