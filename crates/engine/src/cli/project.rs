use super::Context;
use crate::error::Result;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project in the active workspace.
    Create {
        name: String,
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
    },
    /// List projects of the active workspace.
    List {
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
    },
    /// Make NAME the active project.
    Use { name: String },
    /// Delete a project and its secrets.
    Delete {
        name: String,
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
    },
}

pub fn run(_ctx: &Context, _cmd: ProjectCommand) -> Result<()> {
    todo!("vault helper")
}
