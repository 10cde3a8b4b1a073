//! The agentsecrets engine: the only process that ever holds a secret value.

// EngineError carries a code, message, fix and context; errors are the cold
// path, so boxing them would buy nothing measurable.
#![allow(clippy::result_large_err)]
// Its trust boundary is Unix: a socket in a 0700 directory, 0600 files,
// flock, signals and process groups. Elsewhere the crate is empty and the
// binary stops the build with one message (main.rs).
#![cfg(unix)]

pub mod audit;
pub mod cli;
pub mod clock;
pub mod destination;
pub mod diag;
pub mod envrun;
pub mod error;
pub mod hardening;
pub mod home;
pub mod home_watch;
pub mod proxy;
pub mod redact;
pub mod remote;
pub mod shell;
pub mod tty;
pub mod vault;
