//! One `/proxy` call, in the documented order: authenticate → parse →
//! scope → allowlist → resolve → inject → forward → redact → audit.

use super::auth::{self, Transport};
use super::body::RedactingBody;
use super::forward;
use super::inject::{self, Outbound};
use super::request::{self, ProxyRequest, HOP_BY_HOP};
use super::Shared;
use crate::allowlist::{self, Decision};
use crate::audit::now_rfc3339;
use crate::error::EngineError;
use crate::redact::{Patterns, StreamRedactor};
use crate::vault::Scope;
use agentsecrets_wire::{headers as h, AuditEvent, AuditStatus, AuthStyle, ErrorCode, Health};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

pub type ResBody = UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Upper bound on a request body the engine buffers (for injection).
pub const MAX_REQUEST_BODY: usize = 32 * 1024 * 1024;

/// Upper bound on the request's header section (names and values).
pub const MAX_REQUEST_HEADERS: usize = 64 * 1024;

fn full(body: impl Into<Bytes>) -> ResBody {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn engine_header() -> HeaderValue {
    HeaderValue::from_static(concat!("agentsecrets-engine/", env!("CARGO_PKG_VERSION")))
}

/// An engine error response: status, `X-AS-Engine-Error`, JSON body.
pub fn error_response(e: &EngineError) -> Response<ResBody> {
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

pub async fn route(
    shared: Arc<Shared>,
    transport: Transport,
    req: Request<Incoming>,
) -> Response<ResBody> {
    if let Err(e) = auth::check_caller(transport, req.headers()) {
        return error_response(&e);
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
        let mut r = error_response(&e);
        *r.status_mut() = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
        return r;
    }
    match req.uri().path() {
        "/health" => health(&shared, req.headers()),
        "/proxy" => proxy(shared, transport, req).await,
        other => {
            let e = EngineError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "no such endpoint {}",
                    agentsecrets_wire::names::shown(other)
                ),
            )
            .fix("use /proxy or /health");
            let mut r = error_response(&e);
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}

fn health(shared: &Shared, headers: &HeaderMap) -> Response<ResBody> {
    use agentsecrets_wire::health::features as f;
    let proof = match challenge_proof(shared, headers) {
        Ok(p) => p,
        Err(e) => return error_response(&e),
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

/// What is known of a call for its audit line, filled in as it progresses.
struct Audit {
    started: Instant,
    method: String,
    target_url: String,
    domain: String,
    secret_keys: Vec<String>,
    auth_styles: Vec<String>,
    agent_id: Option<String>,
    workspace: Option<String>,
    project: Option<String>,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            started: Instant::now(),
            method: String::new(),
            target_url: String::new(),
            domain: String::new(),
            secret_keys: Vec::new(),
            auth_styles: Vec::new(),
            agent_id: None,
            workspace: None,
            project: None,
        }
    }
}

impl Audit {
    fn event(
        &self,
        status_code: u16,
        status: AuditStatus,
        reason: &str,
        redacted: bool,
    ) -> AuditEvent {
        AuditEvent {
            timestamp: now_rfc3339(),
            secret_keys: self.secret_keys.clone(),
            agent_id: self.agent_id.clone(),
            method: self.method.clone(),
            target_url: self.target_url.clone(),
            domain: self.domain.clone(),
            auth_styles: self.auth_styles.clone(),
            status_code,
            duration_ms: self.started.elapsed().as_millis() as u64,
            status,
            reason: reason.to_owned(),
            redacted,
            workspace: self.workspace.clone(),
            project: self.project.clone(),
        }
    }
}

fn blocked(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::DomainNotAllowed | ErrorCode::InsecureScheme | ErrorCode::AddressRefused
    )
}

async fn proxy(
    shared: Arc<Shared>,
    transport: Transport,
    req: Request<Incoming>,
) -> Response<ResBody> {
    let mut audit = Audit {
        method: req.method().to_string(),
        ..Audit::default()
    };
    match run(&shared, transport, req, &mut audit).await {
        Ok(res) => res,
        Err((e, patterns)) => {
            let mut e = e;
            if let Some(p) = &patterns {
                e.message = p.scrub(&e.message);
            }
            let status = if blocked(e.code) {
                AuditStatus::Blocked
            } else {
                AuditStatus::Error
            };
            let event = audit.event(e.code.http_status(), status, e.code.as_str(), false);
            shared.audit(&event);
            error_response(&e)
        }
    }
}

type Failure = (EngineError, Option<Arc<Patterns>>);

async fn run(
    shared: &Arc<Shared>,
    transport: Transport,
    req: Request<Incoming>,
    audit: &mut Audit,
) -> Result<Response<ResBody>, Failure> {
    let no_p = |e: EngineError| (e, None);
    auth::check_token(transport, req.headers(), &shared.token).map_err(no_p)?;
    let (parts, body) = req.into_parts();
    let pr: ProxyRequest = request::parse(&parts.method, &parts.headers).map_err(no_p)?;
    audit.method = pr.method.to_string();
    audit.target_url = pr.target.to_string();
    audit.domain = allowlist::host_of(&pr.target);
    audit.secret_keys = pr.plan.secret_keys();
    audit.auth_styles = pr.plan.styles().into_iter().map(String::from).collect();
    audit.agent_id = pr.agent_id.clone();

    // Scope, allowlist, resolve: one snapshot of the vault. Values are
    // read only once the destination has passed every check. The answer is
    // scanned for every value of the home, not only the injected ones.
    let (values, patterns) = shared
        .vault
        .read(|r| {
            let data_version = r.data_version()?;
            let scope = r.scope(pr.workspace.as_deref(), pr.project.as_deref())?;
            audit.workspace = Some(scope.workspace.clone());
            audit.project = Some(scope.project.clone());
            if !pr.plan.is_empty() {
                check_destination(&r.allowlist(&scope)?, &pr.target, &audit.domain, &scope)?;
                check_no_range(&pr.forward)?;
            }
            let mut values: HashMap<String, zeroize::Zeroizing<String>> = HashMap::new();
            for key in &audit.secret_keys {
                values.insert(key.clone(), r.secret(&scope, key)?);
            }
            let patterns =
                shared
                    .known
                    .patterns(r, data_version, values.values().map(|v| v.as_str()))?;
            Ok((values, patterns))
        })
        .map_err(no_p)?;
    let domain = audit.domain.clone();
    // The caller never had the values, but an audit line must not hold one whatever the URL says.
    audit.target_url = patterns.scrub(&audit.target_url);
    let with_p = |e: EngineError| (e, Some(patterns.clone()));

    // Request body (bounded).
    let body = Limited::new(body, MAX_REQUEST_BODY)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                EngineError::new(
                    ErrorCode::RequestTooLarge,
                    format!("request body over {} MiB", MAX_REQUEST_BODY >> 20),
                )
                .fix("send a smaller body")
            } else {
                EngineError::invalid("the request body could not be read")
            }
        })
        .map_err(with_p)?
        .to_bytes();

    // Inject.
    let mut out = Outbound {
        url: pr.target.clone(),
        headers: pr.forward,
        body: body.to_vec(),
    };
    inject::apply(&mut out, &pr.plan, &values).map_err(with_p)?;
    drop(values);
    out.headers.insert(
        http::header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );

    // Forward, with injected header names in the case the caller gave.
    let case = shared
        .header_case
        .extensions(pr.plan.injections.iter().filter_map(|i| {
            (i.style == AuthStyle::Header)
                .then_some(i.target.as_deref())
                .flatten()
        }))
        .await;
    let upstream_req = upstream_request(&pr.method, out, case).map_err(with_p)?;
    let resp = upstream_step(
        shared,
        &domain,
        "did not answer",
        forward::send(&shared.client, upstream_req),
    )
    .await
    .map_err(with_p)?;

    // Redact headers.
    let status = resp.status();
    if let Some(enc) = resp.headers().get(http::header::CONTENT_ENCODING) {
        let enc = enc.to_str().unwrap_or("?").trim().to_ascii_lowercase();
        if !enc.is_empty() && enc != "identity" {
            return Err(with_p(
                EngineError::new(
                    ErrorCode::UpstreamEncoding,
                    format!("{domain} answered with content encoding {} the engine cannot scan for echoed secrets", agentsecrets_wire::names::shown(&enc)),
                )
                .domain(&domain)
                .fix("the upstream must honour Accept-Encoding: identity (or use gzip, deflate, br or zstd)"),
            ));
        }
    }
    let (mut res_headers, headers_redacted) = response_headers(resp.headers(), &patterns);

    // A small body of known length is read whole and answered in one piece:
    // exact length, `X-AS-Redacted` as a header, no chunked body or trailer.
    if is_small_body(&pr.method, status, content_length(resp.headers())) {
        let body = upstream_step(shared, &domain, "did not finish its answer", async {
            Ok(resp.into_body().collect().await?.to_bytes())
        })
        .await
        .map_err(with_p)?;
        let (body, body_redacted) = patterns.redact(&body);
        let redacted = headers_redacted || body_redacted;
        res_headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        res_headers.insert(
            h::REDACTED,
            HeaderValue::from_static(if redacted { "true" } else { "false" }),
        );
        let reason = if redacted { "credential_echo" } else { "-" };
        shared.audit(&audit.event(status.as_u16(), AuditStatus::Ok, reason, redacted));
        let mut res = Response::new(full(body));
        *res.status_mut() = status;
        *res.headers_mut() = res_headers;
        return Ok(res);
    }

    let mut builder = Response::builder().status(status);
    *builder.headers_mut().expect("builder is fresh") = res_headers;

    // Stream the body through the redactor; audit when it ends.
    let shared2 = shared.clone();
    let audit_base = std::mem::take(audit);
    let code = status.as_u16();
    let on_finish = Box::new(move |redacted: bool, completed: bool| {
        let (st, reason) = match (completed, redacted) {
            (false, _) => (AuditStatus::Error, "body_incomplete"),
            (true, true) => (AuditStatus::Ok, "credential_echo"),
            (true, false) => (AuditStatus::Ok, "-"),
        };
        shared2.audit(&audit_base.event(code, st, reason, redacted));
    });
    let body = RedactingBody::new(
        resp.into_body(),
        StreamRedactor::new(patterns.clone()),
        headers_redacted,
        &shared.limits,
        pr.wants_trailers,
        on_finish,
    );
    let mut res = builder
        .body(
            body.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
                .boxed_unsync(),
        )
        .map_err(|e| {
            with_p(EngineError::internal(format!(
                "cannot build the response: {e}"
            )))
        })?;
    if pr.wants_trailers {
        res.headers_mut()
            .insert(http::header::TRAILER, HeaderValue::from_static(h::TRAILERS));
    }
    Ok(res)
}

