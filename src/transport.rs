//! HTTP transport: pooled keep-alive reqwest clients, requests to the engine
//! (extension protocol) or the upstream proxy (legacy headers), and direct
//! calls when nothing is injected.

use crate::body::{self, ReadError};
use crate::discovery::{Auth, Backend, BackendKind};
use crate::errors::{sdk_codes, SdkError, SdkResult};
use crate::options::PreparedCall;
use crate::platform;
use crate::response::RawAnswer;
use agentsecrets_wire::{headers as h, scope};
use std::path::Path;
use std::time::Duration;

/// Ask the engine for the `X-AS-Redacted` trailer: it says exactly whether
/// the body was redacted, which the marker text alone cannot.
const REQUEST_TRAILERS: bool = true;

/// Idle pooled connections are kept this long.
const POOL_IDLE: Duration = Duration::from_secs(60);

/// A client for the engine or the upstream proxy: no redirects, no proxy from
/// the environment, no automatic `Accept-Encoding` (so the upstream proxy never
/// forwards a compression request it cannot redact through).
pub fn engine_client(socket: Option<&Path>) -> SdkResult<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .no_zstd()
        .http1_only()
        .pool_idle_timeout(POOL_IDLE)
        .tcp_nodelay(true);
    if let Some(s) = socket {
        b = platform::via_socket(b, s)?;
    }
    b.build().map_err(|e| {
        SdkError::new(
            sdk_codes::PROXY_CONNECTION,
            format!("cannot create the HTTP client: {e}"),
        )
        .fix("report this error with your platform details")
    })
}

/// A client for calls without injection: straight to the target, like
/// `fetch` but never following redirects.
pub fn direct_client() -> SdkResult<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(POOL_IDLE)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| {
            SdkError::new(
                sdk_codes::PROXY_CONNECTION,
                format!("cannot create the HTTP client: {e}"),
            )
            .fix("report this error with your platform details")
        })
}

/// Why a send failed, so the caller can decide whether to retry.
pub enum SendError {
    /// The connection could not be made: nothing was sent.
    Connect(SdkError),
    /// The backend answered, but the answer was refused (too large): the
    /// backend itself is fine.
    Answer(SdkError),
    Other(SdkError),
}

impl SendError {
    pub fn into_inner(self) -> SdkError {
        match self {
            SendError::Connect(e) | SendError::Answer(e) | SendError::Other(e) => e,
        }
    }
}

/// Builds the request to the backend's `/proxy` for `call`.
fn proxy_request(
    backend: &Backend,
    call: &PreparedCall,
    upload: Option<reqwest::Body>,
) -> SdkResult<reqwest::RequestBuilder> {
    let mut rb = backend
        .client
        .request(call.method.clone(), format!("{}/proxy", backend.base_url))
        .header(h::TARGET_URL, call.url.as_str())
        .header(h::METHOD, call.method.as_str());
    for (name, value) in &call.headers {
        // The upstream proxy forwards Accept-Encoding, and its redaction does
        // not see through compression: never let a caller ask for it there.
        if backend.kind == BackendKind::UpstreamProxy && name == http::header::ACCEPT_ENCODING {
            continue;
        }
        rb = rb.header(name.clone(), value.clone());
    }
    match backend.kind {
        BackendKind::Engine => {
            rb = rb.header(h::INJECT, call.plan.to_header_value());
            if REQUEST_TRAILERS {
                rb = rb.header(http::header::TE, "trailers");
            }
            if let Some(w) = &call.workspace {
                rb = rb.header(h::WORKSPACE, scope::encode(w));
            }
            if let Some(p) = &call.project {
                rb = rb.header(h::PROJECT, scope::encode(p));
            }
            // Only to an engine that proved it holds this very token.
            if backend.auth == Auth::EngineProof {
                if let Some(t) = &backend.token {
                    rb = rb.header(h::TOKEN, t.as_str());
                }
            }
        }
        BackendKind::UpstreamProxy => {
            if call.workspace.is_some() || call.project.is_some() {
                return Err(SdkError::new(
                    sdk_codes::BACKEND_UNSUPPORTED,
                    "the running proxy is the upstream AgentSecrets proxy, which cannot scope a request to a workspace or project",
                )
                .fix("switch globally with `agentsecrets workspace switch` / `agentsecrets project use`, or run this project's engine (`agentsecrets proxy start` from @the-17/agentsecrets)")
                .backend("upstream-proxy"));
            }
            for (name, secret) in call.plan.to_legacy_headers() {
                rb = rb.header(name, secret);
            }
        }
    }
    if let Some(a) = &call.agent_id {
        rb = rb.header(h::AGENT_ID, a.as_str());
    }
    Ok(with_body(rb, call, upload))
}

