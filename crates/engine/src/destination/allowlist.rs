//! Allowlist entries and host matching (pure; no I/O).
//!
//! Entries are host patterns: `api.example.com`, `*.example.com` (subdomains
//! only), `http://host` (plain http allowed for that host), `https://host`,
//! `host:8443` (that port only), `127.0.0.1`, `[::1]`. Hosts are compared
//! after the same WHATWG host parsing `url::Url` applies to targets (lower
//! case, IDN as punycode, IPv4 numbers in any notation, IPv6 compressed), so
//! a target can only match an entry naming the host it actually connects to.

use crate::error::{EngineError, Result};
use std::net::Ipv6Addr;
use url::{Host, Url};

/// The outcome of checking a target URL against an allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; `explicit_http` when the matching entry names `http://`.
    Allowed {
        explicit_http: bool,
    },
    NotAllowed,
    EmptyAllowlist,
}

const EXPECTED: &str = "use a host pattern such as `api.example.com`, `*.example.com`, \
`http://host` (allow plain http), `host:8443`, `127.0.0.1` or `[::1]`";

/// Canonical form of an entry typed by a person (lower case, no trailing
/// dot, IDN as punycode). Refuses anything that is not a host pattern.
pub fn normalize_entry(entry: &str) -> Result<String> {
    Ok(Entry::parse(entry)?.canonical())
}

/// Checks the URL's host (and port, scheme) against canonical entries.
///
/// Only `http` and `https` URLs can match. Entries that do not parse (never
/// the case for entries stored through [`normalize_entry`]) match nothing.
pub fn check(entries: &[String], url: &Url) -> Decision {
    if entries.is_empty() {
        return Decision::EmptyAllowlist;
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Decision::NotAllowed;
    }
    let Some(host) = url.host() else {
        return Decision::NotAllowed;
    };
    let port = url.port_or_known_default();
    let mut allowed = false;
    let mut explicit_http = false;
    for entry in entries.iter().filter_map(|e| Entry::parse(e).ok()) {
        if entry.matches(&host, port) {
            allowed = true;
            explicit_http |= entry.http;
        }
    }
    if allowed {
        Decision::Allowed { explicit_http }
    } else {
        Decision::NotAllowed
    }
}

/// The URL's host as written in audit logs and errors (lower case, no trailing dot).
pub fn host_of(url: &Url) -> String {
    match url.host() {
        Some(Host::Domain(d)) => trim_dot(d).to_ascii_lowercase(),
        Some(Host::Ipv4(a)) => a.to_string(),
        Some(Host::Ipv6(a)) => format!("[{a}]"),
        None => String::new(),
    }
}

pub(super) fn trim_dot(host: &str) -> &str {
    host.strip_suffix('.').unwrap_or(host)
}

/// A parsed allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// Names `http://`: plain http is allowed for this host.
    http: bool,
    host: HostPattern,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(Host<String>),
    /// `*.suffix`: strict subdomains of `suffix`.
    Wildcard(String),
}

fn invalid(entry: &str, why: &str) -> EngineError {
    EngineError::invalid(format!("invalid allowlist entry {entry:?}: {why}")).fix(EXPECTED)
}

