//! Engine error codes: stable, machine-readable, shared by the engine (which
//! sends them in the `X-AS-Engine-Error` header and the JSON body) and the
//! SDK (which maps them to JS error classes).

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = ($wire:literal, $status:literal, $legacy:literal) ),+ $(,)?) => {
        /// A stable engine error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $( $(#[$doc])* #[serde(rename = $wire)] $variant, )+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $wire,)+ }
            }

            /// HTTP status the proxy answers with (compatible with the
            /// upstream proxy where it has the same error).
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)+ }
            }

            /// The upstream proxy's `error` field for the same condition, so
            /// clients written for it keep working.
            pub fn legacy_error(self) -> &'static str {
                match self { $(ErrorCode::$variant => $legacy,)+ }
            }

            pub fn parse(s: &str) -> Option<ErrorCode> {
                match s { $($wire => Some(ErrorCode::$variant),)+ _ => None }
            }
        }
    };
}

codes! {
    /// TCP caller without a valid `X-AS-Token`.
    ProxyAuthRequired = ("PROXY_AUTH_REQUIRED", 401, "proxy_auth_required"),
    /// Request from a browser (`Origin`) or with a foreign `Host` (DNS rebinding).
    ForbiddenCaller = ("FORBIDDEN_CALLER", 403, "forbidden_caller"),
    /// Malformed request: missing target URL, bad injection spec, control characters.
    InvalidRequest = ("INVALID_REQUEST", 400, "invalid_request"),
    /// The engine has no home yet.
    NotInitialized = ("NOT_INITIALIZED", 503, "not_initialized"),
    WorkspaceNotFound = ("WORKSPACE_NOT_FOUND", 404, "workspace_not_found"),
    ProjectNotFound = ("PROJECT_NOT_FOUND", 404, "project_not_found"),
    /// Target host not on the workspace allowlist (or the allowlist is empty).
    DomainNotAllowed = ("DOMAIN_NOT_ALLOWED", 403, "domain_not_in_allowlist"),
    /// Plain http:// to a host that is neither loopback nor allowlisted with `http://`.
    InsecureScheme = ("INSECURE_SCHEME", 403, "insecure_scheme"),
    /// Target resolves to a link-local or cloud metadata address.
    AddressRefused = ("ADDRESS_REFUSED", 403, "address_refused"),
    SecretNotFound = ("SECRET_NOT_FOUND", 502, "secret_not_found"),
    /// The value or the request body does not fit the injection style.
    InjectionFailed = ("INJECTION_FAILED", 502, "injection_failed"),
    UpstreamUnreachable = ("UPSTREAM_UNREACHABLE", 502, "upstream_unreachable"),
    UpstreamTimeout = ("UPSTREAM_TIMEOUT", 504, "upstream_timeout"),
    /// Upstream answered with a content encoding the engine cannot scan.
    UpstreamEncoding = ("UPSTREAM_ENCODING", 502, "upstream_encoding"),
    /// Request headers or body over the engine's limits.
    RequestTooLarge = ("REQUEST_TOO_LARGE", 413, "request_too_large"),
    /// The upstream's answer is over a response size limit: the engine's
    /// (`--max-response-mib`) or the SDK's (`maxResponseBytes`).
    ResponseTooLarge = ("RESPONSE_TOO_LARGE", 502, "response_too_large"),
    /// An admin password is needed (allowlist changes).
    AllowlistModificationDenied = ("ALLOWLIST_MODIFICATION_DENIED", 403, "allowlist_modification_denied"),
    /// The home's storage failed: the vault (database, master key) or
    /// another file of the home (config, run files, audit log); the message
    /// names which, and a full disk says so.
    VaultError = ("VAULT_ERROR", 500, "vault_error"),
    /// A feature that needs something this machine does not have.
    Unsupported = ("UNSUPPORTED", 501, "unsupported"),
    /// Proxy is not running (CLI only).
    ProxyNotRunning = ("PROXY_NOT_RUNNING", 503, "proxy_not_running"),
    /// A name that already exists (CLI only).
    AlreadyExists = ("ALREADY_EXISTS", 409, "already_exists"),
    /// The bound OpenBao / Vault server could not be reached (connection
    /// refused, timeout, TLS failure) after the retries that are safe.
    RemoteUnreachable = ("REMOTE_UNREACHABLE", 502, "remote_unreachable"),
    /// The bound OpenBao / Vault server is sealed.
    RemoteSealed = ("REMOTE_SEALED", 503, "remote_sealed"),
    /// The OpenBao / Vault policy of the binding's identity denies the path.
    RemoteDenied = ("REMOTE_DENIED", 403, "remote_denied"),
    /// The binding's token expired or was revoked (AppRole: the login failed).
    SessionExpired = ("SESSION_EXPIRED", 401, "session_expired"),
    /// A push lost a check-and-set race: the key changed remotely since the last pull.
    RemoteConflict = ("REMOTE_CONFLICT", 409, "remote_conflict"),
    /// Anything else; the message says what.
    Internal = ("INTERNAL", 500, "internal"),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// JSON body of an engine error. A superset of the upstream proxy's body
/// (`error`, `domain`, `message`), so upstream clients keep working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineErrorBody {
    /// Upstream-compatible short error (e.g. `domain_not_in_allowlist`).
    pub error: String,
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// What happened, for people. Never contains a secret value.
    pub message: String,
    /// What to run or change to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Secret name concerned (never a value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Always [`crate::ENGINE_NAME`].
    pub engine: String,
}

