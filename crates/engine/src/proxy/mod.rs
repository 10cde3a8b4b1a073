//! The credential-injecting proxy server.
//!
//! Order for every `/proxy` request: authenticate → scope → allowlist →
//! resolve → inject → forward → redact → audit.

pub mod lifecycle;
pub mod state;

use crate::error::Result;
use crate::home::Home;

/// How the server was asked to listen.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
}

/// What the server reports once it accepts connections.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ready {
    pub pid: u32,
    pub port: u16,
    pub socket: String,
}

/// Binds, writes the token/state files, calls `on_ready`, then serves until
/// SIGTERM/SIGINT, draining in-flight requests and removing the run files.
pub async fn serve(_home: Home, _opts: ServeOptions, _on_ready: impl FnOnce(&Ready)) -> Result<()> {
    todo!("proxy")
}
