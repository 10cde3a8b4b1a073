//! The vault: SQLite (workspaces → projects → secrets, per-workspace
//! allowlist) with values encrypted by an AEAD under the master key.
//!
//! `vault.db` runs in WAL mode with a busy timeout, and every write is one
//! `BEGIN IMMEDIATE` transaction, so many processes can write at once and a
//! writer killed mid-write leaves the old or the new value. Values are
//! XChaCha20-Poly1305 ciphertexts bound to their (workspace, project, key).
//!
//! INTERFACE CONTRACT (used by the proxy and `env`): `open`, `read` (one
//! snapshot: [`Reader`]), `scope`, `allowlist`, `secret`, `secrets` and
//! [`Scope`]. The management methods
//! used by the CLI live in `manage.rs`; `init` is [`initialise`].

pub mod admin;
pub mod commit_stamp;
pub mod config;
pub mod create;
pub mod credentials;
pub mod crypto;
mod every_value;
mod manage;
pub mod master_key;
pub mod schema;

pub use create::{initialise, InitOptions, DEFAULT_PROJECT, DEFAULT_WORKSPACE};
pub use manage::WorkspaceRef;
pub use master_key::KeyStore;

use crate::error::{EngineError, Result};
use crate::home::Home;
use crate::shell;
use agentsecrets_wire::{names, ErrorCode};
use config::ConfigCache;
use crypto::MasterKey;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use zeroize::{Zeroize, Zeroizing};

/// How long a writer waits for another process's transaction.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Meta rows.
pub(crate) mod meta_names {
    pub const KEY_STORE: &str = "key_store";
    pub const KEY_CHECK: &str = "key_check";
    pub const EMAIL: &str = "email";
    pub const ADMIN_PASSWORD_HASH: &str = "admin_password_hash";
    /// Consecutive wrong admin passwords: `count:unix_seconds_of_last`.
    pub const ADMIN_FAILURES: &str = "admin_failures";
    pub const CREATED_AT: &str = "created_at";
}

/// A resolved workspace/project pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub workspace: String,
    pub project: String,
    pub workspace_id: i64,
    pub project_id: i64,
}

/// The vault. `Send + Sync`: the proxy shares one across its tasks.
pub struct Vault {
    home: Home,
    conn: Mutex<Connection>,
    key: MasterKey,
    store: KeyStore,
    config: ConfigCache,
}

impl Vault {
    /// Opens the vault of an initialised home (`NOT_INITIALIZED` otherwise).
    pub fn open(home: &Home) -> Result<Vault> {
        let path = home.vault_path();
        if !path.is_file() {
            return Err(EngineError::not_initialized(&home.root));
        }
        let conn = connect(&path, false)?;
        schema::check(&conn)?;
        let store_name = meta(&conn, meta_names::KEY_STORE)?.ok_or_else(|| {
            EngineError::new(ErrorCode::VaultError, "the vault does not say where its master key is")
                .fix("restore the vault from a backup, or move the home aside and run `agentsecrets init`")
        })?;
        let store = KeyStore::parse(&store_name).ok_or_else(|| {
            EngineError::new(
                ErrorCode::VaultError,
                format!(
                    "the vault names an unknown key store {}",
                    names::shown(&store_name)
                ),
            )
            .fix("upgrade agentsecrets, or restore the vault from a backup")
        })?;
        let key = master_key::load(home, store)?;
        check_key(&conn, &key)?;
        Ok(Vault {
            home: home.clone(),
            conn: Mutex::new(conn),
            key,
            store,
            config: ConfigCache::default(),
        })
    }

