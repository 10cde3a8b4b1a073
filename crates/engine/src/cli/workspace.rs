use super::{allowlist::AllowlistCommand, Context};
use crate::error::Result;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace (with a project `default`).
    Create { name: String },
    /// List workspaces.
    List,
    /// Make NAME the active workspace.
    Switch { name: String },
    /// List the workspace's members (in local mode: you, as owner).
    Members {
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
    },
    /// Hosts the proxy may send secrets to.
    #[command(subcommand)]
    Allowlist(AllowlistCommand),
}

pub fn run(_ctx: &Context, _cmd: WorkspaceCommand) -> Result<()> {
    todo!("vault helper")
}
