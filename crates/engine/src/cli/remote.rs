//! `agentsecrets remote set|show|unset`: bind a project or a whole
//! workspace to an OpenBao / Vault KV v2 store. The binding names where the
//! credentials are (an environment variable or a 0600 file), never the
//! credentials themselves.

use super::{output::table, Context, ScopeArgs};
use crate::error::{EngineError, Result};
use crate::remote::binding::{Auth, Binding, Params, Source};
use crate::remote::{kv::Kv, store};
use crate::vault::Vault;
use clap::{Args, Subcommand};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Bind the active project (or --project, or --whole-workspace) to OpenBao.
    #[command(
        after_help = "Modes: `resolve` (default) reads values from OpenBao at request time, \
kept in memory for --cache-ttl seconds and never written to disk (CI, servers); `sync` keeps the \
local vault and copies with `agentsecrets secrets pull|push|diff` (laptops, offline work). \
Authentication: --token-env NAME, --token-file PATH (0600) or --token-stdin (typed, kept encrypted \
in the vault), or AppRole with --role-id-env|--role-id-file \
and --secret-id-env|--secret-id-file. The binding is checked against the server unless --no-check. \
Setting or removing a binding needs the admin password (typed, or the first line of stdin with \
--password-stdin): it decides where the engine sends a credential. A running proxy picks a binding \
up when it is restarted. Example: agentsecrets remote set \
--address https://bao.example.com:8200 --prefix team/app --token-env BAO_TOKEN"
    )]
    Set(Box<SetArgs>),
    /// Show the bindings in effect (including AGENTSECRETS_REMOTE); never a credential.
    Show,
    /// The shared allowlist kept in OpenBao (list, add, remove).
    #[command(subcommand)]
    Allowlist(super::remote_allowlist::RemoteAllowlistCommand),
    /// Remove the binding of the active project (or --project, or --whole-workspace).
    Unset {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Remove the whole-workspace binding instead of a project's.
        #[arg(long)]
        whole_workspace: bool,
        /// Read the admin password from stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The server's origin, e.g. https://bao.example.com:8200.
    #[arg(long, value_name = "URL")]
    address: String,
    #[command(flatten)]
    scope: ScopeArgs,
    /// Bind every project of the workspace (each under PREFIX/PROJECT/).
    #[arg(long, conflicts_with = "project")]
    whole_workspace: bool,
    /// The KV version 2 mount.
    #[arg(long, default_value = "secret")]
    mount: String,
    /// Path under the mount; a secret KEY is PREFIX/KEY.
    #[arg(long, default_value = "agentsecrets")]
    prefix: String,
    /// resolve (values read at request time) or sync (pull/push).
    #[arg(long, default_value = "resolve")]
    mode: String,
    /// Environment variable holding the token.
    #[arg(long, value_name = "NAME")]
    token_env: Option<String>,
    /// File (mode 0600) holding the token.
    #[arg(long, value_name = "PATH")]
    token_file: Option<String>,
    /// Read the token from stdin (a no-echo prompt on a terminal) and keep
    /// it encrypted in the vault.
    #[arg(long, conflicts_with_all = ["token_env", "token_file"])]
    token_stdin: bool,
    #[arg(long, value_name = "NAME")]
    role_id_env: Option<String>,
    #[arg(long, value_name = "PATH")]
    role_id_file: Option<String>,
    #[arg(long, value_name = "NAME")]
    secret_id_env: Option<String>,
    #[arg(long, value_name = "PATH")]
    secret_id_file: Option<String>,
    /// Where the AppRole auth method is mounted.
    #[arg(long, value_name = "PATH")]
    approle_mount: Option<String>,
    /// Seconds a resolve-through snapshot is reused (0: ask OpenBao on every call).
    #[arg(long, value_name = "SECONDS")]
    cache_ttl: Option<u64>,
    /// Store the binding without asking the server.
    #[arg(long)]
    no_check: bool,
    /// Read the admin password from stdin (first line) instead of prompting.
    #[arg(long)]
    password_stdin: bool,
}

pub fn run(ctx: &Context, cmd: RemoteCommand) -> Result<()> {
    match cmd {
        RemoteCommand::Set(a) => set(ctx, *a),
        RemoteCommand::Show => show(ctx),
        RemoteCommand::Allowlist(c) => super::remote_allowlist::run(ctx, c),
        RemoteCommand::Unset {
            scope,
            whole_workspace,
            password_stdin,
        } => unset(ctx, scope, whole_workspace, password_stdin),
    }
}

/// The workspace and project a binding is for (project `None`: the whole workspace).
fn target(vault: &Vault, scope: &ScopeArgs, whole: bool) -> Result<(String, Option<String>)> {
    let s = vault.scope(scope.workspace.as_deref(), scope.project.as_deref())?;
    Ok((s.workspace, (!whole).then_some(s.project)))
}

/// A binding decides where the engine sends a credential and whose values
/// it injects, so changing one needs a person, like an allowlist change: the
/// admin password, typed or piped with `--password-stdin`.
fn require_human(vault: &Vault, password_stdin: bool) -> Result<()> {
    super::allowlist::require_admin(vault, password_stdin).map_err(|mut e| {
        if e.code == agentsecrets_wire::ErrorCode::AllowlistModificationDenied {
            e.message = e
                .message
                .replacen("allowlist changes", "remote bindings", 1);
        }
        e
    })
}

/// A token typed at a no-echo prompt, or one line piped on stdin.
fn typed_token() -> Result<zeroize::Zeroizing<String>> {
    if crate::tty::is_tty(&std::io::stdin()) {
        super::password::prompt("OpenBao token (not shown): ")
    } else {
        super::password::read_stdin_line()
    }
}