impl Entry {
    fn parse(raw: &str) -> Result<Entry> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(invalid(raw, "it is empty"));
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid(raw, "it contains spaces or control characters"));
        }
        let (http, rest) = match s.find("://") {
            Some(i) => match s[..i].to_ascii_lowercase().as_str() {
                "http" => (true, &s[i + 3..]),
                "https" => (false, &s[i + 3..]),
                _ => return Err(invalid(raw, "only http:// and https:// can be named")),
            },
            None => (false, s),
        };
        // `https://host/` is how URLs are usually copied; a bare root path restricts nothing.
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('@') {
            return Err(invalid(
                raw,
                "user names and passwords (`user@host`) are not part of an entry",
            ));
        }
        if rest.contains(['/', '?', '#', '\\']) {
            return Err(invalid(
                raw,
                "paths, queries and fragments are not part of an entry: name the host only",
            ));
        }
        if rest.contains('%') {
            return Err(invalid(
                raw,
                "percent-encoded hosts are not accepted: write the host itself",
            ));
        }

        let (host, port) = split_port(rest)
            .ok_or_else(|| invalid(raw, "the port must be a number from 1 to 65535"))?;
        let port = match port {
            None => None,
            Some(p) => Some(
                Some(p)
                    .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|p| p.parse::<u16>().ok())
                    .filter(|p| *p != 0)
                    .ok_or_else(|| invalid(raw, "the port must be a number from 1 to 65535"))?,
            ),
        };
        if host.is_empty() {
            return Err(invalid(raw, "it has no host"));
        }

        let host = if let Some(suffix) = host.strip_prefix("*.") {
            if suffix.contains('*') {
                return Err(invalid(
                    raw,
                    "a wildcard may only be the whole first label, as in `*.example.com`",
                ));
            }
            match parse_host(raw, suffix)? {
                Host::Domain(d) if d.split('.').count() >= 2 => HostPattern::Wildcard(d),
                Host::Domain(_) => {
                    return Err(invalid(
                        raw,
                        "a wildcard must cover a registered domain, as in `*.example.com`",
                    ))
                }
                _ => return Err(invalid(raw, "a wildcard cannot cover an IP address")),
            }
        } else if host.contains('*') {
            return Err(invalid(
                raw,
                "a wildcard may only be the whole first label, as in `*.example.com`",
            ));
        } else {
            HostPattern::Exact(parse_host(raw, host)?)
        };
        Ok(Entry { http, host, port })
    }

    fn canonical(&self) -> String {
        let mut out = String::new();
        if self.http {
            out.push_str("http://");
        }
        match &self.host {
            HostPattern::Exact(Host::Domain(d)) => out.push_str(d),
            HostPattern::Exact(Host::Ipv4(a)) => out.push_str(&a.to_string()),
            HostPattern::Exact(Host::Ipv6(a)) => out.push_str(&format!("[{a}]")),
            HostPattern::Wildcard(d) => {
                out.push_str("*.");
                out.push_str(d);
            }
        }
        if let Some(p) = self.port {
            out.push_str(&format!(":{p}"));
        }
        out
    }

    fn matches(&self, host: &Host<&str>, port: Option<u16>) -> bool {
        if self.port.is_some() && self.port != port {
            return false;
        }
        match (&self.host, host) {
            (HostPattern::Exact(Host::Domain(e)), Host::Domain(h)) => {
                trim_dot(h).eq_ignore_ascii_case(e)
            }
            (HostPattern::Exact(Host::Ipv4(e)), Host::Ipv4(h)) => e == h,
            (HostPattern::Exact(Host::Ipv6(e)), Host::Ipv6(h)) => e == h,
            (HostPattern::Wildcard(suffix), Host::Domain(h)) => {
                let h = trim_dot(h).as_bytes();
                let s = suffix.as_bytes();
                h.len() > s.len() + 1
                    && h[h.len() - s.len()..].eq_ignore_ascii_case(s)
                    && h[h.len() - s.len() - 1] == b'.'
            }
            _ => false,
        }
    }
}

/// Splits `host[:port]`, `[v6][:port]` or a bare IPv6 address.
fn split_port(s: &str) -> Option<(&str, Option<&str>)> {
    if s.starts_with('[') {
        let close = s.find(']')?;
        let (host, after) = s.split_at(close + 1);
        return match after {
            "" => Some((host, None)),
            _ => after.strip_prefix(':').map(|p| (host, Some(p))),
        };
    }
    if s.parse::<Ipv6Addr>().is_ok() {
        return Some((s, None));
    }
    match s.split_once(':') {
        None => Some((s, None)),
        Some((_, p)) if p.contains(':') => None,
        Some((h, p)) => Some((h, Some(p))),
    }
}

