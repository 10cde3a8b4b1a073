//! The agentsecrets engine: the only process that ever holds a secret value.

pub mod allowlist;
pub mod audit;
pub mod cli;
pub mod envrun;
pub mod error;
pub mod home;
pub mod proxy;
pub mod redact;
pub mod tty;
pub mod vault;
