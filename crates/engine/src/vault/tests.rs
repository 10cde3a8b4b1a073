use super::*;
use crate::error::EngineError;

const CANARY: &str = "canary-vault-unit-5b1e0d2c";

fn fresh() -> (tempfile::TempDir, Home, Vault) {
    let t = tempfile::tempdir().unwrap();
    let home = Home::at(t.path().join("home"));
    // Unit tests never reach a keychain.
    let opts = InitOptions {
        email: Some("me@example.com"),
        admin_password: "admin-password",
    };
    let store = create::initialise_with_store(&home, &opts, Some(KeyStore::File)).unwrap();
    assert_eq!(store, KeyStore::File);
    let v = Vault::open(&home).unwrap();
    (t, home, v)
}

fn z(s: &str) -> Zeroizing<String> {
    Zeroizing::new(s.to_owned())
}

#[test]
fn vault_is_send_and_sync() {
    fn assert<T: Send + Sync>() {}
    assert::<Vault>();
}

#[test]
fn open_without_init_is_not_initialized() {
    let t = tempfile::tempdir().unwrap();
    let e = Vault::open(&Home::at(t.path())).err().unwrap();
    assert_eq!(e.code, ErrorCode::NotInitialized);
    assert!(e.fix.unwrap().contains("agentsecrets init"));
}

#[test]
fn init_defaults_and_meta() {
    let (_t, home, v) = fresh();
    let s = v.scope(None, None).unwrap();
    assert_eq!(
        (s.workspace.as_str(), s.project.as_str()),
        ("Personal", "default")
    );
    assert_eq!(v.storage_mode(), KeyStore::File);
    assert_eq!(v.email().unwrap().as_deref(), Some("me@example.com"));
    assert!(v.verify_admin_password("admin-password").unwrap());
    assert!(!v.verify_admin_password("admin-passwore").unwrap());
    let e = create::refuse_existing(&home).unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyExists);
}

#[test]
fn set_get_list_delete() {
    let (_t, _h, v) = fresh();
    let s = v.active().unwrap();
    v.set_secrets(&s, &[("A".into(), z(CANARY)), ("B".into(), z("two"))])
        .unwrap();
    assert_eq!(v.secret(&s, "A").unwrap().as_str(), CANARY);
    let all = v.secrets(&s, None).unwrap();
    assert_eq!(
        all.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["A", "B"]
    );
    let only = v.secrets(&s, Some(&["B".into(), "B".into()])).unwrap();
    assert_eq!(only.len(), 1);
    let e = v
        .secrets(&s, Some(&["B".into(), "MISSING".into()]))
        .unwrap_err();
    assert_eq!(
        (e.code, e.key.as_deref()),
        (ErrorCode::SecretNotFound, Some("MISSING"))
    );

    let before = v.list_secrets(&s).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    v.set_secrets(&s, &[("A".into(), z("new"))]).unwrap();
    let after = v.list_secrets(&s).unwrap();
    assert_eq!(after[0].created_at, before[0].created_at);
    assert_ne!(after[0].updated_at, before[0].updated_at);
    assert_eq!(v.secret(&s, "A").unwrap().as_str(), "new");

    v.delete_secret(&s, "A").unwrap();
    let e = v.secret(&s, "A").unwrap_err();
    assert_eq!(e.code, ErrorCode::SecretNotFound);
    assert!(e.fix.unwrap().contains("secrets set A"));
    assert_eq!(
        v.delete_secret(&s, "A").unwrap_err().code,
        ErrorCode::SecretNotFound
    );
}

