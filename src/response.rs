//! Reading an answer: engine errors, the upstream proxy's error shapes,
//! upstream HTTP errors and the successful response handed to JS.
//!
//! The response object has no field that could carry a credential: status,
//! headers and body as the engine returned them (redacted), a flag, a duration.

use crate::errors::{sdk_codes, SdkError, SdkResult};
use agentsecrets_wire::error::Cut;
use agentsecrets_wire::{headers as h, EngineErrorBody, ErrorCode, REDACTION_MARKER};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use std::collections::{BTreeMap, HashMap};

/// What `call()` resolves to before `index.js` wraps it.
#[napi(object)]
pub struct NativeResponse {
    pub status_code: u32,
    /// Lower-case header names; repeated headers joined with `, `.
    pub headers: HashMap<String, String>,
    pub body: Buffer,
    pub redacted: bool,
    pub duration_ms: f64,
    /// The target URL that was called.
    pub url: String,
    /// `engine`, `upstream-proxy` or `direct`.
    pub backend: String,
}

/// A response fully read, before it is classified.
pub struct RawAnswer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub trailers: Option<http::HeaderMap>,
    pub body: bytes::Bytes,
}

/// Which kind of peer produced the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Engine,
    UpstreamProxy,
    Direct,
}

impl Peer {
    pub fn as_str(self) -> &'static str {
        match self {
            Peer::Engine => "engine",
            Peer::UpstreamProxy => "upstream-proxy",
            Peer::Direct => "direct",
        }
    }
}

pub fn header_map(headers: &http::HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        out.entry(name.as_str().to_owned())
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(&v);
            })
            .or_insert(v);
    }
    out
}

