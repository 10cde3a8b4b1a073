//! The vault: SQLite (workspaces → projects → secrets, per-workspace
//! allowlist) with values encrypted by an AEAD under the master key.
//!
//! INTERFACE CONTRACT (used by the proxy and `env`); the vault helper implements it.

use crate::error::Result;
use crate::home::Home;
use zeroize::Zeroizing;

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
    _private: (),
}

impl Vault {
    /// Opens the vault of an initialised home (`NOT_INITIALIZED` otherwise).
    pub fn open(_home: &Home) -> Result<Vault> {
        todo!()
    }

    /// The given workspace/project, or the active ones from the config.
    /// `WORKSPACE_NOT_FOUND` / `PROJECT_NOT_FOUND` when missing.
    pub fn scope(&self, _workspace: Option<&str>, _project: Option<&str>) -> Result<Scope> {
        todo!()
    }

    /// The workspace's allowlist entries in canonical form.
    pub fn allowlist(&self, _scope: &Scope) -> Result<Vec<String>> {
        todo!()
    }

    /// The value of one secret (`SECRET_NOT_FOUND` with `.key(..)` when missing).
    pub fn secret(&self, _scope: &Scope, _key: &str) -> Result<Zeroizing<String>> {
        todo!()
    }

    /// The project's secrets, or only the named ones (each must exist).
    pub fn secrets(
        &self,
        _scope: &Scope,
        _only: Option<&[String]>,
    ) -> Result<Vec<(String, Zeroizing<String>)>> {
        todo!()
    }
}
