//! The running proxy's state file (`run/proxy.json`), shared by `proxy
//! status`, `status` and `proxy stop`.

use crate::clock::unix_now;
use crate::error::{EngineError, Result};
use crate::home::{self, Home};
pub use agentsecrets_wire::ProxyState;

/// Writes the state file (and the pid file) once the proxy serves.
pub fn write(home: &Home, s: &ProxyState) -> Result<()> {
    let json = serde_json::to_vec_pretty(s).expect("state serialises");
    home::write_private_file(&home.state_path(), &json)?;
    home::write_private_file(&home.pid_path(), format!("{}\n", s.pid).as_bytes())
}

pub fn uptime_seconds(s: &ProxyState) -> u64 {
    unix_now().saturating_sub(s.started_at)
}

/// The state of a proxy that is running now, or `None` (no state file, or
/// its process is gone: a stale file from a crash counts as not running).
pub fn running(home: &Home) -> Result<Option<ProxyState>> {
    let bytes = match std::fs::read(home.state_path()) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EngineError::run_file("cannot read the proxy state", e)),
    };
    let Some(state) = ProxyState::parse(&bytes) else {
        return Ok(None);
    };
    Ok(process_alive(state.pid).then_some(state))
}

/// Removes the run files the proxy wrote (after it stopped).
pub fn clear(home: &Home) {
    for p in [
        home.state_path(),
        home.pid_path(),
        home.token_path(),
        home.socket_path(),
    ] {
        let _ = std::fs::remove_file(p);
    }
}

pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
