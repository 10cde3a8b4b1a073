//! The Ready line: the one JSON line `agentsecrets proxy start` prints
//! (with `--json`, and on the pipe of `--detach`) once the proxy serves.
//! The engine writes it; its detached start and the SDK read it.

use crate::ProxyState;
use serde::{Deserialize, Serialize};

/// Where the proxy listens, and whether it was already running (an
/// idempotent start). camelCase keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadyLine {
    pub pid: u32,
    pub port: u16,
    /// Path of the proxy's Unix socket.
    pub socket: String,
    #[serde(default)]
    pub already_running: bool,
}

impl ReadyLine {
    /// The line for a proxy that was already running, from its state file.
    pub fn of_running(s: &ProxyState) -> Self {
        ReadyLine {
            pid: s.pid,
            port: s.port,
            socket: s.socket.clone(),
            already_running: true,
        }
    }

    /// The Ready line in a command's output: the whole output as one JSON
    /// document (possibly pretty-printed), else its last line that is one.
    pub fn find_in(output: &str) -> Option<ReadyLine> {
        serde_json::from_str(output.trim()).ok().or_else(|| {
            output
                .lines()
                .rev()
                .find_map(|l| serde_json::from_str(l.trim()).ok())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_on_the_wire() {
        let l = ReadyLine {
            pid: 7,
            port: 8765,
            socket: "/h/run/proxy.sock".into(),
            already_running: false,
        };
        let text = serde_json::to_string(&l).unwrap();
        assert_eq!(
            text,
            r#"{"pid":7,"port":8765,"socket":"/h/run/proxy.sock","alreadyRunning":false}"#
        );
        assert_eq!(
            ReadyLine::find_in(&format!("note\n{text}\n")),
            Some(l.clone())
        );
        let pretty = serde_json::to_string_pretty(&l).unwrap();
        assert_eq!(ReadyLine::find_in(&pretty), Some(l));
    }

    #[test]
    fn already_running_defaults_to_false_and_bad_output_is_none() {
        let l = ReadyLine::find_in(r#"{"pid":1,"port":2,"socket":"s"}"#).unwrap();
        assert!(!l.already_running);
        assert_eq!(ReadyLine::find_in(""), None);
        assert_eq!(ReadyLine::find_in(r#"{"pid":1,"port":"#), None);
        assert_eq!(ReadyLine::find_in("proxy ready on 127.0.0.1:8765"), None);
    }
}
