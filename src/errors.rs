//! Errors crossing into JavaScript.
//!
//! napi promises cannot carry a custom error type, so every failure becomes a
//! plain `Error` whose message is [`ERROR_PREFIX`] followed by a JSON object
//! with a stable `code`. `errors.js` (`convertError`) turns it into the
//! matching JS class. Nothing here ever holds a secret value: the addon never
//! has one; engine messages are scrubbed by the engine.

use agentsecrets_wire::{EngineErrorBody, ErrorCode};
use serde::Serialize;
use std::collections::BTreeMap;

/// Marks an error message produced by this module.
pub const ERROR_PREFIX: &str = "AGENTSECRETS_ERROR:";

/// Defines each code as a `&str` constant whose value is its name, and
/// [`sdk_codes::ALL`] listing them.
macro_rules! codes {
    ($( $(#[$doc:meta])* $name:ident ),+ $(,)?) => {
        $( $(#[$doc])* pub const $name: &str = stringify!($name); )+
        /// Every code above.
        pub const ALL: &[&str] = &[$($name),+];
    };
}

/// Codes the SDK produces itself, next to the engine's [`ErrorCode`]s.
pub mod sdk_codes {
    codes! {
        /// No engine answered and none could be started.
        ENGINE_NOT_RUNNING,
        /// An engine was found but the connection to it failed.
        PROXY_CONNECTION,
        /// The caller's arguments were refused before anything was sent.
        INVALID_ARGUMENT,
        /// The call did not finish within `timeoutMs`.
        TIMEOUT,
        /// The call was aborted through its `AbortSignal`.
        ABORTED,
        /// The upstream answered with a status >= 400.
        UPSTREAM_HTTP,
        /// No engine binary could be found to start.
        CLI_NOT_FOUND,
        /// The engine binary ran but failed.
        CLI_ERROR,
        /// The backend cannot do what was asked (e.g. per-request scope on the upstream proxy).
        BACKEND_UNSUPPORTED,
        /// The backend's answer could not be understood.
        BAD_ENGINE_RESPONSE,
        /// `close()` was called on this client.
        CLIENT_CLOSED,
        /// The engine does not run on this platform (Windows).
        PLATFORM_NOT_SUPPORTED,
    }
}

/// Every code an error from the addon can carry: the engine's, then the
/// SDK's own.
pub fn all_codes() -> Vec<String> {
    let engine = ErrorCode::ALL.iter().map(|c| c.as_str());
    engine
        .chain(sdk_codes::ALL.iter().copied())
        .map(str::to_owned)
        .collect()
}

/// A failure with a stable code, a message and what to do about it.
/// Boxed: errors are rare and `Result`s should stay small.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SdkError(Box<ErrorData>);

impl std::ops::Deref for SdkError {
    type Target = ErrorData;
    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for SdkError {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}

/// The fields of an [`SdkError`], as serialised for `errors.js`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ErrorData {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// HTTP status of the answer that caused the error, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// Upstream answer (only for `UPSTREAM_HTTP`); redacted by the engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Exit code of a failed engine command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Which backend answered: `engine` or `upstream-proxy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
}

pub type SdkResult<T> = std::result::Result<T, SdkError>;

impl SdkError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        SdkError(Box::new(ErrorData {
            code: code.to_owned(),
            message: message.into(),
            ..Default::default()
        }))
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        SdkError::new(sdk_codes::INVALID_ARGUMENT, message)
            .fix("correct the argument; nothing was sent")
    }

    pub fn backend(mut self, backend: &str) -> Self {
        self.backend = Some(backend.to_owned());
        self
    }

    pub fn aborted() -> Self {
        SdkError::new(sdk_codes::ABORTED, "the call was aborted")
            .fix("the AbortSignal passed as `signal` fired; retry without aborting if the call is still wanted")
    }

    pub fn timeout(ms: u64) -> Self {
        SdkError::new(
            sdk_codes::TIMEOUT,
            format!("the call did not complete within {ms} ms"),
        )
        .fix("raise `timeoutMs`, or check that the target answers")
    }

    pub fn closed() -> Self {
        SdkError::new(
            sdk_codes::CLIENT_CLOSED,
            "this AgentSecrets client was closed",
        )
        .fix("create a new AgentSecrets client")
    }

    /// An error the engine generated (`X-AS-Engine-Error`).
    pub fn from_engine(body: EngineErrorBody, status: u16) -> Self {
        let fix = body
            .fix
            .or_else(|| default_fix(body.code).map(str::to_owned));
        SdkError(Box::new(ErrorData {
            code: body.code.as_str().to_owned(),
            message: body.message,
            fix,
            key: body.key,
            domain: body.domain,
            workspace: body.workspace,
            project: body.project,
            status_code: Some(status),
            backend: Some("engine".into()),
            ..Default::default()
        }))
    }

    /// Encodes the error for `convertError()` in `errors.js`.
    pub fn into_napi(self) -> napi::Error {
        let json = serde_json::to_string(&self).unwrap_or_else(|_| {
            format!(
                "{{\"code\":\"{}\",\"message\":\"unserialisable error\"}}",
                sdk_codes::BAD_ENGINE_RESPONSE
            )
        });
        napi::Error::new(
            napi::Status::GenericFailure,
            format!("{ERROR_PREFIX}{json}"),
        )
    }
}

impl From<SdkError> for napi::Error {
    fn from(e: SdkError) -> Self {
        e.into_napi()
    }
}

impl From<agentsecrets_wire::TargetUrlError> for SdkError {
    fn from(e: agentsecrets_wire::TargetUrlError) -> Self {
        SdkError::invalid(e.to_string()).fix(e.fix())
    }
}

impl From<agentsecrets_wire::NameError> for SdkError {
    fn from(e: agentsecrets_wire::NameError) -> Self {
        SdkError::invalid(e.to_string())
    }
}

/// Fixes for engine codes whose body came without one.
fn default_fix(code: ErrorCode) -> Option<&'static str> {
    Some(match code {
        ErrorCode::ProxyAuthRequired => {
            "use the same AGENTSECRETS_HOME as the running engine, or restart it with `agentsecrets proxy stop && agentsecrets proxy start`"
        }
        ErrorCode::NotInitialized => "run `agentsecrets init`",
        ErrorCode::SecretNotFound => "store it with `agentsecrets secrets set <KEY>` (the value is read from stdin)",
        ErrorCode::DomainNotAllowed => "run `agentsecrets workspace allowlist add <domain>`",
        ErrorCode::WorkspaceNotFound => "list workspaces with `agentsecrets workspace list`",
        ErrorCode::ProjectNotFound => "list projects with `agentsecrets project list`",
        ErrorCode::UpstreamTimeout => "check that the target answers, or raise the engine's --timeout-secs",
        ErrorCode::UpstreamUnreachable => "check the target URL and that the host is reachable",
        _ => return None,
    })
}