/// The vault name of a typed token: one per bound scope.
fn credential_name(workspace: &str, project: Option<&str>) -> String {
    format!("remote-token:{workspace}/{}", project.unwrap_or("*"))
}

fn set(ctx: &Context, a: SetArgs) -> Result<()> {
    let vault = Vault::open(&ctx.home)?;
    let (workspace, project) = target(&vault, &a.scope, a.whole_workspace)?;
    require_human(&vault, a.password_stdin)?;
    let typed = a.token_stdin.then(typed_token).transpose()?;
    let params = Params {
        mount: Some(a.mount),
        prefix: Some(a.prefix),
        mode: Some(a.mode),
        token_env: a.token_env,
        token_file: a.token_file,
        role_id_env: a.role_id_env,
        role_id_file: a.role_id_file,
        secret_id_env: a.secret_id_env,
        secret_id_file: a.secret_id_file,
        approle_mount: a.approle_mount,
        cache_ttl: a.cache_ttl,
    };
    let name = credential_name(&workspace, project.as_deref());
    let mut binding = params.into_binding(Some(workspace), project, a.address)?;
    if let Some(token) = &typed {
        binding.auth = Auth::Token {
            token: Source::Vault(name.clone()),
        };
        vault.store_credential(&name, token)?;
    }
    if !a.no_check {
        check(&binding, &vault)?;
    }
    let mut stored = store::load(&ctx.home)?;
    stored
        .bindings
        .retain(|b| (&b.workspace, &b.project) != (&binding.workspace, &binding.project));
    stored.bindings.push(binding.clone());
    store::save(&ctx.home, &stored)?;
    ctx.out.result(&json!({ "ok": true, "binding": describe(&binding, "home") }), || {
        format!(
            "Bound {} to {} ({} mode, {}/{}).\nRestart a running proxy to use it: `agentsecrets proxy stop && agentsecrets proxy start --detach`.",
            binding.scope_label(),
            binding.address,
            binding.mode.as_str(),
            binding.mount,
            binding.prefix
        )
    });
    Ok(())
}

/// Logs in and lists the binding's folder: the address, credentials,
/// policy and seal state are checked before anything is stored.
fn check(binding: &Binding, vault: &Vault) -> Result<()> {
    let kv = Kv::new(binding.clone(), vault)?;
    block_on(async move { kv.list(&binding.prefix).await.map(drop) })
}

fn show(ctx: &Context) -> Result<()> {
    let mut rows: Vec<serde_json::Value> = store::load(&ctx.home)?
        .bindings
        .iter()
        .map(|b| describe(b, "home"))
        .collect();
    rows.extend(
        store::env_binding()?
            .iter()
            .map(|b| describe(b, store::ENV_BINDING)),
    );
    ctx.out.result(&json!({ "bindings": rows }), || {
        if rows.is_empty() {
            return "No remote. Bind one with `agentsecrets remote set --address URL --token-env NAME`.".to_owned();
        }
        let cells = rows
            .iter()
            .map(|r| {
                ["scope", "address", "mount", "prefix", "mode", "auth", "cacheTtlSecs", "from"]
                    .iter()
                    .map(|k| match &r[k] {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect::<Vec<_>>();
        table(&["SCOPE", "ADDRESS", "MOUNT", "PREFIX", "MODE", "AUTH", "TTL", "FROM"], &cells)
    });
    Ok(())
}

fn unset(ctx: &Context, scope: ScopeArgs, whole: bool, password_stdin: bool) -> Result<()> {
    let vault = Vault::open(&ctx.home)?;
    let (workspace, project) = target(&vault, &scope, whole)?;
    require_human(&vault, password_stdin)?;
    let mut stored = store::load(&ctx.home)?;
    let before = stored.bindings.len();
    stored.bindings.retain(|b| {
        (b.workspace.as_ref(), b.project.as_ref()) != (Some(&workspace), project.as_ref())
    });
    let removed = before - stored.bindings.len();
    if removed == 0 {
        let label = format!("{workspace}/{}", project.as_deref().unwrap_or("*"));
        return Err(
            EngineError::invalid(format!("{label} has no remote binding")).fix(
                "see `agentsecrets remote show`; use --whole-workspace for a workspace binding",
            ),
        );
    }
    store::save(&ctx.home, &stored)?;
    ctx.out.result(
        &json!({ "ok": true, "workspace": workspace, "project": project }),
        || {
            format!(
                "Removed the remote binding of {workspace}/{}.",
                project.as_deref().unwrap_or("*")
            )
        },
    );
    Ok(())
}

/// A binding as shown: where credentials are read from, never what they are.
fn describe(b: &Binding, from: &str) -> serde_json::Value {
    let source = |s: &Source| match s {
        Source::Env(n) => format!("env:{n}"),
        Source::File(p) => format!("file:{p}"),
        Source::Vault(_) => "vault (encrypted)".to_owned(),
    };
    let auth = match &b.auth {
        Auth::Token { token } => format!("token ({})", source(token)),
        Auth::AppRole {
            role_id,
            secret_id,
            mount,
        } => format!(
            "approle at {mount} (role id {}, secret id {})",
            source(role_id),
            source(secret_id)
        ),
    };
    json!({
        "scope": b.scope_label(),
        "workspace": b.workspace,
        "project": b.project,
        "address": b.address,
        "mount": b.mount,
        "prefix": b.prefix,
        "mode": b.mode.as_str(),
        "auth": auth,
        "cacheTtlSecs": b.cache_ttl_secs,
        "from": from,
    })
}

/// Runs a remote operation from the (synchronous) command line.
pub fn block_on<T>(f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| EngineError::internal(format!("cannot start the async runtime: {e}")))?
        .block_on(f)
}