/// The call's body: streamed from JS when given, else its bytes.
fn with_body(
    rb: reqwest::RequestBuilder,
    call: &PreparedCall,
    upload: Option<reqwest::Body>,
) -> reqwest::RequestBuilder {
    match (upload, &call.body) {
        (Some(stream), _) => rb.body(stream),
        (None, Some(bytes)) => rb.body(bytes.clone()),
        (None, None) => rb,
    }
}

fn direct_request(
    client: &reqwest::Client,
    call: &PreparedCall,
    upload: Option<reqwest::Body>,
) -> reqwest::RequestBuilder {
    let mut rb = client.request(call.method.clone(), call.url.clone());
    for (name, value) in &call.headers {
        rb = rb.header(name.clone(), value.clone());
    }
    with_body(rb, call, upload)
}

/// Sends `call` through `backend` and reads the whole answer.
pub async fn send_proxied(backend: &Backend, call: &PreparedCall) -> Result<RawAnswer, SendError> {
    let res = head_proxied(backend, call, None).await?;
    read_whole(res, call.max_response_bytes, |e| {
        proxy_failure(peer_name(backend), e)
    })
    .await
}

/// Sends `call` straight to its target and reads the whole answer.
pub async fn send_direct(
    client: &reqwest::Client,
    call: &PreparedCall,
) -> Result<RawAnswer, SendError> {
    let url = call.url.to_string();
    let res = head_direct(client, call, None).await?;
    read_whole(res, call.max_response_bytes, |e| direct_failure(&url, e)).await
}

/// Sends `call` through `backend` and returns once the headers arrived; the
/// body is left unread.
pub async fn head_proxied(
    backend: &Backend,
    call: &PreparedCall,
    upload: Option<reqwest::Body>,
) -> Result<reqwest::Response, SendError> {
    let rb = proxy_request(backend, call, upload).map_err(SendError::Other)?;
    send(rb, |e| proxy_failure(peer_name(backend), e)).await
}

/// Sends `call` straight to its target and returns once the headers arrived.
pub async fn head_direct(
    client: &reqwest::Client,
    call: &PreparedCall,
    upload: Option<reqwest::Body>,
) -> Result<reqwest::Response, SendError> {
    let url = call.url.to_string();
    send(direct_request(client, call, upload), |e| {
        direct_failure(&url, e)
    })
    .await
}

fn peer_name(backend: &Backend) -> &'static str {
    match backend.kind {
        BackendKind::Engine => "the agentsecrets engine",
        BackendKind::UpstreamProxy => "the upstream AgentSecrets proxy",
    }
}

async fn send(
    rb: reqwest::RequestBuilder,
    fail: impl Fn(&reqwest::Error) -> SdkError,
) -> Result<reqwest::Response, SendError> {
    rb.send().await.map_err(|e| {
        if e.is_connect() {
            SendError::Connect(fail(&e))
        } else {
            SendError::Other(fail(&e))
        }
    })
}

/// Reads `res` whole, up to `limit` bytes.
pub async fn read_whole(
    res: reqwest::Response,
    limit: u64,
    fail: impl Fn(&reqwest::Error) -> SdkError,
) -> Result<RawAnswer, SendError> {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    // The decoded length is unknown when reqwest decompresses (direct calls).
    let declared = res.content_length();
    let res: http::Response<reqwest::Body> = res.into();
    let read = body::read_bounded(res.into_body(), declared, limit)
        .await
        .map_err(|e| match e {
            ReadError::TooLarge => SendError::Answer(body::too_large(limit)),
            ReadError::Failed(e) => SendError::Other(fail(&e)),
        })?;
    Ok(RawAnswer {
        status,
        headers,
        trailers: read.trailers,
        body: read.bytes,
    })
}

/// Describes an error of reqwest without its URL (ours are local; the
/// caller's target is named separately) and with its source chain.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = e.without_url_ref();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        if self.is_connect() {
            "connection failed".into()
        } else if self.is_timeout() {
            "timed out".into()
        } else if self.is_body() || self.is_decode() {
            "reading the response failed".into()
        } else if self.is_request() {
            "sending the request failed".into()
        } else {
            "HTTP error".into()
        }
    }
}

pub fn proxy_failure(peer: &str, e: &reqwest::Error) -> SdkError {
    SdkError::new(
        sdk_codes::PROXY_CONNECTION,
        format!("the connection to {peer} failed: {}", describe(e)),
    )
    .fix(
        "run `agentsecrets proxy status`; restart it with `agentsecrets proxy start` if it stopped",
    )
}

pub fn direct_failure(url: &str, e: &reqwest::Error) -> SdkError {
    SdkError::new(
        agentsecrets_wire::ErrorCode::UpstreamUnreachable.as_str(),
        format!("calling {url} failed: {}", describe(e)),
    )
    .fix("check the URL and that the host is reachable")
    .backend("direct")
}
