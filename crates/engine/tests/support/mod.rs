//! The one fixture of the engine's integration tests: a temporary home set
//! up through the real CLI ([`Home`]), the CLI's typed output
//! ([`CliOutput`]), the engine as a detached process ([`Detached`]) or served
//! in this process ([`Proxy`]), a loopback upstream that records what it
//! receives ([`Upstream`]), leak scans and helpers for child processes.
//!
//! Everything a test starts is stopped when its owner is dropped, also when
//! the test panics.
#![allow(dead_code)] // each test binary uses a part of it

mod detached;
mod home;
mod leaks;
mod output;
mod process;
mod proxy;
mod upstream;

#[allow(unused_imports)] // each test binary uses a part of it
pub use self::{
    detached::Detached,
    home::{Home, ADMIN_EMAIL, ADMIN_PASSWORD, BIN},
    leaks::{assert_no_leak, contains, encodings},
    output::{text, CliOutput},
    process::{cmdlines_containing, line_reader, next_line, signal, spawn, wait_timeout, Running},
    proxy::{plan, Answer, Proxy},
    upstream::{Received, Reply, Upstream},
};
