//! The running proxy's state file (`run/proxy.json`, see
//! [`crate::run_files::STATE`]): written by the proxy once it serves,
//! removed when it stops; read by the engine's CLI and by the SDK to find it.

use serde::{Deserialize, Serialize};

/// The content of `run/proxy.json` (snake_case keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyState {
    pub pid: u32,
    pub port: u16,
    /// Path of the proxy's Unix socket.
    pub socket: String,
    /// Unix seconds.
    pub started_at: u64,
    /// The engine's version.
    pub version: String,
}

impl ProxyState {
    /// The state a file holds, or `None` when it is not one (a partial
    /// write, another program's file).
    pub fn parse(bytes: &[u8]) -> Option<ProxyState> {
        serde_json::from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_on_disk() {
        let s = ProxyState {
            pid: 7,
            port: 8765,
            socket: "/h/run/proxy.sock".into(),
            started_at: 1,
            version: "0.1.0".into(),
        };
        let v = serde_json::to_value(&s).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["pid", "port", "socket", "started_at", "version"]);
        assert_eq!(ProxyState::parse(v.to_string().as_bytes()), Some(s));
        assert_eq!(ProxyState::parse(b"{\"pid\":7,\"po"), None);
    }
}
