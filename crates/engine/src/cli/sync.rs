//! `agentsecrets secrets pull|push|diff`: sync mode between the local vault
//! and the scope's OpenBao binding (see `crate::remote::sync`).

use super::remote::block_on;
use super::{output::table, Context, ScopeArgs};
use crate::error::Result;
use crate::remote::{kv::Kv, sync};
use crate::vault::Vault;
use serde_json::json;

pub enum Direction {
    Pull,
    Push(Vec<String>),
    Diff,
}

pub fn run(ctx: &Context, scope: ScopeArgs, direction: Direction) -> Result<()> {
    let vault = Vault::open(&ctx.home)?;
    let scope = vault.scope(scope.workspace.as_deref(), scope.project.as_deref())?;
    let binding = sync::binding_for(&ctx.home, &scope)?;
    let kv = Kv::new(binding, &vault)?;
    let home = &ctx.home;
    match direction {
        Direction::Pull => {
            let r = block_on(sync::pull(home, &vault, &scope, &kv))?;
            ctx.out.result(&r, || {
                format!(
                    "Pulled {} secret(s) into {}/{} ({} already up to date).",
                    r.written.len(),
                    r.workspace,
                    r.project,
                    r.unchanged.len()
                )
            });
        }
        Direction::Push(keys) => {
            let only = (!keys.is_empty()).then_some(keys.as_slice());
            let r = block_on(sync::push(home, &vault, &scope, &kv, only))?;
            ctx.out.result(&r, || {
                format!(
                    "Pushed {} secret(s) from {}/{} ({} already up to date).",
                    r.written.len(),
                    r.workspace,
                    r.project,
                    r.unchanged.len()
                )
            });
        }
        Direction::Diff => {
            let d = block_on(sync::diff(home, &vault, &scope, &kv))?;
            ctx.out.result(
                &json!({ "workspace": scope.workspace, "project": scope.project, "keys": d }),
                || {
                    let rows = d
                        .iter()
                        .map(|e| {
                            vec![
                                e.key.clone(),
                                serde_json::to_value(e.state)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_owned))
                                    .unwrap_or_default(),
                                e.remote_version.map(|v| v.to_string()).unwrap_or_default(),
                                if e.remote_changed { "yes" } else { "" }.to_owned(),
                            ]
                        })
                        .collect::<Vec<_>>();
                    table(
                        &["KEY", "STATE", "REMOTE VERSION", "CHANGED REMOTELY"],
                        &rows,
                    )
                },
            );
        }
    }
    Ok(())
}
