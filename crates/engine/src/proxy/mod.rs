//! The credential-injecting proxy server.
//!
//! A `/proxy` request runs the phases of [`pipeline`] over one call
//! [`context`]: authenticate → parse → resolve (scope, [destination
//! policy](crate::destination), values) → inject ([`inject`]) → forward
//! ([`forward`]) → redact ([`respond`], [`body`]) → respond. Its audit line
//! is written in one place, [`context::Call::finish`]. [`routes`] dispatches
//! requests to `/proxy` and `/health`.

mod accept;
pub mod auth;
pub mod body;
pub mod body_json;
pub mod caps;
pub mod context;
pub mod forward;
pub mod header_case;
pub mod inject;
pub mod known_values;
pub mod lifecycle;
pub mod pipeline;
pub mod request;
pub mod resolved;
pub mod respond;
pub mod routes;
pub mod server;
pub mod state;
pub mod upload;

use crate::audit::AuditLog;
use crate::vault::Vault;
use std::time::Duration;

pub use server::serve;

/// How the server was asked to listen and what it allows.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Cut upstream response bodies after this many bytes.
    pub max_response_bytes: u64,
    /// Until upstream response headers arrive, and the longest pause mid-body.
    pub timeout: Duration,
    /// The longest a streamed answer may take from its headers to its end,
    /// however steadily it trickles.
    pub deadline: Duration,
    /// Worker threads of the runtime. One by default: a request's work then
    /// never hops between threads, which costs less CPU per request than a
    /// second worker saves.
    pub threads: usize,
}

/// Default of [`ServeOptions::deadline`]: ten minutes, room for a long
/// streamed (server-sent events) answer.
pub const DEFAULT_DEADLINE_SECS: u64 = 600;

impl ServeOptions {
    pub fn new(port: u16) -> Self {
        ServeOptions {
            port,
            max_response_bytes: 1 << 30,
            timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(DEFAULT_DEADLINE_SECS),
            threads: 1,
        }
    }
}

/// Limits applied to every proxied call.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub deadline: Duration,
    pub max_response_bytes: u64,
}

/// State shared by every connection of one running proxy.
pub struct Shared {
    pub vault: Vault,
    pub token: String,
    /// The TCP port this engine listens on, bound into its `/health` proof.
    pub port: u16,
    pub client: forward::LazyClient,
    pub header_case: header_case::HeaderCase,
    pub limits: Limits,
    pub audit_log: AuditLog,
    /// Every value of the home, for redaction.
    pub known: known_values::KnownValues,
    /// What calls resolved, kept while the home is unchanged.
    pub resolved: resolved::ResolvedCache,
    /// The resolve-through bindings (OpenBao), when there are any.
    pub remote: Option<std::sync::Arc<crate::remote::resolve::Resolver>>,
}
