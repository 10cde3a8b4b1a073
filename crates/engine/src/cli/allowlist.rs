use super::{output::table, password, Context};
use crate::error::Result;
use crate::vault::admin::Check;
use crate::vault::{Vault, WorkspaceRef};
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
#[command(
    after_help = "add and remove need the admin password chosen at `agentsecrets init`: \
typed at a terminal prompt, or piped as one line with --password-stdin. Without either they fail \
with ALLOWLIST_MODIFICATION_DENIED and change nothing. After 5 wrong passwords in a row, each \
further attempt must wait (5 s, doubling, at most 60 s)."
)]
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
        /// Read the admin password from stdin instead of prompting.
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

pub fn run(ctx: &Context, cmd: AllowlistCommand) -> Result<()> {
    let vault = Vault::open(&ctx.home)?;
    match cmd {
        AllowlistCommand::Add {
            domains,
            password_stdin,
            workspace,
        } => change(
            ctx,
            &vault,
            &domains,
            password_stdin,
            workspace.as_deref(),
            true,
        ),
        AllowlistCommand::Remove {
            domains,
            password_stdin,
            workspace,
        } => change(
            ctx,
            &vault,
            &domains,
            password_stdin,
            workspace.as_deref(),
            false,
        ),
        AllowlistCommand::List { workspace } => {
            let ws = vault.workspace(workspace.as_deref())?;
            let entries = vault.allowlist_entries(&ws)?;
            ctx.out.result(&entries, || {
                if entries.is_empty() {
                    return format!(
                        "The allowlist of workspace {} is empty: the proxy sends secrets nowhere.\nAdd a host with `agentsecrets workspace allowlist add api.example.com`.",
                        ws.name
                    );
                }
                let rows = entries
                    .iter()
                    .map(|e| vec![e.entry.clone(), e.added_at.clone()])
                    .collect::<Vec<_>>();
                table(&["ENTRY", "ADDED"], &rows)
            });
            Ok(())
        }
        AllowlistCommand::Log { last, workspace } => {
            let ws = vault.workspace(workspace.as_deref())?;
            let log = vault.allowlist_log(&ws, last)?;
            ctx.out.result(&log, || {
                if log.is_empty() {
                    return format!("No allowlist changes in workspace {}.", ws.name);
                }
                let rows = log
                    .iter()
                    .map(|c| vec![c.timestamp.clone(), c.action.clone(), c.entry.clone()])
                    .collect::<Vec<_>>();
                table(&["TIMESTAMP", "ACTION", "ENTRY"], &rows)
            });
            Ok(())
        }
    }
}

/// The admin password, typed at a prompt or piped with `--password-stdin`:
/// the gate of every allowlist change, local or shared.
pub(crate) fn require_admin(vault: &Vault, password_stdin: bool) -> Result<()> {
    let pw = password::admin_for_change(password_stdin)?;
    match vault.check_admin_password(&pw)? {
        Check::Ok => Ok(()),
        Check::Wrong => Err(password::denied(
            "allowlist changes need the admin password: the password given is wrong; nothing was changed",
        )),
        Check::Throttled { retry_after_secs } => Err(password::denied(&format!(
            "allowlist changes need the admin password: too many wrong passwords in a row, so it was not checked; wait {retry_after_secs} s and try again; nothing was changed"
        ))),
    }
}

/// Password first, before anything about the entries is looked at: the
/// admin password is the gate, and nothing is written without it.
fn change(
    ctx: &Context,
    vault: &Vault,
    domains: &[String],
    password_stdin: bool,
    workspace: Option<&str>,
    add: bool,
) -> Result<()> {
    let ws: WorkspaceRef = vault.workspace(workspace)?;
    require_admin(vault, password_stdin)?;
    let entries = domains
        .iter()
        .map(|d| crate::destination::normalize_entry(d))
        .collect::<Result<Vec<_>>>()?;
    let (changed, unchanged) = if add {
        vault.allowlist_add(&ws, &entries)?
    } else {
        vault.allowlist_remove(&ws, &entries)?
    };
    let (done_key, same_key) = if add {
        ("added", "alreadyPresent")
    } else {
        ("removed", "notPresent")
    };
    ctx.out.result(
        &json!({ "ok": true, "workspace": ws.name, done_key: changed, same_key: unchanged }),
        || {
            let mut lines = Vec::new();
            for e in &changed {
                lines.push(if add {
                    format!("Allowed {e} in workspace {}.", ws.name)
                } else {
                    format!("Removed {e} from workspace {}.", ws.name)
                });
            }
            for e in &unchanged {
                lines.push(if add {
                    format!(
                        "{e} is already allowed in workspace {}; unchanged.",
                        ws.name
                    )
                } else {
                    format!(
                        "{e} is not in the allowlist of workspace {}; nothing to remove.",
                        ws.name
                    )
                });
            }
            lines.join("\n")
        },
    );
    Ok(())
}
