//! Sending the request upstream: one pooled reqwest client (rustls), no
//! redirects followed, no system proxy, a resolver that refuses link-local
//! and metadata addresses, timeouts. Errors are described without the URL
//! (which may carry a query-injected value).

use crate::allowlist;
use crate::error::EngineError;
use agentsecrets_wire::ErrorCode;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Raised by the resolver; found again in reqwest's error chain.
#[derive(Debug)]
pub struct AddressRefused;

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the host resolves to a link-local or metadata address")
    }
}
impl std::error::Error for AddressRefused {}

/// DNS through the system resolver, refusing any answer that contains a
/// link-local or metadata address (an allowlisted name pointed there must
/// not reach it).
struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?
                .collect();
            if addrs.iter().any(|a| allowlist::is_refused_ip(a.ip())) {
                return Err(Box::new(AddressRefused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Timeouts and limits of the upstream client.
#[derive(Debug, Clone, Copy)]
pub struct ForwardLimits {
    /// Until response headers arrive, and the longest pause mid-body.
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

pub fn build_client(limits: ForwardLimits) -> Result<reqwest::Client, EngineError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver))
        .connect_timeout(limits.connect_timeout)
        .read_timeout(limits.timeout)
        .pool_max_idle_per_host(256)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .referer(false)
        .build()
        .map_err(|e| EngineError::internal(format!("cannot build the HTTP client: {e}")))
}

/// Describes a reqwest failure without its URL: the kind, and the innermost cause.
pub fn describe(err: &reqwest::Error, host: &str) -> EngineError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    let mut innermost = None;
    while let Some(s) = source {
        if s.downcast_ref::<AddressRefused>().is_some() {
            return EngineError::new(
                ErrorCode::AddressRefused,
                format!("{host} resolves to a link-local or cloud metadata address; the engine never sends secrets there"),
            )
            .domain(host)
            .fix("point the allowlisted name at a public or loopback address");
        }
        innermost = Some(s);
        source = s.source();
    }
    let cause = innermost
        .map(|s| s.to_string())
        .unwrap_or_else(|| "unknown error".to_owned());
    if err.is_timeout() {
        EngineError::new(
            ErrorCode::UpstreamTimeout,
            format!("{host} did not answer in time"),
        )
        .domain(host)
        .fix("check that the upstream is reachable, or raise the timeout")
    } else {
        let what = if err.is_connect() {
            "could not connect to"
        } else if err.is_body() || err.is_decode() {
            "failed while reading from"
        } else {
            "failed to reach"
        };
        EngineError::new(
            ErrorCode::UpstreamUnreachable,
            format!("{what} {host}: {cause}"),
        )
        .domain(host)
        .fix("check the URL, the network and that the upstream is up")
    }
}