/// An injecting call may not ask for a byte range: an upstream that echoes
/// the request would hand back the value in slices too short to redact.
fn check_no_range(forward: &HeaderMap) -> Result<(), EngineError> {
    for name in [http::header::RANGE, http::header::IF_RANGE] {
        if forward.contains_key(&name) {
            return Err(EngineError::invalid(format!(
                "a call that injects a secret cannot send {name}: an echo of the request could return the value in slices too short to redact"
            ))
            .fix(format!("send the request without {name}, or fetch the range in a call that injects no secret")));
        }
    }
    Ok(())
}

/// Whether secrets may go to `target`: allowlisted, over https unless the
/// host is loopback or its entry names `http://`, never a link-local or
/// metadata address.
fn check_destination(
    entries: &[String],
    target: &url::Url,
    domain: &str,
    scope: &Scope,
) -> Result<(), EngineError> {
    let explicit_http = match allowlist::check(entries, target) {
        Decision::Allowed { explicit_http } => explicit_http,
        Decision::EmptyAllowlist => {
            return Err(EngineError::new(
                ErrorCode::DomainNotAllowed,
                format!("Your workspace allowlist is empty, so {domain} is not allowed: secrets are only sent to allowlisted hosts"),
            )
            .legacy_error("empty_allowlist")
            .domain(domain)
            .workspace(&scope.workspace)
            .fix(format!("a person runs: agentsecrets workspace allowlist add {domain}")));
        }
        Decision::NotAllowed => {
            return Err(EngineError::new(
                ErrorCode::DomainNotAllowed,
                format!(
                    "{domain} is not in the allowlist of workspace {}",
                    scope.workspace
                ),
            )
            .domain(domain)
            .workspace(&scope.workspace)
            .fix(format!(
                "a person runs: agentsecrets workspace allowlist add {domain}"
            )));
        }
    };
    if target.scheme() == "http" && !explicit_http && !allowlist::is_loopback_host(target) {
        return Err(EngineError::new(
            ErrorCode::InsecureScheme,
            format!("secrets are only sent to {domain} over https"),
        )
        .domain(domain)
        .fix(format!(
            "use https://{domain}/…, or have a person allowlist http://{domain} explicitly"
        )));
    }
    if let Some(ip) = literal_ip(target) {
        if allowlist::is_refused_ip(ip) {
            return Err(EngineError::new(
                ErrorCode::AddressRefused,
                format!("{domain} is a link-local or cloud metadata address; the engine never sends secrets there"),
            )
            .domain(domain)
            .fix("use a public or loopback address"));
        }
    }
    Ok(())
}

