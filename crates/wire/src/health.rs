//! The `/health` answer. The upstream proxy answers `{"project":..,"status":"ok"}`;
//! the engine adds its name, version, protocol version and features, which is
//! how a client tells the two apart.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    /// Active project (upstream compatible).
    #[serde(default)]
    pub project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// [`crate::ENGINE_NAME`] for our engine; absent for the upstream proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u32>,
    #[serde(default)]
    pub features: Vec<String>,
}

/// Features the engine advertises.
pub mod features {
    pub const EXACT_CASE_TARGETS: &str = "exact-case-targets";
    pub const SCOPE: &str = "per-request-scope";
    pub const ENGINE_ERRORS: &str = "engine-errors";
    pub const CALLER_TOKEN: &str = "caller-token";
    pub const UNIX_SOCKET: &str = "unix-socket";
    pub const STREAMING_REDACTION: &str = "streaming-redaction";
    pub const REDACTED_TRAILER: &str = "redacted-trailer";
    /// A streamed body the engine cuts ends with an `X-AS-Engine-Error` trailer.
    pub const ERROR_TRAILER: &str = "error-trailer";
    /// `/health` answers an `X-AS-Challenge` with an `X-AS-Proof`.
    pub const ENGINE_PROOF: &str = "engine-proof";
}

impl Health {
    pub fn is_engine(&self) -> bool {
        self.engine.as_deref() == Some(crate::ENGINE_NAME)
    }
}