    /// Runs `f` inside one read transaction: everything it reads comes from
    /// one snapshot, and a proxied call takes the database's read lock once
    /// (each lock and unlock is a system call) instead of once per query.
    pub fn read<T>(&self, f: impl FnOnce(&Reader<'_>) -> Result<T>) -> Result<T> {
        let conn = self.lock();
        let tx = ReadTransaction::begin(&conn)?;
        let out = f(&Reader {
            vault: self,
            conn: &conn,
        })?;
        tx.end()?;
        Ok(out)
    }

    /// The given workspace/project, or the active ones (see [`Reader::scope`]).
    pub fn scope(&self, workspace: Option<&str>, project: Option<&str>) -> Result<Scope> {
        self.read(|r| r.scope(workspace, project))
    }

    /// The workspace's allowlist entries in canonical form.
    pub fn allowlist(&self, scope: &Scope) -> Result<Vec<String>> {
        self.read(|r| r.allowlist(scope))
    }

    /// The value of one secret (`SECRET_NOT_FOUND` with `.key(..)` when missing).
    pub fn secret(&self, scope: &Scope, key: &str) -> Result<Zeroizing<String>> {
        self.read(|r| r.secret(scope, key))
    }

    /// The project's secrets, or only the named ones (each must exist).
    pub fn secrets(
        &self,
        scope: &Scope,
        only: Option<&[String]>,
    ) -> Result<Vec<(String, Zeroizing<String>)>> {
        let conn = self.lock();
        match only {
            Some(keys) => {
                let mut out: Vec<(String, Zeroizing<String>)> = Vec::with_capacity(keys.len());
                for k in keys {
                    check_key_name(k)?;
                    if out.iter().any(|(have, _)| have == k) {
                        continue;
                    }
                    let v = self
                        .read_secret(&conn, scope, k)?
                        .ok_or_else(|| secret_not_found(scope, k))?;
                    out.push((k.clone(), v));
                }
                Ok(out)
            }
            None => {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT key, nonce, ciphertext FROM secrets WHERE project_id = ?1 ORDER BY key",
                    )
                    .map_err(read_err)?;
                let rows = stmt
                    .query_map([scope.project_id], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Vec<u8>>(1)?,
                            r.get::<_, Vec<u8>>(2)?,
                        ))
                    })
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                    .map_err(read_err)?;
                rows.into_iter()
                    .map(|(k, nonce, ct)| {
                        let v = self.decrypt(scope, &k, &nonce, &ct)?;
                        Ok((k, v))
                    })
                    .collect()
            }
        }
    }

    /// Where the master key is kept (`status` reports it as `storageMode`).
    pub fn storage_mode(&self) -> KeyStore {
        self.store
    }

    /// The active workspace alone (valid even when the active project is not).
    fn active_workspace(&self) -> Result<Ws> {
        let active = self.config.get(&self.home)?;
        let conn = self.lock();
        match active {
            Some(c) => workspace_ref(&conn, &c.workspace),
            None => first_workspace(&conn),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read_secret(
        &self,
        conn: &Connection,
        scope: &Scope,
        key: &str,
    ) -> Result<Option<Zeroizing<String>>> {
        let mut stmt = conn
            .prepare_cached(
                "SELECT nonce, ciphertext FROM secrets WHERE project_id = ?1 AND key = ?2",
            )
            .map_err(read_err)?;
        let row = stmt
            .query_row(rusqlite::params![scope.project_id, key], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .optional()
            .map_err(read_err)?;
        match row {
            Some((nonce, ct)) => self.decrypt(scope, key, &nonce, &ct).map(Some),
            None => Ok(None),
        }
    }

    fn decrypt(
        &self,
        scope: &Scope,
        key: &str,
        nonce: &[u8],
        ct: &[u8],
    ) -> Result<Zeroizing<String>> {
        let aad = crypto::secret_aad(scope.workspace_id, scope.project_id, key);
        let mut plain = crypto::open(&self.key, &aad, nonce, ct).map_err(|e| {
            e.key(key)
                .workspace(&scope.workspace)
                .project(&scope.project)
        })?;
        match String::from_utf8(std::mem::take(&mut *plain)) {
            Ok(s) => Ok(Zeroizing::new(s)),
            Err(e) => {
                e.into_bytes().zeroize();
                Err(EngineError::new(
                    ErrorCode::VaultError,
                    format!("secret {key} is not UTF-8 text"),
                )
                .key(key)
                .fix(format!(
                    "set it again with `agentsecrets secrets set {key}`"
                )))
            }
        }
    }
}

/// A deferred transaction on cached statements (a proxied call would
/// otherwise parse `BEGIN` and `COMMIT` every time); rolled back if dropped
/// before [`end`](Self::end), on an error or a panic alike.
struct ReadTransaction<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> ReadTransaction<'c> {
    fn begin(conn: &'c Connection) -> Result<Self> {
        run_cached(conn, "BEGIN")?;
        Ok(ReadTransaction { conn, open: true })
    }

    fn end(mut self) -> Result<()> {
        self.open = false;
        run_cached(self.conn, "COMMIT")
    }
}

impl Drop for ReadTransaction<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = run_cached(self.conn, "ROLLBACK");
        }
    }
}

