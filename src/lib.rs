//! Node addon of @the-17/agentsecrets: the native client that sends calls to
//! the agentsecrets engine (or the upstream AgentSecrets proxy) by secret
//! name. The JS layer (`index.js`) wraps it with option checks and error
//! classes.

#![deny(clippy::all)]

mod cli_runner;
mod client;
mod discovery;
mod errors;
mod options;
mod response;
mod transport;

pub use cli_runner::{NativeCliRequest, NativeEnvCommand, NativeEnvRequest};
pub use client::{NativeBackendInfo, NativeClient, NativeClientOptions};
pub use options::{NameValue, NativeCallRequest};
pub use response::NativeResponse;

/// Prefix of every error message the addon produces; the rest is JSON.
#[napi_derive::napi]
pub const ERROR_PREFIX: &str = errors::ERROR_PREFIX;
