use super::{allowlist::AllowlistCommand, output::table, Context};
use crate::error::Result;
use crate::vault::Vault;
use clap::Subcommand;
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace (with a project `default`).
    Create { name: String },
    /// List workspaces.
    List,
    /// Make NAME the active workspace.
    ///
    /// Its project `default` (or its oldest project) becomes the active project.
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Member {
    user: String,
    email: Option<String>,
    role: &'static str,
}

pub fn run(ctx: &Context, cmd: WorkspaceCommand) -> Result<()> {
    if let WorkspaceCommand::Allowlist(c) = cmd {
        return super::allowlist::run(ctx, c);
    }
    let vault = Vault::open(&ctx.home)?;
    match cmd {
        WorkspaceCommand::Create { name } => {
            vault.create_workspace(&name)?;
            ctx.out.result(
                &json!({ "ok": true, "workspace": name, "projects": [crate::vault::DEFAULT_PROJECT] }),
                || {
                    format!(
                        "Created workspace {name} with project {}.\nSwitch to it with `agentsecrets workspace switch {}`.",
                        crate::vault::DEFAULT_PROJECT,
                        crate::shell::word(&name)
                    )
                },
            );
        }
        WorkspaceCommand::List => {
            let list = vault.workspaces()?;
            ctx.out.result(&list, || {
                let rows = list
                    .iter()
                    .map(|w| {
                        vec![
                            if w.active { "*".into() } else { String::new() },
                            w.name.clone(),
                            w.projects.join(", "),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["", "WORKSPACE", "PROJECTS"], &rows)
            });
        }
        WorkspaceCommand::Switch { name } => {
            let scope = vault.switch_workspace(&name)?;
            ctx.out.result(
                &json!({ "ok": true, "workspaceName": scope.workspace, "projectName": scope.project }),
                || format!("Active: workspace {} / project {}", scope.workspace, scope.project),
            );
        }
        WorkspaceCommand::Members { workspace } => {
            let ws = vault.workspace(workspace.as_deref())?;
            let email = vault.email()?;
            let user = std::env::var("USER")
                .ok()
                .filter(|u| !u.is_empty())
                .or_else(|| email.clone())
                .unwrap_or_else(|| "local user".to_owned());
            let members = vec![Member {
                user,
                email,
                role: "owner",
            }];
            ctx.out.result(&members, || {
                let rows = members
                    .iter()
                    .map(|m| {
                        vec![
                            m.email.clone().unwrap_or_else(|| m.user.clone()),
                            m.role.to_owned(),
                        ]
                    })
                    .collect::<Vec<_>>();
                format!(
                    "{}\n(workspace {}; local mode: the vault belongs to you alone)",
                    table(&["MEMBER", "ROLE"], &rows),
                    ws.name
                )
            });
        }
        WorkspaceCommand::Allowlist(_) => unreachable!("handled above"),
    }
    Ok(())
}
