//! The real engine started as a detached proxy of a [`Home`]; the home's
//! drop stops it.

use super::home::Home;
use super::output::capture;
use std::path::PathBuf;
use std::process::Command;

const START: [&str; 6] = ["--json", "proxy", "start", "--detach", "--port", "0"];

/// A detached proxy's ready answer and its caller token.
pub struct Detached {
    pub pid: u32,
    pub port: u16,
    pub socket: PathBuf,
    pub token: String,
    /// The ready answer as printed.
    pub ready: serde_json::Value,
}

impl Home {
    /// `proxy start --detach --port 0`, which must succeed.
    pub fn start_proxy(&self) -> Detached {
        self.start_proxy_with(|_| {})
    }

    /// [`Home::start_proxy`] with the command adjusted by `tweak` first
    /// (limits, capabilities).
    pub fn start_proxy_with(&self, tweak: impl FnOnce(&mut Command)) -> Detached {
        let mut cmd = self.cmd();
        cmd.args(START);
        tweak(&mut cmd);
        let ready = capture(&mut cmd, &START, None).ok().json();
        let token = std::fs::read_to_string(self.run_dir().join("proxy.token")).unwrap();
        Detached {
            pid: u32::try_from(ready["pid"].as_u64().unwrap()).unwrap(),
            port: u16::try_from(ready["port"].as_u64().unwrap()).unwrap(),
            socket: PathBuf::from(ready["socket"].as_str().unwrap()),
            token: token.trim().to_owned(),
            ready,
        }
    }

    /// `proxy stop`, which must succeed.
    pub fn stop_proxy(&self) {
        self.run(&["proxy", "stop"]).ok();
    }
}
