//! `init`: the master key, a new `vault.db` with workspace `Personal` and
//! project `default`, and the config naming them active.
//!
//! The database is built under a temporary name and linked into place only
//! when complete, so a crash never leaves a half-made vault; a lock file
//! serialises concurrent `init`s so two keys can never race for one vault.

use super::config::{self, Config};
use super::crypto::MasterKey;
use super::{admin, connect, key_check_value, master_key, meta_names, schema, write_err, KeyStore};
use crate::clock::now_rfc3339;
use crate::error::{EngineError, Result};
use crate::home::{self, Home};
use agentsecrets_wire::{names, ErrorCode};
use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

pub const DEFAULT_WORKSPACE: &str = "Personal";
pub const DEFAULT_PROJECT: &str = "default";

pub struct InitOptions<'a> {
    pub email: Option<&'a str>,
    /// Checked with [`admin::check_strength`]; only its hash is stored.
    pub admin_password: &'a str,
}

/// Checks an email given to `init` (kept loose: local part, `@`, domain).
pub fn validate_email(email: &str) -> Result<()> {
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_control() || c.is_whitespace())
        && matches!(email.split_once('@'), Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@'));
    if ok {
        Ok(())
    } else {
        Err(
            EngineError::invalid(format!("{} is not an email address", names::shown(email)))
                .fix("pass an address like `--email you@example.com`, or leave --email out"),
        )
    }
}

/// Fails with `ALREADY_EXISTS` when the home already has a vault.
pub fn refuse_existing(home: &Home) -> Result<()> {
    if home.vault_path().exists() {
        return Err(EngineError::new(
            ErrorCode::AlreadyExists,
            format!("{} is already initialised", home.root.display()),
        )
        .fix("nothing to do: see `agentsecrets status`; to start over, move that directory aside (or set AGENTSECRETS_HOME to a new one) and run `agentsecrets init` again"));
    }
    Ok(())
}

/// Creates everything; returns where the master key was stored.
/// `AGENTSECRETS_KEY_STORE` may force the key store.
pub fn initialise(home: &Home, opts: &InitOptions<'_>) -> Result<KeyStore> {
    initialise_with_store(home, opts, master_key::forced_store()?)
}

/// [`initialise`] with an explicit key store choice (`None`: keychain when usable, else file).
pub fn initialise_with_store(
    home: &Home,
    opts: &InitOptions<'_>,
    store: Option<KeyStore>,
) -> Result<KeyStore> {
    if let Some(e) = opts.email {
        validate_email(e)?;
    }
    admin::check_strength(opts.admin_password)?;
    home.ensure_dirs()?;
    let _lock = InitLock::acquire(home)?;
    refuse_existing(home)?;

    let admin_hash = admin::hash(opts.admin_password)?;
    let key = MasterKey::generate();
    let store = master_key::save_new(home, &key, store)?;
    match build(home, &key, store, opts.email, &admin_hash) {
        Ok(()) => Ok(store),
        Err(e) => {
            master_key::discard(home, store);
            Err(e)
        }
    }
}

fn build(
    home: &Home,
    key: &MasterKey,
    store: KeyStore,
    email: Option<&str>,
    admin_hash: &str,
) -> Result<()> {
    let final_path = home.vault_path();
    let tmp = home
        .root
        .join(format!(".vault.db.{}.init", std::process::id()));
    let cleanup = |p: &std::path::Path| {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
    };
    cleanup(&tmp);
    // Created 0600 before SQLite touches it; SQLite gives -wal/-shm the same mode.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| EngineError::vault("cannot create the vault", e))?;
    let result = (|| -> Result<()> {
        let mut conn = connect(&tmp, true)?;
        let now = now_rfc3339();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(write_err)?;
        schema::create(&tx)?;
        let check = key_check_value(key)?;
        let mut meta = vec![
            (meta_names::KEY_STORE, store.as_str().to_owned()),
            (meta_names::KEY_CHECK, check),
            (meta_names::ADMIN_PASSWORD_HASH, admin_hash.to_owned()),
            (meta_names::CREATED_AT, now.clone()),
        ];
        if let Some(e) = email {
            meta.push((meta_names::EMAIL, e.to_owned()));
        }
        for (name, value) in meta {
            tx.execute(
                "INSERT INTO meta (name, value) VALUES (?1, ?2)",
                [name, value.as_str()],
            )
            .map_err(write_err)?;
        }
        tx.execute(
            "INSERT INTO workspaces (name, created_at) VALUES (?1, ?2)",
            [DEFAULT_WORKSPACE, now.as_str()],
        )
        .map_err(write_err)?;
        let ws = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO projects (workspace_id, name, created_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![ws, DEFAULT_PROJECT, now],
        )
        .map_err(write_err)?;
        tx.commit().map_err(write_err)?;
        // Closing the only connection checkpoints the WAL into the file.
        conn.close().map_err(|(_, e)| write_err(e))?;
        // A hard link never replaces an existing vault (unlike rename).
        match std::fs::hard_link(&tmp, &final_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(refuse_existing(home)
                    .err()
                    .unwrap_or_else(|| EngineError::vault("cannot create the vault", e)))
            }
            // File systems without hard links: the init lock already
            // excludes other inits, so a checked rename is safe.
            Err(_) => {
                refuse_existing(home)?;
                std::fs::rename(&tmp, &final_path)
                    .map_err(|e| EngineError::vault("cannot create the vault", e))?;
            }
        }
        Ok(())
    })();
    cleanup(&tmp);
    result?;
    config::write(
        home,
        &Config {
            workspace: DEFAULT_WORKSPACE.to_owned(),
            project: DEFAULT_PROJECT.to_owned(),
        },
    )
}

/// An exclusive `flock` on `init.lock` in the home, released on drop.
struct InitLock(std::fs::File);

impl InitLock {
    fn acquire(home: &Home) -> Result<InitLock> {
        let f = home::open_private_append(&home.root.join("init.lock"))?;
        // SAFETY: flock on a descriptor we own.
        let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
        if r != 0 {
            return Err(EngineError::vault(
                "cannot lock the home for init",
                std::io::Error::last_os_error(),
            ));
        }
        Ok(InitLock(f))
    }
}

impl Drop for InitLock {
    fn drop(&mut self) {
        // SAFETY: unlocking a descriptor we own.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}