#[test]
fn bad_input_is_refused_and_nothing_written() {
    let (_t, _h, v) = fresh();
    let s = v.active().unwrap();
    let e = v
        .set_secrets(&s, &[("OK".into(), z("v")), ("BAD\nNAME".into(), z("v"))])
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    let e = v
        .set_secrets(&s, &[("OK".into(), z("v")), ("EMPTY".into(), z(""))])
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    assert!(v.list_secrets(&s).unwrap().is_empty());
    assert_eq!(
        v.secret(&s, "a b").unwrap_err().code,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn scopes_are_isolated_and_errors_are_typed() {
    let (_t, _h, v) = fresh();
    v.create_workspace("Work").unwrap();
    let ws = v.workspace(Some("Work")).unwrap();
    v.create_project(&ws, "api").unwrap();
    let p = v.scope(None, None).unwrap();
    let w = v.scope(Some("Work"), Some("api")).unwrap();
    v.set_secrets(&p, &[("K".into(), z("personal"))]).unwrap();
    v.set_secrets(&w, &[("K".into(), z("work"))]).unwrap();
    assert_eq!(v.secret(&p, "K").unwrap().as_str(), "personal");
    assert_eq!(v.secret(&w, "K").unwrap().as_str(), "work");
    // A workspace alone means its default project.
    assert_eq!(v.scope(Some("Work"), None).unwrap().project, "default");

    let e = v.scope(Some("Nope"), None).unwrap_err();
    assert_eq!(
        (e.code, e.workspace.as_deref()),
        (ErrorCode::WorkspaceNotFound, Some("Nope"))
    );
    assert!(e.fix.unwrap().contains("workspace create"));
    let e = v.scope(Some("Work"), Some("nope")).unwrap_err();
    assert_eq!(e.code, ErrorCode::ProjectNotFound);
    assert!(e.fix.unwrap().contains("project create"));
    assert_eq!(
        v.scope(Some("a\r\nb"), None).unwrap_err().code,
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        v.create_workspace("Work").unwrap_err().code,
        ErrorCode::AlreadyExists
    );
    assert_eq!(
        v.create_project(&ws, "api").unwrap_err().code,
        ErrorCode::AlreadyExists
    );
}

#[test]
fn switching_and_deleting_projects() {
    let (_t, _h, v) = fresh();
    v.create_workspace("Work").unwrap();
    let s = v.switch_workspace("Work").unwrap();
    assert_eq!(
        (s.workspace.as_str(), s.project.as_str()),
        ("Work", "default")
    );
    let ws = v.workspace(None).unwrap();
    v.create_project(&ws, "tmp").unwrap();
    let tmp = v.use_project("tmp").unwrap();
    v.set_secrets(&tmp, &[("X".into(), z("x"))]).unwrap();
    // Active project is refused, with a fix.
    let e = v.delete_project(&ws, "tmp").unwrap_err();
    assert!(e.fix.unwrap().contains("project use"));
    v.use_project("default").unwrap();
    assert_eq!(v.delete_project(&ws, "tmp").unwrap(), 1);
    assert_eq!(
        v.set_secrets(&tmp, &[("Y".into(), z("y"))])
            .unwrap_err()
            .code,
        ErrorCode::ProjectNotFound
    );
    // The last project of a workspace stays.
    let personal = v.workspace(Some("Personal")).unwrap();
    assert!(v.delete_project(&personal, "default").is_err());
    // A deleted project's secrets are gone, even from a re-created namesake.
    v.create_project(&ws, "tmp").unwrap();
    let again = v.scope(Some("Work"), Some("tmp")).unwrap();
    assert_ne!(again.project_id, tmp.project_id);
    assert!(v.list_secrets(&again).unwrap().is_empty());
}

#[test]
fn swapped_rows_fail_authentication() {
    let (_t, home, v) = fresh();
    let s = v.active().unwrap();
    v.set_secrets(&s, &[("A".into(), z(CANARY)), ("B".into(), z("other"))])
        .unwrap();
    drop(v);
    {
        let c = Connection::open(home.vault_path()).unwrap();
        // Give B the ciphertext of A.
        c.execute_batch(
            "UPDATE secrets SET nonce = (SELECT nonce FROM secrets WHERE key = 'A'),
                                ciphertext = (SELECT ciphertext FROM secrets WHERE key = 'A')
             WHERE key = 'B'",
        )
        .unwrap();
    }
    let v = Vault::open(&home).unwrap();
    assert_eq!(v.secret(&s, "A").unwrap().as_str(), CANARY);
    let e: EngineError = v.secret(&s, "B").unwrap_err();
    assert_eq!(
        (e.code, e.key.as_deref()),
        (ErrorCode::VaultError, Some("B"))
    );
    assert!(!e.message.contains(CANARY));
    assert!(v.secrets(&s, None).is_err());
}

#[test]
fn a_foreign_master_key_is_refused_at_open() {
    let (_t, home, v) = fresh();
    drop(v);
    use base64::Engine as _;
    let other = MasterKey::generate();
    let text = base64::engine::general_purpose::STANDARD.encode(other.as_bytes());
    crate::home::write_private_file(&home.key_path(), text.as_bytes()).unwrap();
    let e = Vault::open(&home).err().unwrap();
    assert_eq!(e.code, ErrorCode::VaultError);
    assert!(e.message.contains("does not belong"));
}

#[test]
fn allowlist_add_remove_log() {
    let (_t, _h, v) = fresh();
    let ws = v.workspace(None).unwrap();
    let s = v.active().unwrap();
    assert!(v.allowlist(&s).unwrap().is_empty());
    let (added, present) = v
        .allowlist_add(
            &ws,
            &[
                "b.example.com".into(),
                "a.example.com".into(),
                "a.example.com".into(),
            ],
        )
        .unwrap();
    assert_eq!((added.len(), present.len()), (2, 0));
    let (added, present) = v.allowlist_add(&ws, &["a.example.com".into()]).unwrap();
    assert_eq!(
        (added.len(), present),
        (0, vec!["a.example.com".to_owned()])
    );
    assert_eq!(v.allowlist(&s).unwrap(), ["a.example.com", "b.example.com"]);
    let (removed, missing) = v
        .allowlist_remove(&ws, &["a.example.com".into(), "zzz.example".into()])
        .unwrap();
    assert_eq!((removed.len(), missing.len()), (1, 1));
    let log = v.allowlist_log(&ws, None).unwrap();
    let actions: Vec<_> = log
        .iter()
        .map(|c| (c.action.as_str(), c.entry.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("add", "b.example.com"),
            ("add", "a.example.com"),
            ("remove", "a.example.com")
        ]
    );
    let last = v.allowlist_log(&ws, Some(1)).unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].action, "remove");
    // Allowlists are per workspace.
    v.create_workspace("Other").unwrap();
    assert!(v
        .allowlist(&v.scope(Some("Other"), None).unwrap())
        .unwrap()
        .is_empty());
}

