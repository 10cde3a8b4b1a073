//! `agentsecrets remote allowlist list|add|remove`: the shared allowlist
//! kept in OpenBao (see `crate::remote::shared_allowlist`). Changes need the
//! binding's OpenBao policy to allow writing it, and the local admin password.

use super::remote::block_on;
use super::{allowlist::require_admin, output::table, Context, ScopeArgs};
use crate::error::Result;
use crate::remote::{kv::Kv, shared_allowlist, sync};
use crate::vault::Vault;
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
#[command(
    after_help = "The list is the KV entry at the binding's prefix (field `allowlist`). \
OpenBao policy decides who may change it (create/update on <mount>/data/<prefix>); add and \
remove also need the local admin password, typed or piped with --password-stdin."
)]
pub enum RemoteAllowlistCommand {
    /// Show the shared allowlist of the scope's binding.
    List {
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Allow hosts for everyone bound to the prefix.
    Add {
        #[arg(required = true, value_name = "DOMAIN")]
        domains: Vec<String>,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Remove hosts from the shared allowlist.
    Remove {
        #[arg(required = true, value_name = "DOMAIN")]
        domains: Vec<String>,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        scope: ScopeArgs,
    },
}

pub fn run(ctx: &Context, cmd: RemoteAllowlistCommand) -> Result<()> {
    let vault = Vault::open(&ctx.home)?;
    let (scope, domains, password_stdin, add) = match cmd {
        RemoteAllowlistCommand::List { scope } => return list(ctx, &vault, &scope),
        RemoteAllowlistCommand::Add {
            domains,
            password_stdin,
            scope,
        } => (scope, domains, password_stdin, true),
        RemoteAllowlistCommand::Remove {
            domains,
            password_stdin,
            scope,
        } => (scope, domains, password_stdin, false),
    };
    let scope = vault.scope(scope.workspace.as_deref(), scope.project.as_deref())?;
    let kv = Kv::new(sync::binding_for(&ctx.home, &scope)?, &vault)?;
    require_admin(&vault, password_stdin)?;
    let entries = domains
        .iter()
        .map(|d| crate::destination::normalize_entry(d))
        .collect::<Result<Vec<_>>>()?;
    let (changed, unchanged) = block_on(shared_allowlist::change(&kv, &entries, add))?;
    let (done_key, same_key) = if add {
        ("added", "alreadyPresent")
    } else {
        ("removed", "notPresent")
    };
    ctx.out.result(
        &json!({ "ok": true, done_key: changed, same_key: unchanged }),
        || {
            let verb = if add { "Allowed" } else { "Removed" };
            let mut lines: Vec<String> = changed
                .iter()
                .map(|e| format!("{verb} {e} in the shared allowlist."))
                .collect();
            lines.extend(unchanged.iter().map(|e| format!("{e}: unchanged.")));
            lines.join("\n")
        },
    );
    Ok(())
}

fn list(ctx: &Context, vault: &Vault, scope: &ScopeArgs) -> Result<()> {
    let scope = vault.scope(scope.workspace.as_deref(), scope.project.as_deref())?;
    let kv = Kv::new(sync::binding_for(&ctx.home, &scope)?, vault)?;
    let entries = block_on(shared_allowlist::read(&kv))?
        .map(|(e, _)| e)
        .unwrap_or_default();
    ctx.out.result(&entries, || {
        if entries.is_empty() {
            return "The shared allowlist is empty (or absent).".to_owned();
        }
        table(
            &["ENTRY"],
            &entries.iter().map(|e| vec![e.clone()]).collect::<Vec<_>>(),
        )
    });
    Ok(())
}
