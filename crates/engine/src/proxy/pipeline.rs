//! One `/proxy` call as named phases over one [`Call`]:
//!
//! authenticate → parse → resolve (scope, destination, values) → inject →
//! forward → redact → respond
//!
//! Each phase records what it learns in the call; the first error ends the
//! call. Every outcome (refused, failed, answered whole, streamed to its end
//! or cut short) leaves through [`Call::finish`], the one audit write.

use super::auth::{self, Transport};
use super::context::{Call, Outcome};
use super::forward::{self, UpstreamBody};
use super::inject::{self, Outbound};
use super::request::{self, ProxyRequest};
use super::resolved::{self, Found, Resolved, Values};
use super::respond::{self, Answer, ResBody, Streamed};
use super::upload::{self, OutBody, Progress, MAX_REQUEST_BODY};
use super::Shared;
use crate::destination;
use crate::error::EngineError;
use crate::redact::{Patterns, StreamRedactor};
use crate::remote::resolve::View;
use crate::vault::Scope;
use agentsecrets_wire::{names, AuthStyle, ErrorCode};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Serves one `/proxy` request.
pub async fn proxy(
    shared: Arc<Shared>,
    transport: Transport,
    req: Request<Incoming>,
) -> Response<ResBody> {
    let mut call = Call::start(shared, req.method());
    match phases(&mut call, transport, req).await {
        Ok(Answer::Whole { response, redacted }) => {
            let status = response.status().as_u16();
            call.finish(Outcome::Answered { status, redacted });
            response
        }
        Ok(Answer::Streamed(streamed)) => respond::streamed(streamed, call),
        Err(e) => {
            let e = call.scrub(e);
            call.finish(Outcome::Failed(&e));
            respond::error(&e)
        }
    }
}

/// The phases in order. The awaits stay here rather than in each phase: a
/// nested future would be copied whole once more on every call.
async fn phases(
    call: &mut Call,
    transport: Transport,
    req: Request<Incoming>,
) -> Result<Answer, EngineError> {
    // Authenticate.
    auth::check_token(transport, req.headers(), &call.shared.token)?;
    // Parse.
    let (parts, body) = req.into_parts();
    let mut pr = parse(call, &parts)?;
    // Resolve: scope, destination, values (a bound scope's from OpenBao).
    let view = remote_view(call, &pr).await?;
    let resolved = resolve(call, &pr, view.as_ref())?;
    let (values, patterns) = (&resolved.values, resolved.patterns.clone());
    // Inject. Only body and form injection need the whole body; any other
    // body streams through.
    let progress = (!injects_into_body(&pr)).then(Progress::default);
    let (outbound, body) = match &progress {
        None => {
            let whole = upload::read_whole(body).await.map_err(body_error)?;
            let mut outbound = inject(&mut pr, whole, values)?;
            let body = upload::whole(std::mem::take(&mut outbound.body));
            (outbound, body)
        }
        Some(p) => (
            inject(&mut pr, Bytes::new(), values)?,
            upload::streamed(body, p.clone()),
        ),
    };
    drop(resolved);
    // Forward.
    let case = call
        .shared
        .header_case
        .extensions(header_targets(&pr))
        .await;
    let request = upstream_request(&pr.method, outbound, body, case)?;
    let client = call.shared.client.get().await?;
    let send = forward::send(client, request);
    let answer = match &progress {
        None => upstream_step(call, "did not answer", send).await?,
        Some(p) => {
            // Bounded by progress: a large upload takes as long as it takes.
            let idle = call.shared.limits.timeout;
            match upload::while_progressing(send, p, idle).await {
                Some(r) => r.map_err(|e| forward::describe(&*e, &call.domain))?,
                None => return Err(timed_out(&call.domain, "did not answer")),
            }
        }
    };
    // Redact.
    let Redacting {
        status,
        headers,
        headers_redacted,
        small,
    } = redact_head(call, &pr, &answer, &patterns)?;
    if !small {
        let body = answer.into_body();
        let redactor = StreamRedactor::new(patterns);
        return Ok(Answer::Streamed(Box::new(Streamed {
            status,
            headers,
            headers_redacted,
            body,
            redactor,
            trailers: pr.wants_trailers,
        })));
    }
    let read = async { Ok(answer.into_body().collect().await?.to_bytes()) };
    let body = upstream_step(call, "did not finish its answer", read).await?;
    let (body, body_redacted) = patterns.redact(&body);
    Ok(respond::whole(
        status,
        headers,
        body,
        headers_redacted || body_redacted,
    ))
}

/// Parse: target, method, injection plan, scope and forwarded headers.
fn parse(call: &mut Call, parts: &http::request::Parts) -> Result<ProxyRequest, EngineError> {
    let pr = request::parse(&parts.method, &parts.headers)?;
    call.record_request(&pr);
    Ok(pr)
}

