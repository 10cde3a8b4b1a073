use super::Context;
use crate::error::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Email recorded as the local user (shown by `status`).
    #[arg(long)]
    pub email: Option<String>,
    /// Read the admin password (needed for allowlist changes) from stdin instead of prompting.
    #[arg(long)]
    pub admin_password_stdin: bool,
}

pub fn run(_ctx: &Context, _args: InitArgs) -> Result<()> {
    todo!("vault helper")
}