fn run_cached(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(drop)
        .map_err(read_err)
}

/// Reads inside one transaction of [`Vault::read`].
pub struct Reader<'a> {
    vault: &'a Vault,
    conn: &'a Connection,
}

impl Reader<'_> {
    /// The given workspace/project, or the active ones from the config.
    /// `WORKSPACE_NOT_FOUND` / `PROJECT_NOT_FOUND` when missing.
    ///
    /// A workspace given without a project means that workspace's active
    /// project if it is the active workspace, else its `default` (or first).
    pub fn scope(&self, workspace: Option<&str>, project: Option<&str>) -> Result<Scope> {
        if let Some(w) = workspace {
            check_scope_name("workspace", w)?;
        }
        if let Some(p) = project {
            check_scope_name("project", p)?;
        }
        let active = match (workspace, project) {
            (Some(_), Some(_)) => None,
            _ => self.vault.config.get(&self.vault.home)?,
        };
        let conn = self.conn;
        let ws = match workspace {
            Some(w) => workspace_ref(conn, w)?,
            None => match &active {
                Some(c) => workspace_ref(conn, &c.workspace).map_err(|e| {
                    e.fix("the active workspace no longer exists: run `agentsecrets workspace switch NAME` (see `agentsecrets workspace list`)")
                })?,
                None => first_workspace(conn)?,
            },
        };
        let project_name = match project {
            Some(p) => p.to_owned(),
            None => match &active {
                Some(c) if c.workspace == ws.name => c.project.clone(),
                _ => default_project(conn, &ws)?,
            },
        };
        let project_id = project_id(conn, &ws, &project_name).map_err(|e| {
            if project.is_none() {
                e.fix("the active project no longer exists: run `agentsecrets project use NAME` (see `agentsecrets project list`)")
            } else {
                e
            }
        })?;
        Ok(Scope {
            workspace: ws.name,
            project: project_name,
            workspace_id: ws.id,
            project_id,
        })
    }

    /// The workspace's allowlist entries in canonical form.
    pub fn allowlist(&self, scope: &Scope) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT entry FROM allowlist WHERE workspace_id = ?1 ORDER BY entry")
            .map_err(read_err)?;
        let rows = stmt
            .query_map([scope.workspace_id], |r| r.get(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
            .map_err(read_err)?;
        Ok(rows)
    }

    /// The value of one secret (`SECRET_NOT_FOUND` with `.key(..)` when missing).
    pub fn secret(&self, scope: &Scope, key: &str) -> Result<Zeroizing<String>> {
        check_key_name(key)?;
        self.vault
            .read_secret(self.conn, scope, key)?
            .ok_or_else(|| secret_not_found(scope, key))
    }
}

/// Opens a connection with the settings every vault connection needs.
fn connect(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let ctx = format!("cannot open {}", path.display());
    let conn = Connection::open_with_flags(path, flags).map_err(|e| EngineError::vault(&ctx, e))?;
    conn.set_prepared_statement_cache_capacity(32);
    conn.busy_timeout(BUSY_TIMEOUT)
        .and_then(|_| conn.pragma_update(None, "foreign_keys", true))
        // No temporary files outside the home.
        .and_then(|_| conn.pragma_update(None, "temp_store", "MEMORY"))
        // Deleted rows are overwritten, not left in free pages.
        .and_then(|_| conn.pragma_update(None, "secure_delete", true))
        .and_then(|_| conn.pragma_update(None, "synchronous", "FULL"))
        .map_err(|e| EngineError::vault(&ctx, e))?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|e| map_busy(&ctx, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(EngineError::vault(
            &ctx,
            format!("the vault cannot use WAL mode (got {mode})"),
        ));
    }
    persist_wal(&conn);
    // SQLite gives -wal/-shm the database's mode; tighten anything a
    // different umask or an old copy left behind.
    restrict_files(path);
    Ok(conn)
}

