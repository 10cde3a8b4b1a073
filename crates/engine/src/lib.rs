//! The agentsecrets engine: the only process that ever holds a secret value.

// EngineError carries a code, message, fix and context; errors are the cold
// path, so boxing them would buy nothing measurable.
#![allow(clippy::result_large_err)]

pub mod audit;
pub mod cli;
pub mod clock;
pub mod destination;
pub mod diag;
pub mod envrun;
pub mod error;
pub mod home;
pub mod proxy;
pub mod redact;
pub mod tty;
pub mod vault;
