//! Allowlist entries and host matching (pure; no I/O).
//!
//! INTERFACE CONTRACT; the redact/allowlist helper implements it.

use crate::error::Result;
use std::net::IpAddr;
use url::Url;

/// The outcome of checking a target URL against an allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; `explicit_http` when the matching entry names `http://`.
    Allowed { explicit_http: bool },
    NotAllowed,
    EmptyAllowlist,
}

/// Canonical form of an entry typed by a person (lower case, no trailing
/// dot, IDN as punycode). Refuses anything that is not a host pattern.
pub fn normalize_entry(_entry: &str) -> Result<String> {
    todo!()
}

/// Checks the URL's host (and port, scheme) against canonical entries.
pub fn check(_entries: &[String], _url: &Url) -> Decision {
    todo!()
}

/// The URL's host as written in audit logs and errors (lower case, no trailing dot).
pub fn host_of(_url: &Url) -> String {
    todo!()
}

/// Loopback targets (127.0.0.0/8, ::1, localhost) may get secrets over plain http.
pub fn is_loopback_host(_url: &Url) -> bool {
    todo!()
}

/// Link-local, cloud metadata and unspecified addresses: never a target.
pub fn is_refused_ip(_ip: IpAddr) -> bool {
    todo!()
}
