use super::{Context, ScopeArgs};
use crate::error::Result;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Store secrets. `KEY` alone reads the value from stdin (keeps it out
    /// of argv and shell history); `KEY=VALUE` is accepted for compatibility.
    Set {
        #[arg(required = true, value_name = "KEY[=VALUE]")]
        items: Vec<String>,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// List secret names (never values).
    List {
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Delete a secret.
    Delete {
        key: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
}

pub fn run(_ctx: &Context, _cmd: SecretsCommand) -> Result<()> {
    todo!("vault helper")
}
