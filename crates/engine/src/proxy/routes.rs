//! The engine's HTTP endpoints: caller checks common to all of them, then
//! `/health` (with the engine's proof of its home) or `/proxy` (the
//! [`pipeline`](super::pipeline)).

use super::auth::{self, Transport};
use super::pipeline;
use super::respond::{self, engine_header, full, ResBody};
use super::Shared;
use crate::error::EngineError;
use agentsecrets_wire::{headers as h, ErrorCode, Health};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;

/// Upper bound on the request's header section (names and values).
pub const MAX_REQUEST_HEADERS: usize = 64 * 1024;

pub async fn route(
    shared: Arc<Shared>,
    transport: Transport,
    req: Request<Incoming>,
) -> Response<ResBody> {
    if let Err(e) = auth::check_caller(transport, req.headers()) {
        return respond::error(&e);
    }
    let head_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if head_bytes > MAX_REQUEST_HEADERS {
        let e = EngineError::new(
            ErrorCode::RequestTooLarge,
            format!("request headers over {} KiB", MAX_REQUEST_HEADERS >> 10),
        )
        .fix("send fewer or smaller headers");
        let mut r = respond::error(&e);
        *r.status_mut() = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
        return r;
    }
    match req.uri().path() {
        "/health" => health(&shared, req.headers()),
        "/proxy" => pipeline::proxy(shared, transport, req).await,
        other => {
            let e = EngineError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "no such endpoint {}",
                    agentsecrets_wire::names::shown(other)
                ),
            )
            .fix("use /proxy or /health");
            let mut r = respond::error(&e);
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}

fn health(shared: &Shared, headers: &HeaderMap) -> Response<ResBody> {
    use agentsecrets_wire::health::features as f;
    let proof = match challenge_proof(shared, headers) {
        Ok(p) => p,
        Err(e) => return respond::error(&e),
    };
    let scope = shared.vault.scope(None, None).ok();
    let health = Health {
        status: "ok".into(),
        project: scope
            .as_ref()
            .map(|s| s.project.clone())
            .unwrap_or_default(),
        workspace: scope.map(|s| s.workspace),
        engine: Some(agentsecrets_wire::ENGINE_NAME.into()),
        version: Some(env!("CARGO_PKG_VERSION").into()),
        protocol: Some(agentsecrets_wire::PROTOCOL_VERSION),
        features: [
            f::EXACT_CASE_TARGETS,
            f::SCOPE,
            f::ENGINE_ERRORS,
            f::CALLER_TOKEN,
            f::UNIX_SOCKET,
            f::STREAMING_REDACTION,
            f::REDACTED_TRAILER,
            f::ERROR_TRAILER,
            f::ENGINE_PROOF,
        ]
        .map(String::from)
        .to_vec(),
    };
    let mut res = Response::new(full(
        serde_json::to_vec(&health).expect("health serialises"),
    ));
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res.headers_mut().insert(h::ENGINE, engine_header());
    if let Some(p) = proof {
        res.headers_mut().insert(
            h::PROOF,
            HeaderValue::from_str(&p).expect("hex is a header value"),
        );
    }
    res
}

/// The `X-AS-Proof` for the request's `X-AS-Challenge`, if it sent one.
fn challenge_proof(shared: &Shared, headers: &HeaderMap) -> Result<Option<String>, EngineError> {
    use agentsecrets_wire::proof;
    let Some(raw) = headers.get(h::CHALLENGE) else {
        return Ok(None);
    };
    let challenge = raw
        .to_str()
        .ok()
        .and_then(proof::parse_challenge)
        .ok_or_else(|| {
            EngineError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "{} must be {} random bytes in hex",
                    h::CHALLENGE,
                    proof::CHALLENGE_BYTES
                ),
            )
            .fix("send a fresh challenge of 64 hex digits, or none")
        })?;
    Ok(Some(proof::prove(&shared.token, &challenge, shared.port)))
}
