//! The engine's error type: a stable [`ErrorCode`] plus a message that says
//! what happened and a fix that says what to run. Messages never contain a
//! secret value; anything that could (upstream error strings) is scrubbed by
//! the caller before it becomes an `EngineError`.

use agentsecrets_wire::{EngineErrorBody, ErrorCode};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError {
    pub code: ErrorCode,
    pub message: String,
    pub fix: Option<String>,
    pub domain: Option<String>,
    pub key: Option<String>,
    pub workspace: Option<String>,
    pub project: Option<String>,
    /// Overrides the upstream-compatible `error` value of the body.
    pub legacy_error: Option<&'static str>,
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        EngineError {
            code,
            message: message.into(),
            fix: None,
            domain: None,
            key: None,
            workspace: None,
            project: None,
            legacy_error: None,
        }
    }

    pub fn legacy_error(mut self, error: &'static str) -> Self {
        self.legacy_error = Some(error);
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub fn workspace(mut self, workspace: impl Into<String>) -> Self {
        self.workspace = Some(workspace.into());
        self
    }

    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        EngineError::new(ErrorCode::InvalidRequest, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        EngineError::new(ErrorCode::Internal, message)
    }

    /// The vault (its database or master key) failed; `context` says what
    /// was being done. A full disk says so (it is not a permission problem).
    pub fn vault<E: fmt::Display + 'static>(context: &str, err: E) -> Self {
        EngineError::storage(context, err, VAULT_FIX)
    }

    /// A file or directory of the home other than the vault (the home
    /// itself, its config, a private file written through [`crate::home`])
    /// could not be read or written.
    pub fn home_file<E: fmt::Display + 'static>(context: &str, err: E) -> Self {
        EngineError::storage(context, err, HOME_FIX)
    }

    /// The audit log (`proxy.log`) could not be read or written.
    pub fn audit_log<E: fmt::Display + 'static>(context: &str, err: E) -> Self {
        EngineError::storage(context, err, AUDIT_LOG_FIX)
    }

    /// A run file of the proxy (its lock, socket or state file) could not
    /// be used.
    pub fn run_file<E: fmt::Display + 'static>(context: &str, err: E) -> Self {
        EngineError::storage(context, err, RUN_FILE_FIX)
    }

    /// A storage failure with `fix`, or the full-disk fix when that is why.
    /// Every storage failure shares the wire code `VAULT_ERROR`.
    fn storage<E: fmt::Display + 'static>(context: &str, err: E, fix: &str) -> Self {
        if is_disk_full(&err) {
            return EngineError::disk_full(context, err);
        }
        EngineError::new(ErrorCode::VaultError, format!("{context}: {err}")).fix(fix)
    }

    /// The disk (or the quota) holding the home is full.
    pub fn disk_full(context: &str, err: impl fmt::Display) -> Self {
        EngineError::new(
            ErrorCode::VaultError,
            format!("{context}: the disk is full ({err})"),
        )
        .fix(DISK_FULL_FIX)
    }

    /// This failure happened while the disk holding the home is full: say
    /// so, instead of the generic fix (permissions).
    pub fn on_full_disk(mut self) -> Self {
        if self.fix.as_deref() != Some(DISK_FULL_FIX) {
            self.message = format!(
                "{} (the disk holding AGENTSECRETS_HOME is full)",
                self.message
            );
            self.fix = Some(DISK_FULL_FIX.to_owned());
        }
        self
    }

    pub fn not_initialized(home: &std::path::Path) -> Self {
        EngineError::new(
            ErrorCode::NotInitialized,
            format!("no agentsecrets home at {}", home.display()),
        )
        .fix("run `agentsecrets init` (or set AGENTSECRETS_HOME to an initialised home)")
    }

    /// The JSON body sent by the proxy and printed by the CLI with `--json`.
    pub fn to_body(&self) -> EngineErrorBody {
        EngineErrorBody::from(self)
    }

    /// Process exit code for the CLI: 2 for bad usage, 3 for "not found",
    /// 4 for "refused by policy", 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self.code {
            ErrorCode::InvalidRequest => 2,
            ErrorCode::WorkspaceNotFound
            | ErrorCode::ProjectNotFound
            | ErrorCode::SecretNotFound => 3,
            ErrorCode::DomainNotAllowed
            | ErrorCode::AllowlistModificationDenied
            | ErrorCode::InsecureScheme
            | ErrorCode::AddressRefused
            | ErrorCode::ForbiddenCaller
            | ErrorCode::ProxyAuthRequired => 4,
            _ => 1,
        }
    }
}

