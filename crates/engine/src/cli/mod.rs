//! The command line: argument definitions (clap) and dispatch. Each command
//! lives in its own module; they all return `Result<(), EngineError>` and
//! the error is printed once, by `main`.

pub mod allowlist;
pub mod env_cmd;
pub mod init;
pub mod output;
pub mod password;
pub mod project;
pub mod proxy_cmd;
pub mod remote;
pub mod remote_allowlist;
pub mod secrets;
pub mod status;
pub mod sync;
pub mod workspace;

use crate::error::Result;
use crate::home::Home;
use clap::{Args, Parser, Subcommand};

/// agentsecrets: use API credentials without handing them to your code.
///
/// Secrets live in an encrypted local vault. The proxy injects them into
/// outbound requests to allowlisted hosts and redacts any echo; `env` runs a
/// command with them in its environment and masks its output.
#[derive(Debug, Parser)]
#[command(
    name = "agentsecrets",
    // The suffix is how the SDK tells this engine from other programs named
    // `agentsecrets` (wire::cli_version).
    version = agentsecrets_wire::cli_version::ENGINE_VERSION,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Print machine-readable JSON (results on stdout, errors on stderr).
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the home, the master key, workspace `Personal` and project `default`.
    Init(init::InitArgs),
    /// Show the active workspace, project, proxy state and key storage.
    Status,
    /// Workspaces and their allowlists.
    #[command(subcommand)]
    Workspace(workspace::WorkspaceCommand),
    /// Projects of the active workspace.
    #[command(subcommand)]
    Project(project::ProjectCommand),
    /// Secrets of the active project (names only are ever shown).
    #[command(subcommand)]
    Secrets(secrets::SecretsCommand),
    /// The credential-injecting proxy.
    #[command(subcommand)]
    Proxy(proxy_cmd::ProxyCommand),
    /// Bind a project or workspace to OpenBao / Vault KV v2 (teams, CI).
    #[command(subcommand)]
    Remote(remote::RemoteCommand),
    /// Run a command with the project's secrets in its environment.
    #[command(
        after_help = "The command's stdout and stderr have every injected value masked when they are \
                      not terminals (--no-mask turns that off). Exit status: the command's own; a \
                      command that dies of a signal makes agentsecrets end by the same signal, \
                      without a core file. Example: agentsecrets env --only STRIPE_KEY -- node app.js"
    )]
    Env(env_cmd::EnvArgs),
}

/// Scope options shared by commands that act on one workspace/project.
#[derive(Debug, Clone, Default, Args)]
pub struct ScopeArgs {
    /// Workspace to use instead of the active one.
    #[arg(long, value_name = "NAME")]
    pub workspace: Option<String>,
    /// Project to use instead of the active one.
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
}

/// What every command receives.
pub struct Context {
    pub home: Home,
    pub out: output::Output,
}

/// A vault or disk failure while the home's disk is full is reported as
/// that, whatever the lower layer called it (SQLite says "disk I/O error"
/// when it cannot size its shared-memory file).
pub(crate) fn explain(home: &Home, e: crate::error::EngineError) -> crate::error::EngineError {
    let disk_errors = [
        agentsecrets_wire::ErrorCode::VaultError,
        agentsecrets_wire::ErrorCode::Internal,
    ];
    if disk_errors.contains(&e.code) && crate::home::disk_full(&home.root) {
        e.on_full_disk()
    } else {
        e
    }
}

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let out = output::Output { json: cli.json };
    let home = match Home::from_env() {
        Ok(h) => h,
        Err(e) => return out.error(&e),
    };
    let ctx = Context { home, out };
    let result: Result<i32> = match cli.command {
        Command::Init(a) => init::run(&ctx, a).map(|_| 0),
        Command::Status => status::run(&ctx).map(|_| 0),
        Command::Workspace(c) => workspace::run(&ctx, c).map(|_| 0),
        Command::Project(c) => project::run(&ctx, c).map(|_| 0),
        Command::Secrets(c) => secrets::run(&ctx, c).map(|_| 0),
        Command::Proxy(c) => proxy_cmd::run(&ctx, c).map(|_| 0),
        Command::Remote(c) => remote::run(&ctx, c).map(|_| 0),
        Command::Env(a) => env_cmd::run(&ctx, a),
    };
    match result {
        Ok(0) if crate::diag::output_lost() => 1,
        Ok(code) => code,
        Err(e) => ctx.out.error(&explain(&ctx.home, e)),
    }
}