/// One step of the upstream exchange within the engine's timeout
/// (`UPSTREAM_TIMEOUT`: "`domain` `what` in time"), its failure described
/// without the URL.
async fn upstream_step<T>(
    shared: &Shared,
    domain: &str,
    what: &str,
    step: impl std::future::Future<Output = Result<T, forward::BoxError>>,
) -> Result<T, EngineError> {
    tokio::time::timeout(shared.limits.timeout, step)
        .await
        .map_err(|_| {
            EngineError::new(
                ErrorCode::UpstreamTimeout,
                format!("{domain} {what} in time"),
            )
            .domain(domain)
            .fix("check that the upstream is reachable, or raise the timeout")
        })?
        .map_err(|e| forward::describe(&*e, domain))
}

/// The upstream request: the outbound URL (without a fragment, which is
/// never sent), method, headers and body, plus `extensions` (header case).
fn upstream_request(
    method: &http::Method,
    out: Outbound,
    extensions: Option<http::Extensions>,
) -> Result<Request<Full<Bytes>>, EngineError> {
    let mut url = out.url;
    url.set_fragment(None);
    let uri: http::Uri = url.as_str().parse().map_err(|_| {
        EngineError::invalid("the target URL cannot be sent as an HTTP request target")
    })?;
    let mut req = Request::new(Full::new(Bytes::from(out.body)));
    *req.method_mut() = method.clone();
    *req.uri_mut() = uri;
    *req.headers_mut() = out.headers;
    if let Some(ext) = extensions {
        *req.extensions_mut() = ext;
    }
    Ok(req)
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

/// Largest upstream body read whole instead of streamed.
const SMALL_BODY: u64 = 64 * 1024;

/// Whether the answer's body is known to be small: a `Content-Length` of at
/// most [`SMALL_BODY`], on a response that has a body at all.
fn is_small_body(method: &http::Method, status: StatusCode, length: Option<u64>) -> bool {
    let bodiless = *method == http::Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    !bodiless && length.is_some_and(|n| n <= SMALL_BODY)
}

fn literal_ip(url: &url::Url) -> Option<std::net::IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(ip.into()),
        url::Host::Ipv6(ip) => Some(ip.into()),
        url::Host::Domain(_) => None,
    }
}

/// Upstream headers minus hop-by-hop, `Content-Length` (redaction may change
/// the length) and every `X-AS-*` (only the engine sets those), with values
/// redacted and any header whose name holds a value dropped (a name cannot
/// carry the marker). Returns whether any header was redacted.
fn response_headers(upstream: &HeaderMap, patterns: &Patterns) -> (HeaderMap, bool) {
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
