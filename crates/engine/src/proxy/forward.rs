//! Sending the request upstream: one pooled hyper-util client (rustls with
//! the platform's roots), no redirects followed, no system proxy, a resolver
//! that applies the destination policy's connect-time step, a connect timeout, and
//! gzip/deflate/br/zstd answers decoded before they are scanned. Errors are
//! described without the URL (which may carry a query-injected value).

use super::upload::OutBody;
use crate::destination::{self, RefusedAtConnect};
use crate::error::EngineError;
use agentsecrets_wire::ErrorCode;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::util::MapResponse;
use tower::ServiceExt;
use tower_http::decompression::{Decompression, DecompressionBody};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of an upstream answer, decoded when it was compressed.
pub type UpstreamBody = DecompressionBody<Incoming>;

/// DNS through the system resolver, then the destination policy's second
/// step ([`destination::check_resolved`]) on the answer. IP literals never
/// get here: the first step checked them.
#[derive(Clone, Copy, Debug)]
pub struct GuardedResolver;

type Resolving =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, BoxError>> + Send>>;

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            destination::check_resolved(&addrs)?;
            Ok(addrs.into_iter())
        })
    }
}

type RawClient = Client<HttpsConnector<HttpConnector<GuardedResolver>>, OutBody>;

/// The engine's upstream client. Cheap to clone: clones share one pool.
pub type UpstreamClient = Decompression<MapResponse<RawClient, JoinEncodings>>;

type JoinEncodings = fn(Response<Incoming>) -> Response<Incoming>;

/// Joins every `Content-Encoding` line of an answer into one, as HTTP
/// defines them to be equivalent. The decoder only decodes a single known
/// coding and otherwise leaves the header in place, which the pipeline's redact phase then
/// refuses (`UPSTREAM_ENCODING`): two `gzip` lines over a twice-compressed
/// body are refused exactly like one `gzip, gzip` line, instead of being
/// decoded once and passed on still compressed.
fn join_encodings(mut res: Response<Incoming>) -> Response<Incoming> {
    let name = http::header::CONTENT_ENCODING;
    let mut lines = res.headers().get_all(&name).iter();
    if lines.next().is_some() && lines.next().is_some() {
        let joined: Vec<&[u8]> = res
            .headers()
            .get_all(&name)
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        let joined = joined.join(&b", "[..]);
        // Every part was a valid header value, so the join is one too; if
        // not, an unscannable placeholder is refused all the same.
        let value = http::HeaderValue::from_bytes(&joined)
            .unwrap_or(http::HeaderValue::from_static("invalid"));
        res.headers_mut().insert(name, value);
    }
    res
}

/// The pooled client. Only connecting has a timeout here: the wait for the
/// answer and each pause in its body are bounded by the pipeline and by
/// [`super::body::RedactingBody`].
pub fn build_client(connect_timeout: Duration) -> Result<UpstreamClient, EngineError> {
    let mut http = HttpConnector::new_with_resolver(GuardedResolver);
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    let https = HttpsConnectorBuilder::new()
        .with_provider_and_platform_verifier(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| EngineError::internal(format!("cannot load the TLS roots: {e}")))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_max_idle_per_host(256)
        .pool_idle_timeout(Duration::from_secs(90))
        .build(https);
    Ok(Decompression::new(MapResponse::new(
        client,
        join_encodings as JoinEncodings,
    )))
}

/// The upstream client, built on first need: loading the platform's TLS
/// roots takes milliseconds that a caller starting the engine need not
/// wait for (the server builds it right after its ready line). Calls that
/// arrive meanwhile wait for it; a failed build is tried again by the next
/// call.
pub struct LazyClient {
    cell: tokio::sync::OnceCell<UpstreamClient>,
    connect_timeout: Duration,
}

impl LazyClient {
    pub fn new(connect_timeout: Duration) -> LazyClient {
        LazyClient {
            cell: tokio::sync::OnceCell::new(),
            connect_timeout,
        }
    }

    pub async fn get(&self) -> Result<&UpstreamClient, EngineError> {
        self.cell
            .get_or_try_init(|| async { build_client(self.connect_timeout) })
            .await
    }
}

/// Sends one request; the future resolves once the answer's head arrived.
pub async fn send(
    client: &UpstreamClient,
    req: Request<OutBody>,
) -> Result<Response<UpstreamBody>, BoxError> {
    client.clone().oneshot(req).await.map_err(BoxError::from)
}

/// Describes a client failure without its URL: what failed, and the
/// innermost cause.
pub fn describe(err: &(dyn std::error::Error + 'static), host: &str) -> EngineError {
    let mut source = Some(err);
    let mut innermost = err;
    let mut timed_out = false;
    let mut connect = false;
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<RefusedAtConnect>() {
            return refused.error(host);
        }
        if let Some(e) = s.downcast_ref::<hyper_util::client::legacy::Error>() {
            connect |= e.is_connect();
        }
        if let Some(e) = s.downcast_ref::<std::io::Error>() {
            timed_out |= e.kind() == std::io::ErrorKind::TimedOut;
        }
        innermost = s;
        source = s.source();
    }
    if timed_out {
        return EngineError::new(
            ErrorCode::UpstreamTimeout,
            format!("{host} did not answer in time"),
        )
        .domain(host)
        .fix("check that the upstream is reachable, or raise the timeout");
    }
    let what = if connect {
        "could not connect to"
    } else {
        "failed to reach"
    };
    EngineError::new(
        ErrorCode::UpstreamUnreachable,
        format!("{what} {host}: {innermost}"),
    )
    .domain(host)
    .fix("check the URL, the network and that the upstream is up")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use tower_service::Service;

    #[tokio::test]
    async fn the_resolver_refuses_metadata_answers_and_passes_loopback() {
        let err = GuardedResolver
            .call(Name::from_str("169.254.169.254").unwrap())
            .await
            .unwrap_err();
        let e = describe(&*err, "meta.example");
        assert_eq!(e.code, ErrorCode::AddressRefused);
        let addrs: Vec<_> = GuardedResolver
            .call(Name::from_str("127.0.0.1").unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }

    #[test]
    fn a_timeout_deep_in_the_chain_is_a_timeout_and_the_message_has_no_url() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timeout");
        let e = describe(&io, "api.example");
        assert_eq!(e.code, ErrorCode::UpstreamTimeout);
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = describe(&refused, "api.example");
        assert_eq!(e.code, ErrorCode::UpstreamUnreachable);
        assert_eq!(e.message, "failed to reach api.example: refused");
    }
}
