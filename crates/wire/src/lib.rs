//! The wire protocol spoken between the agentsecrets engine and its callers.
//!
//! One definition of the injection spec, the header names, the engine error
//! codes, the audit event, the run-file names and contents, the CLI's ready and error lines, used by both the engine and the Node addon so
//! that the two cannot drift. `docs/PROTOCOL.md` describes the same contract
//! for people.

pub mod audit;
pub mod cli_version;
pub mod error;
pub mod error_line;
pub mod headers;
pub mod health;
pub mod inject;
pub mod names;
pub mod proof;
pub mod proxy_state;
pub mod ready_line;
pub mod run_files;
pub mod scope;
pub mod target_url;

pub use audit::{AuditEvent, AuditStatus};
pub use cli_version::{CliKind, CliVersion};
pub use error::{EngineErrorBody, ErrorCode};
pub use error_line::ErrorLine;
pub use health::Health;
pub use inject::{AuthStyle, Injection, InjectionPlan};
pub use names::NameError;
pub use proxy_state::ProxyState;
pub use ready_line::ReadyLine;
pub use target_url::TargetUrlError;

/// Version of the project's protocol extension advertised in `/health`.
pub const PROTOCOL_VERSION: u32 = 1;

/// The text that replaces every echoed secret value.
pub const REDACTION_MARKER: &str = "[REDACTED_BY_AGENTSECRETS]";

/// Engine name advertised in `/health`; the SDK uses it to tell our engine
/// from the upstream Go proxy.
pub const ENGINE_NAME: &str = "agentsecrets-engine";
