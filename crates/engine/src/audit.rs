//! The audit log: `$AGENTSECRETS_HOME/proxy.log`, one JSON line per call.
//! Events carry names only; the struct has no field for a value.

use crate::error::{EngineError, Result};
use crate::home::{self, Home};
use agentsecrets_wire::{AuditEvent, AuditStatus};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::sync::Mutex;

/// Appends events; each line is written with a single `write` on an
/// `O_APPEND` file, so concurrent writers (proxy, `env`) never interleave.
pub struct AuditLog {
    file: Mutex<File>,
}

impl AuditLog {
    pub fn open(home: &Home) -> Result<AuditLog> {
        let file = home::open_private_append(&home.audit_log_path())?;
        Ok(AuditLog {
            file: Mutex::new(file),
        })
    }

    pub fn append(&self, event: &AuditEvent) -> Result<()> {
        let mut line = serde_json::to_vec(event).expect("audit events serialise");
        line.push(b'\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(&line)
            .map_err(|e| EngineError::audit_log("cannot write the audit log", e))
    }
}

/// Which events `proxy logs` shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub last: Option<usize>,
    pub secret: Option<String>,
    pub status: Option<AuditStatus>,
}

impl Filter {
    fn keeps(&self, e: &AuditEvent) -> bool {
        self.secret
            .as_ref()
            .is_none_or(|k| e.secret_keys.iter().any(|s| s == k))
            && self.status.is_none_or(|s| e.status == s)
    }
}

/// Reads the log, oldest first. Lines that are not audit events (a line
/// torn by a crash) are counted in the second value, not returned.
pub fn read(home: &Home, filter: &Filter) -> Result<(Vec<AuditEvent>, usize)> {
    let path = home.audit_log_path();
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(EngineError::audit_log("cannot read the audit log", e)),
    };
    let mut events = Vec::new();
    let mut skipped = 0;
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(|e| EngineError::audit_log("cannot read the audit log", e))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<AuditEvent>(&line) {
            Ok(e) if filter.keeps(&e) => events.push(e),
            Ok(_) => {}
            Err(_) => skipped += 1,
        }
    }
    if let Some(n) = filter.last {
        let drop = events.len().saturating_sub(n);
        events.drain(..drop);
    }
    Ok((events, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now_rfc3339;

    fn event(key: &str, status: AuditStatus) -> AuditEvent {
        AuditEvent {
            timestamp: now_rfc3339(),
            secret_keys: vec![key.into()],
            agent_id: None,
            method: "GET".into(),
            target_url: "https://a/".into(),
            domain: "a".into(),
            auth_styles: vec!["bearer".into()],
            status_code: 200,
            duration_ms: 1,
            status,
            reason: "-".into(),
            redacted: false,
            workspace: None,
            project: None,
        }
    }

    #[test]
    fn append_filter_and_torn_lines() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path());
        let log = AuditLog::open(&home).unwrap();
        log.append(&event("A", AuditStatus::Ok)).unwrap();
        log.append(&event("B", AuditStatus::Blocked)).unwrap();
        log.append(&event("A", AuditStatus::Error)).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(home.audit_log_path())
            .unwrap()
            .write_all(b"{\"timestamp\":")
            .unwrap();
        let (all, skipped) = read(&home, &Filter::default()).unwrap();
        assert_eq!((all.len(), skipped), (3, 1));
        let f = Filter {
            secret: Some("A".into()),
            last: Some(1),
            ..Filter::default()
        };
        let (a, _) = read(&home, &f).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].status, AuditStatus::Error);
        let f = Filter {
            status: Some(AuditStatus::Blocked),
            ..Filter::default()
        };
        assert_eq!(read(&home, &f).unwrap().0[0].secret_keys, vec!["B"]);
    }
}