/// Resolve-through: fresh snapshots of every OpenBao binding (their values
/// are injected for a bound scope and scanned for in every answer). `None`
/// without bindings, or when the scope is unknown (`resolve` reports that).
async fn remote_view(call: &Call, pr: &ProxyRequest) -> Result<Option<View>, EngineError> {
    let Some(resolver) = call.shared.remote.clone() else {
        return Ok(None);
    };
    let Ok(scope) = call
        .shared
        .vault
        .scope(pr.workspace.as_deref(), pr.project.as_deref())
    else {
        return Ok(None);
    };
    let view = resolver
        .view(&scope.workspace, &scope.project, call.secret_keys())
        .await
        .map_err(|e| e.workspace(&scope.workspace).project(&scope.project))?;
    Ok(Some(view))
}

/// Resolve: the scope, the destination policy (only when a secret is
/// injected), then the values and the patterns of every value the answer
/// will be scanned for (the home's and every remote's, not only the
/// injected ones). Kept from an earlier call while the home is unchanged,
/// except for a scope bound to OpenBao, whose snapshot is fresh each call.
fn resolve(
    call: &mut Call,
    pr: &ProxyRequest,
    view: Option<&View>,
) -> Result<Arc<Resolved>, EngineError> {
    let shared = call.shared.clone();
    let found = match view {
        Some(_) => read_resolved(call, pr, view).map(|r| Found::Read(Arc::new(r))),
        None => shared
            .resolved
            .get_or_read(resolved_key(call, pr), || read_resolved(call, pr, None)),
    };
    let resolved = match found? {
        Found::Read(r) => r,
        Found::Kept(r) => {
            call.record_scope(r.scope.clone());
            if !pr.plan.is_empty() {
                check_destination(call, pr, &r.allowlist, &r.scope)?;
            }
            r
        }
    };
    call.record_patterns(&resolved.patterns);
    Ok(resolved)
}

/// What a resolution depends on besides the vault.
fn resolved_key(call: &Call, pr: &ProxyRequest) -> resolved::Key {
    resolved::Key {
        workspace: pr.workspace.clone(),
        project: pr.project.clone(),
        secrets: call.secret_keys().to_vec(),
    }
}

/// Resolve, in one snapshot of the vault: the scope, the destination policy
/// (only when a secret is injected), then the values (from the remote's
/// snapshot when the scope is bound). Values are read only once the
/// destination has passed every check.
fn read_resolved(
    call: &mut Call,
    pr: &ProxyRequest,
    view: Option<&View>,
) -> Result<Resolved, EngineError> {
    let shared = call.shared.clone();
    let mut scope = None;
    let resolved = shared.vault.read(|r| {
        let data_version = r.data_version()?;
        let scope = &*scope.insert(r.scope(pr.workspace.as_deref(), pr.project.as_deref())?);
        let mut allowlist = Vec::new();
        if !pr.plan.is_empty() {
            allowlist = r.allowlist(scope)?;
            if let Some(v) = view {
                allowlist.extend_from_slice(v.shared_allowlist());
            }
            check_destination(call, pr, &allowlist, scope)?;
        }
        let mut values = Values::new();
        let bound = view.filter(|v| v.is_bound());
        for key in call.secret_keys() {
            let value = match bound {
                Some(v) => remote_value(v, scope, key)?,
                None => r.secret(scope, key)?,
            };
            values.insert(key.clone(), value);
        }
        let injected = values.values().map(|v| v.as_str());
        let patterns = shared.known.patterns(r, data_version, injected, view)?;
        Ok(Resolved {
            scope: scope.clone(),
            allowlist,
            values,
            patterns,
        })
    });
    // Recorded whether or not the rest passed: a refusal names its scope.
    if let Some(scope) = scope {
        call.record_scope(scope);
    }
    resolved
}

/// The destination policy for a call that injects a secret.
fn check_destination(
    call: &Call,
    pr: &ProxyRequest,
    allowlist: &[String],
    scope: &Scope,
) -> Result<(), EngineError> {
    destination::check(allowlist, &pr.target, &call.domain, &scope.workspace)?;
    check_no_range(&pr.forward)
}