/// WHATWG host parsing plus the stricter rules of an entry; a bare IPv6
/// address is accepted without brackets.
fn parse_host(raw: &str, host: &str) -> Result<Host<String>> {
    let bracketed;
    let host = if host.parse::<Ipv6Addr>().is_ok() {
        bracketed = format!("[{host}]");
        bracketed.as_str()
    } else {
        host
    };
    let host = if host.starts_with('[') {
        host
    } else {
        trim_dot(host)
    };
    let parsed = Host::parse(host).map_err(|e| {
        invalid(
            raw,
            &format!("{host:?} is not a host name or IP address ({e})"),
        )
    })?;
    match parsed {
        Host::Domain(d) => {
            let ok = d.len() <= 253
                && d.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                });
            if !ok {
                return Err(invalid(raw, &format!("{host:?} is not a valid host name")));
            }
            Ok(Host::Domain(d))
        }
        ip => Ok(ip),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize_entry(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn decide(entries: &[&str], target: &str) -> Decision {
        let entries: Vec<String> = entries.iter().map(|e| norm(e)).collect();
        check(&entries, &url(target))
    }

    const YES: Decision = Decision::Allowed {
        explicit_http: false,
    };
    const YES_HTTP: Decision = Decision::Allowed {
        explicit_http: true,
    };
    const NO: Decision = Decision::NotAllowed;

    #[test]
    fn normalizes_entries() {
        for (input, want) in [
            ("api.example.com", "api.example.com"),
            ("  API.Example.COM.  ", "api.example.com"),
            ("*.Example.com", "*.example.com"),
            ("http://Api.Example.com", "http://api.example.com"),
            ("HTTP://api.example.com/", "http://api.example.com"),
            ("https://api.example.com", "api.example.com"),
            ("https://api.example.com/", "api.example.com"),
            ("api.example.com:8443", "api.example.com:8443"),
            ("https://api.example.com:8443", "api.example.com:8443"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("127.0.0.1", "127.0.0.1"),
            ("[::1]", "[::1]"),
            ("[0:0::1]", "[::1]"),
            ("::1", "[::1]"),
            ("[::1]:8443", "[::1]:8443"),
            ("bücher.example", "xn--bcher-kva.example"),
            ("*.bücher.example", "*.xn--bcher-kva.example"),
            ("localhost", "localhost"),
        ] {
            assert_eq!(norm(input), want, "{input}");
            // Canonical forms are fixed points.
            assert_eq!(norm(want), want, "{want}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_host_pattern() {
        for (input, says) in [
            ("", "empty"),
            ("   ", "empty"),
            ("https://api.example.com/v1", "paths"),
            ("api.example.com/v1", "paths"),
            ("api.example.com?x=1", "queries"),
            ("api.example.com#x", "fragments"),
            ("user@api.example.com", "user names"),
            ("https://user:pw@api.example.com", "user names"),
            ("ftp://api.example.com", "http:// and https://"),
            ("api.*.example.com", "whole first label"),
            ("*api.example.com", "whole first label"),
            ("*.*.example.com", "whole first label"),
            ("*", "whole first label"),
            ("*.com", "registered domain"),
            ("*.127.0.0.1", "IP address"),
            ("api.example.com:0", "port"),
            ("api.example.com:99999", "port"),
            ("api.example.com:http", "port"),
            ("api.example.com:+80", "port"),
            ("api.example.com:", "port"),
            ("a:b:c", "port"),
            ("[::1", "port"),
            ("%61pi.example.com", "percent"),
            ("api example.com", "spaces"),
            ("api..example.com", "valid host name"),
            ("a!b.example.com", "valid host name"),
            ("https://", "no host"),
            (":443", "no host"),
        ] {
            let e = normalize_entry(input).expect_err(input);
            assert_eq!(e.code, agentsecrets_wire::ErrorCode::InvalidRequest);
            assert!(e.fix.is_some(), "{input:?} error has no fix");
            assert!(e.message.contains(says), "{input:?}: {}", e.message);
        }
    }

    #[test]
    fn empty_allowlist_blocks() {
        assert_eq!(
            check(&[], &url("https://api.example.com/")),
            Decision::EmptyAllowlist
        );
    }

    #[test]
    fn exact_match_ignores_case_trailing_dot_and_default_port() {
        let e = ["api.example.com"];
        assert_eq!(decide(&e, "https://api.example.com/v1?q=1"), YES);
        assert_eq!(decide(&e, "https://API.EXAMPLE.COM/"), YES);
        assert_eq!(decide(&e, "https://api.example.com./"), YES);
        assert_eq!(decide(&e, "https://api.example.com:8443/"), YES);
        assert_eq!(decide(&e, "http://api.example.com/"), YES);
        assert_eq!(
            decide(&["API.example.com."], "https://api.example.com/"),
            YES
        );
        assert_eq!(decide(&e, "https://example.com/"), NO);
        assert_eq!(decide(&e, "https://x.api.example.com/"), NO);
        assert_eq!(decide(&e, "https://api.example.com.evil.com/"), NO);
        assert_eq!(decide(&e, "https://api.example.co/"), NO);
        assert_eq!(decide(&e, "https://evilapi.example.com/"), NO);
        assert_eq!(decide(&e, "https://api.example.com../"), NO);
    }

    #[test]
    fn wildcard_matches_subdomains_only() {
        let e = ["*.x.com"];
        assert_eq!(decide(&e, "https://a.x.com/"), YES);
        assert_eq!(decide(&e, "https://a.b.x.com/"), YES);
        assert_eq!(decide(&e, "https://A.X.COM./"), YES);
        assert_eq!(decide(&e, "https://x.com/"), NO);
        assert_eq!(decide(&e, "https://evilx.com/"), NO);
        assert_eq!(decide(&e, "https://a.evilx.com/"), NO);
        assert_eq!(decide(&e, "https://x.com.evil.com/"), NO);
        assert_eq!(decide(&e, "https://.x.com/"), NO);
    }

    #[test]
    fn ports_restrict() {
        let e = ["api.example.com:8443"];
        assert_eq!(decide(&e, "https://api.example.com:8443/"), YES);
        assert_eq!(decide(&e, "https://api.example.com/"), NO);
        assert_eq!(decide(&e, "https://api.example.com:443/"), NO);
        assert_eq!(
            decide(&["api.example.com:443"], "https://api.example.com/"),
            YES
        );
        assert_eq!(
            decide(&["api.example.com:443"], "http://api.example.com/"),
            NO
        );
        assert_eq!(
            decide(&["http://api.example.com:80"], "http://api.example.com/"),
            YES_HTTP
        );
        assert_eq!(decide(&["*.x.com:8443"], "https://a.x.com:8443/"), YES);
        assert_eq!(decide(&["*.x.com:8443"], "https://a.x.com/"), NO);
    }

    #[test]
    fn explicit_http_only_from_an_http_entry() {
        assert_eq!(
            decide(&["http://api.example.com"], "http://api.example.com/"),
            YES_HTTP
        );
        assert_eq!(
            decide(&["http://api.example.com"], "https://api.example.com/"),
            YES_HTTP
        );
        assert_eq!(
            decide(&["https://api.example.com"], "http://api.example.com/"),
            YES
        );
        assert_eq!(
            decide(
                &["api.example.com", "http://api.example.com"],
                "http://api.example.com/"
            ),
            YES_HTTP
        );
        assert_eq!(
            decide(
                &["http://api.example.com", "api.example.com"],
                "http://api.example.com/"
            ),
            YES_HTTP
        );
        // An http entry for another host or port does not lend its scheme.
        assert_eq!(
            decide(
                &["api.example.com", "http://other.example.com"],
                "http://api.example.com/"
            ),
            YES
        );
        assert_eq!(
            decide(
                &["api.example.com", "http://api.example.com:8080"],
                "http://api.example.com/"
            ),
            YES
        );
    }

    #[test]
    fn userinfo_tricks_do_not_bypass() {
        let e = ["allowed.com"];
        for t in [
            "https://allowed.com@evil.com/",
            "https://allowed.com:443@evil.com/",
            "https://user:allowed.com@evil.com/",
            "https://evil.com#@allowed.com",
            "https://evil.com?@allowed.com",
            "https://evil.com\\@allowed.com",
            "https://evil.com/@allowed.com",
            "https://evil.com\\.allowed.com",
            "https://allowed.com.evil.com/",
            "https://evil.com/allowed.com",
        ] {
            assert_eq!(decide(&e, t), NO, "{t}");
        }
        // Userinfo on a genuine allowed host still names that host.
        assert_eq!(decide(&e, "https://evil.com@allowed.com/"), YES);
    }

    #[test]
    fn ip_literals_compare_as_addresses() {
        assert_eq!(decide(&["[::1]"], "http://[::1]/"), YES);
        assert_eq!(decide(&["[::1]"], "http://[0:0::1]/"), YES);
        assert_eq!(
            decide(
                &["[::1]"],
                "http://[0000:0000:0000:0000:0000:0000:0000:0001]:9/"
            ),
            YES
        );
        assert_eq!(decide(&["[::1]"], "http://[::2]/"), NO);
        assert_eq!(decide(&["[::1]"], "http://127.0.0.1/"), NO);
        assert_eq!(decide(&["[::1]"], "http://localhost/"), NO);
        assert_eq!(decide(&["127.0.0.1"], "http://[::ffff:127.0.0.1]/"), NO);
        assert_eq!(decide(&["127.0.0.1"], "http://[::1]/"), NO);
        assert_eq!(decide(&["127.0.0.1"], "http://127.0.0.2/"), NO);
        assert_eq!(decide(&["127.0.0.1"], "http://localhost/"), NO);
        // Numeric IPv4 notations name the same address, and only that one.
        for t in [
            "http://2130706433/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
        ] {
            assert_eq!(decide(&["127.0.0.1"], t), YES, "{t}");
            assert_eq!(
                decide(&["api.example.com", "127.0.0.2", "*.example.com"], t),
                NO,
                "{t}"
            );
        }
        assert_eq!(norm("2130706433"), "127.0.0.1");
    }

    #[test]
    fn idn_homographs_do_not_match() {
        // Cyrillic `а` (U+0430) in place of Latin `a`.
        assert_eq!(decide(&["apple.com"], "https://\u{430}pple.com/"), NO);
        assert_eq!(decide(&["*.apple.com"], "https://www.\u{430}pple.com/"), NO);
        assert_eq!(decide(&["\u{430}pple.com"], "https://apple.com/"), NO);
        assert_eq!(
            decide(&["\u{430}pple.com"], "https://\u{430}pple.com/"),
            YES
        );
        // Unicode and punycode spellings of one name are one host.
        assert_eq!(
            decide(&["bücher.example"], "https://xn--bcher-kva.example/"),
            YES
        );
        assert_eq!(
            decide(&["xn--bcher-kva.example"], "https://BÜCHER.example/"),
            YES
        );
        // Fullwidth dot and letters normalise (IDNA) to the ASCII host.
        assert_eq!(decide(&["example.com"], "https://example\u{ff0e}com/"), YES);
        assert_eq!(decide(&["example.com"], "https://\u{ff45}xample.com/"), YES);
        assert_eq!(decide(&["example.com"], "https://exampIe.com/"), NO);
    }

    #[test]
    fn percent_encoded_hosts_name_the_decoded_host() {
        // The URL parser decodes the host; the request goes to that host.
        assert_eq!(decide(&["apple.com"], "https://%61pple.com/"), YES);
        assert_eq!(decide(&["evil.com"], "https://%61pple.com/"), NO);
        assert_eq!(decide(&["apple.com"], "https://apple.com%2eevil.com/"), NO);
        assert!(Url::parse("https://allowed.com%40evil.com/").is_err());
        assert!(Url::parse("https://allowed.com%2F@evil.com/")
            .map(|u| check(&[norm("allowed.com")], &u) == NO)
            .unwrap_or(true));
    }

    #[test]
    fn other_schemes_never_match() {
        assert_eq!(decide(&["api.example.com"], "ftp://api.example.com/"), NO);
        assert_eq!(decide(&["api.example.com"], "ws://api.example.com/"), NO);
        assert_eq!(decide(&["api.example.com"], "file://api.example.com/x"), NO);
        assert_eq!(decide(&["api.example.com"], "foo://api.example.com/"), NO);
        assert_eq!(
            decide(&["api.example.com"], "data:text/plain,api.example.com"),
            NO
        );
    }

    #[test]
    fn host_of_is_canonical() {
        assert_eq!(
            host_of(&url("https://API.Example.com./x")),
            "api.example.com"
        );
        assert_eq!(
            host_of(&url("https://user:pw@api.example.com:8443/x")),
            "api.example.com"
        );
        assert_eq!(host_of(&url("http://[0:0::1]:9/")), "[::1]");
        assert_eq!(host_of(&url("http://2130706433/")), "127.0.0.1");
        assert_eq!(
            host_of(&url("https://b\u{fc}cher.example/")),
            "xn--bcher-kva.example"
        );
        assert_eq!(host_of(&url("data:text/plain,x")), "");
        // What host_of prints is an entry that admits the URL.
        for t in [
            "https://API.Example.com./x",
            "http://[0:0::1]:9/",
            "http://2130706433/",
        ] {
            let u = url(t);
            assert_ne!(check(&[norm(&host_of(&u))], &u), NO, "{t}");
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// Host names from a tiny alphabet, so that random pairs often collide.
    fn domain() -> impl Strategy<Value = String> {
        prop::collection::vec("[abA-][abB]{0,2}", 1..4).prop_map(|labels| {
            labels
                .into_iter()
                .map(|l| l.trim_matches('-').to_string())
                .map(|l| if l.is_empty() { "a".to_string() } else { l })
                .collect::<Vec<_>>()
                .join(".")
        })
    }

    proptest! {
        #[test]
        fn exact_entry_matches_exactly_its_host(e in domain(), h in domain(), dot in any::<bool>(), port in prop::option::of(1u16..3)) {
            let entry = normalize_entry(&e).unwrap();
            prop_assert_eq!(normalize_entry(&entry).unwrap(), entry.clone());
            let target = format!("https://{h}{}{}/", if dot { "." } else { "" }, port.map(|p| format!(":{p}")).unwrap_or_default());
            let url = Url::parse(&target).unwrap();
            let same = host_of(&url) == e.to_ascii_lowercase();
            let want = if same { Decision::Allowed { explicit_http: false } } else { Decision::NotAllowed };
            prop_assert_eq!(check(&[entry], &url), want);
        }

        #[test]
        fn wildcard_matches_strict_subdomains(suffix in domain(), h in domain()) {
            prop_assume!(suffix.contains('.'));
            let entry = normalize_entry(&format!("*.{suffix}")).unwrap();
            let url = Url::parse(&format!("https://{h}/")).unwrap();
            let host = host_of(&url);
            let sub = host.ends_with(&format!(".{}", suffix.to_ascii_lowercase()));
            prop_assert_eq!(check(&[entry], &url) != Decision::NotAllowed, sub);
        }

        #[test]
        fn normalize_never_panics_and_is_idempotent(s in "\\PC{0,30}") {
            if let Ok(n) = normalize_entry(&s) {
                prop_assert_eq!(normalize_entry(&n).unwrap(), n);
            }
        }
    }
}
