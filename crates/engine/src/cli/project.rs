use super::{output::table, Context};
use crate::error::Result;
use crate::shell;
use crate::vault::Vault;
use clap::Subcommand;
use serde_json::json;

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
    ///
    /// The active project is never deleted: make another one active first
    /// (`agentsecrets project use OTHER`). A workspace's last project is kept too.
    Delete {
        name: String,
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
    },
}

pub fn run(ctx: &Context, cmd: ProjectCommand) -> Result<()> {
    let vault = Vault::open(&ctx.home)?;
    match cmd {
        ProjectCommand::Create { name, workspace } => {
            let ws = vault.workspace(workspace.as_deref())?;
            vault.create_project(&ws, &name)?;
            ctx.out.result(
                &json!({ "ok": true, "workspace": ws.name, "project": name }),
                || {
                    format!(
                        "Created project {name} in workspace {}.\nMake it active with `agentsecrets project use {}`.",
                        ws.name,
                        shell::word(&name)
                    )
                },
            );
        }
        ProjectCommand::List { workspace } => {
            let ws = vault.workspace(workspace.as_deref())?;
            let list = vault.projects(&ws)?;
            ctx.out.result(&list, || {
                let rows = list
                    .iter()
                    .map(|p| {
                        vec![
                            if p.active { "*".into() } else { String::new() },
                            p.name.clone(),
                            p.secret_count.to_string(),
                            p.created_at.clone(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["", "PROJECT", "SECRETS", "CREATED"], &rows)
            });
        }
        ProjectCommand::Use { name } => {
            let scope = vault.use_project(&name)?;
            ctx.out.result(
                &json!({ "ok": true, "workspaceName": scope.workspace, "projectName": scope.project }),
                || format!("Active: workspace {} / project {}", scope.workspace, scope.project),
            );
        }
        ProjectCommand::Delete { name, workspace } => {
            let ws = vault.workspace(workspace.as_deref())?;
            let n = vault.delete_project(&ws, &name)?;
            ctx.out.result(
                &json!({ "ok": true, "workspace": ws.name, "project": name, "deletedSecrets": n }),
                || {
                    format!(
                        "Deleted project {name} of workspace {} and its {n} secret(s).",
                        ws.name
                    )
                },
            );
        }
    }
    Ok(())
}