/// A bound scope's value, or `SECRET_NOT_FOUND` saying where it was looked for.
fn remote_value(view: &View, scope: &Scope, key: &str) -> Result<Zeroizing<String>, EngineError> {
    crate::vault::check_key_name(key)?;
    view.value(&scope.project, key).ok_or_else(|| {
        let place = view
            .binding()
            .map(|b| format!("{}/{}", b.mount, b.folder(&scope.project)))
            .unwrap_or_default();
        crate::vault::secret_not_found(scope, key).fix(format!(
            "store it in OpenBao at {place}/{key} (field `value`), e.g. `agentsecrets secrets push {key}` from a machine bound in sync mode"
        ))
    })
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

/// Inject: the values into the request (its body, when the plan needs it,
/// read within [`MAX_REQUEST_BODY`]), placed as the plan says.
fn inject(pr: &mut ProxyRequest, body: Bytes, values: &Values) -> Result<Outbound, EngineError> {
    let mut out = Outbound {
        url: pr.target.clone(),
        headers: std::mem::take(&mut pr.forward),
        body: body.to_vec(),
    };
    inject::apply(&mut out, &pr.plan, values)?;
    out.headers.insert(
        http::header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    Ok(out)
}

/// Whether the plan places a value in the body, which must then be read whole.
fn injects_into_body(pr: &ProxyRequest) -> bool {
    pr.plan
        .injections
        .iter()
        .any(|i| matches!(i.style, AuthStyle::Body | AuthStyle::Form))
}

/// Why the request body could not be read.
fn body_error(e: upload::ReadWholeError) -> EngineError {
    match e {
        upload::ReadWholeError::TooLarge => EngineError::new(
            ErrorCode::RequestTooLarge,
            format!(
                "request body over {} MiB: a call with body-field or form-field injection reads its body whole, up to {} MiB",
                MAX_REQUEST_BODY >> 20,
                MAX_REQUEST_BODY >> 20
            ),
        )
        .fix("send a smaller body, or inject the secret in a header or the query (bearer, basic, header, query): such a body streams to the upstream without a size limit"),
        upload::ReadWholeError::Failed => EngineError::invalid("the request body could not be read"),
    }
}

/// Forward: the header names injected by `header` injections, sent in the
/// case the caller gave.
fn header_targets(pr: &ProxyRequest) -> impl Iterator<Item = &str> {
    pr.plan.injections.iter().filter_map(|i| {
        (i.style == AuthStyle::Header)
            .then_some(i.target.as_deref())
            .flatten()
    })
}

/// The upstream request: the outbound URL (without a fragment, which is
/// never sent), method, headers and body, plus `extensions` (header case).
fn upstream_request(
    method: &http::Method,
    out: Outbound,
    body: OutBody,
    extensions: Option<http::Extensions>,
) -> Result<Request<OutBody>, EngineError> {
    let mut url = out.url;
    url.set_fragment(None);
    let uri: http::Uri = url.as_str().parse().map_err(|_| {
        EngineError::invalid("the target URL cannot be sent as an HTTP request target")
    })?;
    let mut req = Request::new(body);
    *req.method_mut() = method.clone();
    *req.uri_mut() = uri;
    *req.headers_mut() = out.headers;
    if let Some(ext) = extensions {
        *req.extensions_mut() = ext;
    }
    Ok(req)
}

/// One step of the upstream exchange within the engine's timeout
/// (`UPSTREAM_TIMEOUT`: "`domain` `what` in time"), its failure described
/// without the URL.
async fn upstream_step<T>(
    call: &Call,
    what: &str,
    step: impl std::future::Future<Output = Result<T, forward::BoxError>>,
) -> Result<T, EngineError> {
    let domain = call.domain.as_str();
    tokio::time::timeout(call.shared.limits.timeout, step)
        .await
        .map_err(|_| timed_out(domain, what))?
        .map_err(|e| forward::describe(&*e, domain))
}

/// `UPSTREAM_TIMEOUT`: "`domain` `what` in time".
fn timed_out(domain: &str, what: &str) -> EngineError {
    EngineError::new(
        ErrorCode::UpstreamTimeout,
        format!("{domain} {what} in time"),
    )
    .domain(domain)
    .fix("check that the upstream is reachable, or raise the timeout")
}

/// The redacted head of an answer, and whether its body is small enough
/// to be read and redacted whole (else it is redacted as it streams).
struct Redacting {
    status: http::StatusCode,
    headers: HeaderMap,
    headers_redacted: bool,
    small: bool,
}

/// Redact: the answer's headers, once its encoding is known scannable.
fn redact_head(
    call: &Call,
    pr: &ProxyRequest,
    answer: &Response<UpstreamBody>,
    patterns: &Patterns,
) -> Result<Redacting, EngineError> {
    check_scannable(answer.headers(), &call.domain)?;
    let status = answer.status();
    let (headers, headers_redacted) = respond::upstream_headers(answer.headers(), patterns);
    let small = respond::is_small_body(&pr.method, status, answer.headers());
    Ok(Redacting {
        status,
        headers,
        headers_redacted,
        small,
    })
}

/// Refuses an answer still encoded after decoding (an encoding the engine
/// does not know): it could not be scanned for echoed secrets.
fn check_scannable(headers: &HeaderMap, domain: &str) -> Result<(), EngineError> {
    let Some(enc) = headers.get(http::header::CONTENT_ENCODING) else {
        return Ok(());
    };
    let enc = enc.to_str().unwrap_or("?").trim().to_ascii_lowercase();
    if enc.is_empty() || enc == "identity" {
        return Ok(());
    }
    Err(EngineError::new(
        ErrorCode::UpstreamEncoding,
        format!(
            "{domain} answered with content encoding {} the engine cannot scan for echoed secrets",
            names::shown(&enc)
        ),
    )
    .domain(domain)
    .fix("the upstream must honour Accept-Encoding: identity (or use gzip, deflate, br or zstd)"))
}
