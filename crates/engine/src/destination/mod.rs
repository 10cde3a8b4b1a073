//! May secrets go to this destination? The whole policy, in two steps:
//!
//! 1. [`check`], before any value is read: the target's host is on the
//!    workspace allowlist, the scheme is https unless the host is loopback
//!    or its entry names `http://`, and an IP literal is not a link-local or
//!    cloud metadata address.
//! 2. [`check_resolved`], at connect time: no address a host name resolves
//!    to is one of those either, so an allowlisted name pointed there does
//!    not reach it.
//!
//! The entries and their matching are [`allowlist`]; the address rules are
//! [`address`]. Storing the list is the vault's business.

pub mod address;
pub mod allowlist;

use crate::error::EngineError;
use agentsecrets_wire::ErrorCode;
use allowlist::Decision;
use std::net::SocketAddr;
use url::Url;

pub use allowlist::{host_of, normalize_entry};

/// Step 1: whether secrets may go to `target`, given the `entries` of the
/// allowlist of `workspace`. `domain` is the target's [`host_of`], as the
/// errors name it.
pub fn check(
    entries: &[String],
    target: &Url,
    domain: &str,
    workspace: &str,
) -> Result<(), EngineError> {
    let explicit_http = match allowlist::check(entries, target) {
        Decision::Allowed { explicit_http } => explicit_http,
        Decision::EmptyAllowlist => return Err(empty_allowlist(domain, workspace)),
        Decision::NotAllowed => return Err(not_allowed(domain, workspace)),
    };
    if target.scheme() == "http" && !explicit_http && !address::is_loopback_host(target) {
        return Err(insecure_scheme(domain));
    }
    if address::literal_ip(target).is_some_and(address::is_refused_ip) {
        return Err(refused_literal(domain));
    }
    Ok(())
}

/// Step 2, at connect time: refuses the answer of a name lookup when any
/// address in it is refused.
pub fn check_resolved(addrs: &[SocketAddr]) -> Result<(), RefusedAtConnect> {
    if addrs.iter().any(|a| address::is_refused_ip(a.ip())) {
        return Err(RefusedAtConnect);
    }
    Ok(())
}

/// Whether `code` is one this policy refuses with (audited as `BLOCKED`).
pub fn is_refusal(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::DomainNotAllowed | ErrorCode::InsecureScheme | ErrorCode::AddressRefused
    )
}

/// Raised by [`check_resolved`] inside the connector; the upstream client's
/// error chain carries it back to [`RefusedAtConnect::error`].
#[derive(Debug)]
pub struct RefusedAtConnect;

impl RefusedAtConnect {
    /// The engine error for `host`.
    pub fn error(&self, host: &str) -> EngineError {
        EngineError::new(
            ErrorCode::AddressRefused,
            format!("{host} resolves to a link-local or cloud metadata address; the engine never sends secrets there"),
        )
        .domain(host)
        .fix("point the allowlisted name at a public or loopback address")
    }
}

impl std::fmt::Display for RefusedAtConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the host resolves to a link-local or metadata address")
    }
}
impl std::error::Error for RefusedAtConnect {}

fn add_fix(domain: &str) -> String {
    format!("a person runs: agentsecrets workspace allowlist add {domain}")
}

fn empty_allowlist(domain: &str, workspace: &str) -> EngineError {
    EngineError::new(
        ErrorCode::DomainNotAllowed,
        format!("Your workspace allowlist is empty, so {domain} is not allowed: secrets are only sent to allowlisted hosts"),
    )
    .legacy_error("empty_allowlist")
    .domain(domain)
    .workspace(workspace)
    .fix(add_fix(domain))
}

fn not_allowed(domain: &str, workspace: &str) -> EngineError {
    EngineError::new(
        ErrorCode::DomainNotAllowed,
        format!("{domain} is not in the allowlist of workspace {workspace}"),
    )
    .domain(domain)
    .workspace(workspace)
    .fix(add_fix(domain))
}

fn insecure_scheme(domain: &str) -> EngineError {
    EngineError::new(
        ErrorCode::InsecureScheme,
        format!("secrets are only sent to {domain} over https"),
    )
    .domain(domain)
    .fix(format!(
        "use https://{domain}/…, or have a person allowlist http://{domain} explicitly"
    ))
}

fn refused_literal(domain: &str) -> EngineError {
    EngineError::new(
        ErrorCode::AddressRefused,
        format!("{domain} is a link-local or cloud metadata address; the engine never sends secrets there"),
    )
    .domain(domain)
    .fix("use a public or loopback address")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(entries: &[&str], target: &str) -> Result<(), ErrorCode> {
        let entries: Vec<String> = entries
            .iter()
            .map(|e| normalize_entry(e).unwrap())
            .collect();
        let target = Url::parse(target).unwrap();
        check(&entries, &target, &host_of(&target), "Personal").map_err(|e| e.code)
    }

    #[test]
    fn the_allowlist_decides_first() {
        let target = Url::parse("https://api.example.com/").unwrap();
        let e = check(&[], &target, "api.example.com", "W").unwrap_err();
        assert_eq!(e.code, ErrorCode::DomainNotAllowed);
        assert_eq!(e.to_body().error, "empty_allowlist");
        assert_eq!(e.workspace.as_deref(), Some("W"));
        let no = verdict(&["api.example.com"], "https://API.other.com./");
        assert_eq!(no, Err(ErrorCode::DomainNotAllowed));
        assert_eq!(
            verdict(&["api.example.com"], "https://api.example.com/"),
            Ok(())
        );
    }

    #[test]
    fn plain_http_only_to_loopback_or_an_explicit_entry() {
        let insecure = Err(ErrorCode::InsecureScheme);
        assert_eq!(
            verdict(&["api.example.com"], "http://api.example.com/"),
            insecure
        );
        assert_eq!(
            verdict(&["http://api.example.com"], "http://api.example.com/"),
            Ok(())
        );
        assert_eq!(verdict(&["127.0.0.1"], "http://127.0.0.1:9/"), Ok(()));
        assert_eq!(verdict(&["localhost"], "http://localhost/"), Ok(()));
        assert_eq!(verdict(&["[::1]"], "http://[::1]/"), Ok(()));
    }

    #[test]
    fn metadata_literals_are_refused_even_when_allowlisted() {
        let refused = Err(ErrorCode::AddressRefused);
        assert_eq!(
            verdict(&["169.254.169.254"], "https://169.254.169.254/"),
            refused
        );
        assert_eq!(verdict(&["[fe80::1]"], "https://[fe80::1]/"), refused);
        assert_eq!(verdict(&["http://0.0.0.0"], "http://0.0.0.0/"), refused);
    }

    #[test]
    fn resolved_addresses_are_checked_at_connect_time() {
        let addr = |s: &str| SocketAddr::new(s.parse().unwrap(), 443);
        assert!(check_resolved(&[addr("127.0.0.1"), addr("::1")]).is_ok());
        let bad = check_resolved(&[addr("93.184.216.34"), addr("169.254.169.254")]).unwrap_err();
        assert_eq!(bad.error("meta.example").code, ErrorCode::AddressRefused);
        assert!(is_refusal(ErrorCode::AddressRefused));
        assert!(!is_refusal(ErrorCode::SecretNotFound));
    }
}