/// Keeps `vault.db-wal` and `-shm` when the last connection closes, instead
/// of deleting them. A reader must size the shared-memory file when it is
/// missing, which fails on a full disk: with the files kept, reading the
/// vault (`secrets list`, the proxy) still works while the disk is full.
/// Best effort: without it only that case fails.
fn persist_wal(conn: &Connection) {
    let mut on: std::ffi::c_int = 1;
    // SAFETY: a valid open connection handle, the NUL-terminated name of its
    // main database, and an int argument as SQLITE_FCNTL_PERSIST_WAL expects.
    unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&mut on as *mut std::ffi::c_int).cast(),
        );
    }
}

fn restrict_files(db: &Path) {
    let name = db
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("vault.db");
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = db.with_file_name(format!("{name}{suffix}"));
        if let Ok(m) = std::fs::metadata(&p) {
            if m.permissions().mode() & 0o077 != 0 {
                let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
}

fn meta(conn: &Connection, name: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM meta WHERE name = ?1")
        .and_then(|mut s| s.query_row([name], |r| r.get(0)).optional())
        .map_err(read_err)
}

/// Meta rows are authenticated with the same key, so a key that does not
/// belong to the vault is refused at open, not at the first secret.
const KEY_CHECK_AAD: &[u8] = b"agentsecrets/key-check/v1";
const KEY_CHECK_PLAIN: &[u8] = b"agentsecrets master key";

fn key_check_value(key: &MasterKey) -> Result<String> {
    use base64::Engine as _;
    let (mut nonce, ct) = crypto::seal(key, KEY_CHECK_AAD, KEY_CHECK_PLAIN)?;
    nonce.extend_from_slice(&ct);
    Ok(base64::engine::general_purpose::STANDARD.encode(nonce))
}

fn check_key(conn: &Connection, key: &MasterKey) -> Result<()> {
    use base64::Engine as _;
    let wrong = || {
        EngineError::new(
            ErrorCode::VaultError,
            "the master key does not belong to this vault",
        )
        .fix("restore the master key that was created with this vault (master.key or the OS keychain entry `agentsecrets`)")
    };
    let stored = meta(conn, meta_names::KEY_CHECK)?.ok_or_else(wrong)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .map_err(|_| wrong())?;
    if bytes.len() < crypto::NONCE_LEN {
        return Err(wrong());
    }
    let (nonce, ct) = bytes.split_at(crypto::NONCE_LEN);
    match crypto::open(key, KEY_CHECK_AAD, nonce, ct) {
        Ok(p) if p.as_slice() == KEY_CHECK_PLAIN => Ok(()),
        _ => Err(wrong()),
    }
}

fn read_err(e: rusqlite::Error) -> EngineError {
    map_busy("cannot read the vault", e)
}

fn write_err(e: rusqlite::Error) -> EngineError {
    map_busy("cannot write the vault", e)
}

fn map_busy(ctx: &str, e: rusqlite::Error) -> EngineError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if matches!(
            f.code,
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
        ) {
            return EngineError::new(
                ErrorCode::VaultError,
                format!(
                    "{ctx}: the vault stayed busy for {} s (another agentsecrets process holds it)",
                    BUSY_TIMEOUT.as_secs()
                ),
            )
            .fix("retry; if it persists, look for a stuck agentsecrets process");
        }
    }
    EngineError::vault(ctx, e)
}

pub(crate) fn workspace_not_found(name: &str) -> EngineError {
    EngineError::new(
        ErrorCode::WorkspaceNotFound,
        format!("workspace {} does not exist", names::shown(name)),
    )
    .workspace(name)
    .fix(format!(
        "see `agentsecrets workspace list`, or create it with `agentsecrets workspace create {}`",
        shell::word(name)
    ))
}

