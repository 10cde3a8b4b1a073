//! The vault's SQLite schema, versioned with `PRAGMA user_version`.

use crate::error::{EngineError, Result};
use agentsecrets_wire::ErrorCode;
use rusqlite::Connection;

/// The schema this build reads and writes.
pub const VERSION: i64 = 1;

const V1: &str = "
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE workspaces (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
) STRICT;
CREATE TABLE projects (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (workspace_id, name)
) STRICT;
CREATE TABLE secrets (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, key)
) STRICT;
CREATE TABLE allowlist (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    entry        TEXT NOT NULL,
    added_at     TEXT NOT NULL,
    PRIMARY KEY (workspace_id, entry)
) STRICT;
CREATE TABLE allowlist_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    timestamp    TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('add', 'remove')),
    entry        TEXT NOT NULL
) STRICT;
CREATE INDEX allowlist_log_by_workspace ON allowlist_log (workspace_id, id);
";

/// Creates the schema in an empty database (inside the caller's transaction).
pub fn create(conn: &Connection) -> Result<()> {
    conn.execute_batch(V1)
        .and_then(|_| conn.pragma_update(None, "user_version", VERSION))
        .map_err(|e| EngineError::vault("cannot create the vault schema", e))
}

/// Checks that the database has a schema this build understands.
pub fn check(conn: &Connection) -> Result<()> {
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| EngineError::vault("cannot read the vault", e))?;
    match v {
        VERSION => Ok(()),
        0 => Err(EngineError::new(
            ErrorCode::VaultError,
            "vault.db has no agentsecrets schema (empty or not a vault)",
        )
        .fix("move vault.db aside and run `agentsecrets init`, or restore the vault from a backup")),
        v if v > VERSION => Err(EngineError::new(
            ErrorCode::VaultError,
            format!("the vault was written by a newer agentsecrets (schema {v}, this build knows {VERSION})"),
        )
        .fix("upgrade agentsecrets to the version that created this vault")),
        v => Err(EngineError::new(
            ErrorCode::VaultError,
            format!("unknown vault schema version {v}"),
        )
        .fix("restore the vault from a backup")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_then_check() {
        let c = Connection::open_in_memory().unwrap();
        assert!(check(&c).is_err());
        create(&c).unwrap();
        check(&c).unwrap();
        c.pragma_update(None, "user_version", VERSION + 1).unwrap();
        assert!(check(&c).unwrap_err().message.contains("newer"));
    }
}
