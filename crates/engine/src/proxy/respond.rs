//! The responses the engine sends: engine errors, a whole redacted answer,
//! or a streamed one whose body redacts as it goes and audits the call when
//! it ends. Also the upstream headers that may reach the caller.

use super::body::RedactingBody;
use super::context::Call;
use super::forward::UpstreamBody;
use super::request::HOP_BY_HOP;
use crate::error::EngineError;
use crate::redact::{Patterns, StreamRedactor};
use agentsecrets_wire::headers as h;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};

pub type ResBody = UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// What the redact phase hands to the caller.
pub enum Answer {
    /// Read and redacted in one piece; `redacted` in headers or body.
    Whole {
        response: Response<ResBody>,
        redacted: bool,
    },
    /// Headers redacted; the body is redacted as it streams. Boxed: the
    /// answer is moved several times, and most answers are whole.
    Streamed(Box<Streamed>),
}

/// An answer whose body is still upstream.
pub struct Streamed {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub headers_redacted: bool,
    pub body: UpstreamBody,
    pub redactor: StreamRedactor,
    /// The caller asked for trailers (`TE: trailers`).
    pub trailers: bool,
}

pub fn full(body: impl Into<Bytes>) -> ResBody {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub fn engine_header() -> HeaderValue {
    HeaderValue::from_static(concat!("agentsecrets-engine/", env!("CARGO_PKG_VERSION")))
}

/// An engine error response: status, `X-AS-Engine-Error`, JSON body.
pub fn error(e: &EngineError) -> Response<ResBody> {
    let body = serde_json::to_vec(&e.to_body()).expect("error bodies serialise");
    let mut res = Response::new(full(body));
    *res.status_mut() =
        StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let hm = res.headers_mut();
    hm.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    hm.insert(h::ENGINE, engine_header());
    hm.insert(h::ENGINE_ERROR, HeaderValue::from_static(e.code.as_str()));
    res
}

/// A whole answer: exact length, `X-AS-Redacted` as a header, no chunked
/// body or trailer.
pub fn whole(status: StatusCode, mut headers: HeaderMap, body: Vec<u8>, redacted: bool) -> Answer {
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    headers.insert(
        h::REDACTED,
        HeaderValue::from_static(if redacted { "true" } else { "false" }),
    );
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Answer::Whole { response, redacted }
}

/// A streamed answer. The call moves into the body, which audits it when
/// it ends, is cut, or is dropped by a caller that went away.
pub fn streamed(s: Box<Streamed>, call: Call) -> Response<ResBody> {
    let s = *s;
    let limits = call.shared.limits;
    let body = RedactingBody::new(
        s.body,
        s.redactor,
        s.headers_redacted,
        &limits,
        s.trailers,
        call,
        s.status.as_u16(),
    );
    let mut res = Response::new(
        body.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
            .boxed_unsync(),
    );
    *res.status_mut() = s.status;
    *res.headers_mut() = s.headers;
    if s.trailers {
        res.headers_mut()
            .insert(http::header::TRAILER, HeaderValue::from_static(h::TRAILERS));
    }
    res
}

/// Upstream headers minus hop-by-hop, `Content-Length` (redaction may change
/// the length) and every `X-AS-*` (only the engine sets those), with values
/// redacted and any header whose name holds a value dropped (a name cannot
/// carry the marker). Returns whether any header was redacted.
pub fn upstream_headers(upstream: &HeaderMap, patterns: &Patterns) -> (HeaderMap, bool) {
    let mut out = HeaderMap::with_capacity(upstream.len() + 2);
    let mut redacted = false;
    for (name, value) in upstream {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n) || n.starts_with(h::RESERVED_PREFIX) {
            continue;
        }
        if patterns.redact(n.as_bytes()).1 {
            redacted = true;
            continue;
        }
        let (bytes, hit) = patterns.redact(value.as_bytes());
        if hit {
            redacted = true;
            match HeaderValue::from_bytes(&bytes) {
                Ok(v) => {
                    out.append(name.clone(), v);
                }
                Err(_) => continue,
            }
        } else {
            out.append(name.clone(), value.clone());
        }
    }
    out.insert(h::ENGINE, engine_header());
    if redacted {
        out.insert(h::HEADERS_REDACTED, HeaderValue::from_static("true"));
    }
    (out, redacted)
}

/// Largest upstream body read whole instead of streamed.
const SMALL_BODY: u64 = 64 * 1024;

/// Whether the answer's body is known to be small: a `Content-Length` of at
/// most [`SMALL_BODY`], on a response that has a body at all.
pub fn is_small_body(method: &http::Method, status: StatusCode, headers: &HeaderMap) -> bool {
    let bodiless = *method == http::Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    !bodiless && content_length(headers).is_some_and(|n| n <= SMALL_BODY)
}

/// The `Content-Length` an answer declares, if any.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