pub(crate) fn project_not_found(workspace: &str, name: &str) -> EngineError {
    EngineError::new(
        ErrorCode::ProjectNotFound,
        format!(
            "project {} does not exist in workspace {}",
            names::shown(name),
            names::shown(workspace)
        ),
    )
    .workspace(workspace)
    .project(name)
    .fix(format!(
        "see `agentsecrets project list --workspace {w}`, or create it with `agentsecrets project create {p} --workspace {w}`",
        w = shell::word(workspace),
        p = shell::word(name)
    ))
}

pub(crate) fn secret_not_found(scope: &Scope, key: &str) -> EngineError {
    EngineError::new(
        ErrorCode::SecretNotFound,
        format!(
            "secret {key} does not exist in {}/{}",
            scope.workspace, scope.project
        ),
    )
    .key(key)
    .workspace(&scope.workspace)
    .project(&scope.project)
    .fix(format!(
        "store it with `agentsecrets secrets set {key} --workspace {} --project {}` (the value is read from stdin), or see `agentsecrets secrets list`",
        shell::word(&scope.workspace),
        shell::word(&scope.project)
    ))
}

/// Validates a secret key; the error says how to name it.
pub fn check_key_name(key: &str) -> Result<()> {
    names::validate_secret_key(key).map_err(|e| {
        EngineError::from(e).fix("name secrets with letters, digits, '_', '-' and '.', not starting with '-' (e.g. STRIPE_KEY)")
    })
}

/// Validates a workspace or project name; the error says how to name it.
pub fn check_scope_name(what: &'static str, name: &str) -> Result<()> {
    names::validate_scope_name(what, name).map_err(|e| {
        EngineError::from(e).fix(format!(
            "give a {what} name of printable text without control characters or leading/trailing spaces"
        ))
    })
}

pub(crate) struct Ws {
    pub name: String,
    pub id: i64,
}

fn workspace_ref(conn: &Connection, name: &str) -> Result<Ws> {
    conn.prepare_cached("SELECT id FROM workspaces WHERE name = ?1")
        .and_then(|mut s| s.query_row([name], |r| r.get(0)).optional())
        .map_err(read_err)?
        .map(|id| Ws {
            name: name.to_owned(),
            id,
        })
        .ok_or_else(|| workspace_not_found(name))
}

fn first_workspace(conn: &Connection) -> Result<Ws> {
    conn.prepare_cached("SELECT id, name FROM workspaces ORDER BY id LIMIT 1")
        .and_then(|mut s| {
            s.query_row([], |r| {
                Ok(Ws {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })
            .optional()
        })
        .map_err(read_err)?
        .ok_or_else(|| {
            EngineError::new(ErrorCode::WorkspaceNotFound, "the vault has no workspace")
                .fix("create one with `agentsecrets workspace create NAME`")
        })
}

/// The workspace's `default` project, else its oldest one.
fn default_project(conn: &Connection, ws: &Ws) -> Result<String> {
    conn.prepare_cached(
        "SELECT name FROM projects WHERE workspace_id = ?1 ORDER BY (name = 'default') DESC, id LIMIT 1",
    )
    .and_then(|mut s| s.query_row([ws.id], |r| r.get(0)).optional())
    .map_err(read_err)?
    .ok_or_else(|| {
        EngineError::new(
            ErrorCode::ProjectNotFound,
            format!("workspace {} has no project", names::shown(&ws.name)),
        )
        .workspace(&ws.name)
        .fix(format!(
            "create one with `agentsecrets project create default --workspace {}`",
            shell::word(&ws.name)
        ))
    })
}

fn project_id(conn: &Connection, ws: &Ws, name: &str) -> Result<i64> {
    conn.prepare_cached("SELECT id FROM projects WHERE workspace_id = ?1 AND name = ?2")
        .and_then(|mut s| {
            s.query_row(rusqlite::params![ws.id, name], |r| r.get(0))
                .optional()
        })
        .map_err(read_err)?
        .ok_or_else(|| project_not_found(&ws.name, name))
}

#[cfg(test)]
mod tests;
