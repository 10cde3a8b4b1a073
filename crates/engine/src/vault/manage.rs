//! Management operations behind the CLI: workspaces, projects, secrets and
//! the allowlist. Every write is one `BEGIN IMMEDIATE` transaction.

use super::config::{self, Config};
use super::{
    admin, crypto, default_project, meta, meta_names, project_id, project_not_found, read_err,
    secret_not_found, workspace_ref, write_err, Scope, Vault, Ws,
};
use crate::clock::now_rfc3339;
use crate::error::{EngineError, Result};
use crate::shell;
use agentsecrets_wire::{names, ErrorCode};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;
use zeroize::Zeroizing;

/// A workspace, resolved to its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRef {
    pub name: String,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceInfo {
    pub name: String,
    pub active: bool,
    pub projects: Vec<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectInfo {
    pub name: String,
    pub active: bool,
    pub secret_count: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretInfo {
    pub key: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AllowlistEntry {
    pub entry: String,
    pub added_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AllowlistChange {
    pub timestamp: String,
    pub action: String,
    pub entry: String,
}

impl Vault {
    fn begin<'c>(conn: &'c mut Connection) -> Result<Transaction<'c>> {
        conn.transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(write_err)
    }

    /// The email given to `init`, if any.
    pub fn email(&self) -> Result<Option<String>> {
        meta(&self.lock(), meta_names::EMAIL)
    }

    /// Whether `password` is the admin password recorded by `init`.
    pub fn verify_admin_password(&self, password: &str) -> Result<bool> {
        let phc = meta(&self.lock(), meta_names::ADMIN_PASSWORD_HASH)?.ok_or_else(|| {
            EngineError::new(ErrorCode::VaultError, "the vault has no admin password")
                .fix("restore the vault from a backup")
        })?;
        admin::verify(&phc, password)
    }

    /// Checks the admin password with a persistent back-off: after
    /// [`admin::FREE_ATTEMPTS`] wrong passwords in a row, each further
    /// attempt must wait (doubling, capped), so a process that can run the
    /// CLI cannot guess the password quickly. A right password resets it.
    pub fn check_admin_password(&self, password: &str) -> Result<admin::Check> {
        self.check_admin_password_with(password, crate::clock::unix_now)
    }

    #[cfg(test)]
    pub(crate) fn check_admin_password_at(&self, password: &str, now: u64) -> Result<admin::Check> {
        self.check_admin_password_with(password, || now)
    }

    fn check_admin_password_with(
        &self,
        password: &str,
        clock: impl Fn() -> u64,
    ) -> Result<admin::Check> {
        // Each attempt is counted as a failure before the password is even
        // checked, in one transaction, so parallel guesses cannot slip
        // past the threshold together; a right password then resets it.
        {
            let mut conn = self.lock();
            let tx = Self::begin(&mut conn)?;
            let failures =
                admin::Failures::parse(meta(&tx, meta_names::ADMIN_FAILURES)?.as_deref());
            let now = clock();
            if let Some(wait) = failures.wait_at(now) {
                return Ok(admin::Check::Throttled {
                    retry_after_secs: wait,
                });
            }
            set_meta(
                &tx,
                meta_names::ADMIN_FAILURES,
                &failures.after_failure(now).to_string(),
            )?;
            tx.commit().map_err(write_err)?;
        }
        let ok = self.verify_admin_password(password)?;
        let mut conn = self.lock();
        let tx = Self::begin(&mut conn)?;
        let next = if ok {
            admin::Failures::default()
        } else {
            // The wait runs from the end of the (slow) check.
            let counted = admin::Failures::parse(meta(&tx, meta_names::ADMIN_FAILURES)?.as_deref());
            admin::Failures {
                count: counted.count,
                last: clock(),
            }
        };
        set_meta(&tx, meta_names::ADMIN_FAILURES, &next.to_string())?;
        tx.commit().map_err(write_err)?;
        Ok(if ok {
            admin::Check::Ok
        } else {
            admin::Check::Wrong
        })
    }

    /// The active workspace and project as recorded in the config.
    pub fn active(&self) -> Result<Scope> {
        self.scope(None, None)
    }

    /// The named workspace, or the active one.
    pub fn workspace(&self, name: Option<&str>) -> Result<WorkspaceRef> {
        let ws = match name {
            Some(n) => {
                super::check_scope_name("workspace", n)?;
                workspace_ref(&self.lock(), n)?
            }
            None => self.active_workspace()?,
        };
        Ok(WorkspaceRef {
            name: ws.name,
            id: ws.id,
        })
    }

    fn active_names(&self) -> Option<Config> {
        self.active().ok().map(|s| Config {
            workspace: s.workspace,
            project: s.project,
        })
    }

    fn write_active(&self, workspace: &str, project: &str) -> Result<()> {
        config::write(
            &self.home,
            &Config {
                workspace: workspace.to_owned(),
                project: project.to_owned(),
            },
        )?;
        self.config.invalidate();
        Ok(())
    }

    // ---- workspaces -------------------------------------------------------

    pub fn workspaces(&self) -> Result<Vec<WorkspaceInfo>> {
        let active = self.active_names();
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT w.name, w.created_at, p.name FROM workspaces w
                 LEFT JOIN projects p ON p.workspace_id = w.id
                 ORDER BY w.id, p.id",
            )
            .map_err(read_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(read_err)?;
        let mut out: Vec<WorkspaceInfo> = Vec::new();
        for (name, created_at, project) in rows {
            if out.last().is_none_or(|w| w.name != name) {
                out.push(WorkspaceInfo {
                    active: active.as_ref().is_some_and(|a| a.workspace == name),
                    name,
                    projects: Vec::new(),
                    created_at,
                });
            }
            if let (Some(p), Some(w)) = (project, out.last_mut()) {
                w.projects.push(p);
            }
        }
        Ok(out)
    }

    /// Creates a workspace with a project `default` (does not switch to it).
    pub fn create_workspace(&self, name: &str) -> Result<()> {
        super::check_scope_name("workspace", name)?;
        let mut conn = self.lock();
        let tx = Self::begin(&mut conn)?;
        let exists = tx
            .query_row("SELECT 1 FROM workspaces WHERE name = ?1", [name], |_| {
                Ok(())
            })
            .optional()
            .map_err(read_err)?
            .is_some();
        if exists {
            return Err(EngineError::new(
                ErrorCode::AlreadyExists,
                format!("workspace {} already exists", names::shown(name)),
            )
            .workspace(name)
            .fix(format!(
                "use it with `agentsecrets workspace switch {}`, or pick another name",
                shell::word(name)
            )));
        }
        let now = now_rfc3339();
        tx.execute(
            "INSERT INTO workspaces (name, created_at) VALUES (?1, ?2)",
            params![name, now],
        )
        .map_err(write_err)?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO projects (workspace_id, name, created_at) VALUES (?1, ?2, ?3)",
            params![id, super::DEFAULT_PROJECT, now],
        )
        .map_err(write_err)?;
        tx.commit().map_err(write_err)
    }

    /// Makes `name` the active workspace, with its `default` (or first) project.
    pub fn switch_workspace(&self, name: &str) -> Result<Scope> {
        super::check_scope_name("workspace", name)?;
        let (ws, project) = {
            let conn = self.lock();
            let ws = workspace_ref(&conn, name)?;
            let p = default_project(&conn, &ws)?;
            (ws, p)
        };
        self.write_active(&ws.name, &project)?;
        self.scope(Some(&ws.name), Some(&project))
    }

    // ---- projects ---------------------------------------------------------

    pub fn projects(&self, ws: &WorkspaceRef) -> Result<Vec<ProjectInfo>> {
        let active = self.active_names();
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT p.name, p.created_at, (SELECT count(*) FROM secrets s WHERE s.project_id = p.id)
                 FROM projects p WHERE p.workspace_id = ?1 ORDER BY p.id",
            )
            .map_err(read_err)?;
        let rows = stmt
            .query_map([ws.id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(read_err)?;
        Ok(rows
            .into_iter()
            .map(|(name, created_at, secret_count)| ProjectInfo {
                active: active
                    .as_ref()
                    .is_some_and(|a| a.workspace == ws.name && a.project == name),
                name,
                secret_count,
                created_at,
            })
            .collect())
    }

    pub fn create_project(&self, ws: &WorkspaceRef, name: &str) -> Result<()> {
        super::check_scope_name("project", name)?;
        let mut conn = self.lock();
        let tx = Self::begin(&mut conn)?;
        let exists = tx
            .query_row(
                "SELECT 1 FROM projects WHERE workspace_id = ?1 AND name = ?2",
                params![ws.id, name],
                |_| Ok(()),
            )
            .optional()
            .map_err(read_err)?
            .is_some();
        if exists {
            return Err(EngineError::new(
                ErrorCode::AlreadyExists,
                format!(
                    "project {} already exists in workspace {}",
                    names::shown(name),
                    names::shown(&ws.name)
                ),
            )
            .workspace(&ws.name)
            .project(name)
            .fix(format!(
                "use it with `agentsecrets project use {}`, or pick another name",
                shell::word(name)
            )));
        }
        tx.execute(
            "INSERT INTO projects (workspace_id, name, created_at) VALUES (?1, ?2, ?3)",
            params![ws.id, name, now_rfc3339()],
        )
        .map_err(|e| {
            if is_fk_violation(&e) {
                super::workspace_not_found(&ws.name)
            } else {
                write_err(e)
            }
        })?;
        tx.commit().map_err(write_err)
    }

    /// Makes `name` (a project of the active workspace) the active project.
    pub fn use_project(&self, name: &str) -> Result<Scope> {
        super::check_scope_name("project", name)?;
        let ws = self.active_workspace()?;
        let scope = self.scope(Some(&ws.name), Some(name))?;
        self.write_active(&scope.workspace, &scope.project)?;
        Ok(scope)
    }

    /// Deletes a project and its secrets; returns how many secrets went.
    /// Refuses the active project and a workspace's last project.
    pub fn delete_project(&self, ws: &WorkspaceRef, name: &str) -> Result<usize> {
        super::check_scope_name("project", name)?;
        let active = self.active_names();
        if active
            .as_ref()
            .is_some_and(|a| a.workspace == ws.name && a.project == name)
        {
            return Err(EngineError::invalid(format!(
                "project {} is the active project; it is not deleted",
                names::shown(name)
            ))
            .workspace(&ws.name)
            .project(name)
            .fix("make another project active first with `agentsecrets project use OTHER`, then delete this one"));
        }
        let mut conn = self.lock();
        let tx = Self::begin(&mut conn)?;
        let w = Ws {
            name: ws.name.clone(),
            id: ws.id,
        };
        let pid = project_id(&tx, &w, name)?;
        let count: i64 = tx
            .query_row(
                "SELECT count(*) FROM projects WHERE workspace_id = ?1",
                [ws.id],
                |r| r.get(0),
            )
            .map_err(read_err)?;
        if count <= 1 {
            return Err(EngineError::invalid(format!(
                "project {} is the last project of workspace {}; it is not deleted",
                names::shown(name),
                names::shown(&ws.name)
            ))
            .workspace(&ws.name)
            .project(name)
            .fix(format!(
                "create another project first with `agentsecrets project create NAME --workspace {}`",
                shell::word(&ws.name)
            )));
        }
        let secrets = tx
            .execute("DELETE FROM secrets WHERE project_id = ?1", [pid])
            .map_err(write_err)?;
        tx.execute("DELETE FROM projects WHERE id = ?1", [pid])
            .map_err(write_err)?;
        tx.commit().map_err(write_err)?;
        Ok(secrets)
    }

    // ---- secrets ----------------------------------------------------------

    /// Stores (inserts or replaces) secrets in one transaction: all or none.
    pub fn set_secrets(&self, scope: &Scope, items: &[(String, Zeroizing<String>)]) -> Result<()> {
        for (k, v) in items {
            super::check_key_name(k)?;
            if v.is_empty() {
                return Err(EngineError::invalid(format!("the value of {k} is empty"))
                    .key(k)
                    .fix("give a non-empty value; to remove a secret use `agentsecrets secrets delete KEY`"));
            }
        }
        // Encrypt before taking the write lock: keep the transaction short.
        let sealed = items
            .iter()
            .map(|(k, v)| {
                let aad = crypto::secret_aad(scope.workspace_id, scope.project_id, k);
                crypto::seal(&self.key, &aad, v.as_bytes()).map(|(n, c)| (k, n, c))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut conn = self.lock();
        let tx = Self::begin(&mut conn)?;
        // The project may have been deleted since the scope was resolved.
        let still_there = tx
            .query_row(
                "SELECT 1 FROM projects WHERE id = ?1 AND workspace_id = ?2",
                params![scope.project_id, scope.workspace_id],
                |_| Ok(()),
            )
            .optional()
            .map_err(read_err)?
            .is_some();
        if !still_there {
            return Err(project_not_found(&scope.workspace, &scope.project));
        }
        let now = now_rfc3339();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO secrets (project_id, key, nonce, ciphertext, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                     ON CONFLICT (project_id, key) DO UPDATE SET
                       nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
                )
                .map_err(write_err)?;
            for (k, nonce, ct) in &sealed {
                stmt.execute(params![scope.project_id, k, nonce, ct, now])
                    .map_err(write_err)?;
            }
        }
        test_hooks::stall_before_commit();
        tx.commit().map_err(write_err)
    }

    /// Names and timestamps of the project's secrets (never values).
    pub fn list_secrets(&self, scope: &Scope) -> Result<Vec<SecretInfo>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, created_at, updated_at FROM secrets WHERE project_id = ?1 ORDER BY key",
            )
            .map_err(read_err)?;
        let rows = stmt
            .query_map([scope.project_id], |r| {
                Ok(SecretInfo {
                    key: r.get(0)?,
                    created_at: r.get(1)?,
                    updated_at: r.get(2)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(read_err)?;
        Ok(rows)
    }

    pub fn delete_secret(&self, scope: &Scope, key: &str) -> Result<()> {
        super::check_key_name(key)?;
        let mut conn = self.lock();
        let tx = Self::begin(&mut conn)?;
        let n = tx
            .execute(
                "DELETE FROM secrets WHERE project_id = ?1 AND key = ?2",
                params![scope.project_id, key],
            )
            .map_err(write_err)?;
        if n == 0 {
            return Err(secret_not_found(scope, key));
        }
        tx.commit().map_err(write_err)
    }

    // ---- allowlist --------------------------------------------------------

    pub fn allowlist_entries(&self, ws: &WorkspaceRef) -> Result<Vec<AllowlistEntry>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT entry, added_at FROM allowlist WHERE workspace_id = ?1 ORDER BY entry",
            )
            .map_err(read_err)?;
        let rows = stmt
            .query_map([ws.id], |r| {
                Ok(AllowlistEntry {
                    entry: r.get(0)?,
                    added_at: r.get(1)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(read_err)?;
        Ok(rows)
    }

    /// Adds canonical entries; returns (added, already present). Each
    /// addition is logged in the same transaction.
    pub fn allowlist_add(
        &self,
        ws: &WorkspaceRef,
        entries: &[String],
    ) -> Result<(Vec<String>, Vec<String>)> {
        self.allowlist_change(ws, entries, true)
    }

    /// Removes canonical entries; returns (removed, not present).
    pub fn allowlist_remove(
        &self,
        ws: &WorkspaceRef,
        entries: &[String],
    ) -> Result<(Vec<String>, Vec<String>)> {
        self.allowlist_change(ws, entries, false)
    }

    fn allowlist_change(
        &self,
        ws: &WorkspaceRef,
        entries: &[String],
        add: bool,
    ) -> Result<(Vec<String>, Vec<String>)> {
        let mut conn = self.lock();
        let tx = Self::begin(&mut conn)?;
        let now = now_rfc3339();
        let (mut changed, mut unchanged) = (Vec::new(), Vec::new());
        for entry in entries {
            if changed.contains(entry) || unchanged.contains(entry) {
                continue;
            }
            let n = if add {
                tx.execute(
                    "INSERT INTO allowlist (workspace_id, entry, added_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (workspace_id, entry) DO NOTHING",
                    params![ws.id, entry, now],
                )
            } else {
                tx.execute(
                    "DELETE FROM allowlist WHERE workspace_id = ?1 AND entry = ?2",
                    params![ws.id, entry],
                )
            }
            .map_err(|e| {
                if is_fk_violation(&e) {
                    super::workspace_not_found(&ws.name)
                } else {
                    write_err(e)
                }
            })?;
            if n == 0 {
                unchanged.push(entry.clone());
                continue;
            }
            tx.execute(
                "INSERT INTO allowlist_log (workspace_id, timestamp, action, entry) VALUES (?1, ?2, ?3, ?4)",
                params![ws.id, now, if add { "add" } else { "remove" }, entry],
            )
            .map_err(write_err)?;
            changed.push(entry.clone());
        }
        tx.commit().map_err(write_err)?;
        Ok((changed, unchanged))
    }

    /// The allowlist history, oldest first (the last `last` changes if given).
    pub fn allowlist_log(
        &self,
        ws: &WorkspaceRef,
        last: Option<usize>,
    ) -> Result<Vec<AllowlistChange>> {
        let limit = last.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT timestamp, action, entry FROM
                   (SELECT id, timestamp, action, entry FROM allowlist_log WHERE workspace_id = ?1
                    ORDER BY id DESC LIMIT ?2)
                 ORDER BY id",
            )
            .map_err(read_err)?;
        let rows = stmt
            .query_map(params![ws.id, limit], |r| {
                Ok(AllowlistChange {
                    timestamp: r.get(0)?,
                    action: r.get(1)?,
                    entry: r.get(2)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(read_err)?;
        Ok(rows)
    }
}

fn set_meta(tx: &Transaction<'_>, name: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )
    .map(|_| ())
    .map_err(write_err)
}

fn is_fk_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// Hooks for the crash tests; compiled only into debug builds.
mod test_hooks {
    /// With `AGENTSECRETS_TEST_STALL_BEFORE_COMMIT_MS=N`, a secrets write
    /// announces itself on stderr and sleeps N ms inside its transaction,
    /// so a test can kill the process at a known point mid-write.
    pub fn stall_before_commit() {
        #[cfg(debug_assertions)]
        if let Some(ms) = std::env::var("AGENTSECRETS_TEST_STALL_BEFORE_COMMIT_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            use std::io::Write;
            let mut err = std::io::stderr();
            let _ = writeln!(err, "stalling-before-commit");
            let _ = err.flush();
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
    }
}