const VAULT_FIX: &str = "check that AGENTSECRETS_HOME is readable and writable by you, and that `agentsecrets init` was run";
const HOME_FIX: &str = "check that AGENTSECRETS_HOME and the files in it belong to you and are readable and writable by you (`ls -la \"$AGENTSECRETS_HOME\"`)";
const AUDIT_LOG_FIX: &str =
    "check that proxy.log in AGENTSECRETS_HOME is a regular file you can read and write";
const RUN_FILE_FIX: &str = "check that the run/ directory in AGENTSECRETS_HOME belongs to you and is writable; if a proxy of this home is stuck, run `agentsecrets proxy stop` and retry";
const DISK_FULL_FIX: &str = "free space on the file system that holds AGENTSECRETS_HOME (see `df -h \"$AGENTSECRETS_HOME\"`), then retry";

/// Whether `err` is an out-of-space error: `ENOSPC`/`EDQUOT` from the
/// system, or SQLite's `SQLITE_FULL`.
fn is_disk_full(err: &dyn std::any::Any) -> bool {
    if let Some(e) = err.downcast_ref::<std::io::Error>() {
        return e.kind() == std::io::ErrorKind::StorageFull
            || e.kind() == std::io::ErrorKind::QuotaExceeded
            || matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT));
    }
    if let Some(rusqlite::Error::SqliteFailure(f, _)) = err.downcast_ref::<rusqlite::Error>() {
        return f.code == rusqlite::ErrorCode::DiskFull;
    }
    false
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n  fix: {fix}")?;
        }
        Ok(())
    }
}

impl std::error::Error for EngineError {}

impl From<&EngineError> for EngineErrorBody {
    fn from(e: &EngineError) -> Self {
        EngineErrorBody {
            error: e.legacy_error.unwrap_or(e.code.legacy_error()).to_owned(),
            fix: e.fix.clone(),
            domain: e.domain.clone(),
            key: e.key.clone(),
            workspace: e.workspace.clone(),
            project: e.project.clone(),
            ..EngineErrorBody::new(e.code, e.message.clone())
        }
    }
}

/// An error the engine reported as JSON (a detached proxy's start failure).
/// A legacy `error` value other than the code's own is not kept: it only
/// matters to upstream HTTP clients, which never read this side.
impl From<EngineErrorBody> for EngineError {
    fn from(b: EngineErrorBody) -> Self {
        EngineError {
            fix: b.fix,
            domain: b.domain,
            key: b.key,
            workspace: b.workspace,
            project: b.project,
            ..EngineError::new(b.code, b.message)
        }
    }
}

impl From<agentsecrets_wire::NameError> for EngineError {
    fn from(e: agentsecrets_wire::NameError) -> Self {
        EngineError::invalid(e.to_string())
    }
}

impl From<agentsecrets_wire::TargetUrlError> for EngineError {
    fn from(e: agentsecrets_wire::TargetUrlError) -> Self {
        EngineError::invalid(e.to_string()).fix(e.fix())
    }
}

impl From<agentsecrets_wire::inject::PlanError> for EngineError {
    fn from(e: agentsecrets_wire::inject::PlanError) -> Self {
        EngineError::invalid(e.to_string())
    }
}
