//! Node addon of @the-17/agentsecrets: the native client that sends calls to
//! the agentsecrets engine (or the upstream AgentSecrets proxy) by secret
//! name. The JS layer (`index.js`) wraps it with option checks and error
//! classes.

#![deny(clippy::all)]

mod body;
mod cli_backend;
mod cli_runner;
mod client;
mod config;
mod discovery;
mod engine_start;
mod errors;
mod fetch;
mod linger;
mod options;
mod platform;
mod probe;
mod read_ahead;
mod response;
mod transport;
mod upload;

pub use cli_backend::{NativeCliBackend, NativeCliKind};
pub use cli_runner::{NativeCliRequest, NativeEnvCommand, NativeEnvRequest};
pub use client::{NativeBackendInfo, NativeClient};
pub use config::NativeClientOptions;
pub use fetch::{NativeFetchHead, NativeFetchResponse};
pub use options::{NameValue, NativeCallRequest};
pub use response::NativeResponse;
pub use upload::NativeUpload;

/// Prefix of every error message the addon produces; the rest is JSON.
#[napi_derive::napi]
pub const ERROR_PREFIX: &str = errors::ERROR_PREFIX;

/// Every error code the addon reports (the engine's and its own), for the
/// JS layer's code table and its tests.
#[napi_derive::napi]
pub fn error_codes() -> Vec<String> {
    errors::all_codes()
}

/// The addon's runtime has one worker. A call's future then never hops
/// between threads and the worker does not compete with Node and the engine
/// for cores: `client.call` p50 fell from about 1.7x to about 1.2x direct
/// `fetch` on two cores, with the same throughput at 64 concurrent calls.
/// Before it sleeps it lingers briefly for a next call (see [`linger`]).
#[napi_derive::module_init]
fn init() {
    // On failure napi builds its default runtime instead.
    if let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("agentsecrets-sdk")
        .on_thread_park(linger::before_park)
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}