impl EngineErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        EngineErrorBody {
            error: code.legacy_error().to_owned(),
            code,
            message: message.into(),
            fix: None,
            domain: None,
            key: None,
            workspace: None,
            project: None,
            engine: crate::ENGINE_NAME.to_owned(),
        }
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// Why the engine ended a streamed answer early. The engine sends the code
/// as the `X-AS-Engine-Error` trailer (when the caller asked for trailers);
/// [`Cut::body`] is the error both sides describe it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Over the engine's response size limit.
    TooLarge,
    /// No byte for longer than the engine's timeout.
    Stalled,
    /// Not complete within the engine's whole-answer deadline.
    TooSlow,
    /// The upstream connection failed mid-body.
    Failed,
}

impl Cut {
    pub fn code(self) -> ErrorCode {
        match self {
            Cut::TooLarge => ErrorCode::ResponseTooLarge,
            Cut::Stalled | Cut::TooSlow => ErrorCode::UpstreamTimeout,
            Cut::Failed => ErrorCode::UpstreamUnreachable,
        }
    }

    /// The cut a trailer code names (stalled and too slow share a code).
    pub fn from_code(code: ErrorCode) -> Option<Cut> {
        match code {
            ErrorCode::ResponseTooLarge => Some(Cut::TooLarge),
            ErrorCode::UpstreamTimeout => Some(Cut::TooSlow),
            ErrorCode::UpstreamUnreachable => Some(Cut::Failed),
            _ => None,
        }
    }

    /// What happened, without any upstream text.
    pub fn message(self) -> &'static str {
        match self {
            Cut::TooLarge => "the engine cut the upstream's answer at its response size limit",
            Cut::Stalled => "the engine cut the upstream's answer: it stopped sending for longer than the engine's timeout",
            Cut::TooSlow => "the engine cut the upstream's answer: it was too slow (it paused past the engine's timeout, or did not finish within its response deadline)",
            Cut::Failed => "the upstream's answer broke off mid-body (connection lost or malformed encoding)",
        }
    }

    pub fn fix(self) -> &'static str {
        match self {
            Cut::TooLarge => "ask the API for less (pagination, a smaller range), or have the engine started with a larger --max-response-mib (AGENTSECRETS_MAX_RESPONSE_MIB)",
            Cut::Stalled | Cut::TooSlow => "check that the upstream answers promptly, or have the engine started with larger --timeout-secs / --deadline-secs (AGENTSECRETS_DEADLINE_SECS)",
            Cut::Failed => "retry; check that the upstream is healthy",
        }
    }

    pub fn body(self) -> EngineErrorBody {
        EngineErrorBody::new(self.code(), self.message()).with_fix(self.fix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cut_is_named_by_its_code() {
        for cut in [Cut::TooLarge, Cut::TooSlow, Cut::Failed] {
            assert_eq!(Cut::from_code(cut.code()), Some(cut));
        }
        assert_eq!(Cut::from_code(Cut::Stalled.code()), Some(Cut::TooSlow));
        assert_eq!(Cut::from_code(ErrorCode::Internal), None);
    }

    #[test]
    fn codes_round_trip() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(ErrorCode::parse("nope"), None);
    }

    #[test]
    fn body_is_upstream_compatible() {
        let mut b = EngineErrorBody::new(ErrorCode::DomainNotAllowed, "x is not allowed");
        b.domain = Some("x".into());
        let v: serde_json::Value = serde_json::to_value(&b).unwrap();
        assert_eq!(v["error"], "domain_not_in_allowlist");
        assert_eq!(v["domain"], "x");
        assert_eq!(v["code"], "DOMAIN_NOT_ALLOWED");
    }
}
