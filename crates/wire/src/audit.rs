//! The audit event: one JSON line per call in `proxy.log`, with the upstream
//! proxy's field names. There is no field that could hold a secret value.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AuditStatus {
    Ok,
    Blocked,
    Error,
}

impl AuditStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditStatus::Ok => "OK",
            AuditStatus::Blocked => "BLOCKED",
            AuditStatus::Error => "ERROR",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "OK" => Some(AuditStatus::Ok),
            "BLOCKED" => Some(AuditStatus::Blocked),
            "ERROR" => Some(AuditStatus::Error),
            _ => None,
        }
    }
}

/// One audited call. `method` is `ENV` for `agentsecrets env` runs, whose
/// `target_url` is the scrubbed command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// RFC 3339, UTC.
    pub timestamp: String,
    pub secret_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    pub method: String,
    /// Target URL with every injected value removed.
    pub target_url: String,
    pub domain: String,
    pub auth_styles: Vec<String>,
    pub status_code: u16,
    pub duration_ms: u64,
    pub status: AuditStatus,
    /// `-` for a plain success, `credential_echo` when something was
    /// redacted, or the engine error code.
    pub reason: String,
    pub redacted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_field_names() {
        let e = AuditEvent {
            timestamp: "2026-01-01T00:00:00Z".into(),
            secret_keys: vec!["K".into()],
            agent_id: None,
            method: "GET".into(),
            target_url: "https://a/".into(),
            domain: "a".into(),
            auth_styles: vec!["bearer".into()],
            status_code: 200,
            duration_ms: 3,
            status: AuditStatus::Ok,
            reason: "-".into(),
            redacted: false,
            workspace: None,
            project: None,
        };
        let v = serde_json::to_value(&e).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "timestamp", "secret_keys", "method", "target_url", "domain", "auth_styles",
            "status_code", "duration_ms", "status", "reason", "redacted",
        ] {
            assert!(keys.contains(&k), "{k}");
        }
        assert_eq!(v["status"], "OK");
    }
}
