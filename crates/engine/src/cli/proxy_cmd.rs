use super::Context;
use crate::error::Result;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ProxyCommand {
    /// Start the proxy on 127.0.0.1:PORT and $AGENTSECRETS_HOME/run/proxy.sock.
    Start {
        /// TCP port on 127.0.0.1 (0 picks a free one).
        #[arg(long, env = "AGENTSECRETS_PORT", default_value_t = 8765)]
        port: u16,
        /// Return once the proxy is ready, leaving it running in the background.
        #[arg(long)]
        detach: bool,
    },
    /// Stop the running proxy gracefully.
    Stop,
    /// Is the proxy running, on which port, since when.
    Status,
    /// Show the audit log.
    Logs {
        /// Only the last N events.
        #[arg(long, value_name = "N")]
        last: Option<usize>,
        /// Only events that used this secret.
        #[arg(long, value_name = "KEY")]
        secret: Option<String>,
        /// Only events with this status.
        #[arg(long, value_name = "OK|BLOCKED|ERROR")]
        status: Option<String>,
    },
}

pub fn run(_ctx: &Context, _cmd: ProxyCommand) -> Result<()> {
    todo!("lifecycle helper")
}
