//! Caller authentication: a fresh random token per start for TCP callers
//! (compared in constant time), socket permissions for Unix callers, and
//! refusal of browser-originated or DNS-rebound requests.

use crate::error::{EngineError, Result};
use agentsecrets_wire::{headers, ErrorCode};
use http::HeaderMap;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// How the caller reached the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Unix,
}

/// 256 random bits, hex-encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Refuses requests a browser could make: any `Origin` header, or a `Host`
/// that is not the loopback address we listen on (DNS rebinding).
pub fn check_caller(transport: Transport, headers: &HeaderMap) -> Result<()> {
    if headers.contains_key(http::header::ORIGIN) {
        return Err(EngineError::new(
            ErrorCode::ForbiddenCaller,
            "requests from web pages (with an Origin header) are refused",
        )
        .fix("call the engine from a local program, not from a browser"));
    }
    if transport == Transport::Tcp {
        let host = headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !is_loopback_authority(host) {
            return Err(EngineError::new(
                ErrorCode::ForbiddenCaller,
                format!(
                    "Host {} is not a loopback address of this engine",
                    agentsecrets_wire::names::shown(host)
                ),
            )
            .fix("connect to 127.0.0.1, [::1] or localhost"));
        }
    }
    Ok(())
}

/// TCP callers must present the token; Unix-socket callers are
/// authenticated by the socket's 0600 permissions.
pub fn check_token(transport: Transport, headers: &HeaderMap, token: &str) -> Result<()> {
    if transport == Transport::Unix {
        return Ok(());
    }
    let given = headers
        .get(headers::TOKEN)
        .map(|v| v.as_bytes())
        .unwrap_or(b"");
    if given.len() == token.len() && bool::from(given.ct_eq(token.as_bytes())) {
        Ok(())
    } else {
        Err(EngineError::new(
            ErrorCode::ProxyAuthRequired,
            "this engine needs the caller token on TCP connections",
        )
        .fix("send the contents of $AGENTSECRETS_HOME/run/proxy.token as the X-AS-Token header, or connect over $AGENTSECRETS_HOME/run/proxy.sock"))
    }
}

fn is_loopback_authority(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, tail)) if tail.is_empty() || tail.starts_with(':') => h,
            _ => return false,
        }
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn token_is_random_hex() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
    }

    #[test]
    fn token_required_on_tcp_only() {
        let t = "abc";
        assert!(check_token(Transport::Unix, &hm(&[]), t).is_ok());
        assert!(check_token(Transport::Tcp, &hm(&[("x-as-token", "abc")]), t).is_ok());
        for bad in [
            hm(&[]),
            hm(&[("x-as-token", "abd")]),
            hm(&[("x-as-token", "ab")]),
        ] {
            let e = check_token(Transport::Tcp, &bad, t).unwrap_err();
            assert_eq!(e.code, ErrorCode::ProxyAuthRequired);
        }
    }

    #[test]
    fn browsers_and_rebinding_refused() {
        let ok = ["127.0.0.1:8765", "localhost:1", "[::1]:9", "127.0.0.1"];
        for h in ok {
            assert!(
                check_caller(Transport::Tcp, &hm(&[("host", h)])).is_ok(),
                "{h}"
            );
        }
        for h in [
            "evil.com:8765",
            "127.0.0.1.evil.com",
            "[::2]:1",
            "",
            "localhost.evil:1",
        ] {
            assert!(
                check_caller(Transport::Tcp, &hm(&[("host", h)])).is_err(),
                "{h}"
            );
        }
        let e = check_caller(
            Transport::Unix,
            &hm(&[("host", "localhost"), ("origin", "http://evil.com")]),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ForbiddenCaller);
        assert!(check_caller(Transport::Unix, &hm(&[("host", "anything")])).is_ok());
    }
}
