//! One `/proxy` call's context: what is known of it so far (method, target,
//! names, scope, timing), the redaction patterns once resolved, and the
//! single exit that writes its audit line, [`Call::finish`].
//!
//! `finish` takes the call by value, so each call is audited exactly once:
//! by the pipeline for a refusal, an error or a whole answer, or by the
//! streamed body ([`super::body::RedactingBody`]) when it ends or is dropped.

use super::request::ProxyRequest;
use super::Shared;
use crate::clock::now_rfc3339;
use crate::destination;
use crate::error::EngineError;
use crate::redact::Patterns;
use crate::vault::Scope;
use agentsecrets_wire::{AuditEvent, AuditStatus};
use std::sync::Arc;
use std::time::Instant;

/// How a call ended, as its audit line records it.
pub enum Outcome<'a> {
    /// Refused by policy (`BLOCKED`) or failed (`ERROR`) before an answer.
    Failed(&'a EngineError),
    /// The whole answer reached the caller.
    Answered { status: u16, redacted: bool },
    /// A streamed answer ended early: cut by a limit, broken upstream, or
    /// the caller went away.
    Cut { status: u16, redacted: bool },
}

pub struct Call {
    pub shared: Arc<Shared>,
    started: Instant,
    method: String,
    /// The target URL, scrubbed of every known value once they are resolved.
    target_url: String,
    /// The target's host as audit lines and errors name it.
    pub domain: String,
    secret_keys: Vec<String>,
    auth_styles: Vec<String>,
    agent_id: Option<String>,
    workspace: Option<String>,
    project: Option<String>,
    /// Every value of the home, once resolved: errors are scrubbed with them.
    patterns: Option<Arc<Patterns>>,
}

impl Call {
    pub fn start(shared: Arc<Shared>, method: &http::Method) -> Call {
        Call {
            shared,
            started: Instant::now(),
            method: method.to_string(),
            target_url: String::new(),
            domain: String::new(),
            secret_keys: Vec::new(),
            auth_styles: Vec::new(),
            agent_id: None,
            workspace: None,
            project: None,
            patterns: None,
        }
    }

    /// What the parsed request says: method, target, names, agent.
    pub fn record_request(&mut self, pr: &ProxyRequest) {
        self.method = pr.method.to_string();
        self.target_url = pr.target.to_string();
        self.domain = destination::host_of(&pr.target);
        self.secret_keys = pr.plan.secret_keys();
        self.auth_styles = pr.plan.styles().into_iter().map(String::from).collect();
        self.agent_id = pr.agent_id.clone();
    }

    pub fn record_scope(&mut self, scope: Scope) {
        self.workspace = Some(scope.workspace);
        self.project = Some(scope.project);
    }

    /// The names of the secrets the call injects.
    pub fn secret_keys(&self) -> &[String] {
        &self.secret_keys
    }

    /// From here on, errors and the audit line are scrubbed of every known
    /// value. The caller never had the values, but an audit line must not
    /// hold one whatever the URL says.
    pub fn record_patterns(&mut self, patterns: &Arc<Patterns>) {
        self.target_url = patterns.scrub(&self.target_url);
        self.patterns = Some(patterns.clone());
    }

    /// `e` with any known value in its message replaced by the marker.
    pub fn scrub(&self, mut e: EngineError) -> EngineError {
        if let Some(p) = &self.patterns {
            e.message = p.scrub(&e.message);
        }
        e
    }

    /// The call's one audit exit. A failed write is reported on stderr,
    /// never to the caller.
    pub fn finish(mut self, outcome: Outcome<'_>) {
        let event = self.event(outcome);
        if let Err(e) = self.shared.audit_log.append(&event) {
            crate::diag::note(format_args!("agentsecrets proxy: {e}"));
        }
    }

    /// The audit event; moves the recorded fields out (the call ends here).
    fn event(&mut self, outcome: Outcome<'_>) -> AuditEvent {
        let (status_code, status, reason, redacted) = match outcome {
            Outcome::Failed(e) => {
                let status = if destination::is_refusal(e.code) {
                    AuditStatus::Blocked
                } else {
                    AuditStatus::Error
                };
                (e.code.http_status(), status, e.code.as_str(), false)
            }
            Outcome::Answered { status, redacted } => {
                let reason = if redacted { "credential_echo" } else { "-" };
                (status, AuditStatus::Ok, reason, redacted)
            }
            Outcome::Cut { status, redacted } => {
                (status, AuditStatus::Error, "body_incomplete", redacted)
            }
        };
        AuditEvent {
            timestamp: now_rfc3339(),
            secret_keys: std::mem::take(&mut self.secret_keys),
            agent_id: self.agent_id.take(),
            method: std::mem::take(&mut self.method),
            target_url: std::mem::take(&mut self.target_url),
            domain: std::mem::take(&mut self.domain),
            auth_styles: std::mem::take(&mut self.auth_styles),
            status_code,
            duration_ms: self.started.elapsed().as_millis() as u64,
            status,
            reason: reason.to_owned(),
            redacted,
            workspace: self.workspace.take(),
            project: self.project.take(),
        }
    }
}
