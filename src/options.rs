//! The arguments of `call()` as the JS layer hands them over, and their
//! validation into a [`PreparedCall`]. Everything here runs before any byte is
//! sent: a bad URL, a bad name or a CR/LF anywhere is refused up front.

use crate::errors::{SdkError, SdkResult};
use agentsecrets_wire::inject::{AuthStyle, Injection, InjectionPlan};
use agentsecrets_wire::names;
use agentsecrets_wire::target_url::{self, UserInfo};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

/// A name/value pair; used instead of an object to keep the caller's order.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

/// One call, normalised by `index.js` (option names checked, body serialised).
#[napi(object)]
pub struct NativeCallRequest {
    pub url: String,
    /// HTTP method; defaults to GET.
    pub method: Option<String>,
    /// Plain headers, forwarded as given.
    pub headers: Option<Vec<NameValue>>,
    /// Request body bytes.
    pub body: Option<Buffer>,
    /// Secret name for `Authorization: Bearer`.
    pub bearer: Option<String>,
    /// Secret name for `Authorization: Basic` (value `user:password`).
    pub basic: Option<String>,
    /// Header name → secret name.
    pub header: Option<Vec<NameValue>>,
    /// Query parameter → secret name.
    pub query: Option<Vec<NameValue>>,
    /// JSON body path → secret name.
    pub body_field: Option<Vec<NameValue>>,
    /// Form field → secret name.
    pub form_field: Option<Vec<NameValue>>,
    pub agent_id: Option<String>,
    /// Whole-call timeout in milliseconds; 0 disables it.
    pub timeout_ms: Option<u32>,
    /// Reject upstream statuses >= 400 with `UpstreamError` (default true).
    pub throw_on_http_error: Option<bool>,
    /// Workspace for this call (overrides the client's).
    pub workspace: Option<String>,
    /// Project for this call (overrides the client's).
    pub project: Option<String>,
    /// Largest response body read, in bytes (after decoding); default 64 MiB.
    pub max_response_bytes: Option<i64>,
}

/// Default whole-call timeout.
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

/// A validated call.
#[derive(Debug, Clone)]
pub struct PreparedCall {
    pub url: url::Url,
    pub method: http::Method,
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub body: Option<bytes::Bytes>,
    pub plan: InjectionPlan,
    pub agent_id: Option<String>,
    pub timeout_ms: u32,
    pub throw_on_http_error: bool,
    pub workspace: Option<String>,
    pub project: Option<String>,
    pub max_response_bytes: u64,
}

impl PreparedCall {
    /// Validates `req`; `workspace`/`project` are the client's defaults.
    pub fn prepare(
        req: NativeCallRequest,
        workspace: Option<&str>,
        project: Option<&str>,
    ) -> SdkResult<PreparedCall> {
        let method = parse_method(req.method.as_deref().unwrap_or("GET"))?;

        let mut plan = InjectionPlan::default();
        if let Some(k) = &req.bearer {
            plan.injections
                .push(Injection::new(AuthStyle::Bearer, None, k));
        }
        if let Some(k) = &req.basic {
            plan.injections
                .push(Injection::new(AuthStyle::Basic, None, k));
        }
        for (style, list) in [
            (AuthStyle::Header, &req.header),
            (AuthStyle::Query, &req.query),
            (AuthStyle::Body, &req.body_field),
            (AuthStyle::Form, &req.form_field),
        ] {
            for nv in list.iter().flatten() {
                plan.injections
                    .push(Injection::new(style, Some(&nv.name), &nv.value));
            }
        }
        plan.validate()
            .map_err(|e| SdkError::invalid(e.to_string()))?;

        let url = parse_url(&req.url, !plan.is_empty())?;

        let mut headers = Vec::new();
        for nv in req.headers.iter().flatten() {
            names::validate_header_name(&nv.name)?;
            names::validate_header_value(&nv.name, &nv.value)?;
            let lower = nv.name.to_ascii_lowercase();
            if lower.starts_with(agentsecrets_wire::headers::RESERVED_PREFIX) {
                return Err(SdkError::invalid(format!(
                    "header {} is reserved for the agentsecrets protocol",
                    names::shown(&nv.name)
                )));
            }
            if agentsecrets_wire::inject::TRANSPORT_HEADERS.contains(&lower.as_str()) {
                return Err(SdkError::invalid(format!(
                    "header {} is set by the HTTP transport and cannot be given",
                    names::shown(&nv.name)
                )));
            }
            let name = http::HeaderName::from_bytes(nv.name.as_bytes()).map_err(|_| {
                SdkError::invalid(format!("bad header name {}", names::shown(&nv.name)))
            })?;
            let value = http::HeaderValue::from_str(&nv.value).map_err(|_| {
                SdkError::invalid(format!(
                    "the value of header {} is not a valid header value (use visible ASCII)",
                    names::shown(&nv.name)
                ))
            })?;
            headers.push((name, value));
        }

        if let Some(a) = &req.agent_id {
            names::validate_target("agentId", a)?;
            http::HeaderValue::from_str(a)
                .map_err(|_| SdkError::invalid("agentId must be visible ASCII text"))?;
        }

        let workspace = scope("workspace", req.workspace.as_deref().or(workspace))?;
        let project = scope("project", req.project.as_deref().or(project))?;

        let max_response_bytes = match req.max_response_bytes {
            None => crate::body::DEFAULT_MAX_RESPONSE_BYTES,
            Some(n) if n > 0 => n as u64,
            Some(_) => {
                return Err(SdkError::invalid(
                    "maxResponseBytes must be a positive number of bytes",
                ))
            }
        };

        Ok(PreparedCall {
            url,
            method,
            headers,
            body: req.body.map(|b| bytes::Bytes::copy_from_slice(&b)),
            plan,
            agent_id: req.agent_id,
            timeout_ms: req.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
            throw_on_http_error: req.throw_on_http_error.unwrap_or(true),
            workspace,
            project,
            max_response_bytes,
        })
    }
}

fn scope(what: &'static str, name: Option<&str>) -> SdkResult<Option<String>> {
    match name {
        None => Ok(None),
        Some(n) => {
            names::validate_scope_name(what, n)?;
            Ok(Some(n.to_owned()))
        }
    }
}

fn parse_method(m: &str) -> SdkResult<http::Method> {
    let upper = m.to_ascii_uppercase();
    if upper.is_empty()
        || !upper
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_')
    {
        return Err(SdkError::invalid(format!(
            "method {} is not an HTTP method",
            names::shown(m)
        )));
    }
    http::Method::from_bytes(upper.as_bytes())
        .map_err(|_| SdkError::invalid(format!("method {} is not an HTTP method", names::shown(m))))
}

fn parse_url(raw: &str, injecting: bool) -> SdkResult<url::Url> {
    let user_info = if injecting {
        UserInfo::Refuse
    } else {
        UserInfo::Allow
    };
    Ok(target_url::parse(raw, user_info)?)
}
