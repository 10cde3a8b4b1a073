use super::Context;
use crate::error::Result;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AllowlistCommand {
    /// Allow hosts (needs the admin password). Forms: api.example.com,
    /// *.example.com, http://host (plain http allowed), host:8443.
    Add {
        #[arg(required = true, value_name = "DOMAIN")]
        domains: Vec<String>,
        /// Read the admin password from stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
    },
    /// Remove hosts (needs the admin password).
    Remove {
        #[arg(required = true, value_name = "DOMAIN")]
        domains: Vec<String>,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
    },
    /// List allowed hosts.
    List {
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
    },
    /// Show the history of allowlist changes.
    Log {
        /// Only the last N changes.
        #[arg(long, value_name = "N")]
        last: Option<usize>,
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
    },
}

pub fn run(_ctx: &Context, _cmd: AllowlistCommand) -> Result<()> {
    todo!("vault helper")
}