#[test]
fn scope_follows_config_changes_from_other_handles() {
    let (_t, home, v) = fresh();
    let other = Vault::open(&home).unwrap();
    other.create_workspace("Work").unwrap();
    for _ in 0..3 {
        other.switch_workspace("Work").unwrap();
        assert_eq!(v.scope(None, None).unwrap().workspace, "Work");
        other.switch_workspace("Personal").unwrap();
        assert_eq!(v.scope(None, None).unwrap().workspace, "Personal");
    }
}

#[test]
fn missing_config_falls_back_to_first_workspace() {
    let (_t, home, v) = fresh();
    std::fs::remove_file(home.config_path()).unwrap();
    let s = v.scope(None, None).unwrap();
    assert_eq!(
        (s.workspace.as_str(), s.project.as_str()),
        ("Personal", "default")
    );
}

#[test]
fn a_missing_active_project_can_be_repaired_with_project_use() {
    let (_t, home, v) = fresh();
    config::write(
        &home,
        &config::Config {
            workspace: "Personal".into(),
            project: "gone".into(),
        },
    )
    .unwrap();
    let e = v.active().unwrap_err();
    assert_eq!(e.code, ErrorCode::ProjectNotFound);
    assert!(e.fix.unwrap().contains("project use"));
    assert_eq!(v.workspace(None).unwrap().name, "Personal");
    assert_eq!(v.use_project("default").unwrap().project, "default");
    assert_eq!(v.active().unwrap().project, "default");
}

#[test]
fn admin_password_guessing_is_throttled() {
    let (_t, _h, v) = fresh();
    let t0 = 1_000_000;
    for i in 0..admin::FREE_ATTEMPTS {
        let r = v
            .check_admin_password_at("guess", t0 + u64::from(i))
            .unwrap();
        assert_eq!(r, admin::Check::Wrong);
    }
    let last = t0 + u64::from(admin::FREE_ATTEMPTS) - 1;
    // Even the right password is not checked while throttled.
    let r = v.check_admin_password_at("admin-password", last).unwrap();
    let wait = admin::FIRST_WAIT_SECS;
    assert_eq!(
        r,
        admin::Check::Throttled {
            retry_after_secs: wait
        }
    );
    // Another handle (another process) sees the same state.
    let other = Vault::open(&v.home).unwrap();
    let r = other
        .check_admin_password_at("admin-password", last + 1)
        .unwrap();
    assert_eq!(
        r,
        admin::Check::Throttled {
            retry_after_secs: wait - 1
        }
    );
    let r = v
        .check_admin_password_at("admin-password", last + wait)
        .unwrap();
    assert_eq!(r, admin::Check::Ok);
    // Success resets the count.
    let r = v.check_admin_password_at("guess", last + wait).unwrap();
    assert_eq!(r, admin::Check::Wrong);
    let r = v
        .check_admin_password_at("admin-password", last + wait)
        .unwrap();
    assert_eq!(r, admin::Check::Ok);
}

#[test]
fn one_read_sees_scope_allowlist_and_secrets_and_a_failed_one_leaves_no_transaction() {
    let (_t, _h, v) = fresh();
    let s = v.active().unwrap();
    v.set_secrets(&s, &[("A".into(), z(CANARY))]).unwrap();
    let (scope, entries, value) = v
        .read(|r| {
            let scope = r.scope(None, None)?;
            let entries = r.allowlist(&scope)?;
            let value = r.secret(&scope, "A")?;
            Ok((scope, entries, value))
        })
        .unwrap();
    assert_eq!(scope, s);
    assert!(entries.is_empty());
    assert_eq!(value.as_str(), CANARY);

    // A failure inside a read ends its transaction: later reads and writes work.
    let e = v.read(|r| r.secret(&s, "MISSING")).unwrap_err();
    assert_eq!(e.code, ErrorCode::SecretNotFound);
    assert_eq!(v.secret(&s, "A").unwrap().as_str(), CANARY);
    v.set_secrets(&s, &[("A".into(), z("two"))]).unwrap();
    assert_eq!(v.secret(&s, "A").unwrap().as_str(), "two");
}
