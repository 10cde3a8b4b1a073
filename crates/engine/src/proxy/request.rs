//! Turning a request to `/proxy` into what the engine will do: the target,
//! the method, the injection plan, the scope and the headers to forward.
//! Everything here is checked before any vault read.

use crate::error::{EngineError, Result};
use agentsecrets_wire::target_url::{self, UserInfo};
use agentsecrets_wire::{headers as h, inject::InjectionPlan, names, scope};
use http::{HeaderMap, HeaderName, Method};
use url::Url;

/// A parsed `/proxy` request (without its body).
#[derive(Debug)]
pub struct ProxyRequest {
    pub target: Url,
    pub method: Method,
    pub plan: InjectionPlan,
    pub workspace: Option<String>,
    pub project: Option<String>,
    pub agent_id: Option<String>,
    /// Caller headers that go upstream.
    pub forward: HeaderMap,
    /// The caller asked for trailers (`TE: trailers`).
    pub wants_trailers: bool,
}

/// Hop-by-hop and transport headers that are never forwarded in either direction.
pub const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Fixed order for upstream-protocol injection headers, so the plan does
/// not depend on the order the caller sent them in.
fn legacy_rank(rest: &str) -> (u8, String) {
    let lower = rest.to_ascii_lowercase();
    let rank = ["bearer", "basic", "header", "query", "body", "form"]
        .iter()
        .position(|s| lower == *s || lower.starts_with(&format!("{s}-")))
        .unwrap_or(6) as u8;
    (rank, lower)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| {
            EngineError::invalid(format!("header {name} is not visible ASCII"))
                .fix("percent-encode non-ASCII names (see docs/PROTOCOL.md)")
        }),
    }
}

pub fn parse(method: &Method, headers: &HeaderMap) -> Result<ProxyRequest> {
    let target = header_str(headers, h::TARGET_URL)?.ok_or_else(|| {
        EngineError::invalid("X-AS-Target-URL header is required")
            .fix("send the upstream URL in the X-AS-Target-URL header")
    })?;
    let target = parse_target(target)?;

    let method = match header_str(headers, h::METHOD)? {
        Some(m) => Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes()).map_err(|_| {
            EngineError::invalid(format!(
                "X-AS-Method {} is not an HTTP method",
                names::shown(m)
            ))
        })?,
        None => method.clone(),
    };

    let mut plan = match header_str(headers, h::INJECT)? {
        Some(v) => InjectionPlan::from_header_value(v)?,
        None => InjectionPlan::default(),
    };
    let mut legacy: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        if let Some(rest) = name.as_str().strip_prefix(h::LEGACY_INJECT_PREFIX) {
            let value = value
                .to_str()
                .map_err(|_| EngineError::invalid(format!("header {name} is not visible ASCII")))?;
            legacy.push((rest.to_owned(), value.to_owned()));
        }
    }
    legacy.sort_by_key(|(rest, _)| legacy_rank(rest));
    for (rest, secret) in &legacy {
        plan.push_legacy(rest, secret)?;
    }
    plan.validate()?;

    let workspace = header_str(headers, h::WORKSPACE)?
        .map(|v| scope::decode("workspace name", v))
        .transpose()?;
    let project = header_str(headers, h::PROJECT)?
        .map(|v| scope::decode("project name", v))
        .transpose()?;
    let agent_id = header_str(headers, h::AGENT_ID)?
        .map(|a| {
            names::validate_target("agent id", a)?;
            Ok::<_, EngineError>(a.to_owned())
        })
        .transpose()?;

    let wants_trailers = headers
        .get_all(http::header::TE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("trailers"))
        });

    let mut forward = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if is_forwardable(name) {
            forward.append(name.clone(), value.clone());
        }
    }
    Ok(ProxyRequest {
        target,
        method,
        plan,
        workspace,
        project,
        agent_id,
        forward,
        wants_trailers,
    })
}

fn is_forwardable(name: &HeaderName) -> bool {
    let n = name.as_str();
    !n.starts_with(h::RESERVED_PREFIX)
        && !HOP_BY_HOP.contains(&n)
        && n != "accept-encoding"
        && n != "origin"
}

/// Parses the target URL by the rules the SDK checks too; the engine
/// refuses user information on every call, injected or not.
pub fn parse_target(raw: &str) -> Result<Url> {
    Ok(target_url::parse(raw, UserInfo::Refuse)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentsecrets_wire::AuthStyle;

    fn hm(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        m
    }

    #[test]
    fn legacy_request() {
        let r = parse(
            &Method::POST,
            &hm(&[
                ("x-as-target-url", "https://api.example.com/x"),
                ("x-as-inject-query-key", "B"),
                ("x-as-inject-bearer", "A"),
                ("x-as-agent-id", "agent-1"),
                ("accept-encoding", "gzip"),
                ("idempotency-key", "k1"),
                ("x-as-token", "t"),
            ]),
        )
        .unwrap();
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.plan.injections[0].style, AuthStyle::Bearer);
        assert_eq!(r.plan.injections[1].target.as_deref(), Some("key"));
        assert_eq!(r.agent_id.as_deref(), Some("agent-1"));
        assert!(r.forward.contains_key("idempotency-key"));
        assert!(!r.forward.contains_key("accept-encoding"));
        assert!(!r.forward.contains_key("x-as-token"));
    }

    #[test]
    fn extension_request_with_scope() {
        let plan = r#"[{"style":"form","target":"api_key","secret":"K"}]"#;
        let r = parse(
            &Method::GET,
            &hm(&[
                ("x-as-target-url", "https://a.example/"),
                ("x-as-method", "put"),
                ("x-as-inject", plan),
                ("x-as-workspace", "Client%20A"),
                ("x-as-project", "payments"),
                ("te", "trailers"),
            ]),
        )
        .unwrap();
        assert_eq!(r.method, Method::PUT);
        assert_eq!(r.workspace.as_deref(), Some("Client A"));
        assert_eq!(r.project.as_deref(), Some("payments"));
        assert!(r.wants_trailers);
    }

    #[test]
    fn refusals() {
        let cases: Vec<Vec<(&str, &str)>> = vec![
            vec![("x-as-inject-bearer", "A")],
            vec![("x-as-target-url", "ftp://a/"), ("x-as-inject-bearer", "A")],
            vec![
                ("x-as-target-url", "https://u:p@a/"),
                ("x-as-inject-bearer", "A"),
            ],
            vec![
                ("x-as-target-url", "https://allowed.com@evil.com/"),
                ("x-as-inject-bearer", "A"),
            ],
            vec![
                ("x-as-target-url", "https://a/"),
                ("x-as-inject-magic", "A"),
            ],
            vec![("x-as-target-url", "https://a/"), ("x-as-inject", "[")],
            vec![
                ("x-as-target-url", "https://a/"),
                ("x-as-inject-bearer", "A"),
                ("x-as-project", "a%0Ab"),
            ],
            vec![
                ("x-as-target-url", "https://a/"),
                ("x-as-inject-bearer", "A"),
                ("x-as-inject-basic", "B"),
            ],
        ];
        for c in cases {
            assert!(parse(&Method::GET, &hm(&c)).is_err(), "{c:?}");
        }
    }

    #[test]
    fn a_call_without_injection_parses_with_an_empty_plan() {
        let pr = parse(&Method::GET, &hm(&[("x-as-target-url", "https://a/")])).unwrap();
        assert!(pr.plan.is_empty());
    }
}
