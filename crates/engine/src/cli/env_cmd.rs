use super::{Context, ScopeArgs};
use crate::error::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Inject only these secrets (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "K1,K2")]
    pub only: Option<Vec<String>>,
    /// Do not mask secret values in the command's output.
    #[arg(long)]
    pub no_mask: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

pub fn run(_ctx: &Context, _args: EnvArgs) -> Result<i32> {
    todo!("env helper")
}