fn is_true(map: Option<&http::HeaderMap>, name: &str) -> bool {
    map.and_then(|m| m.get(name))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Turns a read answer into the JS response or the matching error.
pub fn classify(
    answer: RawAnswer,
    peer: Peer,
    url: &str,
    throw_on_http_error: bool,
    duration_ms: f64,
) -> SdkResult<NativeResponse> {
    if peer == Peer::Engine {
        if let Some(code) = answer.headers.get(h::ENGINE_ERROR) {
            return Err(engine_error(code, &answer));
        }
        if let Some(code) = answer
            .trailers
            .as_ref()
            .and_then(|t| t.get(h::ENGINE_ERROR))
        {
            return Err(cut_error(code, answer.status));
        }
    }
    if peer == Peer::UpstreamProxy {
        if let Some(e) = legacy_proxy_error(answer.status, &answer.body) {
            return Err(e.backend(peer.as_str()));
        }
    }
    let headers = header_map(&answer.headers);
    if answer.status >= 400 && throw_on_http_error {
        let body = String::from_utf8_lossy(&answer.body).into_owned();
        let mut e = SdkError::new(
            sdk_codes::UPSTREAM_HTTP,
            format!("the upstream API answered {} for {url}", answer.status),
        )
        .fix("the credential was injected; check the upstream API's documentation for this status, or pass `throwOnHttpError: false` to get the response instead")
        .backend(peer.as_str());
        e.status_code = Some(answer.status);
        e.body = Some(body);
        e.headers = Some(headers);
        e.url = Some(url.to_owned());
        return Err(e);
    }
    // Only a proxy redacts; a direct target's headers mean nothing here. The
    // engine says exactly, in a header (a small body read whole) or in a
    // trailer (a streamed one); the upstream proxy passes an upstream's
    // headers through, so there the marker in the body is the only sign.
    let engine_says = if peer == Peer::Engine {
        answer
            .headers
            .get(h::REDACTED)
            .or_else(|| answer.trailers.as_ref().and_then(|t| t.get(h::REDACTED)))
            .map(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
    } else {
        None
    };
    let redacted = peer != Peer::Direct
        && (is_true(Some(&answer.headers), h::HEADERS_REDACTED)
            || engine_says.unwrap_or_else(|| contains(&answer.body, REDACTION_MARKER.as_bytes())));
    Ok(NativeResponse {
        status_code: u32::from(answer.status),
        headers: headers.into_iter().collect(),
        body: Buffer::from(answer.body.to_vec()),
        redacted,
        duration_ms,
        url: url.to_owned(),
        backend: peer.as_str().to_owned(),
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

pub(crate) fn engine_error(code_header: &http::HeaderValue, answer: &RawAnswer) -> SdkError {
    if let Ok(body) = serde_json::from_slice::<EngineErrorBody>(&answer.body) {
        return SdkError::from_engine(body, answer.status);
    }
    // The header is authoritative; a body we cannot read still gives the code.
    let code = code_header
        .to_str()
        .ok()
        .and_then(ErrorCode::parse)
        .unwrap_or(ErrorCode::Internal);
    let body = EngineErrorBody::new(code, format!("the engine refused the call ({code})"));
    SdkError::from_engine(body, answer.status)
}

/// The engine cut a streamed body and said why in its error trailer: the
/// body read so far is incomplete and is dropped.
pub(crate) fn cut_error(code_trailer: &http::HeaderValue, status: u16) -> SdkError {
    let code = code_trailer
        .to_str()
        .ok()
        .and_then(ErrorCode::parse)
        .unwrap_or(ErrorCode::Internal);
    let body = match Cut::from_code(code) {
        Some(cut) => cut.body(),
        None => EngineErrorBody::new(code, format!("the engine ended the answer early ({code})")),
    };
    SdkError::from_engine(body, status)
}

/// Recognises the upstream Go proxy's own errors by their exact body shape,
/// so that an upstream API's 403/502 is never mistaken for one.
pub fn legacy_proxy_error(status: u16, body: &[u8]) -> Option<SdkError> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    let error = obj.get("error")?.as_str()?;
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    let only_error = keys == ["error"];
    let mut e = match (status, error) {
        (403, "domain_not_in_allowlist" | "empty_allowlist") => {
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            if sorted != ["domain", "error", "message"] {
                return None;
            }
            let domain = obj.get("domain")?.as_str()?.to_owned();
            let mut e = SdkError::new(
                ErrorCode::DomainNotAllowed.as_str(),
                if error == "empty_allowlist" {
                    format!("{domain} is not allowed: the workspace allowlist is empty")
                } else {
                    format!("{domain} is not in the workspace allowlist")
                },
            )
            .fix(format!("agentsecrets workspace allowlist add {domain}"));
            e.domain = Some(domain);
            e
        }
        (400, "X-AS-Target-URL header is required")
        | (400, "At least one X-AS-Inject-* header is required")
            if only_error =>
        {
            SdkError::new(
                ErrorCode::InvalidRequest.as_str(),
                format!("the upstream proxy refused the request: {error}"),
            )
            .fix("this is a bug in the request the SDK built; please report it")
        }
        (502, _) if only_error && error.starts_with("secret '") => {
            let rest = &error["secret '".len()..];
            let key = rest.split_once("' not found")?.0.to_owned();
            let mut e = SdkError::new(
                ErrorCode::SecretNotFound.as_str(),
                format!("secret {key} was not found by the upstream proxy"),
            )
            .fix(format!("agentsecrets secrets set {key}"));
            e.key = Some(key);
            e
        }
        (502, _) if only_error && error.starts_with("injection failed for ") => {
            // Only the name and style are kept: the rest is the proxy's own text.
            let head = error["injection failed for ".len()..]
                .split(':')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            SdkError::new(
                ErrorCode::InjectionFailed.as_str(),
                format!("the upstream proxy could not inject {head}"),
            )
            .fix("check that the secret's value fits the style (basic needs user:password; body injection needs a JSON object body)")
        }
        (502, _) if only_error && error.starts_with("failed to reach upstream") => {
            // Its text can contain the target URL with a query-injected value: dropped.
            SdkError::new(
                ErrorCode::UpstreamUnreachable.as_str(),
                "the upstream proxy could not reach the target (its message is withheld because it can contain an injected value)",
            )
            .fix("check the target URL and that the host is reachable")
        }
        _ => return None,
    };
    e.status_code = Some(status);
    Some(e)
}
